"""Dashboard pages that change things: numbers, merchants, outreach, call-backs; and the overview."""
import json
import re
from datetime import datetime, timedelta, timezone

import pytest

from conftest import add_call, insert, rows
from ivr import clock
from ivr.verification import merchants, outreach, reports

MERCHANT = "123456789012345"


@pytest.fixture
def merchant(database):
    merchants.upsert_merchant(database, MERCHANT, "小王便利店", ["+8613800138000"])
    return MERCHANT


# -- numbers --------------------------------------------------------------------------------


def test_numbers_list_shows_counts_categories_and_status(client, login, database):
    login("agent")
    for merchant_id, category in (("111111111111111", "fee"), ("222222222222222", "fee"), ("222222222222222", "remote_app")):
        reports.file_report(database, category, number="+8613912345678", merchant_id=merchant_id)
    reports.file_report(database, "other", number="+8613912340000", merchant_id="333333333333333")
    page = client.get("/dashboard/numbers").get_data(as_text=True)
    row = page[page.index("+8613912345678"):]
    row = row[:row.index("</tr>")]
    assert re.search(r"<td>3</td><td>2</td>", row)  # 3 reports from 2 distinct merchants
    assert "费用、押金或刷卡激活" in row and "安装应用或共享屏幕" in row
    only = client.get("/dashboard/numbers?q=0000").get_data(as_text=True)
    assert "+8613912340000" in only and "+8613912345678" not in only
    assert client.get("/dashboard/numbers?status=bogus").status_code == 400


def test_an_admin_confirms_then_clears_a_number_with_a_reason(client, login, database, app):
    token = login("admin")
    reports.file_report(database, "fee", number="+8613912345678", merchant_id=MERCHANT)
    response = client.post("/dashboard/numbers/+8613912345678/status",
                           data={"status": "confirmed", "reason": "five merchants, same script", "csrf_token": token})
    assert response.status_code == 302
    assert rows(app, "SELECT status, status_changed_by, reason FROM numbers") == [
        {"status": "confirmed", "status_changed_by": "ada", "reason": "five merchants, same script"}
    ]
    page = client.get("/dashboard/numbers/+8613912345678").get_data(as_text=True)
    assert "已确认诈骗" in page and "five merchants, same script" in page
    assert client.get("/dashboard/numbers?status=confirmed").get_data(as_text=True).count("+8613912345678") >= 1
    client.post("/dashboard/numbers/+8613912345678/status", data={"status": "cleared", "reason": "ours", "csrf_token": token})
    assert [row["status"] for row in rows(app, "SELECT status FROM number_status_changes ORDER BY id")] == ["confirmed", "cleared"]
    assert [row["action"] for row in rows(app, "SELECT action FROM audit WHERE action LIKE 'number.%' ORDER BY id")] == [
        "number.confirm", "number.clear"
    ]


@pytest.mark.parametrize("data, code", [({"status": "confirmed", "reason": ""}, 400),
                                        ({"status": "suspected", "reason": "x"}, 400),
                                        ({"status": "confirmed", "reason": "x" * 501}, 400)])
def test_a_status_change_needs_a_staff_status_and_a_reason(client, login, database, app, data, code):
    token = login("admin")
    reports.file_report(database, "fee", number="+8613912345678")
    assert client.post("/dashboard/numbers/+8613912345678/status", data=dict(data, csrf_token=token)).status_code == code
    assert rows(app, "SELECT * FROM number_status_changes") == []


def test_an_agent_sees_no_confirm_form(client, login, database):
    login("agent")
    reports.file_report(database, "fee", number="+8613912345678")
    page = client.get("/dashboard/numbers/+8613912345678").get_data(as_text=True)
    assert "/status" not in page
    assert client.get("/dashboard/numbers/+8613900000000").status_code == 404


