"""The report branch end to end, and the number watchlist: threshold, window, confirmed and cleared."""
import json
from datetime import timedelta

import pytest

from conftest import rows
from ivr import clock
from ivr.verification import reports

CATEGORY_KEYS = [("1", "credentials"), ("2", "remote_app"), ("3", "fee"), ("4", "settlement_change"), ("5", "other")]


def report(call, from_, number="17012345678", key="3", seconds=10):
    call.start(from_=from_)
    assert "给您打电话的号码" in call.press("3").text
    assert "对方要您做什么" in (call.press("*") if number == "*" else call.press(number + "#")).text
    turn = call.press(key)
    assert turn.waiting_for == "Record" and "一分钟以内" in turn.text
    return call.record(seconds)


def filed(app):
    return rows(app, "SELECT * FROM reports ORDER BY id")


@pytest.mark.parametrize("key, category", CATEGORY_KEYS)
def test_report_with_a_recording(call, app, verification, key, category):
    turn = report(call, verification.phone, key=key, seconds=12)
    [row] = filed(app)
    assert row["category"] == category and row["number"] == "+8617012345678" and row["number_raw"] == "17012345678"
    assert row["recording_url"].startswith("https://api.twilio.com/") and row["recording_sid"].startswith("RE")
    assert row["recording_duration"] == 12
    assert row["merchant_id"] == verification.merchant and row["reporter_number"] == verification.phone
    assert row["call_sid"] == call.sid and json.loads(row["signals"]) == ["virtual"]
    # The report number is read digit by digit.
    assert f"举报编号是：{' '.join(row['report_number'])}" in turn.text
    assert len(row["report_number"]) == 8
    again = call.press("1")
    assert " ".join(row["report_number"]) in again.text
    [event] = [e for e in rows(app, "SELECT * FROM events WHERE kind = 'report'")]
    assert json.loads(event["detail"])["report_number"] == row["report_number"]


def test_report_without_a_recording_is_still_filed(call, app, verification):
    turn = report(call, "+8613712345678", seconds=0)
    [row] = filed(app)
    assert row["recording_url"] is None and row["recording_duration"] is None
    assert row["merchant_id"] is None and row["reporter_number"] == "+8613712345678"
    assert "举报已登记" in turn.text


def test_report_of_a_hidden_number_from_a_withheld_caller(call, app, verification):
    turn = report(call, "Anonymous", number="*", key="1", seconds=5)
    [row] = filed(app)
    assert row["number"] is None and row["number_raw"] == "hidden" and row["reporter_number"] is None
    assert "举报已登记" in turn.text


def test_report_in_english(call, app, verification):
    call.start(from_=verification.phone)
    call.press("9")
    assert "number that called you" in call.press("3").text
    assert "What did they ask for" in call.press("13512345678#").text
    call.press("2")
    turn = call.record(0)
    assert "Your report number is" in turn.text
    assert filed(app)[0]["category"] == "remote_app"


def test_report_after_a_no_record_verdict_has_the_number_filled_in(call, app, verification):
    call.start(from_=verification.phone)
    call.press("1")
    call.press("#")
    assert "没有参考码，我们无法确认任何请求" in call.press("00441234567890#").text
    assert "对方要您做什么" in call.press("1").text  # no second question about the number
    call.press("4")
    call.record(7)
    [row] = filed(app)
    assert row["number"] == "+441234567890" and row["category"] == "settlement_change"
    assert row["merchant_id"] == verification.merchant and json.loads(row["signals"]) == ["international"]
    assert rows(app, "SELECT verdict FROM calls WHERE sid = ?", [call.sid]) == [{"verdict": "no_record"}]


def third_merchant(verification, phone="+8613712345678"):
    """Register `phone` to a third merchant, so that its reports count towards the watchlist."""
    from ivr.verification import merchants

    merchants.upsert_merchant(verification.database, "898440358120003", "Harbour Florist", [phone], actor="test")


def test_reports_from_three_merchants_make_a_number_suspected(call, app, verification):
    third_merchant(verification)
    phones = [verification.phone, verification.other_phone]
    for phone in phones:
        report(call, phone)
    assert reports.number_summary(verification.database, "+8617012345678")["status"] == "reported"
    # The same merchant again does not count twice.
    report(call, verification.phone)
    assert reports.number_summary(verification.database, "+8617012345678")["status"] == "reported"
    report(call, "+8613712345678")
    summary = reports.number_summary(verification.database, "+8617012345678")
    assert summary["status"] == "suspected" and summary["reports"] == 4 and summary["recent_merchants"] == 3
    assert summary["history"][0]["changed_by"] == "system"


def test_threshold_and_window_are_configurable(call, app, verification, monkeypatch):
    third_merchant(verification)
    app.config["REPORT_THRESHOLD"] = 2
    report(call, verification.phone)
    later = clock.now() + timedelta(days=31)
    monkeypatch.setattr(clock, "now", lambda: later)
    report(call, verification.other_phone)
    # The first report is outside the 30-day window.
    assert reports.number_summary(verification.database, "+8617012345678")["status"] == "reported"
    report(call, "+8613712345678")
    assert reports.number_summary(verification.database, "+8617012345678")["status"] == "suspected"


def test_cleared_number_stays_cleared_and_every_report_is_kept(call, app, verification):
    third_merchant(verification)
    for phone in (verification.phone, verification.other_phone, "+8613712345678"):
        report(call, phone)
    reports.set_number_status(verification.database, "+8617012345678", "cleared", "alice", "our courier's phone")
    report(call, "+8613612345678")
    summary = reports.number_summary(verification.database, "+8617012345678")
    assert summary["status"] == "cleared" and summary["reports"] == 4
    assert [(h["status"], h["changed_by"]) for h in summary["history"]] == [("suspected", "system"), ("cleared", "alice")]
    assert summary["status_changed_by"] == "alice" and summary["status_changed_at"]
    assert not reports.is_known_scam(verification.database, "+8617012345678")
    assert rows(app, "SELECT \"user\", action, target FROM audit WHERE action LIKE 'number.%'") == [
        {"user": "alice", "action": "number.clear", "target": "+8617012345678"}
    ]
    reports.set_number_status(verification.database, "17012345678", "confirmed", "bob")
    assert reports.is_known_scam(verification.database, "+8617012345678")


@pytest.mark.parametrize("number, status, field", [("12", "confirmed", "number"), ("+8617012345678", "bad", "status")])
def test_set_number_status_rejects_bad_input(verification, number, status, field):
    from ivr.errors import InvalidInput

    with pytest.raises(InvalidInput) as error:
        reports.set_number_status(verification.database, number, status, "alice")
    assert error.value.field == field
