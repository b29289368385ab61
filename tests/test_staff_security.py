"""Staff security and privacy: server-side sessions, passwords, sign-in throttling, reveals, masking and headers."""
import hashlib
import os
import re
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import flask
import pytest
from werkzeug.serving import make_server

from conftest import STAFF_PASSWORD, add_call, csrf_of, rows
from ivr import clock
from ivr.dashboard import charts
from ivr.staff import signin, throttle, users
from ivr.staff.auth import STAFF_COOKIE
from ivr.verification import merchants

TEMPLATES = Path(__file__).resolve().parent.parent / "ivr" / "dashboard" / "templates"
CSS = Path(__file__).resolve().parent.parent / "ivr" / "dashboard" / "static" / "dashboard.css"
PAGES = ["/dashboard/", "/dashboard/calls", "/dashboard/calls/CAsec", "/dashboard/reports", "/dashboard/numbers",
         "/dashboard/numbers/+8613912345678", "/dashboard/merchants", "/dashboard/merchants/123456789012345",
         "/dashboard/outreach", "/dashboard/callbacks", "/dashboard/audit", "/dashboard/users", "/dashboard/password"]
NEW_PASSWORD = "a brand new passphrase"


class FrozenClock:
    """clock.now() held still, moved on only by advance()."""

    def __init__(self, moment):
        self.moment = moment

    def __call__(self):
        return self.moment

    def advance(self, **interval):
        self.moment += timedelta(**interval)


@pytest.fixture
def now(monkeypatch):
    frozen = FrozenClock(datetime(2026, 5, 4, 2, 0, tzinfo=timezone.utc))
    monkeypatch.setattr(clock, "now", frozen)
    return frozen


def session_cookie(client):
    cookie = client.get_cookie(STAFF_COOKIE)
    return cookie.value if cookie else None


def attempt(client, name, password, address="10.0.0.1", lang=None):
    """One sign-in attempt from `address`; the login page is fetched first when the client has no form token yet."""
    if not csrf_of(client):
        client.get("/dashboard/login")
    if lang:
        client.post("/dashboard/language", data={"lang": lang, "csrf_token": csrf_of(client)})
    return client.post("/dashboard/login", data={"name": name, "password": password, "csrf_token": csrf_of(client)},
                       environ_base={"REMOTE_ADDR": address})


def signed_in(client):
    return client.get("/dashboard/").status_code == 200


# -- sessions on the server -------------------------------------------------------------------------------------


