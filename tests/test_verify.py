"""The verify branch through whole signed calls: identification, codes, numbers, verdicts and the locks."""
import json
from datetime import timedelta

import pytest

from conftest import rows
from ivr import clock
from ivr.verification import merchants, outreach, reports

WRONG_CODE_ZH = "这个参考码与我们的记录不符"
NO_CODE_ZH = "没有参考码，我们无法确认任何请求"
GENUINE_ZH = "核实通过"
EXPIRED_ZH = "这个请求已经失效"
KNOWN_SCAM_ZH = "已知的诈骗号码"
LOCKED_ZH = "暂时锁定"


def verdict_of(app, sid):
    return rows(app, "SELECT verdict, verdict_at, merchant_id, identified_by FROM calls WHERE sid = ?", [sid])[0]


def wrong(code):
    """A code of the same length that is not `code`."""
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


def events(app, sid, kind=None):
    found = rows(app, "SELECT * FROM events WHERE call_sid = ? ORDER BY id", [sid])
    return [event for event in found if kind is None or event["kind"] == kind]


def to_code(call, from_=None):
    """Start a call from the merchant's registered phone and get to the reference-code question."""
    call.start(from_=from_ or "+8613800138000")
    turn = call.press("1")
    assert "8位参考码" in turn.text and "0 0 0 1" not in turn.text
    return turn


def to_number(call, from_=None):
    """Get to "the number that called you" with no code given."""
    to_code(call, from_)
    turn = call.press("#")
    assert "给您打电话或发短信的号码" in turn.text
    return turn


# -- genuine, in both languages ---------------------------------------------------------------


def test_genuine_in_mandarin(call, app, verification):
    created = verification.add_outreach(staff_name="王敏")
    to_code(call)
    turn = call.press(created["reference_code"] + "#")
    local = clock.now().astimezone(app.extensions["ivr"]["hours"].zone)
    assert GENUINE_ZH in turn.text
    assert f"{local.month}月{local.day}日" in turn.text
    assert "系统更新" in turn.text and "王敏" in turn.text and "在终端上接受更新提示" in turn.text
    assert "从不索要密码、验证码或任何费用" in turn.text
    assert turn.waiting_for == "Gather" and "重听请按1" in turn.text
    row = verdict_of(app, call.sid)
    assert row["verdict"] == "genuine" and row["merchant_id"] == verification.merchant and row["verdict_at"]
    assert row["identified_by"] == "registered_phone"
    [event] = events(app, call.sid, "verdict")
    assert event["text"] == "genuine" and json.loads(event["detail"])["outreach_id"] == created["id"]
    # The code is a secret: not in any event and not in the call's stored state.
    stored = json.dumps(events(app, call.sid)) + json.dumps(rows(app, "SELECT state FROM calls"))
    assert created["reference_code"] not in stored
    assert GENUINE_ZH in call.press("1").text  # repeat


def test_genuine_in_english(call, app, verification):
    created = verification.add_outreach(reason="data_verification", staff_name="Li Qiang")
    call.start(from_=verification.phone)
    assert "Official merchant verification hotline" in call.press("9").text
    assert "8-digit reference code" in call.press("1").text
    turn = call.press(created["reference_code"] + "#")
    assert "Confirmed, this is really us" in turn.text
    assert "checking your details" in turn.text and "Li Qiang" in turn.text
    assert "accept the update prompt on the terminal" in turn.text and "never ask for PINs" in turn.text
    assert verdict_of(app, call.sid)["verdict"] == "genuine"


# -- expired, by time, completed or cancelled ------------------------------------------------


