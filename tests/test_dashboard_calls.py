"""Dashboard calls list: every filter, free-text search, keyset pages, the count, and the CSV exports."""
import csv
import io
import re
from datetime import timedelta

import pytest

from conftest import add_call, rows
from ivr import clock
from ivr.dashboard import localtime
from ivr.verification import reports

# Six calls spread over days and attributes; each filter below picks a known subset.
NOW = clock.now()


def _at(days_ago, hour=3):
    moment = (NOW - timedelta(days=days_ago)).replace(hour=hour, minute=0, second=0, microsecond=0)
    return clock.stamp(moment)


CALLS = [
    ("CA1", _at(0), dict(verdict="genuine", merchant_id="123456789012345", language="zh", status="completed",
                         from_number="+8613800138000"), "我要核实一下"),
    ("CA2", _at(1), dict(verdict="known_scam", merchant_id="123456789012345", language="en", status="completed",
                         from_number="+8613900139000"), "they asked for my PIN code"),
    ("CA3", _at(2), dict(verdict=None, language="zh", status="no-answer", from_number=None, caller_withheld=1,
                         from_raw="Anonymous"), None),
    ("CA4", _at(5), dict(verdict="locked", merchant_id="987654321098765", language="zh", status="completed",
                         from_number="+8613800138000"), "对方让我交押金激活"),
    ("CA5", _at(40), dict(verdict="no_record", language="en", status="busy", from_number="+8613700137000"), None),
    ("CA6", _at(3), dict(verdict="expired", language="zh", status="in-progress", from_number="+8613700137000"),
     "屏幕共享"),
    # Purged by `flask purge`: no number any more, but it was never withheld.
    ("CA7", _at(60), dict(verdict="no_record", language="zh", status="completed", from_number=None, from_raw=None,
                          caller_withheld=0), None),
]


@pytest.fixture
def seeded(database):
    for sid, started, fields, speech in CALLS:
        events = [{"kind": "prompt", "text": "您好，这里是官方商户核实热线"}]
        if speech:
            events.append({"kind": "input", "speech": speech, "confidence": 0.9})
        add_call(database, sid, started, events=events, **fields)
    return database


def listed(client, query):
    page = client.get("/dashboard/calls" + query)
    assert page.status_code == 200, page.get_data(as_text=True)[:400]
    return re.findall(r'href="/dashboard/calls/(CA\d+)"', page.get_data(as_text=True))


FILTERS = [
    ("", ["CA1", "CA2", "CA3", "CA6", "CA4", "CA5", "CA7"]),
    ("?verdict=genuine", ["CA1"]),
    ("?verdict=known_scam", ["CA2"]),
    ("?verdict=none", ["CA3"]),
    ("?merchant=123456789012345", ["CA1", "CA2"]),
    ("?caller=%2B8613800138000", ["CA1", "CA4"]),
    ("?caller=13700137000", ["CA6", "CA5"]),
    ("?caller=withheld", ["CA3"]),
    ("?language=en", ["CA2", "CA5"]),
    ("?status=no-answer", ["CA3"]),
    ("?status=in-progress", ["CA6"]),
    ("?q=PIN+code", ["CA2"]),
    ("?q=押金激活", ["CA4"]),
    ("?q=核实", ["CA1"]),  # two characters, too short for trigrams: SQLite scans, PostgreSQL asks events_speech_bigram
    ("?q=屏幕", ["CA6"]),
    ("?q=nothing+like+this", []),
    ("?language=zh&caller=%2B8613800138000&merchant=987654321098765", ["CA4"]),
    ("?verdict=genuine&language=en", []),
]


@pytest.mark.parametrize("query, expected", FILTERS)
def test_each_filter_lists_exactly_its_calls_newest_first(client, login, seeded, query, expected):
    login("agent")
    assert listed(client, query) == expected


def test_date_range_filters_use_local_days(client, login, seeded):
    login("agent")
    with client.application.app_context():
        days = {sid: localtime.show(started)[:10] for sid, started, _, _ in CALLS}
    first, last = days["CA6"], days["CA2"]  # 3 days ago .. 1 day ago
    assert listed(client, f"?date_from={first}&date_to={last}") == ["CA2", "CA3", "CA6"]
    assert listed(client, f"?date_from={days['CA1']}") == ["CA1"]
    assert listed(client, f"?date_to={days['CA5']}") == ["CA5", "CA7"]


@pytest.mark.parametrize("query", ["?verdict=maybe", "?language=fr", "?status=gone", "?date_from=yesterday",
                                   "?caller=not-a-number"])
