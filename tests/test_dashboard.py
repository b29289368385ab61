"""Staff dashboard: accounts, sign-in and its throttling, roles, CSRF, masking and reveal, escaping, audit."""
import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from conftest import STAFF_PASSWORD, add_call, csrf_of, insert, rows
from ivr import clock
from ivr import database as databases
from ivr.staff import users
from ivr.storage import callsearch
from ivr.vocabulary import VERDICTS

DASHBOARD_PAGES = [
    "/dashboard/", "/dashboard/calls", "/dashboard/calls/CA123", "/dashboard/calls.csv", "/dashboard/reports",
    "/dashboard/reports.csv", "/dashboard/numbers", "/dashboard/numbers/+8613912345678", "/dashboard/merchants",
    "/dashboard/merchants/123456789012345", "/dashboard/outreach", "/dashboard/callbacks", "/dashboard/audit",
    "/dashboard/users",
]


# -- accounts -------------------------------------------------------------------------------


def test_users_create_reads_the_password_twice_from_stdin_and_stores_only_a_scrypt_hash(runner, app):
    result = runner.invoke(args=["users", "create", "carol", "--role", "admin"], input="s3cret-passphrase\ns3cret-passphrase\n")
    assert result.exit_code == 0, result.output
    assert "s3cret-passphrase" not in result.output
    [user] = rows(app, "SELECT * FROM users WHERE name = 'carol'")
    assert user["role"] == "admin"
    assert user["password_hash"].startswith("scrypt:")
    assert "s3cret-passphrase" not in user["password_hash"]
    assert rows(app, "SELECT \"user\", action, target FROM audit WHERE action = 'user.create'") == [
        {"user": "cli", "action": "user.create", "target": "carol"}
    ]


@pytest.mark.parametrize("stdin, role, message", [
    ("first-password\nsecond-password\n", "agent", "differ"),
    ("short\nshort\n", "agent", "at least"),
    ("", "agent", "no password"),
    ("long-enough-password\n", "boss", "Invalid value"),
])
def test_users_create_refuses_bad_input(runner, app, stdin, role, message):
    result = runner.invoke(args=["users", "create", "dave", "--role", role], input=stdin)
    assert result.exit_code != 0
    assert message in result.output
    assert rows(app, "SELECT * FROM users WHERE name = 'dave'") == []


def test_users_create_refuses_a_duplicate_name(runner, staff):
    result = runner.invoke(args=["users", "create", "ada"], input="another-password\nanother-password\n")
    assert result.exit_code != 0 and "already exists" in result.output


# -- sign-in --------------------------------------------------------------------------------


@pytest.mark.parametrize("page", DASHBOARD_PAGES)
def test_every_page_and_export_requires_sign_in(client, page):
    response = client.get(page)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/dashboard/login")


def test_sign_in_with_the_right_password_starts_a_session_and_is_audited(client, staff, app):
    client.get("/dashboard/login")
    response = client.post("/dashboard/login?next=/dashboard/calls",
                           data={"name": "abe", "password": STAFF_PASSWORD, "csrf_token": csrf_of(client)})
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard/calls"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert client.get("/dashboard/calls").status_code == 200
    assert rows(app, "SELECT \"user\", action, target FROM audit WHERE action = 'auth.sign_in'") == [
        {"user": "abe", "action": "auth.sign_in", "target": "abe"}
    ]


def test_session_cookie_is_secure_over_https(client, staff):
    client.get("/dashboard/login", base_url="https://localhost")
    response = client.post("/dashboard/login", base_url="https://localhost",
                           data={"name": "abe", "password": STAFF_PASSWORD, "csrf_token": csrf_of(client)})
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]


def test_sign_in_never_redirects_off_site(client, staff):
    client.get("/dashboard/login")
    response = client.post("/dashboard/login?next=//evil.example/x",
                           data={"name": "abe", "password": STAFF_PASSWORD, "csrf_token": csrf_of(client)})
    assert response.headers["Location"] == "/dashboard/"


@pytest.mark.parametrize("name, password", [("abe", "wrong password!"), ("nobody", STAFF_PASSWORD), ("abe", "")])
def test_a_failed_sign_in_is_refused_and_logged(client, staff, app, name, password):
    client.get("/dashboard/login")
    response = client.post("/dashboard/login", data={"name": name, "password": password, "csrf_token": csrf_of(client)})
    assert response.status_code == 401
    assert client.get("/dashboard/calls").status_code == 302
    assert rows(app, "SELECT target FROM audit WHERE action = 'auth.sign_in_failed'") == [{"target": name}]