def test_the_cookie_carries_only_a_random_id_and_the_database_only_its_hash(client, login, app):
    login("agent")
    token = session_cookie(client)
    assert token and len(token) >= 40
    [stored] = rows(app, "SELECT * FROM staff_sessions")
    assert stored["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(stored)
    # The signed (readable) cookie keeps only the language and the form token: no name, no numbers.
    with client.session_transaction() as signed:
        assert set(signed) <= {"lang", "csrf", "_permanent", "_flashes"}
    set_cookie = " ".join(client.post("/dashboard/logout", data={"csrf_token": csrf_of(client)}).headers.getlist("Set-Cookie"))
    assert f"{STAFF_COOKIE}=;" in set_cookie  # the browser is told to drop it too


def test_after_sign_out_a_replayed_cookie_signs_no_one_in(app, client, login):
    login("agent")
    token = session_cookie(client)
    with client.session_transaction() as signed:
        form_cookie = dict(signed)
    assert client.post("/dashboard/logout", data={"csrf_token": csrf_of(client)}).status_code == 302
    assert not signed_in(client)
    # An attacker who copied both cookies before the sign-out replays them in another browser.
    replay = app.test_client()
    replay.set_cookie(STAFF_COOKIE, token)
    with replay.session_transaction() as signed:
        signed.update(form_cookie)
    response = replay.get("/dashboard/calls")
    assert response.status_code == 302 and response.headers["Location"].startswith("/dashboard/login")
    assert rows(app, "SELECT revoked_reason FROM staff_sessions") == [{"revoked_reason": "signed out"}]


def test_a_session_ends_after_the_idle_timeout_and_after_the_absolute_one(app, client, login, now):
    login("agent")
    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    token = session_cookie(client)
    # Busy all day: each request inside the idle timeout keeps it going, until the absolute end.
    elapsed = timedelta()
    while elapsed + idle - timedelta(minutes=2) < timedelta(hours=app.config["SESSION_MAX_HOURS"]):
        now.advance(seconds=(idle - timedelta(minutes=2)).total_seconds())
        elapsed += idle - timedelta(minutes=2)
        assert signed_in(client), elapsed
    now.advance(minutes=idle.total_seconds() / 60 - 3)
    assert not signed_in(client)
    # Idle: a new session lapses after the idle timeout, and its old id stays dead even when the clock allows.
    login("agent")
    assert session_cookie(client) != token
    now.advance(minutes=idle.total_seconds() / 60 + 1)
    assert not signed_in(client)


def test_an_admin_disabling_a_user_ends_its_sessions_for_good(app, client, login):
    agent = app.test_client()
    attempt(agent, "abe", STAFF_PASSWORD)
    token = session_cookie(agent)
    assert signed_in(agent)
    admin_token = login("admin")
    client.post("/dashboard/users/abe", data={"disabled": "1", "csrf_token": admin_token})
    assert not signed_in(agent)
    client.post("/dashboard/users/abe", data={"disabled": "0", "csrf_token": admin_token})
    agent.set_cookie(STAFF_COOKIE, token)
    assert not signed_in(agent)  # enabling the account again does not revive the old session
    assert rows(app, "SELECT revoked_reason FROM staff_sessions WHERE user_id = (SELECT id FROM users WHERE name = 'abe')") == [
        {"revoked_reason": "disabled"}
    ]


# -- passwords in the dashboard ---------------------------------------------------------------------------------


def test_changing_your_password_ends_your_other_sessions_and_keeps_this_browser(app, client, login):
    other = app.test_client()
    attempt(other, "abe", STAFF_PASSWORD, address="10.0.0.2")
    token = login("agent")
    before = session_cookie(client)
    response = client.post("/dashboard/password", data={"password": STAFF_PASSWORD, "new_password": NEW_PASSWORD,
                                                        "new_password2": NEW_PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert signed_in(client) and session_cookie(client) != before
    assert not signed_in(other)
    replay = app.test_client()
    replay.set_cookie(STAFF_COOKIE, before)
    assert not signed_in(replay)
    assert attempt(app.test_client(), "abe", STAFF_PASSWORD, address="10.0.0.3").status_code == 401
    assert attempt(app.test_client(), "abe", NEW_PASSWORD, address="10.0.0.4").status_code == 302
    [entry] = rows(app, "SELECT \"user\", detail FROM audit WHERE action = 'user.password_change'")
    assert entry["user"] == "abe" and '"sessions_ended": 2' in entry["detail"]


@pytest.mark.parametrize("current, new, repeat, message", [
    ("wrong password!!", NEW_PASSWORD, NEW_PASSWORD, "当前密码不正确。"),
    (STAFF_PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "两次输入的密码不一致。"),
    (STAFF_PASSWORD, "short", "short", "密码至少需要 10 个字符。"),
    (STAFF_PASSWORD, STAFF_PASSWORD, STAFF_PASSWORD, "新密码不能与当前密码相同。"),
])
def test_a_password_change_needs_the_current_password_and_a_good_new_one(app, client, login, current, new, repeat, message):
    token = login("agent")
    response = client.post("/dashboard/password", data={"password": current, "new_password": new,
                                                        "new_password2": repeat, "csrf_token": token})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert signed_in(client)
    assert attempt(app.test_client(), "abe", STAFF_PASSWORD, address="10.0.0.9").status_code == 302


def test_an_admin_reset_shows_a_temporary_password_once_that_only_lets_its_owner_choose_a_new_one(app, client, login, now):
    agent = app.test_client()
    attempt(agent, "abe", STAFF_PASSWORD, address="10.0.0.2")
    token = login("admin")
    response = client.post("/dashboard/users/abe/password", data={"csrf_token": token})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    temporary = re.search(r'<code class="secret">([^<]+)</code>', response.get_data(as_text=True)).group(1)
    assert re.fullmatch(r"\w{4}-\w{4}-\w{4}-\w{4}", temporary)
    assert temporary not in client.get("/dashboard/users").get_data(as_text=True)
    assert not signed_in(agent)
    [entry] = rows(app, "SELECT \"user\", target, detail FROM audit WHERE action = 'user.password_reset'")
    assert entry["user"] == "ada" and entry["target"] == "abe" and temporary not in entry["detail"]
    assert temporary not in str(rows(app, "SELECT * FROM users"))
    # The temporary password leads only to the password page until a new one is chosen.
    fresh = app.test_client()
    response = attempt(fresh, "abe", temporary, address="10.0.0.3")
    assert response.headers["Location"] == "/dashboard/password"
    assert fresh.get("/dashboard/calls").headers["Location"] == "/dashboard/password"
    assert "管理员已重置您的密码" in fresh.get("/dashboard/password").get_data(as_text=True)
    fresh.post("/dashboard/password", data={"password": temporary, "new_password": NEW_PASSWORD,
                                            "new_password2": NEW_PASSWORD, "csrf_token": csrf_of(fresh)})
    assert fresh.get("/dashboard/calls").status_code == 200


def test_a_temporary_password_expires_and_an_admin_cannot_reset_their_own(app, client, login, now):
    token = login("admin")
    page = client.post("/dashboard/users/abe/password", data={"csrf_token": token}).get_data(as_text=True)
    temporary = re.search(r'<code class="secret">([^<]+)</code>', page).group(1)
    now.advance(hours=24, seconds=1)
    assert attempt(app.test_client(), "abe", temporary, address="10.0.0.3").status_code == 401
    response = client.post("/dashboard/users/ada/password", data={"csrf_token": token})
    assert response.status_code == 302
    assert attempt(app.test_client(), "ada", STAFF_PASSWORD, address="10.0.0.4").status_code == 302


def test_an_agent_cannot_reset_passwords(app, client, login):
    token = login("agent")
    assert client.post("/dashboard/users/ada/password", data={"csrf_token": token}).status_code == 403
    assert rows(app, "SELECT * FROM audit WHERE action = 'user.password_reset'") == []


def test_the_users_page_shows_each_last_sign_in(client, login, now):
    attempt(client, "abe", STAFF_PASSWORD)  # 02:00 UTC is 10:00 in Shanghai
    now.advance(hours=1)
    client.post("/dashboard/logout", data={"csrf_token": csrf_of(client)})
    login("admin")
    client.post("/dashboard/language", data={"lang": "en", "csrf_token": csrf_of(client)})
    page = client.get("/dashboard/users").get_data(as_text=True)
    cells = {re.search(r"<td>(\w+)", row).group(1): re.search(r'class="last-sign-in">([^<]*)<', row).group(1)
             for row in page.split("<tr>") if "last-sign-in" in row}
    assert "10:00" in cells["abe"] and "11:00" in cells["ada"]
    assert "Last sign-in" in page


@pytest.mark.parametrize("action", ["create", "reset", "change"])
def test_no_password_is_hashed_while_the_write_lock_is_held(app, client, login, monkeypatch, action):
    token = login("admin")
    held = []
    real = users.hash_password

    def watching(password):
        held.append(flask.g.db.conn.in_transaction)
        return real(password)

    monkeypatch.setattr(users, "hash_password", watching)
    if action == "create":
        client.post("/dashboard/users", data={"name": "fay", "role": "agent", "password": NEW_PASSWORD,
                                              "password2": NEW_PASSWORD, "csrf_token": token})
    elif action == "reset":
        client.post("/dashboard/users/abe/password", data={"csrf_token": token})
    else:
        client.post("/dashboard/password", data={"password": STAFF_PASSWORD, "new_password": NEW_PASSWORD,
                                                 "new_password2": NEW_PASSWORD, "csrf_token": token})
    assert held and not any(held)


# -- sign-in that cannot be turned against the hotline ----------------------------------------------------------


def test_while_a_sign_in_hashes_a_webhook_writes_without_waiting(app, client, staff, call, monkeypatch):
    seen = {}
    real = signin.check_password_hash

    def slow_hash(stored, password):
        seen["in_transaction"] = flask.g.db.conn.in_transaction
        started = time.perf_counter()
        worker = threading.Thread(target=lambda: seen.setdefault("twiml", call.start(from_="+8613700137000")))
        worker.start()
        worker.join(timeout=10)
        seen["webhook_seconds"] = time.perf_counter() - started
        return real(stored, password)

    monkeypatch.setattr(signin, "check_password_hash", slow_hash)
    assert attempt(client, "nobody", "some wrong password").status_code == 401
    assert seen["in_transaction"] is False
    assert seen["webhook_seconds"] < 1.0  # app.config DATABASE_TIMEOUT is 3 s: a held lock would show
    assert rows(app, "SELECT count(*) AS n FROM calls WHERE from_number = '+8613700137000'") == [{"n": 1}]


def test_wrong_passwords_slow_an_account_down_with_growing_waits_but_never_lock_it(client, staff, app, now):
    # Each attempt from a new address: this is the per-account throttle alone.
    addresses = (f"10.1.0.{n}" for n in range(1, 200))
    for _ in range(throttle.ACCOUNT.free):
        assert attempt(client, "abe", "wrong password!!", next(addresses)).status_code == 401
    waits = []
    for _ in range(7):
        refused = attempt(client, "abe", STAFF_PASSWORD, next(addresses))  # even the right password waits
        assert refused.status_code == 429
        waits.append(int(refused.headers["Retry-After"]))
        now.advance(seconds=waits[-1])
        assert attempt(client, "abe", "wrong password!!", next(addresses)).status_code == 401
    assert waits == [2, 4, 8, 16, 32, 60, 60]  # doubling, up to a minute at most
    assert rows(app, "SELECT count(*) AS n FROM audit WHERE action = 'auth.sign_in_failed'") == [{"n": 12}]
    now.advance(seconds=60)
    assert attempt(client, "abe", STAFF_PASSWORD, next(addresses)).status_code == 302
    # The right password starts the account afresh.
    assert attempt(app.test_client(), "abe", "wrong password!!", next(addresses)).status_code == 401


def test_one_address_guessing_many_names_is_slowed_down_and_other_addresses_are_not(client, staff, now):
    for number in range(throttle.ADDRESS.free):
        assert attempt(client, f"guess{number}", "wrong password!!", "203.0.113.7").status_code == 401
    refused = attempt(client, "abe", STAFF_PASSWORD, "203.0.113.7")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "2"
    assert attempt(client, "abe", STAFF_PASSWORD, "198.51.100.1").status_code == 302


def test_an_unknown_name_is_answered_exactly_like_a_real_one(client, staff, monkeypatch, now):
    hashed = []
    real = signin.check_password_hash
    monkeypatch.setattr(signin, "check_password_hash", lambda stored, password: hashed.append(stored) or real(stored, password))
    answers = {}
    for name, address in (("abe", "10.2.0.1"), ("nobody", "10.2.0.2")):
        seen = []
        for _ in range(throttle.ACCOUNT.free + 2):
            response = attempt(client, name, "wrong password!!", address)
            seen.append((response.status_code, response.headers.get("Retry-After"), response.get_data(as_text=True)))
        answers[name] = seen
    assert answers["abe"] == answers["nobody"]
    assert [status for status, _, _ in answers["abe"]] == [401] * throttle.ACCOUNT.free + [429, 429]
    # The unknown name was checked against a hash made just as real ones are, so it takes as long.
    methods = {stored.split("$")[0] for stored in hashed}
    assert len(hashed) == 2 * throttle.ACCOUNT.free and len(methods) == 1


def test_when_every_check_slot_is_busy_an_attempt_is_turned_away_unchecked(app, client, staff, monkeypatch):
    monkeypatch.setattr(signin, "check_password_hash", lambda *args: pytest.fail("no password may be checked"))
    with signin.CheckSlots(app.config["DATABASE"], app.config["SIGN_IN_SLOTS"]).taken() as free:
        assert free
        response = attempt(client, "abe", STAFF_PASSWORD)
    assert response.status_code == 429 and response.headers["Retry-After"] == "1"
    assert rows(app, "SELECT count(*) AS n FROM audit WHERE action LIKE 'auth.%'") == [{"n": 0}]


def test_the_wait_is_said_in_the_chosen_language(client, staff, now):
    for _ in range(throttle.ACCOUNT.free):
        attempt(client, "abe", "wrong password!!", "10.3.0.1")
    assert "请 2 秒后再试" in attempt(client, "abe", "x", "10.3.0.2").get_data(as_text=True)
    assert "Try again in 2 seconds" in attempt(client, "abe", "x", "10.3.0.3", lang="en").get_data(as_text=True)


# -- privacy: reveals and masking -------------------------------------------------------------------------------


def test_a_reveal_lives_on_the_server_expires_and_every_view_is_audited(app, client, login, database, now):
    token = login("agent")
    add_call(database, "CAsec", clock.stamp(), from_number="+8613812348000")
    client.post("/dashboard/reveal", data={"kind": "call", "ref": "CAsec", "csrf_token": token})
    with client.session_transaction() as signed:
        assert "13812348000" not in str(dict(signed))
    for _ in range(2):
        assert "+8613812348000" in client.get("/dashboard/calls/CAsec").get_data(as_text=True)
    views = rows(app, "SELECT \"user\", target, detail FROM audit WHERE action = 'number.view'")
    assert [(view["user"], view["target"]) for view in views] == [("abe", "call:CAsec")] * 2
    assert "+86 138****8000" in views[0]["detail"]
    assert "13812348000" not in str(rows(app, "SELECT * FROM audit"))
    # Another session of the same person does not see it, and after a few minutes neither does this one.
    other = app.test_client()
    attempt(other, "abe", STAFF_PASSWORD, "10.4.0.1")
    assert "+8613812348000" not in other.get("/dashboard/calls/CAsec").get_data(as_text=True)
    now.advance(minutes=app.config["REVEAL_MINUTES"], seconds=1)
    page = client.get("/dashboard/calls/CAsec").get_data(as_text=True)
    assert "+8613812348000" not in page and "+86 138****8000" in page
    assert len(rows(app, "SELECT id FROM audit WHERE action = 'number.view'")) == 2


def test_a_reveal_ends_with_the_session(app, client, login, database):
    token = login("agent")
    add_call(database, "CAsec", clock.stamp(), from_number="+8613812348000")
    client.post("/dashboard/reveal", data={"kind": "call", "ref": "CAsec", "csrf_token": token})
    client.post("/dashboard/logout", data={"csrf_token": token})
    login("agent")
    assert "+8613812348000" not in client.get("/dashboard/calls/CAsec").get_data(as_text=True)


def test_the_audit_log_masks_every_phone_number_but_not_merchant_numbers(app, client, login, database):
    merchants.upsert_merchant(database, "123456789012345", "小王便利店", ["+8613812348000"], actor="ada")
    login("agent")
    client.get("/dashboard/calls.csv?caller=13912345678")
    page = client.get("/dashboard/audit").get_data(as_text=True)
    table = page[page.index('id="audit"'):]
    for number in ("13812348000", "13912345678"):
        assert number not in table
    assert "+86 138****8000" in table and "+86 139****5678" in table
    assert "123456789012345" in table


# -- security headers -------------------------------------------------------------------------------------------


def test_every_page_and_api_answer_carries_the_security_headers(app, client, login, api):
    login("admin")
    answers = {path: client.get(path) for path in ["/dashboard/login", "/dashboard/", "/dashboard/calls", "/dashboard/nope"]}
    answers["/api/calls"] = api("GET", "/api/calls")
    answers["/api/calls (no token)"] = api("GET", "/api/calls", token=None)
    for path, response in answers.items():
        headers = response.headers
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "style-src 'self'" in policy, path
        assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy, path
        assert headers["X-Frame-Options"] == "DENY", path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "no-referrer", path
        assert headers["Cache-Control"] == "no-store", path
        assert "Strict-Transport-Security" not in headers, path
    stylesheet = client.get("/static/dashboard.css")
    assert stylesheet.headers["X-Content-Type-Options"] == "nosniff"
    assert stylesheet.headers.get("Cache-Control") != "no-store"


def test_hsts_is_sent_when_the_public_url_is_https(app, client):
    app.config["PUBLIC_URL"] = "https://hotline.example.com"
    assert client.get("/dashboard/login").headers["Strict-Transport-Security"].startswith("max-age=")


def test_no_page_has_inline_script_style_or_event_handler(client, login, database):
    add_call(database, "CAsec", clock.stamp(), from_number="+8613812348000")
    login("admin")
    inline = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", re.I)
    for path in PAGES:
        page = client.get(path).get_data(as_text=True)
        assert not inline.search(page), (path, inline.search(page))
    for template in TEMPLATES.rglob("*.html"):
        assert not inline.search(template.read_text(encoding="utf-8")), template.name


def test_the_legend_colours_in_the_stylesheet_match_the_charts():
    stylesheet = CSS.read_text(encoding="utf-8")
    for key, colour in charts.COLORS.items():
        assert re.search(rf"\.k-{key or 'none'} {{ background: {colour}; }}", stylesheet), key


def test_a_real_browser_finds_nothing_the_policy_blocks_and_blocks_an_injected_script(app, staff, database):
    sync_api = pytest.importorskip("playwright.sync_api")
    chromium = os.environ.get("IVR_CHROMIUM", "/usr/bin/chromium")
    if not os.path.exists(chromium):
        pytest.skip(f"no Chromium at {chromium} (bash .ci/system-deps installs it)")
    add_call(database, "CAsec", clock.stamp(), from_number="+8613812348000")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    blocked = []
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu",
                                                                                 "--disable-dev-shm-usage"])
            page = browser.new_page()
            page.on("console", lambda message: blocked.append((page.url, message.text))
                    if "Content Security Policy" in message.text else None)
            page.goto(base + "/dashboard/login")
            page.fill("input[name=name]", "ada")
            page.fill("input[name=password]", STAFF_PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(base + "/dashboard/")
            for path in PAGES:
                page.goto(base + path)
            assert blocked == []
            # An inline script that slipped into a page would not run, and the browser says why.
            ran = page.evaluate("""() => { const script = document.createElement('script');
                script.textContent = 'window.injected = true'; document.body.appendChild(script);
                return window.injected === true; }""")
            page.wait_for_timeout(200)
            browser.close()
    finally:
        server.shutdown()
    assert ran is False
    assert blocked and "script" in blocked[0][1]
