"""Whole calls as Twilio makes them: what the caller hears, where each step leads, and the call log."""
import xml.etree.ElementTree as ElementTree
from datetime import datetime, timezone

import pytest
from twilio.request_validator import RequestValidator

from conftest import AGENT, TOKEN, break_database, rows
from ivr import clock


def twiml(turn, index=-1):
    """The root element of a TwiML document fetched during a turn."""
    return ElementTree.fromstring(turn.documents[index][2])


def call_row(app, sid):
    return rows(app, "SELECT * FROM calls WHERE sid = ?", [sid])[0]


def next_node(app, sid):
    """The first node the call moved to after the caller's last input."""
    log = events(app, sid)
    last_input = max(index for index, event in enumerate(log) if event["kind"] in ("input", "language"))
    return next(event["node"] for event in log[last_input + 1:] if event["node"] and event["kind"] != "language")


def events(app, sid, kind=None):
    sql = "SELECT * FROM events WHERE call_sid = ?" + (" AND kind = ?" if kind else "") + " ORDER BY id"
    return rows(app, sql, [sid, kind] if kind else [sid])


# -- the welcome ---------------------------------------------------------------------------------


def test_welcome_is_a_mandarin_gather_with_speech_and_rules(call):
    turn = call.start()
    root = twiml(turn)
    gather = root.find("Gather")
    assert gather.get("input") == "dtmf speech"
    assert gather.get("language") == "cmn-Hans-CN"
    assert gather.get("numDigits") == "1"
    # Relative (Twilio resolves it), and for this turn of the call only.
    assert gather.get("action") == "/voice/step?node=welcome&turn=1"
    assert "核实" in gather.get("hints") and "人工" in gather.get("hints")
    say, english = gather.findall("Say")
    assert say.get("language") == "cmn-CN" and say.get("voice") == "Polly.Zhiyu"
    # What we never ask for, in one sentence; the full rules live in the guidance.
    assert "我们从不索要密码、验证码或费用。" in say.text and "核实请按1" in say.text
    # "For English, press 9" is said by an English voice, not read by the Mandarin one.
    assert (english.get("language"), english.get("voice"), english.text) == ("en-US", "Polly.Joanna", "For English, press 9.")
    # No input falls through the Gather to a redirect that counts as no input.
    assert root.find("Redirect").text == "/voice/step?node=welcome&turn=1&noinput=1"


def test_9_moves_from_mandarin_to_english_to_cantonese_and_back(call, app):
    call.start()
    gather = twiml(call.press("9")).find("Gather")
    assert gather.get("language") == "en-US"
    say, cantonese = gather.findall("Say")
    assert say.get("language") == "en-US" and say.get("voice") == "Polly.Joanna"
    assert "We never ask for PINs, codes or fees." in say.text
    # The next language is offered in its own words and voice: never read by the English one.
    assert (cantonese.get("language"), cantonese.get("voice"), cantonese.text) == (
        "yue-HK", "Google.yue-HK-Standard-A", "講廣東話，請撳9。")
    assert call_row(app, call.sid)["language"] == "en"

    gather = twiml(call.press("9")).find("Gather")
    assert gather.get("language") == "yue-Hant-HK"
    say, mandarin = gather.findall("Say")
    assert (say.get("language"), say.get("voice")) == ("yue-HK", "Google.yue-HK-Standard-A")
    assert "官方商戶核實熱線" in say.text and "核實請撳1" in say.text
    assert (mandarin.get("language"), mandarin.get("voice"), mandarin.text) == ("cmn-CN", "Polly.Zhiyu", "说普通话，请按9。")
    assert "舉報" in gather.get("hints") and "真人" in gather.get("hints")
    assert call_row(app, call.sid)["language"] == "yue"

    turn = call.press("9")
    assert "官方商户核实热线" in turn.text
    assert call_row(app, call.sid)["language"] == "zh"
    assert [event["detail"] for event in events(app, call.sid, "language")] == [
        '{"language": "en"}', '{"language": "yue"}', '{"language": "zh"}']


