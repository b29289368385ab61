"""Finding things and seeing campaigns: paging, counts and estimates, sorting, searches, the "number that called
them", the overview's period and its bars, trends with location and carrier, and the suspected-number banner."""
import json
import re
import urllib.parse
from datetime import datetime, timedelta, timezone
from html import unescape

import pytest

from conftest import add_call, csrf_of, insert, insert_all, page_link, rows, walk_pages
from ivr import clock
from ivr.verification import merchants, reports

# Noon in Shanghai on a Friday; every test here runs at this moment.
NOW = datetime(2026, 11, 20, 4, 0, tzinfo=timezone.utc)
SCAM = "+8613912345678"  # 江苏省常州市, 中国移动


@pytest.fixture(autouse=True)
def fixed_clock(app, monkeypatch):
    app.config["DASHBOARD_TZ"] = "Asia/Shanghai"
    monkeypatch.setattr(clock, "now", lambda: NOW)


def _at(days=0, hours=0):
    return clock.stamp(NOW - timedelta(days=days, hours=hours))


def _english(client):
    client.post("/dashboard/language", data={"lang": "en", "csrf_token": csrf_of(client)})


def _page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, (url, response.get_data(as_text=True)[:400])
    return response.get_data(as_text=True)


def _sids(page):
    return re.findall(r'href="/dashboard/calls/(CA\w+)"', page)


def _asked(database, sid, number, started, merchant_id=None, **fields):
    """A verify call whose caller said `number` had called them (the `number` event check_number writes)."""
    detail = json.dumps({"number": number, "raw": number[3:], "signals": [], "hidden": False})
    add_call(database, sid, started, events=[{"kind": "number", "node": "check_number", "detail": detail}],
             merchant_id=merchant_id, **fields)


# -- paging and counts ----------------------------------------------------------------------------


def test_all_504_merchants_are_reached_page_by_page_with_the_count(client, login, database):
    insert_all(database, "merchants", [
        {"id": f"8984403581{index:05d}", "name": f"商户{index}", "created_at": _at(index % 30), "updated_at": _at()}
        for index in range(504)])
    login("agent")
    seen, url, pages = [], "/dashboard/merchants", 0
    while url:
        page = _page(client, url)
        pages += 1
        assert "504 个商户" in page
        seen += re.findall(r'class="merchant-link">(\d+)<', page)
        url = page_link(page, "next")
    assert pages == 11 and len(seen) == 504 == len(set(seen))
    last = _page(client, "/dashboard/merchants?page=11")
    assert "第 11 页，共 11 页" in last and page_link(last, "next") is None
    assert page_link(last, "prev") == "/dashboard/merchants?page=10"


def test_a_merchants_calls_page_back_through_every_call(client, login, database, verification):
    for index in range(57):
        add_call(database, f"CAm{index:02d}", _at(hours=index), merchant_id=verification.merchant)
    login("agent")
    first = _page(client, f"/dashboard/merchants/{verification.merchant}")
    assert "57 通" in first
    older = _page(client, page_link(first, "next"))
    assert len(set(_sids(first)) | set(_sids(older))) == 57 and page_link(older, "next") is None
    assert client.get(f"/dashboard/merchants/{verification.merchant}?calls_before=nonsense").status_code == 400
    # A link from the release that paged by rowid opens the newest calls.
    kept = _page(client, f"/dashboard/merchants/{verification.merchant}?"
                 + urllib.parse.urlencode({"calls_before": f"{_at(hours=0)}|31"}))
    assert _sids(kept) == _sids(first)


def test_the_audit_log_pages_older_then_newer_keeping_its_filter(client, login, database):
    from ivr.staff import audit

    for index in range(230):
        audit.record(database, "ada", "number.confirm", f"+86139000{index:05d}")
    audit.record(database, "ada", "export.calls")
    login("agent")
    first = _page(client, "/dashboard/audit?action=number.confirm")
    older = page_link(first, "next")
    assert "action=number.confirm" in older
    second = _page(client, older)
    newer = _page(client, page_link(second, "prev"))
    assert re.findall(r"139000\d+|\*{4}\d{4}", newer) == re.findall(r"139000\d+|\*{4}\d{4}", first)
    assert len(re.findall(r"139000\d+|\*{4}\d{4}", first)) >= 50
    table = second[second.index('id="audit"'):]
    assert "export.calls" not in table and page_link(first, "prev") is None


