import json
import re
import threading
from html import unescape

import pg
import pytest
from pg import migrated_postgresql_url  # noqa: F401 - a fixture, for the app on PostgreSQL
from twilio_mock import twilio, twilio_api, twilio_media  # noqa: F401 - Twilio's API (Prism), for any test that asks

from ivr import create_app
from ivr import database as databases
from ivr.voice.simulator import Call, FlaskTransport

TOKEN = "test-auth-token-0123456789abcdef"
AGENT = "+8675512345678"


@pytest.fixture(autouse=True)
def quick_password_hashes(monkeypatch):
    """Staff passwords are hashed with a cheap scrypt in tests: the same code paths, a hundredth of the time."""
    from werkzeug.security import generate_password_hash

    from ivr.staff import users

    monkeypatch.setattr(users, "hash_password", lambda password: generate_password_hash(password, method="scrypt:1024:8:1"))


def pytest_report_header(config):
    """Say which database the suite runs on."""
    return f"database: {pg.BACKEND} (IVR_TEST_DATABASE)"


def pytest_configure(config):
    """Name the markers of tests that apply to one database only."""
    config.addinivalue_line("markers", "sqlite_only(reason): checks the embedded SQLite file itself; not collected"
                                       " when the suite runs on PostgreSQL")
    config.addinivalue_line("markers", "postgresql_only(reason): checks what the app does only on PostgreSQL; not"
                                       " collected when the suite runs on SQLite")


def pytest_collection_modifyitems(config, items):
    """Leave out the tests of the other database's own features: SQLite's file on PostgreSQL, and what only
    PostgreSQL does on SQLite."""
    other = "sqlite_only" if pg.BACKEND == "postgresql" else "postgresql_only"
    kept, left_out = [], []
    for item in items:
        (left_out if item.get_closest_marker(other) else kept).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


def pytest_sessionfinish(session, exitstatus):
    """Drop the session's migrated PostgreSQL template, if one was made."""
    pg.TEMPLATE.drop()


def database_settings(tmp_path, request):
    """The app's database settings on the suite's database: a SQLite file in `tmp_path`, or a fresh PostgreSQL
    database when IVR_TEST_DATABASE=postgresql."""
    settings = {"DATABASE": str(tmp_path / "hotline.db")}
    if pg.BACKEND == "postgresql":
        settings["DATABASE_URL"] = request.getfixturevalue("migrated_postgresql_url")
    return settings


@pytest.fixture(scope="module")
def module_database(tmp_path_factory):
    """Database settings shared by one module's tests: a SQLite file, or a migrated PostgreSQL database when the
    suite runs there."""
    settings = {"DATABASE": str(tmp_path_factory.mktemp("module") / "hotline.db")}
    if pg.BACKEND != "postgresql":
        yield settings
        return
    with pg.migrated_copy() as url:
        yield dict(settings, DATABASE_URL=url)


@pytest.fixture
def app(tmp_path, request):
    app = create_app(
        {
            "TESTING": True,
            **database_settings(tmp_path, request),
            "TWILIO_AUTH_TOKEN": TOKEN,
            "AGENT_NUMBER": AGENT,
            "BUSINESS_HOURS": "24/7",
            "SECRET_KEY": "test-secret",
            "API_TOKEN": "test-api-token",
        }
    )
    yield app


def break_database(app):
    """Point the app at a database that cannot be reached: a missing folder, or a port nothing listens on."""
    if app.config.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = "postgresql://postgres@127.0.0.1:9/unreachable"
    else:
        app.config["DATABASE"] = "/nonexistent-folder/hotline.db"


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def database(app):
    """A connection to the app's database, for asserting on rows."""
    with databases.opened(app.config) as connection:
        yield connection


class CallHelper:
    """`call.start(from_=...)`, then `call.press("1")`, `call.say(...)`, `call.silence()`, ..."""

    def __init__(self, app):
        self.app = app
        self.current = None

    def start(self, from_="+8613800138000", to="+864009001234", sid=None):
        self.current = Call(FlaskTransport(self.app), TOKEN, from_=from_, to=to, sid=sid)
        return self.current.start()

    def __getattr__(self, name):
        if self.current is None:
            raise AttributeError(name)
        return getattr(self.current, name)