def test_a_disabled_account_cannot_sign_in(client, staff, database):
    users.update_user(database, "abe", "test", disabled=True)
    client.get("/dashboard/login")
    response = client.post("/dashboard/login", data={"name": "abe", "password": STAFF_PASSWORD, "csrf_token": csrf_of(client)})
    assert response.status_code == 401


# Throttling, sessions, passwords and headers: tests/test_staff_security.py.


def test_sign_out_ends_the_session(client, login):
    token = login("agent")
    assert client.post("/dashboard/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/dashboard/").status_code == 302


# -- CSRF -----------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "not-the-token"])
def test_a_post_without_the_sessions_csrf_token_is_rejected(client, login, database, app, token):
    login("admin")
    add_call(database, "CAcb", "2026-01-01T00:00:00.000+00:00")
    made = insert(database, "callbacks", {"call_sid": "CAcb", "created_at": "2026-01-01T00:00:00.000+00:00",
                                          "status": "waiting"})
    data = {} if token is None else {"csrf_token": token}
    assert client.post(f"/dashboard/callbacks/{made['id']}/done", data=data).status_code == 400
    assert rows(app, "SELECT status FROM callbacks")[0]["status"] == "waiting"


def test_sign_in_itself_needs_the_csrf_token(client, staff):
    client.get("/dashboard/login")
    response = client.post("/dashboard/login", data={"name": "abe", "password": STAFF_PASSWORD})
    assert response.status_code == 400


def test_the_token_of_another_session_is_rejected(app, login, client):
    login("admin")
    other = app.test_client()
    other.get("/dashboard/login")
    foreign = csrf_of(other)
    assert foreign and foreign != csrf_of(client)
    assert client.post("/dashboard/users", data={"name": "mallory", "role": "admin", "password": "x" * 12,
                                                 "password2": "x" * 12, "csrf_token": foreign}).status_code == 400
    assert rows(app, "SELECT * FROM users WHERE name = 'mallory'") == []


# -- roles ----------------------------------------------------------------------------------


ADMIN_ACTIONS = [
    ("get", "/dashboard/users", {}),
    ("post", "/dashboard/users", {"name": "eve", "role": "admin", "password": "x" * 12, "password2": "x" * 12}),
    ("post", "/dashboard/users/ada", {"role": "agent"}),
    ("post", "/dashboard/numbers/+8613912345678/status", {"status": "confirmed", "reason": "many reports"}),
    ("post", "/dashboard/numbers/+8613912345678/status", {"status": "cleared", "reason": "our own number"}),
    ("post", "/dashboard/merchants/123456789012345/unlock", {}),
]


@pytest.mark.parametrize("method, path, data", ADMIN_ACTIONS)
def test_an_agent_gets_403_on_admin_actions(client, login, app, method, path, data):
    token = login("agent")
    if method == "get":
        response = client.get(path)
    else:
        response = client.post(path, data=dict(data, csrf_token=token))
    assert response.status_code == 403
    assert rows(app, "SELECT * FROM users WHERE name = 'eve'") == []
    assert rows(app, "SELECT * FROM number_status_changes") == []
    assert rows(app, "SELECT role FROM users WHERE name = 'ada'")[0]["role"] == "admin"


def test_an_admin_manages_users_in_the_dashboard(client, login, app):
    token = login("admin")
    page = client.get("/dashboard/users").get_data(as_text=True)
    assert "abe" in page
    response = client.post("/dashboard/users", data={"name": "fay", "role": "agent", "password": "fay-password-1",
                                                      "password2": "fay-password-1", "csrf_token": token})
    assert response.status_code == 302
    client.post("/dashboard/users/fay", data={"role": "admin", "csrf_token": token})
    client.post("/dashboard/users/abe", data={"disabled": "1", "csrf_token": token})
    assert {row["name"]: (row["role"], row["disabled"]) for row in rows(app, "SELECT * FROM users")} == {
        "ada": ("admin", 0), "abe": ("agent", 1), "fay": ("admin", 0)
    }
    assert [row["action"] for row in rows(app, "SELECT action FROM audit WHERE \"user\" = 'ada' ORDER BY id")] == [
        "auth.sign_in", "user.create", "user.update", "user.update"
    ]


def test_a_disabled_user_is_signed_out_on_the_next_request(client, login, database):
    login("agent")
    assert client.get("/dashboard/").status_code == 200
    users.update_user(database, "abe", "ada", disabled=True)
    assert client.get("/dashboard/").status_code == 302