def test_the_users_list_pages_by_number_forward_and_back(client, login, database):
    insert_all(database, "users", [{"name": f"agent{index:03d}", "role": "agent", "password_hash": "x",
                                    "created_at": _at(), "password_changed_at": _at()} for index in range(118)])
    login("admin")
    forward, back, links = walk_pages(client, "/dashboard/users",
                                 lambda page: re.findall(r"<tr>\s*<td>([\w.@-]+)", page))
    assert [len(found) for found in forward] == [50, 50, 20]
    assert sum(forward, []) == sorted(["abe", "ada"] + [f"agent{index:03d}" for index in range(118)])
    assert back == forward[-2::-1] and links == ["/dashboard/users?page=2", "/dashboard/users?page=3",
                                                 "/dashboard/users?page=2", "/dashboard/users?page=1"]
    assert '<span class="muted">3 / 3</span>' in _page(client, "/dashboard/users?page=3")


def test_the_merchants_who_asked_about_a_number_page_forward_and_back(client, login, database):
    insert_all(database, "merchants", [{"id": f"8984403581{index:05d}", "name": f"商户{index}", "created_at": _at(),
                                        "updated_at": _at()} for index in range(112)])
    for index in range(112):
        _asked(database, f"CAq{index:03d}", SCAM, _at(hours=index), f"8984403581{index:05d}")
    _asked(database, "CAqx", "+8613700137000", _at(), "898440358100000")
    login("agent")

    def listed(page):
        return re.findall(r'<tr class="asker">\s*<td><a href="/dashboard/merchants/(\d+)"', page)

    forward, back, links = walk_pages(client, f"/dashboard/numbers/{SCAM}", listed)
    assert [len(found) for found in forward] == [50, 50, 12]
    assert sum(forward, []) == [f"8984403581{index:05d}" for index in range(112)]  # the latest asking first
    assert back == forward[-2::-1] and all(link.endswith("#asking") for link in links)


def test_the_merchants_who_asked_are_listed_in_one_order_when_their_latest_asking_ties(database):
    from ivr.storage.numberview import asking_merchants

    low, high = "898440358100001", "898440358100002"
    insert_all(database, "merchants", [{"id": merchant, "name": f"商户{merchant[-1]}", "created_at": _at(),
                                        "updated_at": _at()} for merchant in (low, high)])
    _asked(database, "CAt1", SCAM, _at(hours=1), low)
    _asked(database, "CAt2", SCAM, _at(hours=1), low)  # the same millisecond: the higher sid is the latest
    add_call(database, "CAt9", _at(hours=1), merchant_id=low)  # a call that did not ask: never the latest
    _asked(database, "CAt3", SCAM, _at(hours=1), high)
    _asked(database, "CAt4", SCAM, _at(hours=1))  # a caller not identified
    _asked(database, "CAt5", SCAM, _at(hours=2))
    _asked(database, "CAt6", SCAM, _at(hours=3), low)
    _asked(database, "CAt7", SCAM, _at(hours=4), "898440358100003")  # no merchant row: no name
    expected = [(high, "商户2", 1, _at(hours=1), "CAt3"), (low, "商户1", 3, _at(hours=1), "CAt2"),
                (None, None, 2, _at(hours=1), "CAt4"), ("898440358100003", None, 1, _at(hours=4), "CAt7")]

    def listed(limit):
        return [(row["merchant_id"], row["name"], row["calls"], row["latest_at"], row["latest_sid"])
                for row in asking_merchants(database, SCAM, limit)]

    assert listed(10) == expected
    assert [listed(limit) for limit in (1, 2, 3)] == [expected[:1], expected[:2], expected[:3]]


# -- sorting --------------------------------------------------------------------------------------


def test_merchants_sort_by_name_and_an_unknown_sort_is_refused(client, login, verification):
    login("agent")
    by_name = _page(client, "/dashboard/merchants?sort=name")
    assert re.findall(r'class="merchant-link">(\d+)<', by_name) == [verification.other, verification.merchant]
    by_number = _page(client, "/dashboard/merchants")
    assert re.findall(r'class="merchant-link">(\d+)<', by_number) == [verification.merchant, verification.other]
    assert client.get("/dashboard/merchants?sort=name;DROP TABLE merchants").status_code == 400
    assert client.get("/dashboard/calls?sort=merchant_id").status_code == 400
    assert client.get("/dashboard/numbers?sort=1").status_code == 400