@pytest.mark.parametrize("lang, on_file, unverified, summary", [
    ("zh", "举报人为登记电话", "未经核实", ["2 个商户由登记电话举报（计入）", "最近 30 天内 1 个", "其他 3 条举报，未经核实"]),
    ("en", "reporter on file", "not verified",
     ["2 merchants with the reporter on file (counted)", "1 in the last 30 days", "3 other reports, not verified"]),
])
def test_the_number_page_shows_which_reports_count_towards_the_watchlist(client, login, database, lang, on_file,
                                                                        unverified, summary):
    login("admin")
    with client.session_transaction() as session:
        token = session["csrf"]
    client.post("/dashboard/language", data={"lang": lang, "csrf_token": token})
    number = "+8613912345678"
    counted = [reports.file_report(database, "fee", number=number, merchant_id=merchant_id, reporter_registered=True)
               for merchant_id in ("111111111111111", "222222222222222")]
    database.execute("UPDATE reports SET created_at = ? WHERE id = ?",
                     [clock.stamp(clock.now() - timedelta(days=40)), counted[0]["id"]])  # outside the window
    uncounted = [reports.file_report(database, "fee", number=number, merchant_id=merchant_id)
                 for merchant_id in ("333333333333333", "444444444444444", None)]
    page = client.get(f"/dashboard/numbers/{number}").get_data(as_text=True)
    shown = re.search(r'<dd id="counted">(.*?)</dd>', page, re.S).group(1)
    assert all(words in " ".join(shown.split()) for words in summary)
    for report, mark, not_mark in [(r, on_file, unverified) for r in counted] + [(r, unverified, on_file) for r in uncounted]:
        row = page[page.index(f"<td>{report['report_number']}</td>"):]
        row = row[:row.index("</tr>")]
        assert mark in row and not_mark not in row
    # Reports that do not count raise nothing, but staff may still confirm the number from them.
    assert reports.number_summary(database, number)["status"] == "reported"
    assert 'value="confirmed"' in page


def test_an_admin_confirms_a_number_only_unverified_reporters_named(client, login, database, app):
    token = login("admin")
    for merchant_id in ("111111111111111", "222222222222222", "333333333333333"):
        reports.file_report(database, "fee", number="+8613912345678", merchant_id=merchant_id)
    assert reports.number_summary(database, "+8613912345678")["counted_reports"] == 0
    response = client.post("/dashboard/numbers/+8613912345678/status",
                           data={"status": "confirmed", "reason": "same script, police report", "csrf_token": token})
    assert response.status_code == 302
    assert "状态已保存" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert rows(app, "SELECT status FROM numbers") == [{"status": "confirmed"}]


def test_the_numbers_list_shows_counted_merchants_beside_all_merchants(client, login, database):
    login("agent")
    reports.file_report(database, "fee", number="+8613912345678", merchant_id="111111111111111", reporter_registered=True)
    reports.file_report(database, "fee", number="+8613912345678", merchant_id="222222222222222")
    reports.file_report(database, "fee", number="+8613912345678", merchant_id="333333333333333")
    page = client.get("/dashboard/numbers").get_data(as_text=True)
    assert "<th>计入的商户</th>" in page
    row = page[page.index("+8613912345678"):]
    assert re.search(r'<td>3</td><td>3</td><td class="counted">1</td>', row[:row.index("</tr>")])


# -- merchants ------------------------------------------------------------------------------


def _lock(database, merchant_id, attempts=5, caller="+8613900139000", registered=False):
    for _ in range(attempts):
        merchants.record_attempt(database, merchant_id, caller, "CAx", success=False, registered=registered)


def test_the_merchant_page_shows_details_phones_masked_calls_and_lock(client, login, database, merchant):
    login("agent")
    _lock(database, merchant)
    add_call(database, "CAm1", clock.stamp(), merchant_id=merchant, verdict="locked")
    page = client.get(f"/dashboard/merchants/{merchant}").get_data(as_text=True)
    assert "小王便利店" in page and "+86 138****8000" in page and "13800138000" not in page
    assert 'href="/dashboard/calls/CAm1"' in page and "已锁定" in page
    assert "/unlock" not in page and "/locks/lift" not in page  # agents cannot unlock
    assert client.get("/dashboard/merchants/000").status_code == 404
    assert merchant in client.get("/dashboard/merchants?q=小王").get_data(as_text=True)
    assert merchant in client.get("/dashboard/merchants?q=12345").get_data(as_text=True)


