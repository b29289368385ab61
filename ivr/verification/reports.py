"""Scam reports and the number watchlist: reported, suspected (enough merchants), confirmed or cleared by staff."""
import json
import secrets
from datetime import timedelta

from ivr import clock
from ivr.errors import Conflict, InvalidInput
from ivr.notify import alerts
from ivr.phone import to_e164
from ivr.staff import audit
from ivr.storage import reports as store
from ivr.storage.db import transaction
from ivr.textrules import check_characters

# Keys of the report branch's "what did they ask for" question.
CATEGORIES = {
    "1": "credentials",  # card number, PIN or SMS code
    "2": "remote_app",  # install an app or share the screen
    "3": "fee",  # a fee, deposit or "activation" swipe
    "4": "settlement_change",  # a new settlement account or fee rate
    "5": "other",
}
STAFF_STATUSES = ("confirmed", "cleared")
STATUSES = ("reported", "suspected") + STAFF_STATUSES
REPORT_NUMBER_DIGITS = 8


def check_number(number, field="number"):
    """Return `number` as E.164 or raise InvalidInput naming `field`."""
    found = to_e164(number) if isinstance(number, str) else None
    if found is None:
        raise InvalidInput(f"{field} is not a valid phone number", field=field)
    return found


def _report_number(database):
    while True:
        candidate = f"{secrets.randbelow(9 * 10 ** (REPORT_NUMBER_DIGITS - 1)) + 10 ** (REPORT_NUMBER_DIGITS - 1)}"
        if not store.report_number_taken(database, candidate):
            return candidate


def file_report(database, category, number=None, number_raw=None, call_sid=None, merchant_id=None,
                reporter_number=None, recording=None, signals=(), threshold=3, window_days=30,
                reporter_registered=False, protected=frozenset()):
    """Keep a report and update the watchlist; return the report row (with its report_number and `counted`).

    Only what is hard to fake counts towards `suspected`: a reporter identified by a phone registered to
    `merchant_id` (`reporter_registered`), once per call, about a number that is not one of ours (`protected`,
    or a number the hotline itself answers on). Every other report is kept for staff all the same.
    """
    if category not in CATEGORIES.values():
        raise InvalidInput(f"category must be one of {', '.join(CATEGORIES.values())}", field="category")
    recording = recording or {}
    stamp = clock.stamp()
    with transaction(database):
        counted = bool(reporter_registered and merchant_id and number)
        if counted and call_sid is not None:
            counted = not store.call_has_counted_report(database, call_sid)
        row = {
            "report_number": _report_number(database), "call_sid": call_sid, "merchant_id": merchant_id,
            "reporter_number": reporter_number, "number": number, "number_raw": number_raw, "category": category,
            "recording_url": recording.get("url"), "recording_sid": recording.get("sid"),
            "recording_duration": recording.get("duration"), "created_at": stamp,
            "signals": json.dumps(list(signals)) if signals else None, "counted": int(counted),
        }
        row["id"] = store.insert_report(database, row)
        if number:
            _note_report(database, number, stamp, threshold, window_days, protected)
    return row


def is_hotline_number(database, number):
    """True when the hotline itself has answered calls on `number` (a Twilio `To` number)."""
    return bool(number) and store.hotline_answers_on(database, number)


def is_ours(database, number, protected=frozenset()):
    """True when `number` is one of the operator's own: an official number, or one the hotline answers on."""
    return bool(number) and (number in protected or is_hotline_number(database, number))


def _note_report(database, number, stamp, threshold, window_days, protected):
    store.note_reported_number(database, number, stamp)
    status = store.number_status(database, number)
    # Staff decisions stand: a cleared number is never raised again by reports alone; ours are never raised.
    if (status == "reported" and distinct_reporters(database, number, window_days) >= threshold
            and not is_ours(database, number, protected)):
        _change_status(database, number, "suspected", "system",
                       f"reported by {threshold}+ merchants calling from registered phones in {window_days} days")
        alerts.queue(database, "number_suspected", number,
                     {"number": number, "merchants": distinct_reporters(database, number, window_days)})


def distinct_reporters(database, number, window_days=30):
    """Count the distinct merchants, identified by a registered phone, whose reports of `number` count recently."""
    since = clock.stamp(clock.now() - timedelta(days=window_days))
    return store.count_counted_reporters(database, number, since)


def _change_status(database, number, status, actor, reason):
    stamp = clock.stamp()
    store.upsert_number_status(database, number, status, actor, reason, stamp)
    store.insert_status_change(database, number, status, actor, reason, stamp)


def set_number_status(database, number, status, actor, reason=None, protected=frozenset()):
    """Mark a number `confirmed` (a scam) or `cleared` (a false positive), recording who and when."""
    number = check_number(number)
    if status not in STAFF_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STAFF_STATUSES)}", field="status")
    if status == "confirmed" and is_ours(database, number, protected):
        # A staff account must not be able to make the hotline call the operator's own line a scam.
        raise Conflict(f"{number} is one of the operator's own numbers and cannot be marked as a scam")
    if reason is not None and (not isinstance(reason, str) or len(reason) > 500):
        raise InvalidInput("reason must be text of up to 500 characters", field="reason")
    if reason is not None:
        check_characters(reason, "reason", multiline=True)
    with transaction(database):
        _change_status(database, number, status, actor, reason)
        audit.record(database, actor, f"number.{'confirm' if status == 'confirmed' else 'clear'}", number,
                     {"reason": reason} if reason else None)
    return number_summary(database, number)


def is_known_scam(database, number, threshold=3, window_days=30, protected=frozenset()):
    """True when `number` is confirmed, suspected, or reported by enough merchants, and neither cleared nor ours."""
    if not number or is_ours(database, number, protected):
        return False
    status = store.number_status(database, number)
    if status == "cleared":
        return False
    if status in ("confirmed", "suspected"):
        return True
    return distinct_reporters(database, number, window_days) >= threshold


def number_summary(database, number, window_days=30):
    """Return a number's watchlist status, report counts by category, and its status history."""
    number = check_number(number)
    entry = store.number_row(database, number) or {"number": number, "status": None}
    categories = store.report_counts_by_category(database, number)
    history = store.status_history(database, number)
    counted = store.count_counted_reports(database, number)
    return dict(
        entry, reports=sum(categories.values()), categories=categories,
        recent_merchants=distinct_reporters(database, number, window_days), history=history,
        counted_reports=counted, uncounted_reports=sum(categories.values()) - counted,
    )


def list_reports(database, number=None, limit=100):
    """Return reports, newest first, for one number (E.164) or for all."""
    if number is not None:
        number = check_number(number)
    return [_decoded(row) for row in store.report_rows(database, number, limit)]


def reports_for_call(database, call_sid):
    """Return the reports filed during one call, oldest first."""
    return [_decoded(row) for row in store.call_report_rows(database, call_sid)]


def _decoded(row):
    row = dict(row)
    row["signals"] = json.loads(row["signals"]) if row.get("signals") else []
    return row