def test_calls_sort_oldest_first_and_page_both_ways(client, login, database):
    for index in range(60):
        add_call(database, f"CAs{index:02d}", _at(hours=index))  # CAs00 is the newest
    login("agent")
    page = _page(client, "/dashboard/calls")
    assert 'id="sort-started"' in page and _sids(page)[0] == "CAs00"
    oldest = _page(client, "/dashboard/calls?sort=oldest")
    assert _sids(oldest)[:3] == ["CAs59", "CAs58", "CAs57"]
    following = _page(client, page_link(oldest, "next"))
    assert "sort=oldest" in page_link(oldest, "next") and _sids(following) == [f"CAs{index:02d}" for index in range(9, -1, -1)]
    assert _sids(_page(client, page_link(following, "prev"))) == _sids(oldest)


def test_numbers_sort_by_reports(client, login, database):
    for number, count in (("+8613911110000", 1), ("+8613922220000", 3), ("+8613933330000", 2)):
        for _ in range(count):
            reports.file_report(database, "fee", number=number)
    login("agent")
    page = _page(client, "/dashboard/numbers?sort=reports")
    assert re.findall(r'class="number-link">([^<]+)<', page) == ["+8613922220000", "+8613933330000", "+8613911110000"]


def test_a_numbers_page_shows_its_200_newest_reports_and_leads_to_every_one_page_by_page(client, login, database):
    insert_all(database, "reports", [{"report_number": f"R{index:04d}", "number": SCAM, "category": "fee",
                                      "created_at": _at(hours=index)} for index in range(203)])
    login("agent")
    page = _page(client, f"/dashboard/numbers/{SCAM}")
    section = page[page.index('id="number-reports"'):]
    assert section.count('<tr class="report">') == 200 and "这里列出最新的 200 条举报。" in section
    listed, following = [], unescape(re.search(r'href="([^"]+)" id="all-reports"', section).group(1))
    while following:
        page = _page(client, following)
        listed += re.findall(r"<td>(R\d{4})</td>", page)
        found = re.search(r'href="(/dashboard/reports\?[^"]*before=[^"]+)"', page)  # older, newest first
        following = unescape(found.group(1)) if found else None
    assert sorted(listed) == [f"R{index:04d}" for index in range(203)]


# -- searching ------------------------------------------------------------------------------------


def test_the_caller_filter_takes_the_last_four_digits_the_masked_number_shows(client, login, database):
    add_call(database, "CAt1", _at(hours=1), from_number="+8613800138000")
    add_call(database, "CAt2", _at(hours=2), from_number="+8613912348000")
    add_call(database, "CAt3", _at(hours=3), from_number="+8613800138001")
    login("agent")
    assert _sids(_page(client, "/dashboard/calls?caller=8000")) == ["CAt1", "CAt2"]
    assert _sids(_page(client, "/dashboard/calls?caller=138****8000")) == ["CAt1", "CAt2"]
    assert "+86 138****8000" in _page(client, "/dashboard/calls?caller=8000")
    assert client.get("/dashboard/calls?caller=800").status_code == 400


def test_merchants_are_found_by_part_of_their_number_name_or_phone(client, login, verification):
    login("agent")

    def found(q):
        return re.findall(r'class="merchant-link">(\d+)<', _page(client, "/dashboard/merchants?q=" + q))

    assert found("0358120002") == [verification.other]  # from the middle of the merchant number
    assert found("便利") == [verification.merchant]
    assert found("noodle") == [verification.other]
    assert found("13900139000") == [verification.other]  # a registered phone, typed without +86
    assert found("9000") == [verification.other]  # its last four digits
    # The digits the mask hides find nothing: a search must not reveal them a few at a time.
    assert found("00139") == [] and found("390001") == []
    assert found("nothing-like-this") == []
    page = _page(client, "/dashboard/merchants")
    assert "<th class=\"sortable\"><a href=\"/dashboard/merchants?sort=name\" id=\"sort-name\" >商户名称</a></th>" in page
    assert "用户名" not in page


def test_the_calls_merchant_filter_takes_a_name_or_part_of_the_number(client, login, database, verification):
    add_call(database, "CAn1", _at(hours=1), merchant_id=verification.merchant)
    add_call(database, "CAn2", _at(hours=2), merchant_id=verification.other)
    login("agent")
    assert _sids(_page(client, "/dashboard/calls?merchant=示例便利")) == ["CAn1"]
    assert _sids(_page(client, "/dashboard/calls?merchant=0358120002")) == ["CAn2"]
    assert _sids(_page(client, "/dashboard/calls?merchant=Noodle")) == ["CAn2"]
    assert _sids(_page(client, "/dashboard/calls?merchant=nobody")) == []