# -- language -------------------------------------------------------------------------------


def test_staff_choose_chinese_or_english(client, login):
    token = login("agent")
    assert "概览" in client.get("/dashboard/").get_data(as_text=True)
    client.post("/dashboard/language", data={"lang": "en", "csrf_token": token, "next": "/dashboard/"})
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "Overview" in page and "概览" not in page
    assert client.post("/dashboard/language", data={"lang": "fr", "csrf_token": token}).status_code == 400


# -- masking, reveal, escaping --------------------------------------------------------------


def test_numbers_are_masked_until_revealed_and_the_reveal_is_audited(client, login, database, app):
    token = login("agent")
    add_call(database, "CAmask", clock.stamp(), from_number="+8613812348000")
    listing = client.get("/dashboard/calls").get_data(as_text=True)
    detail = client.get("/dashboard/calls/CAmask").get_data(as_text=True)
    for page in (listing, detail):
        assert "+86 138****8000" in page
        assert "13812348000" not in page
    response = client.post("/dashboard/reveal", data={"kind": "call", "ref": "CAmask", "csrf_token": token,
                                                      "next": "/dashboard/calls/CAmask"})
    assert response.headers["Location"] == "/dashboard/calls/CAmask"
    assert "+8613812348000" in client.get("/dashboard/calls/CAmask").get_data(as_text=True)
    [entry] = rows(app, "SELECT \"user\", action, target, detail FROM audit WHERE action = 'number.reveal'")
    assert entry["user"] == "abe" and entry["target"] == "call:CAmask"
    assert "13812348000" not in entry["detail"]
    # Exports stay masked whatever was revealed.
    assert "+8613812348000" not in client.get("/dashboard/calls.csv").get_data(as_text=True)


def test_reveal_of_an_unknown_record_is_404_and_not_audited(client, login, app):
    token = login("agent")
    assert client.post("/dashboard/reveal", data={"kind": "call", "ref": "CAnone", "csrf_token": token}).status_code == 404
    assert client.post("/dashboard/reveal", data={"kind": "users", "ref": "1", "csrf_token": token}).status_code == 400
    assert rows(app, "SELECT * FROM audit WHERE action = 'number.reveal'") == []


SCRIPT = "<script>alert(1)</script>"


def test_what_a_caller_said_is_shown_escaped_everywhere(client, login, call, app):
    call.start(from_="+8613800138000")
    call.say(SCRIPT)
    call.hangup()
    sid = call.sid
    assert rows(app, "SELECT speech FROM events WHERE call_sid = ? AND kind = 'input'", [sid])[0]["speech"] == SCRIPT
    login("agent")
    for url in (f"/dashboard/calls/{sid}", "/dashboard/calls", "/dashboard/calls?q=alert(1)"):
        page = client.get(url).get_data(as_text=True)
        assert SCRIPT not in page, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url


def test_a_recording_url_from_a_webhook_is_never_a_link(client, login, database):
    login("agent")
    add_call(database, "CArec", clock.stamp(), events=[
        {"kind": "record", "detail": '{"url": "javascript:alert(1)", "recorded": true}'},
        {"kind": "record", "detail": '{"url": "https://api.twilio.com/rec/RE1", "recorded": true}'},
    ])
    page = client.get("/dashboard/calls/CArec").get_data(as_text=True)
    # Recordings play from the hotline's own copy; no address a webhook named ever becomes a link.
    assert 'href="javascript:' not in page and 'href="https://api.twilio.com' not in page


# -- audit log ------------------------------------------------------------------------------


def test_the_audit_log_lists_staff_actions_with_who_and_when_and_filters(client, login, database):
    token = login("agent")
    add_call(database, "CAaud", clock.stamp(), from_number="+8613812348000")
    client.post("/dashboard/reveal", data={"kind": "call", "ref": "CAaud", "csrf_token": token})
    page = client.get("/dashboard/audit").get_data(as_text=True)
    table = page[page.index('id="audit"'):]
    # Each action reads as a sentence, with its record; the stored action and detail are folded away.
    assert re.search(r'<td>abe</td><td class="action" data-action="number.reveal">显示了通话 CAaud 的完整号码</td>'
                     r"<td>call:CAaud</td>", table)
    assert 'data-action="auth.sign_in">登录</td>' in table
    filtered = client.get("/dashboard/audit?action=number.reveal").get_data(as_text=True)
    filtered = filtered[filtered.index('id="audit"'):]
    assert 'data-action="number.reveal"' in filtered and 'data-action="auth.sign_in"' not in filtered
    assert client.get("/dashboard/audit?before=x").status_code == 400


