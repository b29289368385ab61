"""Every dashboard page reads in the chosen language: no English left on a Chinese page, no stored codes as labels."""
import csv
import io
import re
from html.parser import HTMLParser

import pytest

from conftest import MERCHANT, MERCHANT_PHONE, OFFICIAL, STAFF_PASSWORD, csrf_of, rows
from ivr.dashboard import timelinetext, uitext
from ivr.phone import mask
from ivr.verification import merchants

REPORTED = "+8613912345678"
STRANGER = "+8613300000000"
DASHBOARD = re.compile(r"^/dashboard(/|$)")
# Text a staff member reads as the page's own words: not what callers said or heard, nor the raw record folded away.
CONTENT_TAGS = {"script", "style", "code", "kbd", "q", "textarea"}
CONTENT_CLASSES = {"heard"}
VOID_TAGS = {"input", "br", "img", "meta", "link", "hr", "source", "wbr", "col", "area"}
LABELLING_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
SEPARATORS = re.compile(r"\s+·\s+")
TOKENS = re.compile(r"[^\s·,，:：;；()（）\[\]/|=<>“”\"']+")
# The language switch names the other language in that language, on purpose.
LANGUAGE_SWITCH = {"中文", "English"}


class PageText(HTMLParser):
    """Collects the text a staff member reads on a page: text nodes and labelling attributes, content left out."""

    def __init__(self):
        super().__init__()
        self.open_tags, self.texts = [], []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if not self._in_content(extra=(tag, attributes.get("class") or "")):
            self.texts.extend(attributes[name].strip() for name in LABELLING_ATTRIBUTES if attributes.get(name))
        if tag not in VOID_TAGS:
            self.open_tags.append((tag, attributes.get("class") or ""))

    def handle_endtag(self, tag):
        for position in range(len(self.open_tags) - 1, -1, -1):
            if self.open_tags[position][0] == tag:
                del self.open_tags[position:]
                break

    def handle_data(self, data):
        if data.strip() and not self._in_content():
            self.texts.append(data.strip())

    def _in_content(self, extra=None):
        tags = self.open_tags + ([extra] if extra else [])
        for position, (tag, classes) in enumerate(tags):
            if tag in CONTENT_TAGS or CONTENT_CLASSES & set(classes.split()):
                return True
            # A <details> element shows only its <summary> until opened: the raw record lives there.
            if tag == "details" and not (position + 1 < len(tags) and tags[position + 1][0] == "summary"):
                return True
        return False


def page_texts(html):
    """Return the pieces of text a staff member reads on `html` (split at the ' · ' separators)."""
    parser = PageText()
    parser.feed(html)
    return [piece for text in parser.texts for piece in SEPARATORS.split(text) if piece]


def _pattern(key):
    # A text with {placeholders} matches any filling of them.
    return re.compile(re.sub(r"\\\{\w+\\\}", ".+", re.escape(key)) + r"\Z")


ENGLISH_KEYS = {key for key, value in uitext.ZH.items() if value != key}
ENGLISH_PATTERNS = [_pattern(key) for key in ENGLISH_KEYS if "{" in key]
CHINESE_WORDS = (set(uitext.ZH.values()) | {names[1] for names in uitext.VALUES.values()}) - LANGUAGE_SWITCH


def raw_identifiers(app):
    """Stored codes that must never stand where a label belongs: audit actions, flow steps, detail keys, values."""
    codes = set(uitext.AUDIT_ACTIONS) | {action for action, _ in timelinetext.ACTION_WORDS}
    codes |= set(app.extensions["ivr"]["flow"].registry.actions)
    codes |= {key for key in uitext.VALUES if isinstance(key, str) and ("_" in key or "-" in key)}
    codes |= set(app.extensions["ivr"]["outreach_actions"].keys())
    codes |= {"outreach_id", "merchant_id", "code_given", "report_id", "report_number", "callback_id", "identified_by",
              "from_number", "valid_hours", "staff_name", "recording_sid", "None", "null", "True", "False"}
    return codes


