"""Merchants: their numbers, registered phones, CSV import, and the code-attempt lock staff can lift."""
import csv
import io
import re
from datetime import timedelta

from ivr import clock
from ivr.errors import InvalidInput, NotFound
from ivr.phone import to_e164
from ivr.staff import audit
from ivr.storage import merchants as store
from ivr.storage.db import transaction
from ivr.textrules import check_characters

MERCHANT_ID = re.compile(r"^[0-9]{6,20}$")
MAX_PHONES = 10
CSV_COLUMNS = ("merchant_id", "name", "phones")


def check_merchant_id(value, field="merchant_id"):
    """Return a merchant number as digits only, or raise InvalidInput naming `field`."""
    text = re.sub(r"[\s-]", "", str(value if value is not None else ""))
    if not MERCHANT_ID.match(text):
        raise InvalidInput("a merchant number is 6-20 digits (usually 15)", field=field)
    return text


def _check_name(name):
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 200:
        raise InvalidInput("name must be 1-200 characters", field="name")
    return check_characters(name.strip(), "name")


def _check_phones(phones):
    if not isinstance(phones, (list, tuple)) or len(phones) > MAX_PHONES:
        raise InvalidInput(f"phones must be a list of up to {MAX_PHONES} phone numbers", field="phones")
    numbers = []
    for raw in phones:
        number = to_e164(raw) if isinstance(raw, str) else None
        if number is None:
            raise InvalidInput(f"phones: {str(raw)[:40]!r} is not a valid phone number", field="phones")
        if number not in numbers:
            numbers.append(number)
    return numbers


def upsert_merchant(database, merchant_id, name, phones, actor="api"):
    """Create or update a merchant and replace its registered phones; return (merchant, created)."""
    merchant_id = check_merchant_id(merchant_id)
    name = _check_name(name)
    numbers = _check_phones(phones if phones is not None else [])
    stamp = clock.stamp()
    with transaction(database):
        existing = store.merchant_exists(database, merchant_id)
        if existing:
            store.update_merchant_name(database, merchant_id, name, stamp)
        else:
            store.insert_merchant(database, merchant_id, name, stamp)
        store.replace_phones(database, merchant_id, numbers)
        audit.record(database, actor, "merchant.update" if existing else "merchant.create", merchant_id,
                     {"name": name, "phones": numbers})
    return get_merchant(database, merchant_id), not existing


def get_merchant(database, merchant_id):
    """Return a merchant with its phones (list of E.164), or raise NotFound."""
    try:
        merchant_id = check_merchant_id(merchant_id)
    except InvalidInput:
        raise NotFound(f"no merchant {str(merchant_id)[:40]!r}") from None
    merchant = store.merchant_row(database, merchant_id)
    if merchant is None:
        raise NotFound(f"no merchant {merchant_id!r}")
    merchant["phones"] = store.merchant_phones(database, merchant_id)
    return merchant


def find_merchant(database, merchant_id):
    """Return a merchant or None, for callers who may type anything."""
    try:
        return get_merchant(database, merchant_id)
    except NotFound:
        return None


def merchants_for_phone(database, number):
    """Return the ids of merchants that registered the E.164 `number`."""
    if not number:
        return []
    return store.merchants_with_phone(database, number)


# -- reference-code attempts and the locks ---------------------------------------------------

# Wrong codes fill three counters, so that strangers cannot lock a merchant's own phones out: one per merchant
# for callers not on file (withheld IDs included), one per merchant for its registered phones, and one per
# calling number across merchants. A lock stops code checking only, and staff can lift each one.
LOCK_SCOPES = ("merchant_strangers", "merchant_registered", "number")


def record_attempt(database, merchant_id, caller_number, call_sid, success, registered=False):
    """Remember one reference-code attempt (right or wrong); `registered`: the caller is on file for the merchant."""
    store.insert_attempt(database, merchant_id, caller_number, call_sid, clock.stamp(), success, registered)


def _since(hours):
    return clock.stamp(clock.now() - timedelta(hours=hours))


def failed_attempts(database, scope, key, hours=24):
    """Count the wrong codes of the last `hours` in one counter (`scope` of LOCK_SCOPES, for `key`) since its last lift."""
    return store.count_failed(database, scope, key, _since(hours))


def counters_for(merchant_id, caller_number, registered):
    """The (scope, key) counters an attempt by this caller for this merchant fills and is held back by."""
    counters = [("merchant_registered" if registered else "merchant_strangers", merchant_id)]
    if caller_number is not None:
        counters.append(("number", caller_number))
    return counters


