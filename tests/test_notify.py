"""What leaves the call: SMS notes to merchants (through Twilio's API, against Prism) and alerts to staff's robot."""
import base64
import hashlib
import hmac
import json
import threading
import urllib.parse
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from test_report import report, third_merchant
from test_verify import to_code, wrong
from twilio_mock import ACCOUNT_SID

from conftest import rows
from ivr import clock
from ivr.notify import alerts, smstext
from ivr.storage import db, outbox

SMS_FROM = "+8610690000"
HOTLINE = "+864009001234"  # the number the call helper dials


@pytest.fixture
def texting(app):
    """The app with SMS notes switched on."""
    app.config["SMS_FROM"] = SMS_FROM
    return app


def notes(app):
    return rows(app, "SELECT * FROM sms_notes ORDER BY id")


def genuine_call(call, verification, language_key=None, from_=None):
    created = verification.add_outreach()
    call.start(from_=from_ or verification.phone)
    if language_key:
        call.press(language_key)
    call.press("1")
    return call.press(created["reference_code"] + "#")


# -- the texts ----------------------------------------------------------------------------------------


def test_every_note_in_every_language_carries_no_link_no_other_number_and_no_code(app):
    texts = app.extensions["ivr"]["sms_notes"]
    values = {"date": "12月31日", "reason": "经营信息变更", "instructions": "在官方App里查看结算信息，只看不改",
              "hotline": HOTLINE, "report_number": "87654321"}
    for note, entry in texts.texts.items():
        assert set(entry) == set(app.extensions["ivr"]["flow"].languages)
        for language in entry:
            body = texts.render(note, language, values)
            assert smstext.problems(body, [HOTLINE, "87654321", "12月31日"]) == []
            assert "http" not in body and "www" not in body.lower()


@pytest.mark.parametrize(
    "text, found",
    [
        ("详情见 https://pos-help.cn/x", "a link or web address"),
        ("请访问 pos-help.com 更新", "a link or web address"),
        ("点击链接完成", "a link or web address"),
        ("请回电 13800138000", "a phone number or code"),
        ("请回电 138-0013-8000", "a phone number or code"),
        ("验证码 ４８２９", "a phone number or code"),
        ("your code is 4829", "a phone number or code"),
    ],
)
def test_what_no_note_may_carry(text, found):
    assert smstext.problems(text)[0].startswith(found)


@pytest.mark.parametrize(
    "genuine_zh, message",
    [
        ("请拨打 4008001234 咨询{hotline}", "a phone number or code"),
        ("详情见 www.example.com {hotline}", "a link or web address"),
        ("您的编号 {code}", "unknown placeholder {code}"),
        ("", "missing"),
    ],
)
def test_a_bad_notes_file_stops_start_up(tmp_path, genuine_zh, message):
    path = tmp_path / "sms.yaml"
    entries = {"genuine": {"zh": genuine_zh, "en": "x {hotline}", "yue": "x"},
               "report": {"zh": "编号{report_number}", "en": "x", "yue": "x"}}
    path.write_text(json.dumps(entries, ensure_ascii=False))
    with pytest.raises(smstext.NoteError) as refused:
        smstext.load_notes(path, ("zh", "en", "yue"))
    assert "note 'genuine' (zh)" in str(refused.value) and message in str(refused.value)


def test_a_note_whose_real_values_break_the_rule_is_refused_not_sent(texting, call, verification, monkeypatch):
    from ivr.verification import actions

    monkeypatch.setattr(actions, "_instructions", lambda context, key: {"zh": "回电 13900139000", "en": "x", "yue": "x"})
    genuine_call(call, verification)
    [note] = notes(texting)
    assert note["status"] == "refused" and "13900139000" not in note["body"]


# -- when notes are queued ------------------------------------------------------------------------------


