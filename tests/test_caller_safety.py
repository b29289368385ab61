"""The scammer is a caller too: each attack on the hotline, played through whole signed calls, and how it fails."""
import json
import re
import secrets

import pytest

from conftest import MERCHANT, MERCHANT_PHONE, OFFICIAL, OTHER_MERCHANT, OTHER_PHONE, rows
from ivr.errors import Conflict
from ivr.verification import merchants, reports
from ivr.voice.simulator import spoken_seconds

HOTLINE = "+864009001234"  # the `To` of every simulated call
SCAM_NUMBER = "+8613512345678"
NO_CODE_ZH = "没有参考码，我们无法确认任何请求"
GENUINE_ZH = "核实通过"
LOCKED_ZH = "暂时锁定"
WRONG = "00000000"


def calls_of(app, sid):
    return rows(app, "SELECT * FROM calls WHERE sid = ?", [sid])[0]


def no_code_call(call, caller, merchant=MERCHANT, number="13612340000"):
    """Ask about `merchant` with no code from `caller`; return every line heard from pressing 1 on."""
    call.start(from_=caller)
    heard = [call.press("1").text]
    if "请输入您的商户号" in heard[0]:
        heard.append(call.press(merchant + "#").text)
    heard.append(call.press("#").text)
    heard.append(call.press(number + "#").text)
    return heard


def wrong_code(call, caller, merchant=MERCHANT, code=WRONG):
    call.start(from_=caller)
    if "请输入您的商户号" in call.press("1").text:
        call.press(merchant + "#")
    return call.press(code + "#")


# -- 1. no oracle without the code ----------------------------------------------------------------


@pytest.mark.parametrize("caller", ["Anonymous", MERCHANT_PHONE, "+8613712345678"])
def test_without_a_code_the_words_are_the_same_with_and_without_outreach(call, app, verification, caller):
    without = no_code_call(call, caller)
    assert calls_of(app, call.sid)["verdict"] == "no_record"
    verification.add_outreach(reason="business_change", staff_name="王敏")
    with_outreach = no_code_call(call, caller)
    assert calls_of(app, call.sid)["verdict"] == "unconfirmed"  # staff still see the difference
    assert with_outreach == without
    assert NO_CODE_ZH in with_outreach[-1] and "王敏" not in "".join(with_outreach)


def test_without_a_code_the_words_are_the_same_whatever_the_lock(call, app, verification):
    verification.add_outreach()
    before = no_code_call(call, "Anonymous")
    for _ in range(app.config["LOCK_ATTEMPTS"]):
        wrong_code(call, "Anonymous")
    assert merchants.active_locks(verification.database, merchant_id=MERCHANT)
    assert no_code_call(call, "Anonymous") == before


def test_a_registered_phone_hears_nothing_that_names_its_merchant(call, app, verification):
    # Both merchants' phones hear word for word the same code prompt: no "does your number end in 0001?".
    call.start(from_=MERCHANT_PHONE)
    first = call.press("1").text
    call.start(from_=OTHER_PHONE)
    assert call.press("1").text == first
    assert "0001" not in first.replace(" ", "") and "0002" not in first.replace(" ", "")
    assert calls_of(app, call.sid)["identified_by"] == "registered_phone"


# -- 3. locks protect merchants and cannot be turned against them ----------------------------------


def test_strangers_cannot_lock_the_registered_phone_out(call, app, verification):
    created = verification.add_outreach()
    strangers = ["Anonymous", "+8613712345678", "+8617112345678", "", "+8618912345678", "Anonymous"]
    for caller in strangers * 2:  # twelve wrong codes from strangers, withheld IDs among them
        wrong_code(call, caller)
    # Strangers are bounded: the next stranger, even with the right code, hears the lock.
    assert LOCKED_ZH in wrong_code(call, "Anonymous", code=created["reference_code"]).text
    # The merchant's own phone is not: it checks its code.
    call.start(from_=MERCHANT_PHONE)
    call.press("1")
    assert GENUINE_ZH in call.press(created["reference_code"] + "#").text
    scopes = {(lock["scope"], lock["key"]) for lock in merchants.active_locks(verification.database)}
    assert ("merchant_strangers", MERCHANT) in scopes and ("merchant_registered", MERCHANT) not in scopes


