"""Outreach: every genuine contact asking a merchant to act, with its eight-digit reference code (kept only hashed)."""
import hashlib
import hmac
import re
import secrets
import unicodedata
from datetime import timedelta

from ivr import clock
from ivr.errors import Conflict, InvalidInput, NotFound
from ivr.phone import to_e164
from ivr.staff import audit
from ivr.storage import outreach as store
from ivr.storage.db import transaction
from ivr.verification.catalogue import findings
from ivr.verification.merchants import check_merchant_id, get_merchant

REASONS = ("system_update", "data_verification", "business_change")
CHANNELS = ("phone", "sms", "visit")
STATUSES = ("open", "completed", "cancelled")
MAX_VALID_HOURS = 24 * 30
CODE_DIGITS = 8
CODE_TRIES = 50
MAX_NAME = 40
# Besides letters (any script) and combining marks, a name may hold these: "Chen Jing", "阿依·买买提", "O'Neil",
# "Jean-Luc", "J. Smith".
NAME_MARKS = frozenset(" ·・'’-.")
# Columns that hold a code, plaintext (before migration 6) or hashed: never shown, listed or logged.
SECRET_COLUMNS = ("reference_code", "code_hash")


def code_hash(code_key, merchant_id, code):
    """Return how a merchant's reference code is stored: HMAC-SHA256 with `code_key` over merchant and code, hex."""
    # Keyed, so that a copy of the database alone cannot be searched for the codes merchants are waiting to check.
    key = code_key.encode() if isinstance(code_key, str) else code_key
    return hmac.new(key, f"{merchant_id}:{code}".encode(), hashlib.sha256).hexdigest()


def check_staff_name(value):
    """Return the stripped staff name, or raise InvalidInput: a name only, since the hotline speaks it to merchants."""
    name = value.strip() if isinstance(value, str) else ""
    if not 1 <= len(name) <= MAX_NAME:
        raise InvalidInput(f"staff_name must be 1-{MAX_NAME} characters", field="staff_name")
    for char in name:
        if unicodedata.category(char)[0] not in "LM" and char not in NAME_MARKS:
            raise InvalidInput(
                f"staff_name must be a name only: letters, spaces, '·', apostrophes, hyphens and periods"
                f" (found {char!r})", field="staff_name",
            )
    if not any(unicodedata.category(char)[0] == "L" for char in name):
        raise InvalidInput("staff_name must contain letters", field="staff_name")
    found = findings(name)
    if found:
        what, words, _ = found[0]
        raise InvalidInput(f"staff_name must be a name only, not {what} ({words!r})", field="staff_name")
    return name


def _valid_hours(value):
    # ASCII digits only, and few of them: int() would choke on "²" or a 5000-digit string.
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not re.fullmatch(r"[0-9]{1,6}", str(value).strip()):
        raise InvalidInput(f"valid_hours must be a whole number from 1 to {MAX_VALID_HOURS}", field="valid_hours")
    hours = int(value)
    if not 1 <= hours <= MAX_VALID_HOURS:
        raise InvalidInput(f"valid_hours must be a whole number from 1 to {MAX_VALID_HOURS}", field="valid_hours")
    return hours


def new_code(database, merchant_id, code_key):
    """Return a random eight-digit code that none of the merchant's open outreach uses."""
    taken = store.open_code_hashes(database, merchant_id)
    for _ in range(CODE_TRIES):
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        if code_hash(code_key, merchant_id, code) not in taken:
            return code
    raise Conflict("could not find a free reference code for this merchant")  # pragma: no cover


def create_outreach(database, merchant_id, reason, channel, from_number, staff_name, action, valid_hours=168,
                    actor="api", *, catalogue, code_key, reference_code=None):
    """Record a genuine contact asking for `action` (a `catalogue` key); return {id, reference_code, expires_at}."""
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
    staff_name = check_staff_name(staff_name)
    if not isinstance(action, str) or action not in catalogue.keys():
        raise InvalidInput(f"action must be one of the outreach actions: {', '.join(catalogue.keys())}", field="action")
    hours = _valid_hours(valid_hours)
    get_merchant(database, merchant_id)
    now = clock.now()
    with transaction(database):
        # The code is returned this once and stored only hashed; a given `reference_code` is for demo data only.
        code = reference_code or new_code(database, merchant_id, code_key)
        row = {
            "merchant_id": merchant_id, "reason": reason, "channel": channel, "from_number": number,
            "staff_name": staff_name, "action": action, "instructions": "", "reference_code": "",
            "code_hash": code_hash(code_key, merchant_id, code), "created_at": clock.stamp(now),
            "expires_at": clock.stamp(now + timedelta(hours=hours)), "status": "open",
        }
        outreach_id = store.insert_outreach(database, row)
        # Everything that was asked of the merchant, and by whom; the code stays out (the outreach id stands for it).
        audit.record(database, actor, "outreach.create", outreach_id, {
            "merchant_id": merchant_id, "reason": reason, "channel": channel, "from_number": number,
            "staff_name": staff_name, "action": action, "valid_hours": hours, "expires_at": row["expires_at"],
        })
    return {"id": outreach_id, "reference_code": code, "expires_at": row["expires_at"]}