def test_demo_data_generates_calls_with_events_reports_and_a_mix_of_verdicts(runner, app, monkeypatch):
    # Noon in Shanghai: the generator leaves out the rest of today, so the count depends on the hour.
    noon = datetime(2026, 6, 15, 4, 0, tzinfo=timezone.utc)
    monkeypatch.setattr(clock, "now", lambda: noon)
    result = runner.invoke(args=["demo-data", "--calls", "400", "--days", "20"])
    assert result.exit_code == 0, result.output
    calls = rows(app, "SELECT count(*) AS n, count(DISTINCT language) AS langs, min(started_at) AS first FROM calls")[0]
    assert 380 <= calls["n"] <= 420 and calls["langs"] == 2
    # Every verdict staff can filter by, and no other, so the demo shows each of them.
    assert {row["verdict"] for row in rows(app, "SELECT DISTINCT verdict FROM calls")} == {*VERDICTS, None}
    assert calls["first"] >= clock.stamp(clock.now() - timedelta(days=21))
    assert rows(app, "SELECT count(*) AS n FROM events")[0]["n"] > 5 * calls["n"]
    assert rows(app, "SELECT count(*) AS n FROM reports")[0]["n"] > 0
    # Spoken answers reach the search index, as live calls do: the calls search finds every call that said them.
    said = rows(app, "SELECT call_sid FROM events WHERE speech LIKE '%我要核实%'")
    english = rows(app, "SELECT call_sid FROM events WHERE kind = 'input' AND speech LIKE '%an app%'")
    assert said and english
    with databases.opened(app.config) as database:
        assert set(callsearch.speech_hits(database, "我要核实", 10**6)) == {row["call_sid"] for row in said}
        assert set(callsearch.speech_hits(database, "an app", 10**6)) == {row["call_sid"] for row in english}
    if not app.config.get("DATABASE_URL"):
        # On SQLite they reach its full-text table through the trigger, one row for each answer.
        assert rows(app, """SELECT count(*) AS n FROM speech_fts WHERE speech_fts MATCH '"我要核实"'""")[0]["n"] == len(said)
        assert rows(app, """SELECT count(*) AS n FROM speech_fts WHERE speech_fts MATCH '"an app"'""")[0]["n"] == len(english)


# -- overview: local days --------------------------------------------------------------------


@pytest.mark.parametrize("zone, change", [
    ("Europe/London", date(2026, 3, 29)),  # clocks go forward an hour at 01:00 UTC
    ("Europe/London", date(2026, 10, 25)),  # and back
    ("America/New_York", date(2026, 3, 8)),
    ("America/New_York", date(2026, 11, 1)),
])
def test_the_overview_counts_each_call_on_its_local_day_across_a_clock_change(
        client, login, database, app, monkeypatch, zone, change):
    app.config["DASHBOARD_TZ"] = zone
    local = ZoneInfo(zone)
    today = change + timedelta(days=3)
    monkeypatch.setattr(clock, "now", lambda: datetime.combine(today, time(12), tzinfo=local).astimezone(timezone.utc))
    # Half an hour after midnight and before the next: the day before the change, its day, the day after, and
    # the first day the overview shows (which had the other offset).
    days = [today - timedelta(days=29), change - timedelta(days=1), change, change + timedelta(days=1)]
    for day in days:
        for hour in (0, 23):
            stamp = clock.stamp(datetime.combine(day, time(hour, 30), tzinfo=local))
            add_call(database, f"CA{day:%m%d}{hour}", stamp, verdict="genuine", verdict_at=stamp)
            insert(database, "reports", {"report_number": f"R{day:%m%d}{hour}", "category": "fee", "created_at": stamp})
    login("agent")
    client.post("/dashboard/language", data={"lang": "en", "csrf_token": csrf_of(client)})
    page = client.get("/dashboard/").get_data(as_text=True)

    two_a_day = {day.isoformat(): 2 for day in days}
    calls = {day: int(count) for day, count in re.findall(r"<title>(\d{4}-\d\d-\d\d) genuine: (\d+)</title>", page)}
    reported = {day: int(count) for day, count in re.findall(r"<title>(\d{4}-\d\d-\d\d) reports: (\d+)</title>", page)}
    assert calls == two_a_day
    assert reported == two_a_day
    assert re.search(r"<b>8</b><span>Calls</span>", page)  # none fell out of the 30 days