def test_an_admin_unlocks_a_locked_merchant(client, login, database, merchant, app):
    token = login("admin")
    _lock(database, merchant)  # a stranger's wrong codes
    _lock(database, merchant, caller="+8613800138000", registered=True)  # and its own phone's
    assert merchants.is_locked(database, merchant, None, registered=False)
    assert merchants.is_locked(database, merchant, None, registered=True)
    assert "/unlock" in client.get(f"/dashboard/merchants/{merchant}").get_data(as_text=True)
    assert client.post(f"/dashboard/merchants/{merchant}/unlock", data={"csrf_token": token}).status_code == 302
    assert not merchants.is_locked(database, merchant, None, registered=False)
    assert not merchants.is_locked(database, merchant, None, registered=True)
    assert [(row["user"], row["target"], json.loads(row["detail"])) for row in rows(
        app, "SELECT \"user\", target, detail FROM audit WHERE action = 'lock.lift' ORDER BY id")] == [
        ("ada", merchant, {"scope": "merchant_strangers", "attempts": 5}),
        ("ada", merchant, {"scope": "merchant_registered", "attempts": 5}),
        ("ada", "+8613800138000", {"scope": "number", "attempts": 5}),  # its own phone's number lock too
    ]
    assert not merchants.is_locked(database, merchant, "+8613800138000", registered=True)
    assert "商户已解锁" in client.get(f"/dashboard/merchants/{merchant}").get_data(as_text=True)


# -- outreach -------------------------------------------------------------------------------


def _create(client, token, **overrides):
    data = {"merchant_id": MERCHANT, "reason": "system_update", "channel": "phone", "from_number": "4009001234",
            "staff_name": "李娜", "action": "accept_terminal_update", "valid_hours": "48", "csrf_token": token}
    data.update(overrides)
    return client.post("/dashboard/outreach", data=data)


def test_creating_outreach_shows_its_code_once(client, login, merchant, app):
    token = login("agent")
    response = _create(client, token)
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    [row] = rows(app, "SELECT * FROM outreach")
    page = response.get_data(as_text=True)
    code = re.search(r'id="reference-code">([0-9]{8})<', page).group(1)
    assert row["code_hash"] == outreach.code_hash(app.config["CODE_SECRET"], MERCHANT, code) and row["reference_code"] == ""
    assert row["staff_name"] == "李娜" and row["from_number"] == "+864009001234"
    assert row["action"] == "accept_terminal_update"
    again = client.get("/dashboard/outreach").get_data(as_text=True)
    assert code not in again and "李娜" in again and "在终端上接受更新提示" in again
    assert code not in client.get(f"/dashboard/merchants/{MERCHANT}").get_data(as_text=True)
    [entry] = rows(app, "SELECT \"user\", detail FROM audit WHERE action = 'outreach.create'")
    assert entry["user"] == "abe" and code not in entry["detail"]


# The domain's English errors reach staff as sentences in their language (Chinese here).
@pytest.mark.parametrize("overrides, message", [({"merchant_id": "999999999999999"}, "没有商户 “999999999999999”。"),
                                                ({"reason": "lottery"}, "原因必须是以下之一：系统更新、资料核实、业务变更。"),
                                                ({"action": ""}, "请从列表中选择请商户做的事项。"),
                                                ({"action": "install_anydesk"}, "请从列表中选择请商户做的事项。"),
                                                ({"staff_name": "李娜 4009001234"}, "员工姓名只能是姓名")])
def test_bad_outreach_is_refused_with_the_reason_and_the_form_kept(client, login, merchant, app, overrides, message):
    token = login("agent")
    response = _create(client, token, **overrides)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert rows(app, "SELECT * FROM outreach") == []


@pytest.mark.parametrize("change, status", [("cancel", "cancelled"), ("complete", "completed")])
def test_outreach_can_be_cancelled_or_completed_once(client, login, merchant, app, change, status):
    token = login("agent")
    _create(client, token)
    [row] = rows(app, "SELECT id FROM outreach")
    # Cancelling is confirmed on its own page (tests/test_cases.py), which posts confirm=yes.
    form = {"csrf_token": token, "confirm": "yes"}
    assert client.post(f"/dashboard/outreach/{row['id']}/{change}", data=form).status_code == 302
    assert rows(app, "SELECT status, status_changed_by FROM outreach") == [{"status": status, "status_changed_by": "abe"}]
    assert client.post(f"/dashboard/outreach/{row['id']}/{change}", data=form).status_code == 409
    listed = client.get(f"/dashboard/outreach?state={status}").get_data(as_text=True)
    assert f"<td>{row['id']}</td>" in listed
    assert f"<td>{row['id']}</td>" not in client.get("/dashboard/outreach?state=open").get_data(as_text=True)


