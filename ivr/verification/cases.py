"""Reports and call-backs worked as cases: a report's status, assignee and notes; call-back attempts and their outcome."""
from datetime import timedelta

from ivr import clock
from ivr.errors import Conflict, InvalidInput, NotFound
from ivr.staff import audit, users
from ivr.storage import callbacklist as callback_store
from ivr.storage import cases as store
from ivr.storage.db import transaction
from ivr.vocabulary import CALLBACK_CLOSING_OUTCOMES, CALLBACK_OUTCOMES, CASE_STATUSES

MAX_NOTE = 2000
# The messages below are shown to staff as they are (the dashboard translates them), so they carry no values.
NO_SUCH_STATUS = "Choose a status: new, in progress or closed."
NO_SUCH_USER = "Assign the report to a staff member who can sign in."
EMPTY_NOTE = "Write the note first."
LONG_NOTE = "A note has at most 2000 characters."
NO_SUCH_OUTCOME = "Choose how the call went: reached, no answer or wrong number."
ALREADY_CLOSED = "This call-back is already closed."
NOTHING_TO_CALL = "Withheld number, no recording: nothing to call back."
SOMETHING_TO_CALL = "This call-back has a number or a recording: log an attempt instead."


def _report(database, report_id):
    found = store.report(database, report_id)
    if found is None:
        raise NotFound(f"no report {report_id}")
    return found


def report_case(database, report_id):
    """Return a report with its notes (oldest first), or raise NotFound."""
    return dict(_report(database, report_id), notes=store.notes(database, report_id))


def assign(database, report_id, assignee, actor):
    """Give a report to the staff member named `assignee` ('' for nobody); audited as report.assign."""
    assignee = (assignee or "").strip() or None
    if assignee is not None:
        user = users.get_user(database, assignee)
        if user is None or user["disabled"]:
            raise InvalidInput(NO_SUCH_USER, field="assignee")
    _change_case(database, report_id, "assignee", assignee, actor, "report.assign")


def set_status(database, report_id, status, actor):
    """Move a report to `status` (new, in_progress or closed); audited as report.status."""
    if status not in CASE_STATUSES:
        raise InvalidInput(NO_SUCH_STATUS, field="status")
    _change_case(database, report_id, "case_status", status, actor, "report.status")


def _change_case(database, report_id, field, value, actor, action):
    """Set one case field of a report unless it already holds `value`; audit the change as `action`."""
    with transaction(database):
        before = _report(database, report_id)[field]
        if before == value:
            return
        store.set_case(database, report_id, {field: value, "case_changed_at": clock.stamp()})
        audit.record(database, actor, action, report_id, {"from": before, "to": value})


def add_note(database, report_id, text, actor):
    """Append a note by `actor` to a report (notes are never changed or removed); audited as report.note."""
    body = (text or "").strip()
    if not body:
        raise InvalidInput(EMPTY_NOTE, field="note")
    if len(body) > MAX_NOTE:
        raise InvalidInput(LONG_NOTE, field="note")
    with transaction(database):
        _report(database, report_id)
        note_id = store.add_note(database, report_id, actor, clock.stamp(), body)
        # The note itself stays in report_notes, which nothing edits; the audit row says who wrote which one.
        audit.record(database, actor, "report.note", report_id, {"note_id": note_id})
    return note_id


def heard_once_cancelled(flow, node="verdict_expired"):
    """Return [(language name, words)] a merchant hears, in each of the flow's languages, when they call with the code
    of outreach that is no longer open (the verdict "expired")."""
    found = flow.nodes.get(node)
    if found is None or found.prompt is None:
        return []
    return [(flow.language_settings[code].name, found.prompt.text(code)) for code in flow.languages]


# -- call-backs -----------------------------------------------------------------------------


def nothing_to_call(row):
    """True when a call-back request has neither a number to ring nor a recording to listen to."""
    return not row["from_number"] and not (row["recording_sid"] or row["recording_url"])


def waited(row, now=None):
    """Return how long a call-back request has waited since the message was left (until it closed, if it did)."""
    end = clock.parse(row["done_at"]) if row.get("done_at") else (now or clock.now())
    return max(end - clock.parse(row["created_at"]), timedelta(0))


def _waiting_callback(database, callback_id):
    found = callback_store.callback(database, callback_id)
    if found is None:
        raise NotFound(f"no call-back {callback_id}")
    if found["status"] != "waiting":
        raise Conflict(ALREADY_CLOSED)
    return found


def log_attempt(database, callback_id, outcome, actor):
    """Record one attempt to ring a caller back; reached or wrong number closes the request, no answer keeps it
    waiting. Audited as callback.attempt; return whether it closed."""
    if outcome not in CALLBACK_OUTCOMES:
        raise InvalidInput(NO_SUCH_OUTCOME, field="outcome")
    with transaction(database):
        found = _waiting_callback(database, callback_id)
        if nothing_to_call(found):
            raise Conflict(NOTHING_TO_CALL)
        now = clock.stamp()
        attempt_id = callback_store.add_attempt(database, callback_id, outcome, actor, now)
        closes = outcome in CALLBACK_CLOSING_OUTCOMES
        if closes:
            callback_store.set_callback_done(database, callback_id, actor, now)
        audit.record(database, actor, "callback.attempt", callback_id, {"attempt_id": attempt_id, "outcome": outcome})
    return closes


def close_without_call(database, callback_id, actor):
    """Close a request that leaves nothing to call back (withheld number, no recording); audited as callback.close."""
    with transaction(database):
        found = _waiting_callback(database, callback_id)
        if not nothing_to_call(found):
            raise Conflict(SOMETHING_TO_CALL)
        callback_store.set_callback_done(database, callback_id, actor, clock.stamp())
        audit.record(database, actor, "callback.close", callback_id, {"reason": "nothing_to_call"})