def untranslated(html, lang, codes):
    """Return the pieces of `html` that are not in `lang`: English UI text on a Chinese page, Chinese on an English
    one, or a stored code (or raw JSON) where staff should read words."""
    found = []
    for text in page_texts(html):
        if '{"' in text or "{'" in text:
            found.append(text)
        elif lang == "zh" and (text in ENGLISH_KEYS or any(pattern.match(text) for pattern in ENGLISH_PATTERNS)):
            found.append(text)
        elif lang == "en" and text in CHINESE_WORDS:
            found.append(text)
        elif codes & set(TOKENS.findall(text)):
            found.append(text)
    return found


# -- the data every page shows -----------------------------------------------------------------------------------


@pytest.fixture
def busy_day(app, client, call, staff, database, verification):
    """A day of the hotline's work through its real webhooks and pages: every kind of event, report, call-back, lock,
    outreach and audit row; returns the ids the dashboard's addresses take."""
    merchants.upsert_merchant(database, "123456789012345", "小王便利店", ["+8613800138001"], actor="test")
    created = verification.add_outreach()
    verification.add_outreach(merchant=verification.other, channel="visit", from_number=None)
    calls = {}
    # A genuine code from the registered phone; then the same merchant typed in from another phone, with no code.
    call.start(from_=MERCHANT_PHONE)
    call.press("1")
    call.press(created["reference_code"] + "#")
    call.hangup()
    calls["genuine"] = call.sid
    call.start(from_=STRANGER)
    call.press("9")
    call.press("1")
    call.press(MERCHANT + "#")
    call.press("#")
    call.press(REPORTED[3:] + "#")
    call.hangup()
    calls["no code"] = call.sid
    # A report with a spoken category and a message; a person asked for, not answering, and a message left.
    call.start(from_=MERCHANT_PHONE)
    call.press("3")
    call.press(REPORTED[3:] + "#")
    call.say("对方让我下载屏幕共享软件")
    call.record(12)
    call.hangup()
    calls["report"] = call.sid
    call.start(from_="+8613700137000")
    call.press("0")
    call.dial_result("no-answer")
    call.record(9)
    call.hangup()
    calls["call-back"] = call.sid
    # A withheld caller typing a merchant number nobody has, and wrong codes until the stranger is locked.
    call.start(from_="anonymous")
    call.press("1")
    call.press("1234567#")
    call.hangup()
    for _ in range(6):
        call.start(from_=STRANGER)
        call.press("1")
        call.press(MERCHANT + "#")
        call.press("87654321#")
        call.hangup()
    calls["locked"] = call.sid
    [report] = rows(app, "SELECT id FROM reports WHERE call_sid = ?", [calls["report"]])
    [outreach] = rows(app, "SELECT id FROM outreach WHERE merchant_id = ? AND status = 'open'", [MERCHANT])
    # Staff work that leaves audit rows of many kinds.
    client.get("/dashboard/login")
    client.post("/dashboard/login", data={"name": "ada", "password": "wrong password", "csrf_token": csrf_of(client)})
    client.post("/dashboard/login", data={"name": "ada", "password": STAFF_PASSWORD, "csrf_token": csrf_of(client)})
    token = csrf_of(client)
    client.post("/dashboard/reveal", data={"kind": "call", "ref": calls["genuine"], "csrf_token": token})
    client.get(f"/dashboard/calls/{calls['genuine']}")
    client.get("/dashboard/calls.csv")
    client.post(f"/dashboard/numbers/{REPORTED}/status", data={"status": "confirmed", "reason": "多个商户举报",
                                                               "csrf_token": token})
    client.post(f"/dashboard/numbers/{OFFICIAL}/status", data={"status": "cleared", "reason": "我们的号码",
                                                               "csrf_token": token})
    client.post("/dashboard/users", data={"name": "cai", "role": "agent", "password": STAFF_PASSWORD,
                                          "password2": STAFF_PASSWORD, "csrf_token": token})
    client.post("/dashboard/logout", data={"csrf_token": token})
    return {"sid": calls["genuine"], "number": REPORTED, "merchant_id": MERCHANT, "outreach_id": outreach["id"],
            "report_id": report["id"], "calls": calls}