@pytest.mark.parametrize("how", ["time", "completed", "cancelled"])
def test_expired(call, app, verification, monkeypatch, how):
    created = verification.add_outreach(valid_hours=24)
    if how == "time":
        later = clock.now() + timedelta(hours=25)
        monkeypatch.setattr(clock, "now", lambda: later)
    elif how == "completed":
        outreach.complete_outreach(verification.database, created["id"], "staff")
    else:
        outreach.cancel_outreach(verification.database, created["id"], "staff")
    to_code(call)
    turn = call.press(created["reference_code"] + "#")
    assert EXPIRED_ZH in turn.text and "不是我们" in turn.text
    assert GENUINE_ZH not in turn.text and "王敏" not in turn.text
    assert verdict_of(app, call.sid)["verdict"] == "expired"
    assert "举报这个来电，请按1" in turn.text


def test_expired_in_english(call, app, verification):
    created = verification.add_outreach()
    outreach.cancel_outreach(verification.database, created["id"], "staff")
    call.start(from_=verification.phone)
    call.press("9")
    call.press("1")
    turn = call.press(created["reference_code"] + "#")
    assert "no longer valid" in turn.text and "is not us" in turn.text


# -- no_record: wrong codes, other merchants' codes, nothing on file -------------------------


def test_wrong_code_is_no_record_and_offers_a_report(call, app, verification):
    created = verification.add_outreach()
    to_code(call)
    turn = call.press(wrong(created["reference_code"]) + "#")
    assert WRONG_CODE_ZH in turn.text and "直接挂断" in turn.text
    assert verdict_of(app, call.sid)["verdict"] == "no_record"
    assert rows(app, "SELECT success FROM code_attempts") == [{"success": 0}]
    # The number was not asked yet (a code was given), so the report branch asks for it.
    assert "给您打电话的号码" in call.press("1").text


def test_a_code_of_another_merchant_is_no_record(call, app, verification):
    theirs = verification.add_outreach(merchant=verification.other, staff_name="陈静")
    to_code(call)
    turn = call.press(theirs["reference_code"] + "#")
    assert WRONG_CODE_ZH in turn.text and "陈静" not in turn.text and EXPIRED_ZH not in turn.text
    assert verdict_of(app, call.sid)["verdict"] == "no_record"


def test_no_code_and_no_outreach_is_no_record_in_english(call, app, verification):
    call.start(from_=verification.phone)
    call.press("9")
    call.press("1")
    assert "number that called or texted you" in call.press("#").text
    turn = call.press("13512340000#")
    assert "we cannot confirm any request" in turn.text and "hang up" in turn.text
    assert verdict_of(app, call.sid)["verdict"] == "no_record"


# -- no code: the same words whether or not we contacted the merchant; known_scam --------------


def test_no_code_with_open_outreach_says_nothing_about_it(call, app, verification):
    verification.add_outreach(reason="business_change", staff_name="王敏")
    to_number(call)
    turn = call.press("13512340000#")
    assert NO_CODE_ZH in turn.text and "一定会给您参考码" in turn.text and "官方App" in turn.text
    assert "经营信息变更" not in turn.text and "王敏" not in turn.text and "月" not in turn.text
    # Staff still see the difference.
    assert verdict_of(app, call.sid)["verdict"] == "unconfirmed"


def test_known_scam_confirmed_number_beats_open_outreach(call, app, verification):
    verification.add_outreach()
    reports.set_number_status(verification.database, "+8613512345678", "confirmed", "staff")
    to_number(call)
    turn = call.press("13512345678#")
    assert KNOWN_SCAM_ZH in turn.text and NO_CODE_ZH not in turn.text
    assert verdict_of(app, call.sid)["verdict"] == "known_scam"
    detail = json.loads(events(app, call.sid, "verdict")[0]["detail"])
    assert detail["number"] == "+8613512345678" and detail["code_given"] is False


def test_known_scam_from_reports_of_three_registered_merchants_but_never_when_cleared(call, app, verification):
    for index, merchant in enumerate(("111111111111111", "222222222222222", "333333333333333")):
        reports.file_report(verification.database, "fee", number="+8613512345678", merchant_id=merchant,
                            reporter_number=f"+861391234000{index}", reporter_registered=True)
    to_number(call)
    assert KNOWN_SCAM_ZH in call.press("13512345678#").text
    reports.set_number_status(verification.database, "+8613512345678", "cleared", "staff", "our courier")
    to_number(call)
    turn = call.press("13512345678#")
    assert KNOWN_SCAM_ZH not in turn.text and NO_CODE_ZH in turn.text