def test_the_number_that_called_them_filter_and_the_number_page_list_the_merchants_who_asked(
        client, login, database, verification):
    _asked(database, "CAa1", SCAM, _at(hours=1), verification.merchant)
    _asked(database, "CAa2", SCAM, _at(hours=5), verification.other)
    _asked(database, "CAa3", SCAM, _at(days=2), verification.merchant)
    _asked(database, "CAa4", "+8613700137000", _at(hours=2), verification.merchant)
    add_call(database, "CAa5", _at(hours=3), from_number=SCAM)  # a call *from* the number: not one asking
    login("agent")
    assert _sids(_page(client, f"/dashboard/calls?called={SCAM}")) == ["CAa1", "CAa2", "CAa3"]
    assert _sids(_page(client, f"/dashboard/calls?called={SCAM}&merchant={verification.other}")) == ["CAa2"]
    assert client.get("/dashboard/calls?called=not-a-number").status_code == 400

    # Never reported, yet merchants asked about it: the number has a page.
    page = _page(client, f"/dashboard/numbers/{SCAM}")
    askers = re.findall(r'<tr class="asker">(.*?)</tr>', page, re.S)
    assert [re.search(r"merchants/(\d+)", asker).group(1) for asker in askers] == [verification.merchant,
                                                                                    verification.other]
    first = askers[0]
    assert "示例便利店" in first and 'href="/dashboard/calls/CAa1"' in first
    assert re.search(r'class="asked-calls">2<', first)
    listed = re.search(r'href="([^"]+)" class="asked-calls">2<', first).group(1)
    assert _sids(_page(client, unescape(listed))) == ["CAa1", "CAa3"]
    assert _sids(_page(client, unescape(re.search(r'href="([^"]+)" id="asked-calls"', page).group(1)))) == [
        "CAa1", "CAa2", "CAa3"]


# -- the overview: period, bars, categories, trend ------------------------------------------------


def _seed_campaign(database):
    """Calls and reports on known local days: today, 3 days ago and 20 days ago."""
    add_call(database, "CAo1", _at(hours=1), verdict="known_scam")
    add_call(database, "CAo2", _at(hours=2), verdict="genuine")
    add_call(database, "CAo3", _at(days=3), verdict="known_scam")
    add_call(database, "CAo4", _at(days=3, hours=1), verdict="known_scam")
    add_call(database, "CAo5", _at(days=3, hours=2))
    add_call(database, "CAo6", _at(days=20), verdict="known_scam")
    for days, category in ((0, "fee"), (3, "fee"), (3, "remote_app"), (20, "credentials")):
        insert(database, "reports", {"report_number": f"R{days}{category}", "category": category,
                                     "number": SCAM, "created_at": _at(days)})


def _tile(page, label):
    return re.search(rf"<b>([^<]+)</b>(?:</a>)?<span>{re.escape(label)}</span>", page).group(1)


def test_the_period_picker_shows_today_seven_days_thirty_days_or_chosen_days(client, login, database):
    _seed_campaign(database)
    login("agent")
    _english(client)
    assert _tile(_page(client, "/dashboard/"), "Calls") == "6"
    today = _page(client, "/dashboard/?range=today")
    assert _tile(today, "Calls") == "2" and 'id="range-today" aria-current="true"' in today
    assert _tile(_page(client, "/dashboard/?range=7d"), "Calls") == "5"
    custom = _page(client, "/dashboard/?range=custom&date_from=2026-10-31&date_to=2026-11-17")
    assert _tile(custom, "Calls") == "4"  # 20 and 3 days ago, local days
    assert "2026-10-31 – 2026-11-17" in custom
    assert len(re.findall(r"<title>2026-1\d-\d\d ", custom)) > 0
    assert not re.search(r"<title>2026-11-(18|19|20) ", custom)
    refused = _page(client, "/dashboard/?range=custom&date_from=2026-01-01&date_to=2026-11-20", status=400)
    assert 'id="period-error"' in refused and "at most 92 days" in refused
    assert client.get("/dashboard/?range=century").status_code == 400


def test_each_bar_opens_the_list_of_that_day_and_verdict(client, login, database):
    _seed_campaign(database)
    login("agent")
    _english(client)
    page = _page(client, "/dashboard/?range=7d")
    bar = re.search(r'<a href="([^"]+)" class="bar"><rect[^>]*><title>2026-11-17 known scam: 2</title>', page)
    assert _sids(_page(client, unescape(bar.group(1)))) == ["CAo3", "CAo4"]
    no_verdict = re.search(r'<a href="([^"]+)" class="bar"><rect[^>]*><title>2026-11-17 no verdict: 1</title>', page)
    assert _sids(_page(client, unescape(no_verdict.group(1)))) == ["CAo5"]
    reported = re.search(r'<a href="([^"]+)" class="bar"><rect[^>]*><title>2026-11-17 reports: 2</title>', page)
    assert unescape(reported.group(1)) == "/dashboard/reports?date_from=2026-11-17&date_to=2026-11-17"
    listed = _page(client, unescape(reported.group(1)))
    assert listed.count("R3fee") == 1 and listed.count("R3remote_app") == 1 and "R0fee" not in listed