def is_locked(database, merchant_id, caller_number, registered, limit=5, hours=24):
    """True when any counter this caller fills for this merchant has had `limit` wrong codes within `hours`."""
    return any(failed_attempts(database, scope, key, hours) >= limit
               for scope, key in counters_for(merchant_id, caller_number, registered))


def active_locks(database, limit=5, hours=24, merchant_id=None, number=None):
    """Return every lock in force (scope, key, merchant_id or number, failures, last_at, until), newest first."""
    found = []
    since = _since(hours)
    for scope in LOCK_SCOPES:
        by_number = scope == "number"
        wanted = number if by_number else merchant_id
        if (merchant_id is not None or number is not None) and wanted is None:
            continue
        for key, failures, last_at in store.counters_at_limit(database, scope, since, limit, key=wanted):
            # The lock lasts until the limit-th newest wrong code leaves the window.
            oldest_counted = store.nth_newest_failure(database, scope, key, since, limit)
            found.append({
                "scope": scope, "key": key, "merchant_id": None if by_number else key,
                "number": key if by_number else None, "failures": failures, "last_at": last_at,
                "until": clock.stamp(clock.parse(oldest_counted) + timedelta(hours=hours)),
            })
    return sorted(found, key=lambda lock: lock["last_at"], reverse=True)


def lift_lock(database, scope, key, actor, hours=24 * 30):
    """Lift one counter's lock: its wrong codes so far no longer count; returns how many were lifted."""
    if scope not in LOCK_SCOPES:
        raise InvalidInput(f"scope must be one of {', '.join(LOCK_SCOPES)}", field="scope")
    if scope == "number":
        key = to_e164(key) if isinstance(key, str) else None
        if key is None:
            raise InvalidInput("number is not a valid phone number", field="number")
    else:
        key = get_merchant(database, key)["id"]
    stamp = clock.stamp()
    with transaction(database):
        lifted = failed_attempts(database, scope, key, hours)
        store.insert_lock_lift(database, scope, key, stamp, actor)
        if scope != "number":
            store.mark_unlocked(database, key, stamp, actor)
        audit.record(database, actor, "lock.lift", key, {"scope": scope, "attempts": lifted})
    return lifted


def unlock_merchant(database, merchant_id, actor):
    """Lift a merchant's locks: strangers', its registered phones', and those phones' own number locks."""
    merchant = get_merchant(database, merchant_id)
    with transaction(database):
        for scope in ("merchant_strangers", "merchant_registered"):
            lift_lock(database, scope, merchant["id"], actor)
        # The merchant's own phones fill their number's counter too; a stranger's number stays locked.
        for phone in merchant["phones"]:
            if failed_attempts(database, "number", phone):
                lift_lock(database, "number", phone, actor)
    return get_merchant(database, merchant["id"])


# -- CSV import -----------------------------------------------------------------------------


def read_csv(text):
    """Parse and check a merchants CSV (merchant_id,name,phones); return (rows, errors) without writing."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip() for name in (reader.fieldnames or [])]
    missing = [name for name in CSV_COLUMNS if name not in header]
    if missing:
        return [], [f"line 1: missing column(s) {', '.join(missing)}; the header must be {','.join(CSV_COLUMNS)}"]
    reader.fieldnames = header
    rows, errors, seen = [], [], {}
    for row in reader:
        line = reader.line_num
        try:
            merchant_id = check_merchant_id(row.get("merchant_id"))
            name = _check_name(row.get("name") or "")
            phones = _check_phones([part for part in re.split(r"[;|/]", row.get("phones") or "") if part.strip()])
        except InvalidInput as error:
            errors.append(f"line {line}: {error.field}: {error}")
            continue
        if merchant_id in seen:
            errors.append(f"line {line}: merchant_id: {merchant_id} is already on line {seen[merchant_id]}")
            continue
        seen[merchant_id] = line
        rows.append((merchant_id, name, phones))
    return rows, errors


def import_rows(database, rows, actor, progress=None):
    """Write checked CSV rows in one transaction, so a failure leaves nothing half-imported."""
    created = 0
    with transaction(database):
        for merchant_id, name, phones in rows:
            _, new = upsert_merchant(database, merchant_id, name, phones, actor=actor)
            created += int(new)
            if progress:
                progress(1)
    return {"created": created, "updated": len(rows) - created}