def test_right_code_wins_over_a_watchlisted_number(call, app, verification):
    # A right code is checked before the number is ever asked: genuine outranks known_scam.
    created = verification.add_outreach()
    reports.set_number_status(verification.database, "+8613512345678", "confirmed", "staff")
    to_code(call)
    assert GENUINE_ZH in call.press(created["reference_code"] + "#").text


def test_known_scam_in_english(call, app, verification):
    reports.set_number_status(verification.database, "+8613512345678", "confirmed", "staff")
    call.start(from_=verification.phone)
    for key in ("9", "1", "#"):
        call.press(key)
    assert "known scam number" in call.press("13512345678#").text


def test_no_code_in_english_hidden_number(call, app, verification):
    verification.add_outreach(reason="system_update")
    call.start(from_=verification.phone)
    for key in ("9", "1", "#"):
        call.press(key)
    turn = call.press("*")
    assert "Without a reference code, we cannot confirm any request" in turn.text
    assert "a system update" not in turn.text and "contact you on" not in turn.text


# -- the locks ----------------------------------------------------------------------------------


def wrong_codes(call, app, times, from_="+8613800138000", merchant=None):
    for _ in range(times):
        if merchant:
            call.start(from_=from_)
            call.press("1")
            call.press(merchant + "#")
        else:
            to_code(call, from_)
        call.press("00000000#")


def test_five_wrong_codes_from_the_registered_phone_lock_it_even_for_the_right_code(call, app, verification):
    created = verification.add_outreach()
    if created["reference_code"] == "00000000":  # pragma: no cover - one chance in a hundred million
        pytest.skip("the random code is the wrong code used here")
    wrong_codes(call, app, 5)
    to_code(call)
    turn = call.press(created["reference_code"] + "#")
    assert LOCKED_ZH in turn.text and GENUINE_ZH not in turn.text and "王敏" not in turn.text
    assert turn.waiting_for == "Dial"  # offered a person
    assert verdict_of(app, call.sid)["verdict"] == "locked"
    # A lock stops code checking only: the no-code advice still comes, in the same words as ever.
    to_number(call)
    assert NO_CODE_ZH in call.press("13512340000#").text
    merchants.unlock_merchant(verification.database, verification.merchant, "staff")
    assert rows(app, "SELECT \"user\", detail FROM audit WHERE action = 'lock.lift' AND detail LIKE '%registered%'"
                " AND detail NOT LIKE '%strangers%'")[0]["user"] == "staff"
    to_code(call)
    assert GENUINE_ZH in call.press(created["reference_code"] + "#").text


def test_four_wrong_codes_do_not_lock(call, app, verification):
    created = verification.add_outreach()
    wrong_codes(call, app, 4)
    to_code(call)
    assert GENUINE_ZH in call.press(created["reference_code"] + "#").text


def test_one_calling_number_is_locked_across_merchants(call, app, verification):
    created = verification.add_outreach(merchant=verification.other)
    scammer = "+8617112345678"
    wrong_codes(call, app, 3, from_=scammer, merchant=verification.merchant)
    wrong_codes(call, app, 2, from_=scammer, merchant=verification.other)
    call.start(from_=scammer)
    call.press("1")
    call.press(verification.other + "#")
    assert LOCKED_ZH in call.press(created["reference_code"] + "#").text
    # The merchant itself, calling from its own phone, is not locked.
    call.start(from_=verification.other_phone)
    call.press("1")
    assert GENUINE_ZH in call.press(created["reference_code"] + "#").text