@pytest.fixture
def call(app):
    return CallHelper(app)


def rows(app, sql, params=()):
    """Run a query on the app's database and return a list of dicts."""
    with databases.opened(app.config) as connection:
        return list(connection.query(sql, params))



def sign(url, params, token=TOKEN, algorithm=None):
    """Twilio's signature of a POST to the absolute `url` with form `params` (dict or list of pairs)."""
    from twilio.request_validator import RequestValidator
    from werkzeug.datastructures import MultiDict

    return RequestValidator(token).compute_signature(url, MultiDict(params), algorithm=algorithm)


@pytest.fixture
def voice_post(client):
    """POST form `params` to a voice URL, signed like Twilio unless `signed=False`; returns the response."""
    from werkzeug.datastructures import MultiDict

    def post(path, params, headers=None, signed=True, token=TOKEN, base_url="http://localhost", **kwargs):
        headers = dict(headers or {})
        if signed:
            headers.setdefault("X-Twilio-Signature", sign(base_url + path, params, token))
        return client.post(path, data=MultiDict(params), headers=headers, base_url=base_url, **kwargs)

    return post


# -- verification: merchants, outreach and the official number ---------------------------------
MERCHANT = "898440358120001"
MERCHANT_PHONE = "+8613800138000"
OTHER_MERCHANT = "898440358120002"
OTHER_PHONE = "+8613900139000"
OFFICIAL = "+864008001234"


class Verification:
    """Test data for the verify and report branches: `add_outreach(...)` returns {id, reference_code, expires_at}."""

    merchant, phone, other, other_phone, official = MERCHANT, MERCHANT_PHONE, OTHER_MERCHANT, OTHER_PHONE, OFFICIAL

    def __init__(self, database, app):
        self.database, self.app = database, app

    def add_outreach(self, merchant=MERCHANT, reason="system_update", channel="phone", from_number=OFFICIAL,
                     staff_name="王敏", action="accept_terminal_update", valid_hours=168):
        from ivr.verification import outreach

        extension = self.app.extensions["ivr"]
        return outreach.create_outreach(self.database, merchant, reason, channel, from_number, staff_name,
                                        action, valid_hours, actor="test", catalogue=extension["outreach_actions"],
                                        code_key=self.app.config["CODE_SECRET"])


@pytest.fixture
def verification(app, database):
    """Two merchants (one phone each) and one official number."""
    from ivr.verification import merchants

    app.extensions["ivr"]["official_numbers"] = frozenset({OFFICIAL})
    merchants.upsert_merchant(database, MERCHANT, "示例便利店", [MERCHANT_PHONE], actor="test")
    merchants.upsert_merchant(database, OTHER_MERCHANT, "Noodle House", [OTHER_PHONE], actor="test")
    return Verification(database, app)


@pytest.fixture
def api(client):
    """Call the JSON API with the test token: api("GET", "/api/calls", json=...)."""

    def send(method, path, token="test-api-token", **kwargs):
        headers = kwargs.pop("headers", {})
        if token is not None:
            headers.setdefault("Authorization", f"Bearer {token}")
        return client.open(path, method=method, headers=headers, **kwargs)

    return send


# -- staff dashboard ------------------------------------------------------------------------

STAFF_PASSWORD = "correct horse battery"


@pytest.fixture
def staff(app):
    """Create an admin ('ada') and an agent ('abe') with STAFF_PASSWORD; returns their names."""
    from ivr.staff import users

    with databases.opened(app.config) as connection:
        users.create_user(connection, "ada", "admin", STAFF_PASSWORD)
        users.create_user(connection, "abe", "agent", STAFF_PASSWORD)
    return {"admin": "ada", "agent": "abe"}