def test_withheld_callers_are_bounded_per_merchant_and_staff_can_lift_it(call, app, verification):
    created = verification.add_outreach()
    for _ in range(app.config["LOCK_ATTEMPTS"]):
        wrong_code(call, "Anonymous")
    assert LOCKED_ZH in wrong_code(call, "Anonymous", code=created["reference_code"]).text
    assert rows(app, "SELECT verdict FROM calls WHERE sid = ?", [call.sid]) == [{"verdict": "locked"}]
    # Another merchant's strangers' counter is untouched.
    theirs = verification.add_outreach(merchant=OTHER_MERCHANT)
    assert GENUINE_ZH in wrong_code(call, "Anonymous", merchant=OTHER_MERCHANT, code=theirs["reference_code"]).text
    assert merchants.lift_lock(verification.database, "merchant_strangers", MERCHANT, "staff") == 5
    assert GENUINE_ZH in wrong_code(call, "Anonymous", code=created["reference_code"]).text


def test_a_lock_on_a_calling_number_is_listed_and_can_be_lifted(call, app, verification):
    created = verification.add_outreach(merchant=OTHER_MERCHANT)
    spoofed = "+8613712345678"
    for index in range(app.config["LOCK_ATTEMPTS"]):
        wrong_code(call, spoofed, merchant=(MERCHANT, OTHER_MERCHANT)[index % 2])
    [number_lock] = merchants.active_locks(verification.database, number=spoofed)
    assert number_lock["scope"] == "number" and number_lock["failures"] == 5
    assert LOCKED_ZH in wrong_code(call, spoofed, merchant=OTHER_MERCHANT, code=created["reference_code"]).text
    merchants.lift_lock(verification.database, "number", spoofed, "staff")
    assert merchants.active_locks(verification.database, number=spoofed) == []
    assert GENUINE_ZH in wrong_code(call, spoofed, merchant=OTHER_MERCHANT, code=created["reference_code"]).text
    [audit] = rows(app, "SELECT * FROM audit WHERE action = 'lock.lift'")
    assert audit["target"] == spoofed and json.loads(audit["detail"])["scope"] == "number"


# -- 4. the watchlist counts only what is hard to fake ---------------------------------------------


def report_number(call, caller, number=SCAM_NUMBER[3:], merchant=None):
    """File one report of `number`; with `merchant`, first type that merchant number in the verify branch."""
    call.start(from_=caller)
    if merchant:
        call.press("1")
        call.press(merchant + "#")
        call.press("#")
        call.press(number + "#")
        turn = call.press("1")  # report this call
    else:
        call.press("3")
        turn = call.press(number + "#")
    call.press("3")
    call.record(0)
    return turn


def status_of(app, number):
    found = rows(app, "SELECT status FROM numbers WHERE number = ?", [number])
    return found[0]["status"] if found else None


def test_reports_from_made_up_caller_ids_never_make_a_number_suspected(call, app, verification):
    for caller in ("+8613712345678", "+8613712345679", "+8613712345670", "Anonymous", "+8618912345678"):
        report_number(call, caller)
    assert status_of(app, SCAM_NUMBER) == "reported"
    assert reports.number_summary(verification.database, SCAM_NUMBER)["uncounted_reports"] == 5
    assert not reports.is_known_scam(verification.database, SCAM_NUMBER)