def test_lock_limit_is_configurable_and_expires(call, app, verification, monkeypatch):
    app.config["LOCK_ATTEMPTS"] = 2
    created = verification.add_outreach()
    wrong_codes(call, app, 2)
    to_code(call)
    assert LOCKED_ZH in call.press(created["reference_code"] + "#").text
    later = clock.now() + timedelta(hours=25)
    monkeypatch.setattr(clock, "now", lambda: later)
    to_code(call)
    assert GENUINE_ZH in call.press(created["reference_code"] + "#").text


# -- identifying the merchant -----------------------------------------------------------------


def test_unregistered_caller_types_the_merchant_number(call, app, verification):
    created = verification.add_outreach()
    call.start(from_="+8613712345678")
    assert "请输入您的商户号" in call.press("1").text
    assert "8位参考码" in call.press(verification.merchant + "#").text
    assert GENUINE_ZH in call.press(created["reference_code"] + "#").text
    assert verdict_of(app, call.sid)["identified_by"] == "merchant_number"


def test_unknown_merchant_number_gets_one_more_try_then_a_person(call, app, verification):
    call.start(from_="+8613712345678")
    call.press("1")
    turn = call.press("123456789012345#")
    assert "没有找到这个商户号，请再试一次" in turn.text and "请输入您的商户号" in turn.text
    turn = call.press("123456789012346#")
    assert "还是没有找到" in turn.text and turn.waiting_for == "Dial"
    assert verdict_of(app, call.sid)["identified_by"] == "none"


def test_star_at_the_code_enters_another_merchant(call, app, verification):
    created = verification.add_outreach(merchant=verification.other)
    to_code(call)
    assert "请输入您的商户号" in call.press("*").text
    call.press(verification.other + "#")
    assert GENUINE_ZH in call.press(created["reference_code"] + "#").text
    row = verdict_of(app, call.sid)
    assert row["merchant_id"] == verification.other and row["identified_by"] == "merchant_number"


def test_a_phone_shared_by_two_merchants_asks_for_the_number(call, app, verification):
    merchants.upsert_merchant(verification.database, "898440358120009", "Sister shop", [verification.phone])
    call.start(from_=verification.phone)
    assert "请输入您的商户号" in call.press("1").text
    call.press("898440358120009#")
    call.press("#")
    call.press("13512340000#")
    # Typed, but from a phone registered to that merchant: identified by the registered phone.
    assert verdict_of(app, call.sid)["identified_by"] == "registered_phone"


@pytest.mark.parametrize("caller_id", ["Anonymous", "", "restricted", "+266696687", "+86282452253", "unknown",
                                       "client:alice", "sip:alice@example.com", "Private", "7378742833"])
def test_every_withheld_caller_id_can_still_verify(call, app, verification, caller_id):
    created = verification.add_outreach()
    call.start(from_=caller_id)
    assert "请输入您的商户号" in call.press("1").text
    call.press(verification.merchant + "#")
    assert GENUINE_ZH in call.press(created["reference_code"] + "#").text
    assert rows(app, "SELECT caller_number, registered FROM code_attempts") == [{"caller_number": None, "registered": 0}]
    assert verdict_of(app, call.sid)["identified_by"] == "merchant_number"


# -- spoken digits ------------------------------------------------------------------------------


@pytest.mark.parametrize("spoken", ["{zh}", "{en}"])
def test_spoken_merchant_number_and_code(call, app, verification, spoken):
    created = verification.add_outreach()
    words_zh = {"0": "洞", "1": "幺", "2": "二", "3": "三", "4": "四", "5": "五", "6": "六", "7": "七", "8": "八", "9": "九"}
    words_en = {"0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five", "6": "six",
                "7": "seven", "8": "eight", "9": "nine"}

    def say(digits):
        if spoken == "{zh}":
            return "".join(words_zh[digit] for digit in digits)
        return " ".join(words_en[digit] for digit in digits)

    call.start(from_="Anonymous")
    call.press("1")
    assert "8位参考码" in call.say(say(verification.merchant)).text
    assert GENUINE_ZH in call.say(say(created["reference_code"])).text