def test_a_genuine_verdict_to_a_phone_on_file_queues_one_note_in_the_callers_language(texting, call, verification):
    turn = genuine_call(call, verification, language_key="9")
    assert "Confirmed, this is really us" in turn.text
    [note] = notes(texting)
    local = clock.now().astimezone(texting.extensions["ivr"]["hours"].zone)
    assert note["to_number"] == verification.phone and note["language"] == "en" and note["status"] == "queued"
    assert note["note"] == "genuine" and note["call_sid"] == call.sid
    assert f"{local.month}/{local.day}" in note["body"] and "a system update" in note["body"]
    assert "accept the update prompt on the terminal" in note["body"]
    assert "We never ask for PINs, SMS codes or fees" in note["body"] and HOTLINE in note["body"]
    call.press("1")  # hearing the verdict again queues nothing more
    assert len(notes(texting)) == 1


def test_a_caller_who_typed_the_merchant_number_gets_no_note(texting, call, verification):
    created = verification.add_outreach()
    call.start(from_="+8613312345678")
    call.press("1")
    call.press(verification.merchant + "#")
    assert "核实通过" in call.press(created["reference_code"] + "#").text
    assert notes(texting) == []


def test_no_note_without_IVR_SMS_FROM(app, call, verification):
    genuine_call(call, verification)
    assert notes(app) == []


def test_a_report_from_a_phone_on_file_queues_a_note_with_its_number(texting, call, verification):
    report(call, verification.phone)
    [filed] = rows(texting, "SELECT * FROM reports")
    [note] = notes(texting)
    assert note["note"] == "report" and note["to_number"] == verification.phone and note["language"] == "zh"
    assert f"举报编号{filed['report_number']}" in note["body"]


