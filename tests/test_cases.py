"""Reports and call-backs worked as cases, and outreach cancelled only after staff see what the merchant will hear."""
import csv
import io
import re
from datetime import datetime, timedelta, timezone

import pytest

from conftest import add_call, csrf_of, insert, rows, walk_pages
from ivr import clock
from ivr.verification import reports
from ivr.vocabulary import CASE_STATUSES

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)  # 10:00 in Beijing, the dashboard's default zone
REPORTED = "+8613912345678"
EXPIRED_ZH = "这个请求已经失效。现在仍在要求您操作的人，不是我们。"
EXPIRED_EN = "This request is no longer valid. Anyone still asking you to act on it is not us."


@pytest.fixture
def fixed_clock(monkeypatch):
    """The hotline's clock stopped at NOW."""
    monkeypatch.setattr(clock, "now", lambda: NOW)
    return NOW


def _language(client, lang):
    client.post("/dashboard/language", data={"lang": lang, "csrf_token": csrf_of(client)})


def _row(page, marker):
    """The table row of `page` holding `marker`."""
    start = page.rindex("<tr", 0, page.index(marker))
    return page[start:page.index("</tr>", start)]


def _audit(app, action):
    return rows(app, "SELECT \"user\", target, detail FROM audit WHERE action = ? ORDER BY id", [action])


# -- reports as cases -----------------------------------------------------------------------


def test_an_agent_triages_a_report_assigns_notes_and_closes_it(client, login, database, app, fixed_clock):
    token = login("agent")
    report = reports.file_report(database, "fee", number=REPORTED, merchant_id="123456789012345")
    path = f"/dashboard/reports/{report['id']}"
    page = client.get(path).get_data(as_text=True)
    assert 'id="case-status"><span class="badge s-new">新</span>' in page and 'id="assignee">无人<' in page

    # A form without its CSRF token changes nothing.
    assert client.post(path + "/assign", data={"assignee": "ada"}).status_code == 400
    assert client.post(path + "/assign", data={"assignee": "ada", "csrf_token": token}).status_code == 302
    assert client.post(path + "/status", data={"status": "in_progress", "csrf_token": token}).status_code == 302
    assert client.post(path + "/notes", data={"note": "商户说对方自称银行客服", "csrf_token": token}).status_code == 302
    assert client.post(path + "/status", data={"status": "closed", "csrf_token": token}).status_code == 302

    page = client.get(path).get_data(as_text=True)
    assert 'id="case-status"><span class="badge s-closed">已结案</span>' in page and 'id="assignee">ada<' in page
    notes = page[page.index('id="notes"'):]
    assert "2026-03-02 10:00:00 · abe" in notes and "商户说对方自称银行客服" in notes
    assert rows(app, "SELECT author, body FROM report_notes") == [{"author": "abe", "body": "商户说对方自称银行客服"}]
    target = str(report["id"])
    assert _audit(app, "report.assign") == [{"user": "abe", "target": target, "detail": '{"from": null, "to": "ada"}'}]
    assert [entry["detail"] for entry in _audit(app, "report.status")] == [
        '{"from": "new", "to": "in_progress"}', '{"from": "in_progress", "to": "closed"}']
    assert _audit(app, "report.note") == [{"user": "abe", "target": target, "detail": '{"note_id": 1}'}]