LANGUAGES = [
    # (code, keys that reach it, <Say language>, voice, speech recognition language)
    ("zh", [], "cmn-CN", "Polly.Zhiyu", "cmn-Hans-CN"),
    ("en", ["9"], "en-US", "Polly.Joanna", "en-US"),
    ("yue", ["9", "9"], "yue-HK", "Google.yue-HK-Standard-A", "yue-Hant-HK"),
]


@pytest.mark.parametrize("code, keys, say_language, voice, speech", LANGUAGES, ids=[case[0] for case in LANGUAGES])
def test_each_language_is_spoken_and_heard_as_the_flow_declares(call, app, code, keys, say_language, voice, speech):
    turns = [call.start()]
    turns += [call.press(key) for key in keys]
    # The welcome (a menu), a collect node, then a say and a transfer: a merchant number that is not found twice.
    turns = turns[-1:] + [call.press(key) for key in ("1", "123456#", "123456#")]
    assert turns[-1].waiting_for == "Dial"
    flow = app.extensions["ivr"]["flow"]
    offers = {flow.message("switch_to", language) for language in flow.languages}  # each in its own language
    for turn in turns:
        root = twiml(turn)
        assert all(gather.get("language") == speech for gather in root.iter("Gather"))
        assert all((say.get("language"), say.get("voice")) == (say_language, voice)
                   for say in root.iter("Say") if say.text not in offers)
    assert [twiml(turn).find("Gather").get("input") for turn in turns[:3]] == ["dtmf speech"] * 3
    assert call_row(app, call.sid)["language"] == code


def test_a_voice_can_be_overridden_per_language(tmp_path, monkeypatch):
    from conftest import CallHelper
    from ivr import create_app

    monkeypatch.setenv("IVR_VOICE_YUE", "Polly.Hiujin")
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "h.db"), "TWILIO_AUTH_TOKEN": TOKEN,
                      "SECRET_KEY": "x", "BUSINESS_HOURS": "24/7"})
    call = CallHelper(app)
    assert twiml(call.start()).find("Gather/Say").get("voice") == "Polly.Zhiyu"
    call.press("9")
    assert twiml(call.press("9")).find("Gather/Say").get("voice") == "Polly.Hiujin"


MENU_KEYS = [
    ("1", "verify"),
    ("2", "guide_how"),
    ("3", "report"),
    ("0", "person"),
    ("*", "welcome"),
]


@pytest.mark.parametrize("language_keys", [[], ["9"], ["9", "9"]], ids=["zh", "en", "yue"])
@pytest.mark.parametrize("key, node", MENU_KEYS)
def test_main_keys_are_the_same_in_every_language(call, app, key, node, language_keys):
    call.start()
    for extra in language_keys:
        call.press(extra)
    call.press(key)
    assert next_node(app, call.sid).startswith(node)


SPOKEN = [
    ("zh", "我要核实一下", "verify"),
    ("zh", "验证", "verify"),
    ("zh", "更新指引", "guide_how"),
    ("zh", "我要举报", "report"),
    ("zh", "转人工", "person"),
    ("en", "I want to verify a call", "verify"),
    ("en", "safe update steps please", "guide_how"),
    ("en", "Report.", "report"),
    ("en", "agent", "person"),
    ("en", "a person please", "person"),
    ("en", "Cantonese please", "welcome"),
    ("yue", "我想核實吓", "verify"),
    ("yue", "更新步驟", "guide_how"),
    ("yue", "有人呃我，我要舉報", "report"),
    ("yue", "唔該，搵真人", "person"),
    ("yue", "再講一次", "welcome"),
]
SWITCHES = {"zh": [], "en": ["9"], "yue": ["9", "9"]}