def test_a_phone_gets_a_few_notes_a_day_at_most(texting, call, verification, monkeypatch):
    texting.config["SMS_PER_DAY"] = 2
    for _ in range(3):
        genuine_call(call, verification)
    assert [note["status"] for note in notes(texting)] == ["queued", "queued", "limited"]
    later = clock.now() + timedelta(days=1, minutes=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    genuine_call(call, verification)
    assert notes(texting)[-1]["status"] == "queued"


# -- sending, against Twilio's API description --------------------------------------------------------------


@pytest.fixture
def sending(texting, twilio_api):
    texting.config.update(TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_API_URL=twilio_api.url)
    mark = twilio_api.mark()
    yield twilio_api, mark
    assert twilio_api.violations(mark) == []


def test_sms_send_sends_each_due_note_once_through_twilio(sending, runner, call, verification):
    twilio_api, mark = sending
    genuine_call(call, verification)
    report(call, verification.other_phone)
    call.app.config["PUBLIC_URL"] = "https://hotline.example.com"  # where Twilio reports delivery
    result = runner.invoke(args=["sms", "send"])
    assert result.exit_code == 0, result.output
    assert "2 sent" in result.output
    sent = [path for method, path in twilio_api.requests(mark) if method == "POST"]
    assert sent == [f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"] * 2
    stored = notes(call.app)
    assert [note["status"] for note in stored] == ["sent", "sent"] and all(note["message_sid"] for note in stored)
    again = runner.invoke(args=["sms", "send"])
    assert "nothing was due" in again.output
    assert len([method for method, _ in twilio_api.requests(mark) if method == "POST"]) == 2


def test_a_failed_note_is_kept_and_sent_on_the_next_run(sending, runner, call, verification):
    twilio_api, mark = sending
    genuine_call(call, verification)
    call.app.config["TWILIO_API_URL"] = "http://127.0.0.1:9"  # nothing listens there
    result = runner.invoke(args=["sms", "send"])
    assert result.exit_code == 1 and "1 failed" in result.output
    [note] = notes(call.app)
    assert note["status"] == "failed" and "could not reach" in note["error"] and note["attempts"] == 1
    call.app.config["TWILIO_API_URL"] = twilio_api.url
    assert "1 sent" in runner.invoke(args=["sms", "send"]).output
    [note] = notes(call.app)
    assert note["status"] == "sent" and note["attempts"] == 2


def test_sms_send_says_what_is_missing(app, runner):
    assert "IVR_SMS_FROM is not set" in runner.invoke(args=["sms", "send"]).output
    app.config.update(SMS_FROM=SMS_FROM, TWILIO_ACCOUNT_SID=None)
    result = runner.invoke(args=["sms", "send"])
    assert result.exit_code == 1 and "TWILIO_ACCOUNT_SID is not set" in result.output


# -- staff alerts ----------------------------------------------------------------------------------------------


class Robot(BaseHTTPRequestHandler):
    """A chat group's robot: keeps what it is sent, checks DingTalk's signature, answers as the real ones do."""

    def do_POST(self):  # noqa: N802 - the name http.server calls
        server = self.server
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        server.received.append({"path": self.path, "body": body, "query": query})
        if server.secret:
            expected = base64.b64encode(hmac.new(server.secret.encode(), f"{query.get('timestamp')}\n{server.secret}".encode(),
                                                 hashlib.sha256).digest()).decode()
            if query.get("sign") != expected:
                return self._answer({"errcode": 310000, "errmsg": "sign not match"})
        if server.failing:
            return self._answer({"errcode": 45009, "errmsg": "api freq out of limit"})
        if server.form == "slack":
            return self._answer("ok")
        self._answer({"errcode": 0, "errmsg": "ok"})

    def _answer(self, answer):
        data = (answer if isinstance(answer, str) else json.dumps(answer)).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def robot(app):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Robot)
    server.received, server.secret, server.failing, server.form = [], None, False, "wecom"
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def use(form, secret=None):
        server.form, server.secret = form, secret
        app.config.update(ALERT_WEBHOOK=f"http://127.0.0.1:{server.server_port}/robot/send?access_token=t",
                          ALERT_FORMAT=form, ALERT_SECRET=secret)
        return server

    yield use
    server.shutdown()


def make_suspected(call, verification):
    third_merchant(verification)
    for phone in (verification.phone, verification.other_phone, "+8613712345678"):
        report(call, phone)


@pytest.mark.parametrize(
    "form, secret, shape",
    [
        ("wecom", None, lambda body: body["msgtype"] == "text" and "content" in body["text"]),
        ("dingtalk", "SEC0123456789abcdef", lambda body: body["msgtype"] == "text" and "content" in body["text"]),
        ("slack", None, lambda body: set(body) == {"text"}),
    ],
)
def test_a_number_becoming_suspected_is_posted_in_the_robots_format(app, runner, call, verification, robot, form,
                                                                     secret, shape):
    server = robot(form, secret)
    make_suspected(call, verification)
    result = runner.invoke(args=["alerts", "send"])
    assert result.exit_code == 0, result.output
    [posted] = server.received
    assert shape(posted["body"])
    message = posted["body"]["text"] if form == "slack" else posted["body"]["text"]["content"]
    assert "+8617012345678" in message and "可疑" in message and "suspected" in message
    assert posted["query"]["access_token"] == "t"
    if secret:
        assert posted["query"]["sign"] and posted["query"]["timestamp"].isdigit()
    assert [alert["status"] for alert in rows(app, "SELECT * FROM alerts")] == ["sent"]


def test_a_wrong_dingtalk_secret_is_a_failure_kept_for_the_next_run(app, runner, call, verification, robot):
    server = robot("dingtalk", "SEC-right")
    app.config["ALERT_SECRET"] = "SEC-wrong"
    make_suspected(call, verification)
    result = runner.invoke(args=["alerts", "send"])
    assert result.exit_code == 1 and "1 failed" in result.output
    [alert] = rows(app, "SELECT * FROM alerts")
    assert alert["status"] == "failed" and "310000" in alert["error"]
    app.config["ALERT_SECRET"] = "SEC-right"
    assert "1 sent" in runner.invoke(args=["alerts", "send"]).output
    assert len(server.received) == 2


def test_a_merchant_lock_is_alerted_once_within_the_window(app, runner, call, verification, robot, database):
    server = robot("wecom")
    created = verification.add_outreach()
    app.config["LOCK_ATTEMPTS"] = 2
    for _ in range(2):
        to_code(call)
        call.press(wrong(created["reference_code"]) + "#")
    runner.invoke(args=["alerts", "send"])
    [posted] = server.received
    assert "0001" in posted["body"]["text"]["content"] and verification.merchant not in posted["body"]["text"]["content"]
    # Locked again soon after (a lift, then more wrong codes): queued, but not posted twice within the window.
    with db.transaction(database):
        alerts.queue(database, "merchant_locked", verification.merchant, {"merchant_id": verification.merchant})
    assert "1 duplicate" in runner.invoke(args=["alerts", "send"]).output
    assert len(server.received) == 1


def test_a_surge_of_reports_is_alerted(app, runner, call, verification, robot, database):
    server = robot("slack")
    app.config.update(ALERT_SURGE_MINIMUM=3, ALERT_SURGE_MULTIPLE=3)
    for phone in ("+8613311110001", "+8613311110002"):
        report(call, phone, number="13912345678")
    assert "nothing was due" in runner.invoke(args=["alerts", "send"]).output
    report(call, "+8613311110003", number="13912345678")
    runner.invoke(args=["alerts", "send"])
    [posted] = server.received
    assert "3 reports in the last hour" in posted["body"]["text"]
    runner.invoke(args=["alerts", "send"])
    assert len(server.received) == 1  # one alert per hour


def test_alerts_wait_quietly_without_a_robot_and_go_stale(app, runner, call, verification, robot, monkeypatch):
    make_suspected(call, verification)
    result = runner.invoke(args=["alerts", "send"])
    assert result.exit_code == 1 and "IVR_ALERT_WEBHOOK is not set" in result.output
    server = robot("wecom")
    later = clock.now() + timedelta(days=2)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert "1 stale" in runner.invoke(args=["alerts", "send"]).output and server.received == []


def test_a_bad_alert_format_is_refused(app, runner):
    app.config.update(ALERT_FORMAT="telegram", ALERT_WEBHOOK="https://robot.example.com")
    with pytest.raises(ValueError, match="IVR_ALERT_FORMAT"):
        alerts.settings_from(app.config)


def test_the_outbox_never_keeps_more_than_one_note_of_a_kind_per_call(database):
    with db.transaction(database):
        first = outbox.queue_note(database, "CA1", "genuine", "+8613800138000", "zh", "x", "queued", clock.stamp())
        second = outbox.queue_note(database, "CA1", "genuine", "+8613800138000", "zh", "y", "queued", clock.stamp())
    assert first and second is None


# -- at the end of the call, and Twilio's delivery status ------------------------------------------------------


def test_the_notes_of_a_call_are_sent_when_it_ends(sending, call, verification):
    twilio_api, mark = sending
    genuine_call(call, verification)
    call.hangup(duration=60)
    [note] = notes(call.app)
    assert note["status"] == "sent" and note["message_sid"]
    assert [method for method, _ in twilio_api.requests(mark)] == ["POST"]


def test_delivery_status_is_stored_from_twilios_callback(sending, call, verification, voice_post):
    genuine_call(call, verification)
    call.hangup(duration=60)
    [note] = notes(call.app)
    form = {"MessageSid": note["message_sid"], "MessageStatus": "delivered", "AccountSid": ACCOUNT_SID}
    assert voice_post("/sms/status", form).status_code == 204
    assert notes(call.app)[0]["status"] == "delivered"
    for status in ("sending", "queued", "made-up"):  # never moves a note back
        voice_post("/sms/status", dict(form, MessageStatus=status))
    assert notes(call.app)[0]["status"] == "delivered"
    assert voice_post("/sms/status", dict(form, MessageStatus="failed"), signed=False).status_code == 403
    assert notes(call.app)[0]["status"] == "delivered"
    voice_post("/sms/status", dict(form, MessageStatus="failed", ErrorCode="30006"))
    assert notes(call.app)[0]["status"] == "undelivered" and "30006" in notes(call.app)[0]["error"]


def test_alerts_go_out_when_a_call_ends(app, call, verification, robot):
    server = robot("wecom")
    make_suspected(call, verification)
    call.hangup(duration=20)
    assert len(server.received) == 1 and "+8617012345678" in server.received[0]["body"]["text"]["content"]


def test_a_bad_alert_setting_stops_start_up(tmp_path, monkeypatch):
    from ivr import create_app

    monkeypatch.setenv("IVR_ALERT_FORMAT", "telegram")
    with pytest.raises(RuntimeError, match="IVR_ALERT_FORMAT='telegram' must be one of wecom, dingtalk, slack"):
        create_app({"TESTING": True, "DATABASE": str(tmp_path / "x.db")})