def test_reports_by_category_over_time_bars_link_to_that_category_and_day(client, login, database):
    _seed_campaign(database)
    login("agent")
    _english(client)
    page = _page(client, "/dashboard/?reports=by_category")
    chart = page[page.index('id="reports-chart"'):]
    assert "Reports by category over time" in chart
    titles = re.findall(r"<title>(2026-\d\d-\d\d) ([^:<]+): (\d+)</title>", chart[:chart.index("</svg>")])
    assert sorted(titles) == [("2026-10-31", "card, PIN or SMS code", "1"), ("2026-11-17", "fee, deposit or activation swipe", "1"),
                              ("2026-11-17", "install app / share screen", "1"), ("2026-11-20", "fee, deposit or activation swipe", "1")]
    link = re.search(r'<a href="([^"]+)" class="bar"><rect[^>]*><title>2026-11-17 install app', chart).group(1)
    assert unescape(link) == "/dashboard/reports?date_from=2026-11-17&date_to=2026-11-17&category=remote_app"
    assert "R3remote_app" in _page(client, unescape(link)) and "R3fee" not in _page(client, unescape(link))


@pytest.mark.parametrize("lang, location, carrier", [("zh", "江苏省常州市", "中国移动"),
                                                     ("en", "Changzhou, Jiangsu", "China Mobile")])
def test_the_most_reported_numbers_show_their_trend_location_and_carrier(client, login, database, lang, location,
                                                                         carrier):
    for days in (1, 2, 3, 9):  # three this week, one in the week before
        insert(database, "reports", {"report_number": f"R{days}", "category": "fee", "number": SCAM,
                                     "created_at": _at(days)})
    insert(database, "reports", {"report_number": "Rnew", "category": "fee", "number": "+8613700137000",
                                 "created_at": _at(1)})
    insert(database, "numbers", {"number": SCAM, "status": "reported", "first_reported_at": _at(9),
                                 "last_reported_at": _at(1)})
    login("agent")
    if lang == "en":
        _english(client)
    page = _page(client, "/dashboard/?range=7d")
    table = page[page.index('id="top-numbers"'):]
    scam_row = table[table.index(SCAM):table.index("</tr>", table.index(SCAM))]
    assert "<td>3</td>" in scam_row and "↑ +2" in scam_row and location in scam_row and carrier in scam_row
    new_row = table[table.index("+8613700137000"):]
    assert ("新出现" if lang == "zh" else "new this period") in new_row[:new_row.index("</tr>")]
    number_page = _page(client, f"/dashboard/numbers/{SCAM}")
    assert location in number_page and carrier in number_page
    assert location in _page(client, "/dashboard/numbers")


# -- the suspected-number banner --------------------------------------------------------------------


def test_a_new_suspected_number_is_announced_on_every_page_until_someone_opens_it(client, login, database, app):
    for index in range(3):
        merchant = f"89844035812{index:04d}"
        merchants.upsert_merchant(database, merchant, f"店{index}", [f"+861380013{index:04d}"])
        reports.file_report(database, "fee", number=SCAM, merchant_id=merchant, reporter_registered=True)
    assert rows(app, "SELECT status FROM numbers") == [{"status": "suspected"}]
    login("agent")
    for path in ("/dashboard/", "/dashboard/calls", "/dashboard/merchants", "/dashboard/audit"):
        banner = re.search(r'id="suspected-banner".*?</div>', _page(client, path), re.S)
        assert banner and "新的可疑号码" in banner.group(0) and f"/dashboard/numbers/{SCAM}" in banner.group(0)
    number_page = _page(client, f"/dashboard/numbers/{SCAM}")
    assert "abe 首次查看" in number_page
    assert rows(app, "SELECT number, seen_by, seen_at FROM suspected_seen") == [
        {"number": SCAM, "seen_by": "abe", "seen_at": clock.stamp(NOW)}]
    assert 'id="suspected-banner"' not in _page(client, "/dashboard/calls")
    _page(client, f"/dashboard/numbers/{SCAM}")  # opening it again keeps who saw it first
    assert rows(app, "SELECT seen_by FROM suspected_seen") == [{"seen_by": "abe"}]