@pytest.mark.parametrize("language, words, node", SPOKEN)
def test_spoken_words_choose_the_same_branches(call, app, language, words, node):
    call.start()
    for key in SWITCHES[language]:
        call.press(key)
    call.say(words, confidence=0.87)
    assert next_node(app, call.sid).startswith(node)
    spoken = [event for event in events(app, call.sid, "input") if event["speech"]]
    assert spoken[-1]["speech"] == words and spoken[-1]["confidence"] == pytest.approx(0.87)


# -- safe update steps ----------------------------------------------------------------------------

SECTIONS = [
    ("guide_how", ["终端自己的更新提示", "官方App", "绝不会通过电话"]),
    ("guide_before", ["完成结算", "备份数据", "电源", "更新说明", "高峰"]),
    ("guide_during", ["网络稳定", "官方更新选项", "重启"]),
    ("guide_after", ["已更新", "小额交易", "商户名称", "结算账户", "记录"]),
    ("guide_never", ["银行卡密码", "短信验证码", "押金", "刷卡激活", "远程控制"]),
    ("guide_shared", ["本热线", "发卡行", "110", "96110"]),
]


def test_guide_walks_through_every_section(call, app):
    call.start()
    turn = call.press("2")
    for index, (node, phrases) in enumerate(SECTIONS):
        assert call_row(app, call.sid)["node"] == node
        for phrase in phrases:
            assert phrase in turn.text, (node, phrase)
        if index < len(SECTIONS) - 1:
            turn = call.press("1")
    turn = call.press("1")
    assert call_row(app, call.sid)["node"] == "main_menu"


@pytest.mark.parametrize("key, node", [("2", "guide_before"), ("*", "guide_how"), ("1", "guide_during")])
def test_guide_repeat_back_next(call, app, key, node):
    call.start()
    call.press("2")
    call.press("1")  # guide_before
    call.press(key)
    assert call_row(app, call.sid)["node"] == node


def test_guide_in_english(call):
    call.start()
    call.press("9")
    turn = call.press("2")
    assert "official app" in turn.text and "phone call" in turn.text
    turn = call.press("1")
    assert "settle the batch" in turn.text and "peak hours" in turn.text


# -- no input and invalid keys ---------------------------------------------------------------------


def test_silence_asks_twice_more_then_offers_a_person(call, app):
    call.start()
    first = call.silence()
    assert first.heard[0] == "抱歉，没有听到您的选择。"
    assert "核实请按1" in first.text and "您好" not in first.text  # the choices again, not the whole welcome
    call.silence()
    last = call.silence()
    assert "现在为您转接人工客服" in last.text
    assert last.waiting_for == "Dial"
    assert "".join(last.waiting.itertext()).strip() == AGENT
    assert len(events(app, call.sid, "no_input")) == 3


def test_invalid_key_says_so_and_never_loops(call, app):
    call.start()
    turn = call.press("7")
    assert turn.heard[0] == "抱歉，这个选择无效。"
    call.press("8")
    turn = call.press("7")
    assert turn.waiting_for == "Dial"
    # Even a caller who keeps failing ends politely: the person branch ends in a message or goodbye.
    turn = call.dial_result("no-answer")
    assert turn.waiting_for == "Record"
    turn = call.record(0)
    assert turn.ended


def test_unrecognised_speech_counts_as_invalid(call):
    call.start()
    turn = call.say("今天天气不错")
    assert turn.heard[0] == "抱歉，这个选择无效。"


# -- talk to a person -------------------------------------------------------------------------------


def test_person_dials_the_agent_with_timeout_and_action(call):
    call.start()
    turn = call.press("0")
    dial = twiml(turn).find("Dial")
    assert dial.get("action") == "/voice/step?node=person&turn=2"
    assert int(dial.get("timeout")) == 20
    assert dial.find("Number").text == AGENT
    assert "正在为您转接人工客服" in turn.text