# -- call-backs -----------------------------------------------------------------------------


def test_a_callback_is_marked_done_once_and_audited(client, login, database, app):
    token = login("agent")
    add_call(database, "CAcb", clock.stamp())
    made = insert(database, "callbacks", {"call_sid": "CAcb", "from_number": "+8613800138000",
                                          "created_at": clock.stamp(), "status": "waiting",
                                          "recording_url": "https://api.twilio.com/rec/RE9"})["id"]
    page = client.get("/dashboard/callbacks").get_data(as_text=True)
    assert "+86 138****8000" in page and "尚未从 Twilio 复制" in page and "api.twilio.com" not in page
    assert client.post(f"/dashboard/callbacks/{made}/done", data={"csrf_token": token}).status_code == 302
    assert rows(app, "SELECT status, done_by FROM callbacks") == [{"status": "done", "done_by": "abe"}]
    assert client.post(f"/dashboard/callbacks/{made}/done", data={"csrf_token": token}).status_code == 409
    assert client.post(f"/dashboard/callbacks/{made + 6}/done", data={"csrf_token": token}).status_code == 404
    assert "CAcb" in client.get("/dashboard/callbacks?status=done").get_data(as_text=True)
    # "Done" is now an attempt that reached the caller (see tests/test_cases.py for the other outcomes).
    [attempt] = rows(app, "SELECT id FROM callback_attempts")
    assert rows(app, "SELECT \"user\", target, detail FROM audit WHERE action = 'callback.attempt'") == [
        {"user": "abe", "target": str(made), "detail": f'{{"attempt_id": {attempt["id"]}, "outcome": "reached"}}'}]


# -- overview -------------------------------------------------------------------------------


def test_the_overview_counts_today_and_the_last_30_days(client, login, database, monkeypatch):
    # 10:00 in Shanghai: calls 100 seconds earlier are today's at any hour the suite runs.
    now = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)
    monkeypatch.setattr(clock, "now", lambda: now)
    login("agent")
    answered = now - timedelta(seconds=80)
    for index, verdict in enumerate(["genuine", "genuine", "known_scam", None]):
        add_call(database, f"CAo{index}", clock.stamp(now - timedelta(seconds=100)), verdict=verdict,
                 answered_at=clock.stamp(answered), verdict_at=clock.stamp(answered + timedelta(seconds=40)) if verdict else None)
    add_call(database, "CAold", clock.stamp(now - timedelta(days=10)), verdict="no_record")
    add_call(database, "CAancient", clock.stamp(now - timedelta(days=90)), verdict="genuine")
    insert(database, "callbacks", {"call_sid": "CAo3", "from_number": "+8613800138000", "created_at": clock.stamp(),
                                   "status": "waiting"})
    reports.file_report(database, "fee", number="+8613912345678", merchant_id=MERCHANT)
    reports.file_report(database, "fee", number="+8613912345678", merchant_id="222222222222222")
    client.post("/dashboard/language", data={"lang": "en", "csrf_token": _token(client)})
    page = client.get("/dashboard/").get_data(as_text=True)
    tiles = dict((label, value) for value, label in re.findall(r"<b>([^<]+)</b>(?:</a>)?<span>([^<]+)</span>", page))
    assert tiles["Calls today"] == "4"
    assert tiles["Reached a verdict today"] == "3"
    assert tiles["Known scam today"] == "1"
    assert tiles["Reports today"] == "2"
    assert tiles["Abandoned today"] == "1"
    assert tiles["Call-backs waiting"] == "1"
    assert tiles["Calls"] == "5"  # the 90-day-old call is outside the window
    assert tiles["Share of calls that reached a verdict"] == "80.0%"
    assert tiles["Median time from answer to verdict"] == "40 s"
    assert page.count("<svg") == 2 and "known scam: 1" in page
    top = page[page.index("Most reported numbers in this period"):]
    assert re.search(r"\+8613912345678</a></td>\s*<td>2</td><td>2</td>", top)


def _token(client):
    with client.session_transaction() as session:
        return session["csrf"]
