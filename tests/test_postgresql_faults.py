"""Faults on PostgreSQL: the server gone and back, the pool used up, a row locked, a host killed in the middle of a call."""
import time

import psycopg
from pg import admin, migrated_postgresql_url, query  # noqa: F401 - a fixture
from test_faults import APOLOGY_ZH, apologises, assert_apology
from test_postgresql_hosts import AlternatingTransport, Gunicorn, environment

from conftest import AGENT, TOKEN, CallHelper, press_in_background
from ivr import create_app
from ivr.storage import postgres
from ivr.voice.simulator import Call


def make_app(url, **settings):
    return create_app(dict({"TESTING": True, "DATABASE_URL": url, "TWILIO_AUTH_TOKEN": TOKEN, "AGENT_NUMBER": AGENT,
                            "BUSINESS_HOURS": "24/7", "SECRET_KEY": "x", "DATABASE_TIMEOUT": 1.0}, **settings))


def database_name(url):
    return url.rsplit("/", 1)[1]


class ServerGone:
    """The database as a restart leaves it for a while: every connection cut, no new one let in."""

    def __init__(self, url):
        self.name = database_name(url)

    def __enter__(self):
        with admin() as connection:
            connection.execute(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false')
            connection.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                               [self.name])
        return self

    def __exit__(self, *exc):
        with admin() as connection:
            connection.execute(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true')


def node_of(url, sid):
    return query(url, "SELECT node FROM calls WHERE sid = %s", [sid])[0][0]


def test_the_server_gone_mid_call_is_an_apology_and_503_then_all_carries_on(migrated_postgresql_url):
    url = migrated_postgresql_url
    app = make_app(url)
    client = app.test_client()
    first, second = CallHelper(app), CallHelper(app)
    first.start(sid="CA" + "1" * 32)
    first.press("2")
    first.press("1")
    second.start(from_="+8613900139000", sid="CA" + "2" * 32)
    assert (node_of(url, first.sid), node_of(url, second.sid)) == ("guide_before", "welcome")
    with ServerGone(url):
        # The pool's connections were cut: each is found dead and replaced, and the new one is refused.
        apologises(first, lambda call: call.press("1"))
        apologises(second, lambda call: call.press("2"))
        assert_apology(CallHelper(app).start(sid="CA" + "3" * 32))
        response = client.get("/healthz")
        assert response.status_code == 503 and response.json["database"] == "unavailable"
        assert response.json["database_kind"] == "postgresql"
    # Back, with no restart of the app: health, both calls from where they were, and a new call.
    assert client.get("/healthz").status_code == 200
    assert node_of(url, first.sid) == "guide_before" and node_of(url, second.sid) == "welcome"
    status, body = first.redeliver()  # Twilio retries the delivery that got the apology
    assert status == 200 and "第三段" in body and APOLOGY_ZH not in body
    assert node_of(url, first.sid) == "guide_during"
    assert "第一段" in second.press("2").text
    assert node_of(url, second.sid) == "guide_how"
    assert "核实请按1" in CallHelper(app).start(sid="CA" + "4" * 32).text


def test_an_empty_pool_is_an_apology_within_the_database_timeout(migrated_postgresql_url):
    app = make_app(migrated_postgresql_url, DATABASE_POOL_SIZE=1, DATABASE_TIMEOUT=1.0)
    call = CallHelper(app)
    call.start()
    held = postgres.checkout(migrated_postgresql_url, 1, 1.0)  # the pool's only connection, taken
    try:
        started = time.monotonic()
        apologises(call, lambda call: call.press("2"))
        waited = time.monotonic() - started
    finally:
        held.close()
    assert waited < 3, f"the caller waited {waited:.1f} s"
    assert "第一段" in call.press("2").text  # the connection is back in the pool: the call goes on


def test_a_call_row_locked_elsewhere_is_an_apology_within_the_timeout(migrated_postgresql_url):
    url = migrated_postgresql_url
    app = make_app(url, DATABASE_TIMEOUT=1.0)
    call = CallHelper(app)
    call.start()
    with psycopg.connect(url) as other:
        other.execute("SELECT 1 FROM calls WHERE sid = %s FOR UPDATE", [call.sid])
        started = time.monotonic()
        apologises(call, lambda call: call.press("2"))
        waited = time.monotonic() - started
    assert waited < 3
    assert node_of(url, call.sid) == "welcome"
    status, body = call.redeliver()
    assert status == 200 and "第一段" in body


def test_a_host_killed_mid_call_leaves_the_other_to_carry_it_on(migrated_postgresql_url, tmp_path):
    url = migrated_postgresql_url
    env = dict(environment(url), IVR_DATABASE_TIMEOUT="20")
    with Gunicorn(workers=1, env=env, log_path=tmp_path / "first.log") as first, \
            Gunicorn(workers=1, env=env, log_path=tmp_path / "second.log") as second:
        transport = AlternatingTransport([first.base_url, second.base_url])
        call = Call(transport, TOKEN)
        call.start()            # first host
        call.press("2")         # second host
        assert node_of(url, call.sid) == "guide_how"
        # The next webhook goes to the first host; a lock elsewhere holds it inside its transaction ...
        blocker = psycopg.connect(url)
        blocker.execute("SELECT 1 FROM calls WHERE sid = %s FOR UPDATE", [call.sid])
        thread, failures = press_in_background(call, "1")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not query(
                url, "SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                     " WHERE NOT l.granted AND a.datname = %s", [database_name(url)]):
            time.sleep(0.05)
        # ... and the first host dies.
        first.kill()
        thread.join(timeout=30)
        blocker.close()
        assert failures, "the webhook should have died with its host"
        assert node_of(url, call.sid) == "guide_how"  # nothing of the dead host's step was kept
        # Twilio retries the delivery; the load balancer now sends everything to the second host.
        transport.hosts = [second.base_url]
        status, body = call.redeliver()
        assert status == 200 and "第二段" in body
        assert node_of(url, call.sid) == "guide_before"
        inputs = query(url, "SELECT count(*) FROM events WHERE call_sid = %s AND kind = 'input' AND node = %s",
                       [call.sid, "guide_how"])
        assert inputs == [(1,)]