def test_one_call_typing_three_merchant_numbers_counts_for_nothing(call, app, verification):
    merchants.upsert_merchant(verification.database, "898440358120003", "Third", ["+8613600136000"])
    for merchant in (MERCHANT, OTHER_MERCHANT, "898440358120003"):
        report_number(call, "+8613712345678", merchant=merchant)
    assert status_of(app, SCAM_NUMBER) == "reported"
    assert [row["counted"] for row in rows(app, "SELECT counted FROM reports")] == [0, 0, 0]


def test_one_registered_phone_reporting_again_in_the_same_call_counts_once(call, app, verification):
    report_number(call, MERCHANT_PHONE)
    call.press("2")  # the main menu, then report again in the same call
    call.press("3")
    call.press(SCAM_NUMBER[3:] + "#")
    call.press("1")
    call.record(0)
    assert [row["counted"] for row in rows(app, "SELECT counted FROM reports ORDER BY id")] == [1, 0]


def test_three_registered_merchants_make_a_number_suspected(call, app, verification):
    merchants.upsert_merchant(verification.database, "898440358120003", "Third", ["+8613600136000"])
    for caller in (MERCHANT_PHONE, OTHER_PHONE):
        report_number(call, caller)
        assert status_of(app, SCAM_NUMBER) == "reported"
    report_number(call, "+8613600136000")
    assert status_of(app, SCAM_NUMBER) == "suspected"


@pytest.mark.parametrize("ours", [OFFICIAL, HOTLINE])
def test_our_own_numbers_are_never_listed(call, app, verification, ours):
    merchants.upsert_merchant(verification.database, "898440358120003", "Third", ["+8613600136000"])
    local = "0" + ours[3:]
    for caller in (MERCHANT_PHONE, OTHER_PHONE, "+8613600136000"):
        report_number(call, caller, number=local)
    assert status_of(app, ours) == "reported"
    assert len(rows(app, "SELECT * FROM reports WHERE number = ?", [ours])) == 3  # kept for staff all the same
    heard = no_code_call(call, MERCHANT_PHONE, number=local)[-1]
    assert "已知的诈骗号码" not in heard and NO_CODE_ZH in heard
    with pytest.raises(Conflict):
        reports.set_number_status(verification.database, ours, "confirmed", "staff",
                                  protected=app.extensions["ivr"]["official_numbers"])


def test_a_caller_told_the_hotline_called_hears_it_never_calls(call, app, verification):
    heard = no_code_call(call, MERCHANT_PHONE, number="04009001234")[-1]
    assert "本热线从不给任何人打电话" in heard and NO_CODE_ZH in heard
    assert "本热线从不给任何人打电话" in report_number(call, OTHER_PHONE, number="04009001234").text
    call.start(from_=MERCHANT_PHONE)
    for key in ("9", "1", "#"):
        call.press(key)
    assert "This hotline never calls anyone" in call.press("04009001234#").text


# -- 6. replays do nothing --------------------------------------------------------------------------


HANGS_UP = re.compile(r"<\?xml[^>]*\?><Response><Hangup ?/></Response>")


def replay(call, request, token=None):
    """Send a captured signed request again with a new idempotency token; return (status, body)."""
    url, params, headers = request
    headers = dict(headers, **{"I-Twilio-Idempotency-Token": token or secrets.token_hex(16)})
    return call.transport.post(url, params, headers)


def test_a_replayed_code_step_after_the_call_ended_hangs_up_and_counts_nothing(call, app, verification):
    verification.add_outreach()
    call.start(from_=MERCHANT_PHONE)
    call.press("1")
    call.press(WRONG + "#")
    captured = call.last_request
    call.hangup()
    before = calls_of(app, call.sid)
    for _ in range(6):
        status, body = replay(call, captured)
        assert status == 200 and HANGS_UP.fullmatch(body)
    assert len(rows(app, "SELECT * FROM code_attempts")) == 1
    assert merchants.active_locks(verification.database) == []
    assert calls_of(app, call.sid) == before