def test_a_code_of_the_wrong_length_is_asked_again(call, app, verification):
    to_code(call)
    turn = call.press("12345#")
    assert "参考码是8位数字" in turn.text and turn.waiting_for == "Gather"
    assert verdict_of(app, call.sid)["verdict"] is None


# -- the number that called: every format, hidden, and risk signals ---------------------------

NUMBER_FORMATS = [
    ("13512340000", "+8613512340000", None),
    ("8613512340000", "+8613512340000", None),
    ("008613512340000", "+8613512340000", None),
    ("01012345678", "+861012345678", None),
    ("075512345678", "+8675512345678", None),
    ("00441234567890", "+441234567890", "境外号码"),
    ("0012025550123", "+12025550123", "境外号码"),
    ("17012345678", "+8617012345678", "虚拟运营商"),
    ("16512345678", "+8616512345678", "虚拟运营商"),
    ("17112345678", "+8617112345678", "虚拟运营商"),
    ("4008001234", "+864008001234", "来电显示可以伪造"),
    ("1351234", None, "不可能是一个有效号码"),
    ("95588", None, None),
]


@pytest.mark.parametrize("typed, number, warning", NUMBER_FORMATS)
def test_every_number_format(call, app, verification, typed, number, warning):
    to_number(call)
    turn = call.press(typed + "#")
    assert NO_CODE_ZH in turn.text
    for other in ("境外号码", "虚拟运营商", "来电显示可以伪造", "不可能是一个有效号码"):
        assert (other in turn.text) == (other == warning)
    detail = json.loads(events(app, call.sid, "verdict")[0]["detail"])
    assert detail["number"] == number
    assert detail["signals"] == ({"境外号码": ["international"], "虚拟运营商": ["virtual"],
                                  "来电显示可以伪造": ["spoofed_official"],
                                  "不可能是一个有效号码": ["invalid"]}.get(warning, []))


def test_plus_86_said_aloud(call, app, verification):
    to_number(call)
    turn = call.say("八六 幺三五 幺二三四 零零零零")
    assert NO_CODE_ZH in turn.text
    assert json.loads(events(app, call.sid, "verdict")[0]["detail"])["number"] == "+8613512340000"


@pytest.mark.parametrize("how", ["press", "say"])
def test_hidden_number(call, app, verification, how):
    verification.add_outreach()
    to_number(call)
    turn = call.press("*") if how == "press" else call.say("号码没有显示")
    assert NO_CODE_ZH in turn.text and verdict_of(app, call.sid)["verdict"] == "unconfirmed"
    detail = json.loads(events(app, call.sid, "verdict")[0]["detail"])
    assert detail["hidden"] is True and detail["number"] is None


def test_official_number_without_code_is_said_plainly_in_english(call, app, verification):
    verification.add_outreach()
    call.start(from_=verification.phone)
    for key in ("9", "1", "#"):
        call.press(key)
    turn = call.press("4008001234#")
    assert "caller ID can be faked" in turn.text and "cannot confirm any request" in turn.text


def test_international_and_virtual_warnings_in_english(call, app, verification):
    call.start(from_=verification.phone)
    for key in ("9", "1", "#"):
        call.press(key)
    assert "international number" in call.press("00441234567890#").text
    call.start(from_=verification.phone)
    for key in ("9", "1", "#"):
        call.press(key)
    assert "virtual operator" in call.press("17012345678#").text


def test_virtual_prefixes_are_configurable(call, app, verification):
    app.extensions["ivr"]["virtual_prefixes"] = ("135",)
    to_number(call)
    assert "虚拟运营商" in call.press("13512340000#").text


def test_a_spoken_code_is_not_logged(call, app, verification):
    created = verification.add_outreach()
    spoken = "".join("洞幺二三四五六七八九"[int(digit)] for digit in created["reference_code"])
    to_code(call)
    assert GENUINE_ZH in call.say(spoken).text
    logged = json.dumps(events(app, call.sid), ensure_ascii=False)
    assert spoken not in logged and created["reference_code"] not in logged
    assert "••••••" in logged