def hash_plaintext_codes(database, code_key):
    """Store every plaintext code left from before migration 6 as its hash, and blank it; return how many."""
    if not store.has_plaintext_codes(database):
        return 0  # every boot after the first: no write lock taken
    # The old codes are zeroed where they stood (the rows and the index on them), not left in the file's free space.
    with store.secure_delete(database), transaction(database):
        found = store.plaintext_codes(database)
        store.replace_plaintext_codes(
            database,
            [(code_hash(code_key, merchant_id, code), outreach_id) for outreach_id, merchant_id, code in found],
        )
    # The log's copies of the pages that held them go too, unless another worker is still reading them: a checkpoint
    # is only a clean-up, and the codes are hashed either way.
    store.checkpoint(database)
    return len(found)


def get_outreach(database, outreach_id):
    """Return one outreach row (with `state`: open, expired, completed or cancelled), or raise NotFound."""
    try:
        number = int(str(outreach_id))
    except ValueError:
        raise NotFound(f"no outreach {str(outreach_id)[:20]!r}") from None
    if not 1 <= number < 2 ** 63:  # ids are positive SQLite integers; bigger ones would overflow the query
        raise NotFound(f"no outreach {str(outreach_id)[:20]!r}")
    row = store.outreach_row(database, number)
    if row is None:
        raise NotFound(f"no outreach {number}")
    return _with_state(row)


def _with_state(row, now=None):
    row = dict(row)
    expired = row["status"] == "open" and clock.parse(row["expires_at"]) <= (now or clock.now())
    row["state"] = "expired" if expired else row["status"]
    return row


def public(row):
    """Return an outreach row without its reference code or the code's hash, for lists and logs."""
    return {key: value for key, value in row.items() if key not in SECRET_COLUMNS}


def _close(database, outreach_id, status, actor):
    row = get_outreach(database, outreach_id)
    with transaction(database):
        current = store.outreach_status(database, row["id"])
        if current != "open":
            raise Conflict(f"outreach {row['id']} is already {current}")
        store.set_outreach_status(database, row["id"], status, clock.stamp(), actor)
        audit.record(database, actor, f"outreach.{'cancel' if status == 'cancelled' else 'complete'}", row["id"])
    return get_outreach(database, row["id"])


def cancel_outreach(database, outreach_id, actor):
    """Cancel open outreach; its code then only ever hears "no longer valid"."""
    return _close(database, outreach_id, "cancelled", actor)


def complete_outreach(database, outreach_id, actor):
    """Mark open outreach done; its code then only ever hears "no longer valid"."""
    return _close(database, outreach_id, "completed", actor)


def match_code(database, merchant_id, code, code_key):
    """Return the merchant's outreach whose code is `code` (open and unexpired first), with `state`, or None."""
    wanted = code_hash(code_key, merchant_id, str(code or "")).encode()
    now = clock.now()
    best = None
    # Every code of the merchant is compared in full, so timing does not reveal how close a guess was.
    for row in store.outreach_rows(database, merchant_id):
        if hmac.compare_digest((row["code_hash"] or "").encode(), wanted):
            row = _with_state(row, now)
            if best is None or (row["state"] == "open" and best["state"] != "open"):
                best = row
    return best


def latest_open(database, merchant_id):
    """Return the merchant's newest open, unexpired outreach, or None."""
    return store.newest_open(database, merchant_id, clock.stamp())


def for_merchant(database, merchant_id, limit=50):
    """Return a merchant's outreach, newest first, without codes."""
    return [public(_with_state(row)) for row in store.outreach_rows(database, merchant_id, limit)]