def test_a_replayed_step_in_a_live_call_changes_nothing(call, app, verification):
    call.start(from_=MERCHANT_PHONE)
    call.press("1")
    first = call.press("12345#")  # too short: asked again, the call waits at the same node
    captured = call.last_request
    call.press("1234567#")  # and again
    events = len(rows(app, "SELECT * FROM events WHERE call_sid = ?", [call.sid]))
    before = calls_of(app, call.sid)
    status, body = replay(call, captured)
    assert status == 200 and HANGS_UP.fullmatch(body)  # the replayer hears nothing of the call
    assert calls_of(app, call.sid) == before
    assert len(rows(app, "SELECT * FROM events WHERE call_sid = ?", [call.sid])) == events
    assert "参考码是8位数字" in first.text


def test_a_replayed_incoming_never_resets_a_call(call, app, verification):
    created = verification.add_outreach()
    call.start(from_=MERCHANT_PHONE)
    incoming = call.last_request
    call.press("1")
    call.press(created["reference_code"] + "#")
    live = calls_of(app, call.sid)
    status, body = replay(call, incoming)
    assert status == 200 and HANGS_UP.fullmatch(body) and calls_of(app, call.sid) == live
    assert "genuine" not in body and live["answer"] != body  # the verdict is never heard again by a replayer
    call.hangup()
    ended = calls_of(app, call.sid)
    status, body = replay(call, incoming)
    assert "<Hangup" in body and calls_of(app, call.sid) == ended
    assert ended["verdict"] == "genuine" and ended["node"] == "after_genuine"


def test_a_replayed_status_callback_does_not_rewrite_the_end(call, app, verification):
    call.start(from_=MERCHANT_PHONE)
    call.hangup(duration=42)
    captured = call.last_request
    ended = calls_of(app, call.sid)
    replay(call, captured)
    assert calls_of(app, call.sid) == ended and ended["duration"] == 42


def test_healthz_and_start_up_say_when_the_public_url_is_missing(app, client, caplog):
    body = client.get("/healthz").get_json()
    assert body["public_url"] == "missing" and "IVR_PUBLIC_URL" in body["warnings"][0]
    app.config["PUBLIC_URL"] = "https://hotline.example.com"
    app.extensions["ivr"]["warnings"] = []
    assert not any("IVR_PUBLIC_URL" in warning for warning in client.get("/healthz").get_json()["warnings"])


def test_start_up_logs_the_missing_public_url(tmp_path, caplog):
    from ivr import create_app

    create_app({"TESTING": True, "DATABASE": str(tmp_path / "h.db"), "SECRET_KEY": "x", "PUBLIC_URL": None})
    assert any("IVR_PUBLIC_URL is not set" in record.getMessage() for record in caplog.records)
    caplog.clear()
    create_app({"TESTING": True, "DATABASE": str(tmp_path / "h.db"), "SECRET_KEY": "x",
                "PUBLIC_URL": "https://hotline.example.com"})
    assert not any("IVR_PUBLIC_URL" in record.getMessage() for record in caplog.records)


# -- 7. a fast path a frightened merchant can bear ---------------------------------------------------


def heard_seconds(turns, last_until_waiting=True):
    """Seconds of prompts over `turns`, the last one counted up to its verdict (not the menu after it)."""
    return sum(turn.seconds() for turn in turns[:-1]) + turns[-1].seconds(until_waiting=last_until_waiting)


@pytest.mark.parametrize("language, switches", [("zh", ()), ("en", ("9",)), ("yue", ("9", "9"))])
def test_the_fast_path_reaches_the_verdict_within_30_seconds_of_prompts(call, app, verification, language, switches):
    created = verification.add_outreach(staff_name="王敏")
    turns = [call.start(from_=MERCHANT_PHONE)]
    for key in switches:
        turns = [call.press(key)]  # counted from the welcome in `language`
    assert calls_of(app, call.sid)["language"] == language
    turns.append(call.press("1"))
    turns.append(call.press(created["reference_code"] + "#"))
    assert calls_of(app, call.sid)["verdict"] == "genuine"
    assert heard_seconds(turns) <= 30