def _sign_in(client, role, lang):
    client.get("/dashboard/login")
    name = {"admin": "ada", "agent": "abe"}[role]
    client.post("/dashboard/login", data={"name": name, "password": STAFF_PASSWORD, "csrf_token": csrf_of(client)})
    client.post("/dashboard/language", data={"lang": lang, "csrf_token": csrf_of(client)})


def dashboard_pages(app, ids):
    """Every dashboard page a browser GETs, with real ids, a few filtered views, and the error pages staff can meet."""
    pages = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or not DASHBOARD.match(rule.rule) or rule.endpoint == "dash_recordings.play":
            continue  # a recording is audio, not a page
        missing = set(rule.arguments) - set(ids)
        assert not missing, f"{rule.rule}: give tests/test_languages.py a real value for {missing}"
        with app.test_request_context():
            from flask import url_for

            pages.append(url_for(rule.endpoint, **{name: ids[name] for name in rule.arguments}))
    extra = [f"/dashboard/calls/{sid}" for sid in ids["calls"].values()]
    extra += ["/dashboard/callbacks?status=done", "/dashboard/calls?verdict=genuine", f"/dashboard/numbers/{OFFICIAL}",
              "/dashboard/no-such-page", "/dashboard/logout", "/dashboard/calls/CAnothing"]
    return sorted(set(pages + extra))


def test_every_page_reads_in_the_chosen_language_for_agents_and_admins(app, busy_day):
    codes = raw_identifiers(app)
    problems, seen = {}, 0
    for role in ("agent", "admin"):
        for lang in ("zh", "en"):
            client = app.test_client()
            _sign_in(client, role, lang)
            for path in dashboard_pages(app, busy_day):
                response = client.get(path)
                if response.mimetype != "text/html":
                    assert path.endswith(".csv"), path
                    continue
                assert response.status_code in (200, 403, 404, 405), (path, response.status_code)
                seen += 1
                found = untranslated(response.get_data(as_text=True), lang, codes)
                if found:
                    problems[f"{role} {lang} {path}"] = sorted(set(found))
    assert seen > 60
    assert problems == {}


def test_the_checker_catches_english_on_a_chinese_page_and_raw_codes():
    # The test above can fail: each kind of mistake it looks for is caught here, and content is left alone.
    codes = {"auth.sign_in", "outreach_id", "None"}
    page = ('<h1>Calls</h1><p>12 calls</p><td>auth.sign_in</td><p>outreach_id: 1</p><p>{"by": 1}</p>'
            '<span class="heard">Calls</span><q>Calls</q><details><summary>原始记录</summary>auth.sign_in</details>'
            '<input placeholder="words the caller said">')
    assert untranslated(page, "zh", codes) == ["Calls", "12 calls", "auth.sign_in", "outreach_id: 1",
                                               '{"by": 1}', "words the caller said"]
    assert untranslated("<p>号码隐藏</p><p>中文</p><p>None</p>", "en", codes) == ["号码隐藏", "None"]


# -- the timeline, error pages, form errors and exports in words ----------------------------------------------------