def _contrast(first, second):
    """WCAG's contrast ratio of two #rrggbb colours."""
    def luminance(colour):
        channels = [int(colour[index:index + 2], 16) / 255 for index in (1, 3, 5)]
        red, green, blue = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * red + 0.7152 * green + 0.0722 * blue
    light, dark = sorted([luminance(first), luminance(second)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_each_case_status_badge_has_its_own_readable_colours(client):
    stylesheet = re.sub(r"/\*.*?\*/", "", client.get("/static/dashboard.css").get_data(as_text=True), flags=re.S)
    rules = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", stylesheet):
        for selector in selectors.split(","):
            rules.setdefault(selector.strip(), {}).update(re.findall(r"([a-z-]+):\s*(#[0-9a-f]{6})", body))
    plain = rules[".badge"]["background"]
    colours = {status: rules.get(f".s-{status}", {}) for status in CASE_STATUSES}
    for status, pair in colours.items():
        assert pair.get("background") and pair.get("color"), f".s-{status} has no colours"
        assert pair["background"] != plain, status
        assert _contrast(pair["background"], pair["color"]) >= 4.5, status  # WCAG AA for small text
    assert len({pair["background"] for pair in colours.values()}) == len(CASE_STATUSES)


@pytest.mark.parametrize("form, message", [
    ({"assignee": "mallory"}, "请把举报分配给可以登录的员工。"),
    ({"note": "   "}, "请先填写备注内容。"),
    ({"note": "x" * 2001}, "备注最多 2000 个字符。"),
    ({"status": "solved"}, "请选择状态：新、处理中或已结案。"),
])
def test_a_refused_case_change_says_why_and_changes_nothing(client, login, database, app, form, message):
    token = login("agent")
    report = reports.file_report(database, "fee", number=REPORTED)
    action = {"assignee": "assign", "note": "notes", "status": "status"}[next(iter(form))]
    answer = client.post(f"/dashboard/reports/{report['id']}/{action}", data=dict(form, csrf_token=token),
                         follow_redirects=True)
    assert message in answer.get_data(as_text=True)
    assert rows(app, "SELECT case_status, assignee FROM reports") == [{"case_status": "new", "assignee": None}]
    assert rows(app, "SELECT * FROM report_notes") == []
    assert client.post("/dashboard/reports/999/notes", data={"note": "x", "csrf_token": token}).status_code == 404


def test_a_disabled_user_cannot_be_given_a_report(client, login, database, app):
    from ivr.staff import users

    token = login("agent")
    users.update_user(database, "ada", "test", disabled=True)
    report = reports.file_report(database, "fee", number=REPORTED)
    client.post(f"/dashboard/reports/{report['id']}/assign", data={"assignee": "ada", "csrf_token": token})
    assert rows(app, "SELECT assignee FROM reports") == [{"assignee": None}]


def _listed(client, query=""):
    page = client.get("/dashboard/reports" + query).get_data(as_text=True)
    return re.findall(r'<a href="/dashboard/reports/(\d+)">', page)


def test_the_reports_list_filters_by_status_assignee_and_mine_and_keeps_its_filters(client, login, database):
    token = login("agent")
    mine = reports.file_report(database, "fee", number=REPORTED)
    theirs = reports.file_report(database, "fee", number="+8613912340000")
    nobody = reports.file_report(database, "remote_app", number=REPORTED)
    client.post(f"/dashboard/reports/{mine['id']}/assign", data={"assignee": "abe", "csrf_token": token})
    client.post(f"/dashboard/reports/{theirs['id']}/assign", data={"assignee": "ada", "csrf_token": token})
    client.post(f"/dashboard/reports/{theirs['id']}/status", data={"status": "closed", "csrf_token": token})
    ids = {name: str(report["id"]) for name, report in (("mine", mine), ("theirs", theirs), ("nobody", nobody))}

    assert _listed(client) == [ids["nobody"], ids["theirs"], ids["mine"]]
    assert _listed(client, "?mine=1") == [ids["mine"]]
    assert _listed(client, "?assignee=ada") == [ids["theirs"]]
    assert _listed(client, "?assignee=(none)") == [ids["nobody"]]
    assert _listed(client, "?status=closed") == [ids["theirs"]]
    assert _listed(client, "?status=new") == [ids["nobody"], ids["mine"]]
    # The filters the list had before still work, alone and with the new ones.
    assert _listed(client, "?category=fee&status=new") == [ids["mine"]]
    assert _listed(client, f"?number={REPORTED}&sort=oldest") == [ids["mine"], ids["nobody"]]
    assert client.get("/dashboard/reports?status=solved").status_code == 400
    page = client.get("/dashboard/reports?mine=1").get_data(as_text=True)
    assert '<input type="checkbox" name="mine" value="1" checked>' in page
    # The export applies the same filters and says who has each report.
    exported = list(csv.reader(io.StringIO(client.get("/dashboard/reports.csv?status=closed").get_data(as_text=True))))
    assert [(row[0], row[-1]) for row in exported[1:]] == [(theirs["report_number"], "ada")]


def test_the_reports_list_pages_oldest_first_too(client, login, database):
    login("agent")
    filed = [str(reports.file_report(database, "fee", number=REPORTED)["id"]) for _ in range(53)]
    first = client.get("/dashboard/reports?sort=oldest").get_data(as_text=True)
    assert re.findall(r'<a href="/dashboard/reports/(\d+)">', first) == filed[:50]
    following = re.search(r'href="(/dashboard/reports\?[^"]*after=[^"]+)"', first).group(1).replace("&amp;", "&")
    assert "sort=oldest" in following
    assert _listed(client, following.removeprefix("/dashboard/reports")) == filed[50:]
    newest = client.get("/dashboard/reports").get_data(as_text=True)
    assert re.findall(r'<a href="/dashboard/reports/(\d+)">', newest) == filed[::-1][:50]
    assert client.get("/dashboard/reports?sort=oldest&after=abc").status_code == 400


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_the_reports_list_pages_forward_to_the_last_page_and_back_keeping_its_filters(client, login, database, sort):
    login("agent")
    kept = []
    for index in range(130):
        report = reports.file_report(database, "fee" if index % 3 else "remote_app", number=REPORTED)
        if index % 3:
            kept.append(str(report["id"]))
    query = "?category=fee&status=new" + ("&sort=oldest" if sort == "oldest" else "")
    forward, back, links = walk_pages(client, "/dashboard/reports" + query,
                                 lambda page: re.findall(r'<a href="/dashboard/reports/(\d+)">', page))
    expected = kept if sort == "oldest" else kept[::-1]
    assert [len(found) for found in forward] == [50, 36] and sum(forward, []) == expected
    assert back == forward[-2::-1]
    assert all("category=fee" in link and "status=new" in link and ("sort=oldest" in link) == (sort == "oldest")
               for link in links)
    assert client.get("/dashboard/reports?after=abc").status_code == 400


def _ask_about(call, number, from_):
    """A verify call that gives no code and says `number` called them."""
    call.start(from_=from_)
    call.press("1")
    call.press("#")
    call.press(number + "#")
    return call.sid


def test_a_report_links_every_call_that_asked_about_its_number(client, login, database, verification, call):
    asked = [_ask_about(call, "13912345678", verification.phone), _ask_about(call, "13912345678", verification.other_phone)]
    other = _ask_about(call, "13712345678", verification.phone)
    report = reports.file_report(database, "fee", number=REPORTED, merchant_id=verification.merchant)
    unrelated = reports.file_report(database, "fee", number="+8613512345678")
    login("agent")

    page = client.get(f"/dashboard/reports/{report['id']}").get_data(as_text=True)
    section = page[page.index('id="asked"'):]
    assert re.findall(r'href="/dashboard/calls/(CA\w+)"', section) == asked[::-1]  # the latest asking first
    assert other not in section and "共 2 通" in section
    # The calls list, filtered by "the number that called them", finds the same calls.
    in_calls = client.get(re.search(r'href="([^"]+)" id="asked-in-calls"', section).group(1).replace("&amp;", "&"))
    assert sorted(set(re.findall(r'href="/dashboard/calls/(CA\w+)"', in_calls.get_data(as_text=True)))) == sorted(asked)

    listing = client.get("/dashboard/reports").get_data(as_text=True)
    assert f'href="/dashboard/reports/{report["id"]}#asked">2 通</a>' in _row(listing, f"<td>{report['report_number']}</td>")
    assert "#asked" not in _row(listing, f"<td>{unrelated['report_number']}</td>")


def test_a_reports_asking_calls_page_forward_and_back(client, login, database):
    report = reports.file_report(database, "fee", number=REPORTED)
    detail = '{"number": "%s", "raw": "13912345678", "signals": [], "hidden": false}' % REPORTED
    asking = [f"CAk{index:03d}" for index in range(123)]
    for index, sid in enumerate(asking):
        add_call(database, sid, clock.stamp(NOW - timedelta(minutes=200 - index)),
                 events=[{"kind": "number", "node": "check_number", "detail": detail}])
    add_call(database, "CAnot", clock.stamp(NOW), events=[{"kind": "number", "node": "check_number",
                                                           "detail": detail.replace(REPORTED, "+8613700137000")}])
    login("agent")

    def listed(page):
        return re.findall(r'href="/dashboard/calls/(CA\w+)"', page[page.index('id="asked"'):])

    forward, back, links = walk_pages(client, f"/dashboard/reports/{report['id']}", listed)
    assert [len(found) for found in forward] == [50, 50, 23] and sum(forward, []) == asking[::-1]
    assert back == forward[-2::-1] and all(link.endswith("#asked") for link in links)
    assert client.get(f"/dashboard/reports/{report['id']}?asked_after=x").status_code == 400


def test_outreach_pages_forward_and_back_keeping_its_filters(client, login, verification):
    made = []
    for index in range(118):
        created = verification.add_outreach(merchant=verification.other if index % 5 == 0 else verification.merchant)
        if index % 5:
            made.append(str(created["id"]))
    login("agent")

    def listed(page):
        return re.findall(r"<tr>\s*<td>(\d+)</td>", page)

    forward, back, links = walk_pages(client, f"/dashboard/outreach?state=open&merchant={verification.merchant}", listed)
    assert [len(found) for found in forward] == [50, 44] and sum(forward, []) == made[::-1]
    assert back == forward[-2::-1]
    assert all("state=open" in link and f"merchant={verification.merchant}" in link for link in links)
    assert client.get("/dashboard/outreach?after=1x").status_code == 400


# -- call-backs as a work queue -------------------------------------------------------------


def _callback(database, sid, left_at, from_number="+8613800138000", recording="https://api.twilio.com/rec/RE1",
              withheld=False):
    add_call(database, sid, clock.stamp(left_at), from_number=from_number, caller_withheld=int(withheld))
    return insert(database, "callbacks", {
        "call_sid": sid, "from_number": from_number, "language": "zh", "recording_url": recording,
        "created_at": clock.stamp(left_at), "status": "waiting"})["id"]


def test_call_backs_wait_oldest_first_with_their_wait_and_attempts(client, login, database, app, fixed_clock):
    token = login("agent")
    newer = _callback(database, "CAnew", NOW - timedelta(minutes=45))
    older = _callback(database, "CAold", NOW - timedelta(days=1, hours=3, minutes=10))
    middle = _callback(database, "CAmid", NOW - timedelta(hours=2, minutes=5))

    page = client.get("/dashboard/callbacks").get_data(as_text=True)
    assert re.findall(r'id="callback-(\d+)"', page) == [str(older), str(middle), str(newer)]
    assert '<td class="nowrap waited">1 天 3 小时</td>' in _row(page, f'id="callback-{older}"')
    assert '<td class="nowrap waited">2 小时 5 分钟</td>' in _row(page, f'id="callback-{middle}"')
    assert '<td class="nowrap waited">45 分钟</td>' in _row(page, f'id="callback-{newer}"')

    # No answer keeps it waiting, with the attempt shown; reached closes it.
    attempt = f"/dashboard/callbacks/{older}/attempts"
    assert client.post(attempt, data={"outcome": "no_answer", "csrf_token": token}).status_code == 302
    assert client.post(attempt, data={"outcome": "no_answer", "csrf_token": token}).status_code == 302
    row = _row(client.get("/dashboard/callbacks").get_data(as_text=True), f'id="callback-{older}"')
    assert row.count("无人接听 · abe · 2026-03-02 10:00:00") == 2 and "已回拨 2 次" in row and 'value="reached"' in row
    assert client.post(attempt, data={"outcome": "reached", "csrf_token": token}).status_code == 302
    assert client.post(attempt, data={"outcome": "no_answer", "csrf_token": token}).status_code == 409
    # A wrong number closes it too; an outcome not in the list is refused.
    assert client.post(f"/dashboard/callbacks/{middle}/attempts",
                       data={"outcome": "called", "csrf_token": token}).status_code == 400
    assert client.post(f"/dashboard/callbacks/{middle}/attempts",
                       data={"outcome": "wrong_number", "csrf_token": token}).status_code == 302

    waiting = client.get("/dashboard/callbacks").get_data(as_text=True)
    assert re.findall(r'id="callback-(\d+)"', waiting) == [str(newer)]
    done = client.get("/dashboard/callbacks?status=done").get_data(as_text=True)
    assert "已联系上 · abe" in _row(done, f'id="callback-{older}"')
    assert "号码错误 · abe" in _row(done, f'id="callback-{middle}"')
    assert rows(app, "SELECT id, status, done_by FROM callbacks WHERE status = 'done' ORDER BY id") == [
        {"id": older, "status": "done", "done_by": "abe"}, {"id": middle, "status": "done", "done_by": "abe"}]
    assert [entry["detail"] for entry in _audit(app, "callback.attempt")] == [
        '{"attempt_id": 1, "outcome": "no_answer"}', '{"attempt_id": 2, "outcome": "no_answer"}',
        '{"attempt_id": 3, "outcome": "reached"}', '{"attempt_id": 4, "outcome": "wrong_number"}']


def test_the_call_back_queue_pages_forward_and_back_and_so_do_the_closed_ones(client, login, database, fixed_clock):
    login("agent")
    # Pairs left in the same minute, so the id decides between them.
    waiting = [_callback(database, f"CAw{index:03d}", NOW - timedelta(minutes=500 - index // 2)) for index in range(203)]
    closed = []
    for index in range(120):
        made = _callback(database, f"CAd{index:03d}", NOW - timedelta(days=2))
        database.execute("UPDATE callbacks SET status = 'done', done_by = 'ada', done_at = ? WHERE id = ?",
                         [clock.stamp(NOW - timedelta(hours=index // 2)), made])
        closed.append(str(made))

    forward, back, links = walk_pages(client, "/dashboard/callbacks", lambda page: re.findall(r'id="callback-(\d+)"', page))
    assert forward == [[str(made) for made in waiting[start:start + 100]] for start in (0, 100, 200)]
    assert back == forward[-2::-1] and all("status=waiting" in link for link in links)
    page = client.get(links[0]).get_data(as_text=True)
    assert "← 上一页</a>" in page and "下一页 →</a>" in page

    # Closed ones: the most recently closed first; the waiting ones never show among them.
    forward, back, links = walk_pages(client, "/dashboard/callbacks?status=done",
                                 lambda page: re.findall(r'id="callback-(\d+)"', page))
    assert [len(found) for found in forward] == [100, 20]
    # Pairs closed at the same moment: the later id first, as everywhere in this newest-first list.
    assert sum(forward, []) == [closed[index] for pair in range(60) for index in (2 * pair + 1, 2 * pair)]
    assert back == forward[-2::-1] and all("status=done" in link for link in links)
    assert client.get("/dashboard/callbacks?before=x").status_code == 400


@pytest.mark.parametrize("lang, words", [("zh", "号码隐藏且没有录音：无法回电。"),
                                         ("en", "Withheld number, no recording: nothing to call back.")])
def test_a_withheld_caller_without_a_recording_is_nothing_to_call_back(client, login, database, app, lang, words):
    token = login("agent")
    _language(client, lang)
    silent = _callback(database, "CAsilent", clock.now(), from_number=None, recording=None, withheld=True)
    spoken = _callback(database, "CAspoken", clock.now(), from_number=None, withheld=True)
    page = client.get("/dashboard/callbacks").get_data(as_text=True)
    silent_row, spoken_row = _row(page, f'id="callback-{silent}"'), _row(page, f'id="callback-{spoken}"')
    assert words in silent_row and 'name="outcome"' not in silent_row
    # A withheld caller who left a message can still be listened to, and perhaps rung on a number they said.
    assert words not in spoken_row and 'value="reached"' in spoken_row
    assert client.post(f"/dashboard/callbacks/{silent}/attempts",
                       data={"outcome": "no_answer", "csrf_token": token}).status_code == 409
    assert client.post(f"/dashboard/callbacks/{spoken}/close", data={"csrf_token": token}).status_code == 409
    assert client.post(f"/dashboard/callbacks/{silent}/close", data={"csrf_token": token}).status_code == 302
    assert rows(app, "SELECT id, status FROM callbacks ORDER BY id") == [
        {"id": silent, "status": "done"}, {"id": spoken, "status": "waiting"}]
    assert _audit(app, "callback.close") == [
        {"user": "abe", "target": str(silent), "detail": '{"reason": "nothing_to_call"}'}]


def test_the_overview_counts_the_call_backs_the_list_asks_staff_to_make(client, login, database, app):
    token = login("agent")
    _callback(database, "CAnumber", clock.now())
    _callback(database, "CAspoken", clock.now(), from_number=None, withheld=True)  # a message to listen to
    silent = _callback(database, "CAsilent", clock.now(), from_number=None, recording=None, withheld=True)
    closed = _callback(database, "CAclosed", clock.now())
    client.post(f"/dashboard/callbacks/{closed}/attempts", data={"outcome": "reached", "csrf_token": token})

    def tile():
        page = client.get("/dashboard/").get_data(as_text=True)
        start = page.index('id="callbacks-waiting"')
        return page[start:page.index("</div>", start)]

    listed = client.get("/dashboard/callbacks").get_data(as_text=True)
    to_make = len(re.findall(r'<form [^>]*class="inline attempt"', listed))
    assert to_make == 2 and "<b>2</b>" in tile() and "待回电" in tile()
    assert "另有 1 条无法回电（没有号码也没有录音）" in tile()
    _language(client, "en")
    assert "and 1 with nothing to call back (no number, no recording)" in tile()
    # Once closed, the message that left nothing to call back is no longer mentioned.
    client.post(f"/dashboard/callbacks/{silent}/close", data={"csrf_token": token})
    assert "<b>2</b>" in tile() and "nothing to call back" not in tile()


# -- cancelling outreach, confirmed -----------------------------------------------------------


@pytest.mark.parametrize("lang, keys, heard", [("zh", [], EXPIRED_ZH), ("en", ["9"], EXPIRED_EN)])
def test_cancelling_outreach_shows_what_the_merchant_will_hear_and_the_hotline_then_says_it(
        client, login, app, verification, call, lang, keys, heard):
    created = verification.add_outreach()
    token = login("agent")
    listing = client.get("/dashboard/outreach").get_data(as_text=True)
    # The list offers a way to the confirmation, not a form that cancels.
    assert f'href="/dashboard/outreach/{created["id"]}/cancel"' in listing
    assert f'action="/dashboard/outreach/{created["id"]}/cancel"' not in listing

    confirm = client.get(f"/dashboard/outreach/{created['id']}/cancel").get_data(as_text=True)
    assert EXPIRED_ZH in confirm and EXPIRED_EN in confirm and "已过期" in confirm
    path = f"/dashboard/outreach/{created['id']}/cancel"
    assert client.post(path, data={"confirm": "yes"}).status_code == 400  # no CSRF token
    refused = client.post(path, data={"csrf_token": token})  # not confirmed
    assert refused.status_code == 400 and "尚未取消：请先在本页确认。" in refused.get_data(as_text=True)
    assert rows(app, "SELECT status FROM outreach") == [{"status": "open"}]
    assert client.post(path, data={"csrf_token": token, "confirm": "yes"}).status_code == 302
    assert rows(app, "SELECT status, status_changed_by FROM outreach") == [{"status": "cancelled", "status_changed_by": "abe"}]
    assert _audit(app, "outreach.cancel") == [{"user": "abe", "target": str(created["id"]), "detail": None}]
    assert "这条联系记录已不再有效" in client.get(path).get_data(as_text=True)

    # The merchant calls with the code: the hotline says what the confirmation page said it would.
    call.start(from_=verification.phone)
    for key in keys:
        call.press(key)
    call.press("1")
    turn = call.press(created["reference_code"] + "#")
    assert heard in turn.text and heard in confirm
    assert rows(app, "SELECT verdict FROM calls WHERE sid = ?", [call.sid]) == [{"verdict": "expired"}]