def test_a_bad_filter_value_is_a_400_with_the_reason(client, login, seeded, query):
    login("agent")
    response = client.get("/dashboard/calls" + query)
    assert response.status_code == 400
    assert "flash error" in response.get_data(as_text=True)


def test_keyset_pages_cover_every_call_once_in_both_directions(client, login, database):
    login("agent")
    base = NOW - timedelta(hours=1)
    for index in range(120):
        # Pairs share a start time, so the sid tie-breaker matters.
        add_call(database, f"CA{index:04d}", clock.stamp(base - timedelta(seconds=index // 2)))
    seen, pages, url = [], [], "/dashboard/calls"
    while url:
        page = client.get(url).get_data(as_text=True)
        found = re.findall(r'href="/dashboard/calls/(CA\d+)"', page)
        seen += found
        pages.append((url, found))
        older = re.search(r'href="(/dashboard/calls\?before=[^"]+)"', page)
        url = older.group(1).replace("&amp;", "&") if older else None
    assert len(pages) == 3 and [len(found) for _, found in pages] == [50, 50, 20]
    assert sorted(seen) == sorted(f"CA{index:04d}" for index in range(120)) and len(set(seen)) == 120
    last_page = client.get(pages[-1][0]).get_data(as_text=True)
    newer = re.search(r'href="(/dashboard/calls\?after=[^"]+)"', last_page).group(1).replace("&amp;", "&")
    assert re.findall(r'href="/dashboard/calls/(CA\d+)"', client.get(newer).get_data(as_text=True)) == pages[1][1]
    assert client.get("/dashboard/calls?before=garbage").status_code == 400
    # A link kept from the release that paged by SQLite's rowid ("<started_at>|<rowid>") opens the first page.
    old_link = client.get("/dashboard/calls", query_string={"before": f"{clock.stamp(base)}|8123"})
    assert old_link.status_code == 200
    assert re.findall(r'href="/dashboard/calls/(CA\d+)"', old_link.get_data(as_text=True)) == pages[0][1]


@pytest.mark.parametrize("cursor", ["2026-01-01T00:00:00Z|CA1' OR 1=1", "|CA0001", "2026-01-01T00:00:00Z|", "x" * 300])
def test_a_calls_cursor_that_is_not_ours_is_a_400(client, login, seeded, cursor):
    login("agent")
    assert client.get("/dashboard/calls", query_string={"before": cursor}).status_code == 400
    assert client.get("/dashboard/calls", query_string={"after": cursor}).status_code == 400


@pytest.mark.parametrize("cursor", ["abc", "-1", "9" * 40])
def test_a_reports_cursor_that_is_not_ours_is_a_400_not_a_500(client, login, cursor):
    login("agent")
    assert client.get(f"/dashboard/reports?before={cursor}").status_code == 400


def test_past_the_cap_a_count_one_index_answers_stays_exact_and_others_are_labelled_estimates(
        client, login, database, monkeypatch):
    from ivr.dashboard import callsearch

    login("agent")
    for index in range(12):
        add_call(database, f"CAc{index:02d}", clock.stamp(NOW - timedelta(minutes=index)),
                 language="en" if index % 2 else "zh", verdict="genuine")
    monkeypatch.setattr(callsearch, "COUNT_CAP", 5)
    assert re.search(r'id="count">12 通', client.get("/dashboard/calls").get_data(as_text=True))
    assert re.search(r'id="count">6 通', client.get("/dashboard/calls?language=en").get_data(as_text=True))
    # Two columns: no single index counts them, so past the cap the page says it is an estimate.
    page = client.get("/dashboard/calls?language=en&verdict=genuine").get_data(as_text=True)
    assert re.search(r'class="estimate"[^>]*>约 6 通<', page)
    monkeypatch.setattr(callsearch, "COUNT_CAP", 50)
    assert re.search(r'id="count">6 通', client.get("/dashboard/calls?language=en&verdict=genuine").get_data(as_text=True))


def test_the_calls_list_links_to_merchant_and_call(client, login, seeded):
    login("agent")
    page = client.get("/dashboard/calls?verdict=genuine").get_data(as_text=True)
    assert 'href="/dashboard/merchants/123456789012345"' in page and 'href="/dashboard/calls/CA1"' in page
    assert "我要核实一下" in page


# -- exports --------------------------------------------------------------------------------


def _csv(response):
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


@pytest.mark.parametrize("query, expected", [(query, sids) for query, sids in FILTERS if "q=" not in query][:8])
def test_the_calls_export_has_the_filtered_calls_with_masked_numbers(client, login, seeded, app, query, expected):
    login("agent")
    exported = _csv(client.get("/dashboard/calls.csv" + query))  # in the staff member's language: Chinese
    assert [row["通话编号"] for row in exported] == expected
    for row in exported:
        assert "****" in row["来电号码"] or row["来电号码"] == "号码隐藏"
    assert rows(app, "SELECT \"user\", action FROM audit WHERE action = 'export.calls'") == [{"user": "abe", "action": "export.calls"}]


def test_the_reports_export_is_filtered_and_defuses_spreadsheet_formulas(client, login, database, app):
    login("agent")
    reports.file_report(database, "fee", number="+8613912345678", reporter_number="+8613800138000",
                        merchant_id="123456789012345")
    reports.file_report(database, "credentials", number="+8613912345678", number_raw="=HYPERLINK(1)")
    reports.file_report(database, "other", number=None, number_raw="=cmd|' /C calc'!A0")
    everything = _csv(client.get("/dashboard/reports.csv"))
    assert len(everything) == 3
    assert everything[0]["被举报号码"].startswith("'=")  # newest first: the formula-looking raw number
    fees = _csv(client.get("/dashboard/reports.csv?category=fee"))
    assert [(row["类别"], row["被举报号码"], row["举报人"]) for row in fees] == [
        ("费用、押金或刷卡激活", "+8613912345678", "+86 138****8000")
    ]
    assert len(_csv(client.get("/dashboard/reports.csv?number=%2B8613912345678"))) == 2
    assert client.get("/dashboard/reports.csv?number=abc").status_code == 400
    assert rows(app, "SELECT count(*) AS n FROM audit WHERE action = 'export.reports'")[0]["n"] == 3


def test_the_reports_page_lists_and_filters(client, login, database):
    login("agent")
    reports.file_report(database, "fee", number="+8613912345678", merchant_id="123456789012345")
    reports.file_report(database, "remote_app", number="+8613912345679")
    page = client.get("/dashboard/reports?category=remote_app").get_data(as_text=True)
    assert "+8613912345679" in page and "+8613912345678" not in page


# -- how a call identified its merchant -----------------------------------------------------------

IDENTIFIED_WORDS = {
    "zh": {"registered_phone": "通过登记电话识别", "merchant_number": "通过输入的商户编号识别", "none": "未识别"},
    "en": {"registered_phone": "identified by a registered phone",
           "merchant_number": "identified by the merchant number typed in", "none": "not identified"},
}
SHORT_WORDS = {
    "zh": {"registered_phone": "登记电话", "merchant_number": "输入商户编号", "none": "未识别"},
    "en": {"registered_phone": "registered phone", "merchant_number": "merchant number typed in", "none": "not identified"},
}


def _identified_calls(database):
    for sid, how, merchant_id in (("CAid1", "registered_phone", "123456789012345"),
                                  ("CAid2", "merchant_number", "123456789012345"), ("CAid3", "none", None)):
        add_call(database, sid, clock.stamp(), merchant_id=merchant_id, identified_by=how)


def _language(client, lang):
    with client.session_transaction() as session:
        token = session["csrf"]
    client.post("/dashboard/language", data={"lang": lang, "csrf_token": token})


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("sid, how", [("CAid1", "registered_phone"), ("CAid2", "merchant_number"), ("CAid3", "none")])
def test_the_call_page_says_how_the_merchant_was_identified(client, login, database, lang, sid, how):
    login("agent")
    _language(client, lang)
    _identified_calls(database)
    page = client.get(f"/dashboard/calls/{sid}").get_data(as_text=True)
    shown = re.search(r'<dd id="identified-by">(.*?)</dd>', page, re.S).group(1)
    assert IDENTIFIED_WORDS[lang][how] in shown
    for other in set(IDENTIFIED_WORDS[lang]) - {how}:
        assert IDENTIFIED_WORDS[lang][other] not in shown
    assert ("识别方式" if lang == "zh" else "Identified") in page


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_calls_list_has_an_identified_column(client, login, database, lang):
    login("agent")
    _language(client, lang)
    _identified_calls(database)
    page = client.get("/dashboard/calls").get_data(as_text=True)
    assert ("<th>识别方式</th>" if lang == "zh" else "<th>Identified</th>") in page
    for sid, how in (("CAid1", "registered_phone"), ("CAid2", "merchant_number"), ("CAid3", "none")):
        row = page[page.index(f'href="/dashboard/calls/{sid}"'):]
        cell = re.search(r'<td class="identified">(.*?)</td>', row[:row.index("</tr>")], re.S).group(1)
        assert SHORT_WORDS[lang][how] in cell


def test_the_calls_export_has_identified_by(client, login, database):
    login("agent")
    _identified_calls(database)
    add_call(database, "CAid4", clock.stamp(NOW - timedelta(days=1)))  # before identification was recorded: 'none'
    _language(client, "en")
    exported = _csv(client.get("/dashboard/calls.csv"))
    assert {row["Call SID"]: row["Identified"] for row in exported} == {
        "CAid1": "registered phone", "CAid2": "merchant number typed in", "CAid3": "not identified",
        "CAid4": "not identified"}
    assert list(exported[0])[-1] == "Identified"  # a new last column: existing readers keep their columns


@pytest.mark.parametrize("lang, identified, locked, registered", [
    ("zh", ["已识别商户", "通过输入的商户编号识别"], "错误参考码过多，核实已锁定", ("来电不是登记电话", "来电为登记电话")),
    ("en", ["merchant identified", "identified by the merchant number typed in"],
     "code checking locked after too many wrong codes", ("caller not on file", "caller on file")),
])
def test_the_timeline_tells_identification_and_locks_in_words(client, login, database, lang, identified, locked,
                                                               registered):
    login("agent")
    _language(client, lang)
    events = [
        {"kind": "identified", "detail": '{"merchant_id": "123456789012345", "by": "merchant_number"}'},
        {"kind": "lock", "detail": '{"merchant_id": "123456789012345", "registered": false}'},
        {"kind": "lock", "detail": '{"merchant_id": "123456789012345", "registered": true}'},
    ]
    add_call(database, "CAtl", clock.stamp(), events=events, merchant_id="123456789012345", identified_by="merchant_number")
    page = client.get("/dashboard/calls/CAtl").get_data(as_text=True)
    timeline = page[page.index('<ol class="timeline">'):]
    first = timeline[timeline.index('class="ev ev-identified"'):]
    first = first[:first.index("</li>")]
    assert all(words in first for words in identified) and 'href="/dashboard/merchants/123456789012345"' in first
    locks = re.findall(r'class="ev ev-lock">(.*?)</li>', timeline, re.S)
    assert len(locks) == 2 and all(locked in body for body in locks)
    assert registered[0] in locks[0] and registered[1] in locks[1] and registered[0] not in locks[1]
    assert "&#34;by&#34;" not in timeline and '"registered"' not in timeline  # words, not the raw detail


# -- reports that count towards the watchlist -------------------------------------------------------


@pytest.mark.parametrize("lang, on_file, unverified", [("zh", "举报人为登记电话", "未经核实"),
                                                       ("en", "reporter on file", "not verified")])
def test_the_reports_list_marks_which_reports_count(client, login, database, lang, on_file, unverified):
    login("agent")
    _language(client, lang)
    counted = reports.file_report(database, "fee", number="+8613912345678", merchant_id="123456789012345",
                                  reporter_registered=True)
    other = reports.file_report(database, "fee", number="+8613912345678", merchant_id="222222222222222")
    assert (counted["counted"], other["counted"]) == (1, 0)
    page = client.get("/dashboard/reports").get_data(as_text=True)
    for report, mark, not_mark in ((counted, on_file, unverified), (other, unverified, on_file)):
        row = page[page.index(f"<td>{report['report_number']}</td>"):]
        row = row[:row.index("</tr>")]
        assert mark in row and not_mark not in row
    exported = _csv(client.get("/dashboard/reports.csv"))
    number, counts, yes, no = (("举报编号", "计入观察名单", "是", "否") if lang == "zh"
                               else ("Report", "Counted towards the watchlist", "Yes", "No"))
    assert [(row[number], row[counts]) for row in exported] == [
        (other["report_number"], no), (counted["report_number"], yes)]


def test_the_call_page_marks_its_report_as_counted_or_not(client, login, database):
    login("agent")
    add_call(database, "CArep", clock.stamp(), merchant_id="123456789012345", identified_by="registered_phone")
    reports.file_report(database, "fee", number="+8613912345678", merchant_id="123456789012345", call_sid="CArep",
                        reporter_registered=True)
    reports.file_report(database, "other", number="+8613912345679", merchant_id="123456789012345", call_sid="CArep",
                        reporter_registered=True)  # the second report of a call never counts
    page = client.get("/dashboard/calls/CArep").get_data(as_text=True)
    section = page[page.index("已登记的举报"):page.index("</section>", page.index("已登记的举报"))]
    first, second = section.split("<p>")[1:3]
    assert "举报人为登记电话" in first and "计入观察名单" in first
    assert "未经核实" in second and "不计入观察名单" in second