@pytest.mark.parametrize("lang, words", [
    ("en", ["identified by a registered phone", "the code matched outreach #", "chose English", "pressed",
            "the caller hung up", "typed a code (8 digits, not kept)"]),
    ("zh", ["通过登记电话识别", "参考码与联系记录 #", "选择了英文", "按键", "来电者挂断", "输入了参考码（8 位，不保留）"]),
])
def test_the_timeline_tells_what_happened_in_words_with_the_raw_record_folded(app, busy_day, lang, words):
    client = app.test_client()
    _sign_in(client, "agent", lang)
    genuine = client.get(f"/dashboard/calls/{busy_day['calls']['genuine']}").get_data(as_text=True)
    switched = client.get(f"/dashboard/calls/{busy_day['calls']['no code']}").get_data(as_text=True)
    read = " ".join(page_texts(genuine) + page_texts(switched))
    for expected in words:
        assert expected in read, expected
    # Rows are sentences only; the stored steps are in one fold below the timeline, and only there.
    start = genuine.index('<ol class="timeline">')
    rows_html = genuine[start:genuine.index("</ol>", start)]
    assert "<details" not in rows_html and "identify_caller" not in rows_html
    assert genuine.count("<details") == 1 and genuine.count('id="raw-record"') == 1
    raw = genuine[genuine.index('id="raw-record"'):genuine.index("</details>", genuine.index('id="raw-record"'))]
    assert "identify_caller · outcome=registered" in raw
    assert "identify_caller" not in " ".join(page_texts(genuine))
    # The fold shows the caller's number masked, as the rest of the page does.
    assert f"from={mask(MERCHANT_PHONE)}" in raw and MERCHANT_PHONE not in raw


def test_the_raw_record_keeps_numbers_masked_and_twilios_addresses_out(app, busy_day):
    client = app.test_client()
    _sign_in(client, "admin", "en")
    for key, sid in busy_day["calls"].items():
        page = client.get(f"/dashboard/calls/{sid}").get_data(as_text=True)
        raw = page[page.index('id="raw-record"'):page.index("</details>", page.index('id="raw-record"'))]
        assert len(re.findall(r"<li><code", raw)) == page.count('<li class="ev ') > 0, key  # one line per row
        assert "api.twilio.com" not in raw and "api.twilio.com" not in page, key
        [caller] = rows(app, "SELECT from_number FROM calls WHERE sid = ?", [sid])
        if caller["from_number"]:
            assert caller["from_number"] not in page, key


@pytest.mark.parametrize("lang, title, words", [
    ("zh", "找不到页面", "这里没有这个页面或记录。"), ("en", "Page not found", "There is no such page or record here."),
])
def test_error_pages_of_the_dashboard_are_in_the_staff_members_language(app, client, staff, lang, title, words):
    _sign_in(client, "agent", lang)
    for path in ("/dashboard/no-such-page", "/dashboard/calls/CAnothing"):
        response = client.get(path)
        page = response.get_data(as_text=True)
        assert response.status_code == 404 and title in page and words in page, path
        assert "The requested URL was not found" not in page
    wrong_method = client.get("/dashboard/logout")
    assert wrong_method.status_code == 405 and "POST" in wrong_method.headers["Allow"]
    assert ("不支持此操作" if lang == "zh" else "Method not allowed") in wrong_method.get_data(as_text=True)
    forbidden = client.get("/dashboard/users").get_data(as_text=True)
    assert ("您没有权限执行此操作。" if lang == "zh" else "You are not allowed to do that.") in forbidden
    # The API keeps its JSON and the webhooks their plain answers.
    assert client.get("/api/nope").is_json
    assert client.get("/voice/incoming").mimetype == "text/html" and "405" in client.get("/voice/incoming").get_data(as_text=True)


@pytest.mark.parametrize("lang, message", [
    ("zh", "有效期（小时）必须是 1 到 720 之间的整数。"), ("en", "Valid for (hours) must be a whole number from 1 to 720."),
])
def test_a_form_error_from_the_domain_reads_as_a_sentence(app, client, staff, verification, lang, message):
    _sign_in(client, "agent", lang)
    response = client.post("/dashboard/outreach", data={
        "merchant_id": MERCHANT, "reason": "system_update", "channel": "phone", "from_number": "4009001234",
        "action": "accept_terminal_update", "valid_hours": "9999", "csrf_token": csrf_of(client)})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True) and "valid_hours" not in " ".join(page_texts(response.get_data(as_text=True)))


