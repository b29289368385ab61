"""Outreach: every genuine contact asking a merchant to act, with its secret six-digit reference code."""
import hmac
import re
import secrets
from datetime import timedelta

from . import audit, clock
from .db import transaction
from .errors import Conflict, InvalidInput, NotFound
from .merchants import check_merchant_id, get_merchant
from .phone import to_e164
from .textrules import check_characters

REASONS = ("system_update", "data_verification", "business_change")
CHANNELS = ("phone", "sms", "visit")
STATUSES = ("open", "completed", "cancelled")
MAX_VALID_HOURS = 24 * 30
CODE_TRIES = 50


def _text(value, field, limit, multiline=False):
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > limit:
        raise InvalidInput(f"{field} must be 1-{limit} characters", field=field)
    return check_characters(value.strip(), field, multiline)


def _valid_hours(value):
    # ASCII digits only, and few of them: int() would choke on "²" or a 5000-digit string.
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not re.fullmatch(r"[0-9]{1,6}", str(value).strip()):
        raise InvalidInput(f"valid_hours must be a whole number from 1 to {MAX_VALID_HOURS}", field="valid_hours")
    hours = int(value)
    if not 1 <= hours <= MAX_VALID_HOURS:
        raise InvalidInput(f"valid_hours must be a whole number from 1 to {MAX_VALID_HOURS}", field="valid_hours")
    return hours


def new_code(database, merchant_id):
    """Return a random six-digit code that none of the merchant's open outreach uses."""
    taken = {row[0] for row in database.execute(
        "SELECT reference_code FROM outreach WHERE merchant_id = ? AND status = 'open'", [merchant_id]
    ).fetchall()}
    for _ in range(CODE_TRIES):
        code = f"{secrets.randbelow(10**6):06d}"
        if code not in taken:
            return code
    raise Conflict("could not find a free reference code for this merchant")  # pragma: no cover


def create_outreach(database, merchant_id, reason, channel, from_number, staff_name, instructions,
                    valid_hours=168, actor="api", reference_code=None):
    """Record a genuine contact and return {id, reference_code, expires_at}; `reference_code` is for demo data only."""
    merchant_id = check_merchant_id(merchant_id)
    if reason not in REASONS:
        raise InvalidInput(f"reason must be one of {', '.join(REASONS)}", field="reason")
    if channel not in CHANNELS:
        raise InvalidInput(f"channel must be one of {', '.join(CHANNELS)}", field="channel")
    number = None
    if from_number not in (None, ""):
        number = to_e164(from_number) if isinstance(from_number, str) else None
        if number is None:
            raise InvalidInput("from_number is not a valid phone number", field="from_number")
    elif channel != "visit":
        raise InvalidInput("from_number (the official number used) is required for phone and SMS", field="from_number")
    staff_name = _text(staff_name, "staff_name", 100)
    instructions = _text(instructions, "instructions", 500, multiline=True)
    hours = _valid_hours(valid_hours)
    get_merchant(database, merchant_id)
    now = clock.now()
    with transaction(database):
        code = reference_code or new_code(database, merchant_id)
        row = {
            "merchant_id": merchant_id, "reason": reason, "channel": channel, "from_number": number,
            "staff_name": staff_name, "instructions": instructions, "reference_code": code,
            "created_at": clock.stamp(now), "expires_at": clock.stamp(now + timedelta(hours=hours)), "status": "open",
        }
        outreach_id = database["outreach"].insert(row).last_pk
        # The code itself stays out of the audit log: only the outreach id is recorded.
        audit.record(database, actor, "outreach.create", outreach_id,
                     {"merchant_id": merchant_id, "reason": reason, "channel": channel, "valid_hours": hours})
    return {"id": outreach_id, "reference_code": code, "expires_at": row["expires_at"]}


def get_outreach(database, outreach_id):
    """Return one outreach row (with `state`: open, expired, completed or cancelled), or raise NotFound."""
    try:
        number = int(str(outreach_id))
    except ValueError:
        raise NotFound(f"no outreach {str(outreach_id)[:20]!r}") from None
    if not 1 <= number < 2 ** 63:  # ids are positive SQLite integers; bigger ones would overflow the query
        raise NotFound(f"no outreach {str(outreach_id)[:20]!r}")
    found = list(database.query("SELECT * FROM outreach WHERE id = ?", [number]))
    if not found:
        raise NotFound(f"no outreach {number}")
    return _with_state(found[0])


def _with_state(row, now=None):
    row = dict(row)
    expired = row["status"] == "open" and clock.parse(row["expires_at"]) <= (now or clock.now())
    row["state"] = "expired" if expired else row["status"]
    return row


def public(row):
    """Return an outreach row without its reference code, for lists and logs."""
    return {key: value for key, value in row.items() if key != "reference_code"}


def _close(database, outreach_id, status, actor):
    row = get_outreach(database, outreach_id)
    with transaction(database):
        current = database.execute("SELECT status FROM outreach WHERE id = ?", [row["id"]]).fetchone()[0]
        if current != "open":
            raise Conflict(f"outreach {row['id']} is already {current}")
        database.execute(
            "UPDATE outreach SET status = ?, status_changed_at = ?, status_changed_by = ? WHERE id = ?",
            [status, clock.stamp(), actor, row["id"]],
        )
        audit.record(database, actor, f"outreach.{'cancel' if status == 'cancelled' else 'complete'}", row["id"])
    return get_outreach(database, row["id"])


def cancel_outreach(database, outreach_id, actor):
    """Cancel open outreach; its code then only ever hears "no longer valid"."""
    return _close(database, outreach_id, "cancelled", actor)


def complete_outreach(database, outreach_id, actor):
    """Mark open outreach done; its code then only ever hears "no longer valid"."""
    return _close(database, outreach_id, "completed", actor)


def match_code(database, merchant_id, code):
    """Return the merchant's outreach whose code equals `code` (open and unexpired first), or None."""
    code = str(code or "")
    now = clock.now()
    best = None
    # Every code of the merchant is compared in full, so timing does not reveal how close a guess was.
    for row in database.query("SELECT * FROM outreach WHERE merchant_id = ? ORDER BY id DESC", [merchant_id]):
        if hmac.compare_digest(row["reference_code"].encode(), code.encode()):
            row = _with_state(row, now)
            if best is None or (row["state"] == "open" and best["state"] != "open"):
                best = row
    return best


def latest_open(database, merchant_id):
    """Return the merchant's newest open, unexpired outreach, or None."""
    rows = database.query(
        "SELECT * FROM outreach WHERE merchant_id = ? AND status = 'open' AND expires_at > ? ORDER BY created_at DESC LIMIT 1",
        [merchant_id, clock.stamp()],
    )
    return next(iter(rows), None)


def for_merchant(database, merchant_id, limit=50):
    """Return a merchant's outreach, newest first, without codes."""
    rows = database.query(
        "SELECT * FROM outreach WHERE merchant_id = ? ORDER BY id DESC LIMIT ?", [merchant_id, limit]
    )
    return [public(_with_state(row)) for row in rows]