def test_answered_transfer_ends_with_thanks(call):
    call.start()
    call.press("0")
    turn = call.dial_result("completed")
    assert turn.ended and "感谢来电" in turn.text


@pytest.mark.parametrize("status", ["no-answer", "busy", "failed", "canceled"])
def test_unanswered_transfer_takes_a_message_as_callback(call, app, status):
    call.start(from_="+8613912345678")
    call.press("0")
    turn = call.dial_result(status)
    assert "无人接听" in turn.text
    record = twiml(turn).find("Record")
    assert record.get("action") == "/voice/step?node=leave_message&turn=3"
    assert record.get("maxLength") == "120"
    turn = call.record(15)
    assert turn.ended and "回电" in turn.text
    callback = rows(app, "SELECT * FROM callbacks WHERE call_sid = ?", [call.sid])
    assert len(callback) == 1
    assert callback[0]["from_number"] == "+8613912345678"
    assert callback[0]["recording_duration"] == 15
    assert callback[0]["recording_url"].startswith("https://api.twilio.com/")
    assert callback[0]["status"] == "waiting"


def test_outside_business_hours_goes_straight_to_a_message(app, call, monkeypatch):
    app.extensions["ivr"]["hours"] = __import__("ivr.hours", fromlist=["parse_hours"]).parse_hours(
        "Mon-Fri 09:00-18:00 Asia/Shanghai"
    )
    # Saturday 2026-11-28 15:00 in Shanghai.
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 11, 28, 7, 0, tzinfo=timezone.utc))
    call.start()
    turn = call.press("0")
    assert turn.waiting_for == "Record"
    assert "不在服务时间" in turn.text
    assert twiml(turn).find("Dial") is None


def test_no_agent_number_configured_takes_a_message(app, call):
    app.config["AGENT_NUMBER"] = None
    call.start()
    turn = call.press("0")
    assert turn.waiting_for == "Record"
    assert "暂时无人接听" in turn.text  # not "closed": nobody was configured to answer


def test_empty_message_from_a_known_number_still_asks_for_a_call_back(call, app):
    call.start(from_="+8613912345678")
    call.press("0")
    call.dial_result("no-answer")
    turn = call.record(0)  # Twilio skips the action and runs the Redirect after <Record>
    assert turn.ended
    callback = rows(app, "SELECT * FROM callbacks WHERE call_sid = ?", [call.sid])
    assert len(callback) == 1 and callback[0]["recording_url"] is None


def test_empty_message_from_a_withheld_number_files_nothing(call, app):
    call.start(from_="Anonymous")
    call.press("0")
    call.dial_result("busy")
    turn = call.record(0)
    assert turn.ended and "再见" in turn.text
    assert rows(app, "SELECT * FROM callbacks") == []


# -- the call log ------------------------------------------------------------------------------------

WITHHELD = ["+266696687", "+7378742833", "+2562533", "+8656696", "+86282452253", "Anonymous", "anonymous",
            "client:alice", "sip:merchant@example.com", "", "Restricted", "Unknown"]


@pytest.mark.parametrize("caller_id", WITHHELD)
def test_withheld_caller_ids_are_never_stored_as_numbers(call, app, caller_id):
    call.start(from_=caller_id)
    row = call_row(app, call.sid)
    assert row["from_number"] is None
    assert row["caller_withheld"] == 1
    assert row["from_raw"] == caller_id


@pytest.mark.parametrize("caller_id, stored", [
    ("+8613800138000", "+8613800138000"),
    ("+86 138 0013 8000", "+8613800138000"),
    ("+12025550123", "+12025550123"),
    ("+861234", None),
])
def test_caller_numbers_are_stored_as_e164(call, app, caller_id, stored):
    call.start(from_=caller_id)
    row = call_row(app, call.sid)
    assert row["from_number"] == stored
    assert row["caller_withheld"] == 0