def csrf_of(client):
    """Return the CSRF token of the client's session (after any dashboard page was fetched)."""
    with client.session_transaction() as session:
        return session.get("csrf")


@pytest.fixture
def login(client, staff):
    """`login("admin")` or `login("agent")`: sign the test client in; returns the CSRF token."""

    def sign_in(role="agent", password=STAFF_PASSWORD):
        client.get("/dashboard/login")
        response = client.post(
            "/dashboard/login", data={"name": staff[role], "password": password, "csrf_token": csrf_of(client)}
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return csrf_of(client)

    return sign_in


def press_in_background(call, digits):
    """Start pressing `digits` on `call` in a thread; return the thread and the list the press's failure lands in."""
    failures = []

    def press():
        try:
            call.press(digits)
        except Exception as error:  # noqa: BLE001 - a server killed meanwhile drops the connection
            failures.append(error)

    thread = threading.Thread(target=press)
    thread.start()
    return thread, failures


def insert(database, table, row):
    """Insert one row (containers stored as JSON text) into `table` on either database; return it as stored."""
    values = [json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value
              for value in row.values()]
    columns = ", ".join(f'"{name}"' for name in row)
    cursor = database.execute(f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * len(row))}) RETURNING *",
                              values)
    names = [column[0] for column in cursor.description]
    return dict(zip(names, cursor.fetchall()[0]))


def insert_all(database, table, rows):
    """Insert every row of `rows` into `table`."""
    for row in rows:
        insert(database, table, row)


def add_call(database, sid, started_at, events=(), **fields):
    """Insert a finished call (and its events) straight into the database, for dashboard tests."""
    row = {"sid": sid, "from_number": "+8613800138000", "from_raw": "+8613800138000", "language": "zh",
           "started_at": started_at, "status": "completed", "duration": 60, "state": "{}", "updated_at": started_at}
    row.update(fields)
    insert(database, "calls", row)
    for event in events:
        insert(database, "events", dict({"call_sid": sid, "at": started_at}, **event))
    return row


def as_nobody(folder, work):
    """Run `work` in a child process as the user `nobody`, owner of `folder`; return its JSON-able result.

    Root ignores file permissions, so tests of an unreadable or unwritable database drop to `nobody` to see them.
    """
    import json
    import os

    nobody = 65534
    os.chown(folder, nobody, nobody)
    for name in os.listdir(folder):
        os.chown(os.path.join(folder, name), nobody, nobody)
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        status = 1
        try:
            os.close(reader)
            os.setgroups([])
            os.setgid(nobody)
            os.setuid(nobody)
            os.write(writer, json.dumps(work()).encode())
            status = 0
        except BaseException as error:  # noqa: BLE001 - reported to the parent
            os.write(writer, json.dumps({"child failed": repr(error)}).encode())
        finally:
            os._exit(status)
    os.close(writer)
    with os.fdopen(reader) as pipe:
        answer = json.loads(pipe.read() or "null")
    os.waitpid(pid, 0)
    return answer


def page_link(page, rel):
    """Return where a page's rel="next" or rel="prev" link leads, or None when it has none."""
    found = re.search(rf'href="([^"]+)" rel="{rel}"', page)
    return unescape(found.group(1)) if found else None


def walk_pages(client, url, listed):
    """Follow a list's rel="next" links from `url` to its last page, then its rel="prev" links back to the first.

    Returns (what `listed(page)` finds on each page going forward, on each page coming back, every link followed).
    """
    forward, back, links = [], [], []
    while url:
        # A link back to a page already seen would walk for ever: fail instead.
        assert url not in links[:-1], f"{url} was followed before"
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.get_data(as_text=True)
        forward.append(listed(page))
        url = page_link(page, "next")
        links += [url] if url else []
    url = page_link(page, "prev")
    backward = []
    while url:
        assert url not in backward, f"{url} was followed before"
        backward.append(url)
        links.append(url)
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.get_data(as_text=True)
        back.append(listed(page))
        url = page_link(page, "prev")
    return forward, back, links