def test_the_api_keeps_its_errors_in_english(api, verification):
    response = api("POST", "/api/outreach", json={"merchant_id": MERCHANT, "reason": "system_update", "channel": "phone",
                                                  "from_number": "4009001234", "staff_name": "李娜",
                                                  "action": "accept_terminal_update", "valid_hours": 9999})
    assert response.status_code == 400
    assert response.json["error"] == "valid_hours must be a whole number from 1 to 720"


@pytest.mark.parametrize("lang, started, verdict, genuine, caller", [
    ("zh", "开始时间（Asia/Shanghai, UTC+08:00）", "结论", "真实", "来电号码"),
    ("en", "Started (Asia/Shanghai, UTC+08:00)", "Verdict", "genuine", "Caller"),
])
def test_exports_carry_local_time_with_the_zone_and_the_languages_labels(app, busy_day, lang, started, verdict,
                                                                        genuine, caller):
    client = app.test_client()
    _sign_in(client, "agent", lang)
    text = client.get("/dashboard/calls.csv").get_data(as_text=True).lstrip("\ufeff")
    exported = list(csv.DictReader(io.StringIO(text)))
    [stored] = rows(app, "SELECT started_at FROM calls WHERE sid = ?", [busy_day["sid"]])
    [row] = [row for row in exported if busy_day["sid"] in row.values()]
    from zoneinfo import ZoneInfo

    from ivr import clock

    local = clock.parse(stored["started_at"]).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M:%S")
    assert row[started] == local and row[verdict] == genuine and "****" in row[caller]
    withheld = [row[caller] for row in exported if "****" not in row[caller]]
    assert withheld and set(withheld) == {"号码隐藏" if lang == "zh" else "withheld"}
    reports_header = next(csv.reader(io.StringIO(client.get("/dashboard/reports.csv").get_data(as_text=True).lstrip("\ufeff"))))
    assert not {"report_number", "created_at", "counted"} & set(reports_header)


def test_the_words_the_first_try_left_unfinished_now_read_as_chinese(app, client, staff, database):
    from conftest import add_call, insert
    from ivr.verification import reports

    stamp = "2026-03-02T02:00:00.000Z"
    record = {"kind": "record", "node": "leave_message", "detail": '{"sid": "RE%s", "recorded": true}' % ("0" * 32)}
    add_call(database, "CAmissing", stamp, events=[record], from_number=None, from_raw="Anonymous", duration=None,
             status="in-progress")
    insert(database, "recordings", {"sid": "RE" + "0" * 32, "call_sid": "CAmissing", "status": "pending",
                                    "duration": None, "created_at": stamp})
    reports.file_report(database, "fee", number=REPORTED)
    _sign_in(client, "admin", "zh")
    client.post(f"/dashboard/numbers/{REPORTED}/status",
                data={"status": "cleared", "reason": "核实为银行号码", "csrf_token": csrf_of(client)})

    page = client.get("/dashboard/calls/CAmissing").get_data(as_text=True)
    recording = page[page.index('id="recordings"'):page.index("</dd>", page.index('id="recordings"'))]
    # No duration is known: nothing is said about one (it read "录音 s").
    assert "尚未从 Twilio 复制" in recording and " s" not in recording and "秒" not in recording
    assert '<span id="caller">号码隐藏</span>' in page and "withheld" not in " ".join(page_texts(page))
    # A number ruled out is not "deleted" (清除), and the filter's reset says what it clears.
    numbers = client.get("/dashboard/numbers").get_data(as_text=True)
    assert "已排除嫌疑" in numbers and "已清除" not in numbers
    assert ">清除条件</a>" in client.get("/dashboard/calls").get_data(as_text=True)