def test_a_retry_repeats_the_choices_not_the_welcome(call):
    welcome = call.start().text
    again = call.silence().text
    assert "您好" in welcome and "您好" not in again
    assert "核实请按1" in again and "从不索要" not in again


@pytest.mark.parametrize("keys", [(), ("9",), ("9", "9"), ("9", "9", "9"), ("9", "9", "2"), ("9", "9", "3", "*"),
                                  ("9", "9", "1", "#"), ("9", "9", "0")])
def test_every_say_speaks_one_language(call, keys):
    turn = call.start()
    for key in keys:
        turn = call.press(key)
    for language, text, _ in turn.spoken:
        if language.startswith("en"):
            assert not re.search(r"[\u3400-\u9fff]", text), text
        else:
            # Mandarin and Cantonese may name the official "App"; no English sentence is read by a Chinese voice.
            assert not re.search(r"[A-Za-z]+[ ,.]+[A-Za-z]+", text), text
    assert any(spoken_seconds(language, text) for language, text, _ in turn.spoken)


# -- upgrading keeps existing data ------------------------------------------------------------------


@pytest.mark.sqlite_only("migrates a SQLite file written by the previous release's schema")
def test_a_database_of_the_previous_release_upgrades_and_its_six_digit_code_still_verifies(tmp_path, monkeypatch):
    from datetime import timedelta

    from conftest import TOKEN, CallHelper, insert
    from ivr import clock, create_app
    from ivr.storage import db, schema

    path = str(tmp_path / "hotline.db")
    monkeypatch.setattr(db, "MIGRATIONS", [m for m in schema.MIGRATIONS if m[0] not in (5, 6)])
    old = db.connect(path)
    db.migrate(old)
    now = clock.now()
    insert(old, "merchants", {"id": MERCHANT, "name": "示例便利店", "created_at": clock.stamp(now),
                              "updated_at": clock.stamp(now)})
    insert(old, "merchant_phones", {"merchant_id": MERCHANT, "phone": MERCHANT_PHONE})
    insert(old, "outreach", {
        "merchant_id": MERCHANT, "reason": "system_update", "channel": "phone", "from_number": OFFICIAL,
        "staff_name": "王敏", "instructions": "请安装远程协助软件并共享屏幕", "reference_code": "135790",
        "created_at": clock.stamp(now), "expires_at": clock.stamp(now + timedelta(hours=48)), "status": "open",
    })
    insert(old, "reports", {"report_number": "12345678", "merchant_id": MERCHANT, "reporter_number": MERCHANT_PHONE,
                            "number": SCAM_NUMBER, "category": "fee", "created_at": clock.stamp(now)})
    old.conn.close()
    monkeypatch.undo()

    app = create_app({"TESTING": True, "DATABASE": path, "TWILIO_AUTH_TOKEN": TOKEN, "SECRET_KEY": "x",
                      "BUSINESS_HOURS": "24/7"})
    assert rows(app, "SELECT counted FROM reports") == [{"counted": 1}]  # its reporter called from a registered phone
    assert rows(app, "SELECT identified_by FROM calls") == []
    call = CallHelper(app)
    call.start(from_=MERCHANT_PHONE)
    call.press("1")
    turn = call.press("135790#")
    assert GENUINE_ZH in turn.text and "王敏" in turn.text
    # Free text from before the catalogue is never read out: a general step instead.
    assert "远程" not in turn.text and "在官方App或终端上按提示完成" in turn.text
    later = clock.now() + timedelta(hours=49)
    monkeypatch.setattr(clock, "now", lambda: later)
    call.start(from_=MERCHANT_PHONE)
    call.press("1")
    assert "这个请求已经失效" in call.press("135790#").text