def test_call_log_has_ordered_events_and_status(call, app):
    call.start(to="+864009001234")
    call.press("2")
    call.say("下一段", confidence=0.5)
    status, _ = call.hangup(status="completed", duration=73)
    assert status == 200
    row = call_row(app, call.sid)
    assert row["status"] == "completed" and row["duration"] == 73 and row["ended_at"]
    assert row["to_number"] == "+864009001234" and row["language"] == "zh"
    log = events(app, call.sid)
    kinds = [event["kind"] for event in log]
    assert kinds[0] == "incoming" and kinds[1] == "prompt" and kinds[-1] == "status"
    assert [event["digits"] for event in log if event["kind"] == "input"] == ["2", None]
    assert log[1]["node"] == "welcome" and "官方商户核实热线" in log[1]["text"]
    assert [event["at"] for event in log] == sorted(event["at"] for event in log)


def test_repeated_delivery_is_not_logged_twice(call, app):
    call.start()
    turn = call.press("2")
    before = len(events(app, call.sid))
    status, body = call.redeliver()
    assert status == 200 and body == turn.documents[-1][2]
    assert len(events(app, call.sid)) == before
    # The answer is kept on the call's row while the call lasts, and dropped once it has ended.
    assert rows(app, "SELECT answer FROM calls WHERE sid = ?", [call.sid])[0]["answer"] == body
    call.hangup()
    call.redeliver()
    assert len(events(app, call.sid, "status")) == 1
    assert rows(app, "SELECT answer FROM calls WHERE sid = ?", [call.sid])[0]["answer"] is None


def test_status_callback_for_a_call_never_seen(call, app):
    call.start()
    call.current.sid = "CA" + "f" * 32
    status, body = call.hangup(status="no-answer", duration=0)
    assert status == 200 and ElementTree.fromstring(body).tag == "Response"
    assert call_row(app, call.sid)["status"] == "no-answer"


# -- security and failure ----------------------------------------------------------------------------

PARAMS = {"CallSid": "CA" + "1" * 32, "From": "+8613800138000", "To": "+864009001234", "AccountSid": "AC" + "0" * 32}


@pytest.mark.parametrize("path", ["/voice/incoming", "/voice/step?node=welcome", "/voice/status", "/voice/fallback"])
def test_every_voice_url_needs_a_valid_signature(client, path):
    url = "http://localhost" + path
    good = RequestValidator(TOKEN).compute_signature(url, PARAMS)
    assert client.post(path, data=PARAMS).status_code == 403
    assert client.post(path, data=PARAMS, headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}).status_code == 403
    tampered = dict(PARAMS, From="+8613999999999")
    assert client.post(path, data=tampered, headers={"X-Twilio-Signature": good}).status_code == 403
    assert client.post(path, data=PARAMS, headers={"X-Twilio-Signature": good}).status_code == 200


def test_no_auth_token_refuses_everything(app, client):
    app.config["TWILIO_AUTH_TOKEN"] = None
    signature = RequestValidator("").compute_signature("http://localhost/voice/incoming", PARAMS)
    assert client.post("/voice/incoming", data=PARAMS, headers={"X-Twilio-Signature": signature}).status_code == 403


def test_development_setting_skips_signatures(app, client):
    app.config["SKIP_SIGNATURE"] = True
    response = client.post("/voice/incoming", data=PARAMS)
    assert response.status_code == 200 and b"<Gather" in response.data


def test_behind_a_proxy_the_https_url_is_checked(tmp_path):
    from ivr import create_app

    app = create_app({"DATABASE": str(tmp_path / "p.db"), "TWILIO_AUTH_TOKEN": TOKEN, "PROXY_FIX": 1})
    url = "https://hotline.example.com/voice/incoming"
    signature = RequestValidator(TOKEN).compute_signature(url, PARAMS)
    headers = {"X-Twilio-Signature": signature, "X-Forwarded-Proto": "https", "X-Forwarded-Host": "hotline.example.com"}
    assert app.test_client().post("/voice/incoming", data=PARAMS, headers=headers).status_code == 200
    del headers["X-Forwarded-Proto"]
    assert app.test_client().post("/voice/incoming", data=PARAMS, headers=headers).status_code == 403


def test_an_error_inside_a_step_answers_twiml_apology_and_logs_it(call, app, monkeypatch):
    from ivr.flow import engine

    call.start()

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(engine, "_menu_input", broken)
    turn = call.press("1")
    root = twiml(turn)
    assert root.tag == "Response"
    assert "很抱歉" in root.find("Say").text
    assert root.find("Dial").text == AGENT
    errors = events(app, call.sid, "error")
    assert len(errors) == 1 and "boom" in errors[0]["text"]


@pytest.mark.parametrize("path", ["/voice/step?node=nowhere", "/voice/step", "/voice/step?node=guide_how&noinput=1"])
def test_unknown_or_stale_steps_still_answer_twiml(call, path):
    call.start()
    url = call.absolute(path)
    status, body = call.post(url, call.base_params())
    assert status == 200
    assert ElementTree.fromstring(body).tag == "Response"


def test_fallback_answers_without_a_database(app, client):
    break_database(app)
    params = dict(PARAMS, ErrorCode="11200", ErrorUrl="https://hotline.example.com/voice/incoming")
    signature = RequestValidator(TOKEN).compute_signature("http://localhost/voice/fallback", params)
    response = client.post("/voice/fallback", data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    root = ElementTree.fromstring(response.data)
    says = [say.text for say in root.findall("Say")]
    assert any("很抱歉" in text for text in says) and any("Sorry" in text for text in says)
    assert root.find("Dial").text == AGENT


def test_fallback_apologises_in_the_calls_language_or_in_every_language(app, call, voice_post):
    call.start()
    call.press("9")
    call.press("9")
    root = ElementTree.fromstring(voice_post("/voice/fallback", dict(PARAMS, CallSid=call.sid, ErrorCode="11200")).data)
    (say,) = root.findall("Say")
    assert (say.get("language"), say.get("voice")) == ("yue-HK", "Google.yue-HK-Standard-A")
    assert say.text.startswith("對唔住，系統暫時出咗問題。") and root.find("Dial").text == AGENT
    # A call the hotline never heard of: each declared language in turn, each in its own voice.
    root = ElementTree.fromstring(voice_post("/voice/fallback", dict(PARAMS, CallSid="CA" + "7" * 32)).data)
    assert [(say.get("language"), say.get("voice")) for say in root.findall("Say")] == [
        ("cmn-CN", "Polly.Zhiyu"), ("en-US", "Polly.Joanna"), ("yue-HK", "Google.yue-HK-Standard-A")]


def test_a_cantonese_caller_can_say_the_number_was_hidden(call, app):
    call.start()
    call.press("9")
    call.press("9")
    call.press("3")
    assert "撳1" in call.say("個號碼冇顯示").text
    assert call_row(app, call.sid)["node"] == "report_category"


def test_voice_with_a_broken_database_apologises(app, call):
    break_database(app)
    turn = call.start()
    assert "很抱歉" in turn.text and turn.waiting_for == "Dial"


def test_healthz(app, client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["database"] == "ok"
    break_database(app)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.get_json()["database"] == "unavailable"


def test_voice_requests_neither_load_nor_set_a_session_cookie(app, call, client):
    # Webhooks skip the dashboard's signed-cookie session: no cookie is read, none is set, no Vary: Cookie.
    turn = call.start()
    assert turn.waiting_for == "Gather"
    client.set_cookie("session", "not-a-valid-signed-session")
    response = client.post("/voice/incoming", data={"CallSid": "CA" + "7" * 32})
    assert "Set-Cookie" not in response.headers and "Cookie" not in response.headers.get("Vary", "")
