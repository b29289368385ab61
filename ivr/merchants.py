"""Merchants: their numbers, registered phones, CSV import, and the code-attempt lock staff can lift."""
import csv
import io
import re
from datetime import timedelta

from . import audit, clock
from .db import transaction
from .errors import InvalidInput, NotFound
from .phone import to_e164
from .textrules import check_characters

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
        existing = database.execute("SELECT 1 FROM merchants WHERE id = ?", [merchant_id]).fetchone()
        if existing:
            database.execute("UPDATE merchants SET name = ?, updated_at = ? WHERE id = ?", [name, stamp, merchant_id])
        else:
            database.execute(
                "INSERT INTO merchants (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
                [merchant_id, name, stamp, stamp],
            )
        database.execute("DELETE FROM merchant_phones WHERE merchant_id = ?", [merchant_id])
        for number in numbers:
            database.execute("INSERT INTO merchant_phones (merchant_id, phone) VALUES (?, ?)", [merchant_id, number])
        audit.record(database, actor, "merchant.update" if existing else "merchant.create", merchant_id,
                     {"name": name, "phones": numbers})
    return get_merchant(database, merchant_id), not existing


def get_merchant(database, merchant_id):
    """Return a merchant with its phones (list of E.164), or raise NotFound."""
    try:
        merchant_id = check_merchant_id(merchant_id)
    except InvalidInput:
        raise NotFound(f"no merchant {str(merchant_id)[:40]!r}") from None
    found = list(database.query("SELECT * FROM merchants WHERE id = ?", [merchant_id]))
    if not found:
        raise NotFound(f"no merchant {merchant_id!r}")
    merchant = found[0]
    merchant["phones"] = [
        row[0] for row in database.execute(
            "SELECT phone FROM merchant_phones WHERE merchant_id = ? ORDER BY phone", [merchant_id]
        ).fetchall()
    ]
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
    return [row[0] for row in database.execute(
        "SELECT merchant_id FROM merchant_phones WHERE phone = ? ORDER BY merchant_id", [number]
    ).fetchall()]


# -- reference-code attempts and the lock ---------------------------------------------------

# An attempt counts against a lock only if it came after the merchant was last unlocked by staff.
_COUNTED = (
    "SELECT count(*) FROM code_attempts a LEFT JOIN merchants m ON m.id = a.merchant_id"
    " WHERE a.success = 0 AND a.at >= ? AND (m.unlocked_at IS NULL OR a.at > m.unlocked_at) AND {where}"
)


def record_attempt(database, merchant_id, caller_number, call_sid, success):
    """Remember one reference-code attempt (right or wrong) for the brute-force lock."""
    database.execute(
        "INSERT INTO code_attempts (merchant_id, caller_number, call_sid, at, success) VALUES (?, ?, ?, ?, ?)",
        [merchant_id, caller_number, call_sid, clock.stamp(), int(bool(success))],
    )


def failed_attempts(database, merchant_id=None, caller_number=None, hours=24):
    """Count failed codes in the last `hours` for a merchant or for a calling number."""
    since = clock.stamp(clock.now() - timedelta(hours=hours))
    if merchant_id is not None:
        return database.execute(_COUNTED.format(where="a.merchant_id = ?"), [since, merchant_id]).fetchone()[0]
    if caller_number is not None:
        return database.execute(_COUNTED.format(where="a.caller_number = ?"), [since, caller_number]).fetchone()[0]
    return 0


def is_locked(database, merchant_id, caller_number, limit=5, hours=24):
    """True when the merchant, or the number calling, has had `limit` failed codes within `hours`."""
    return (
        failed_attempts(database, merchant_id=merchant_id, hours=hours) >= limit
        or (caller_number is not None and failed_attempts(database, caller_number=caller_number, hours=hours) >= limit)
    )


def unlock_merchant(database, merchant_id, actor):
    """Lift a merchant's lock: failed codes before now no longer count (for it or for the numbers that tried)."""
    merchant = get_merchant(database, merchant_id)
    stamp = clock.stamp()
    with transaction(database):
        database.execute(
            "UPDATE merchants SET unlocked_at = ?, unlocked_by = ? WHERE id = ?", [stamp, actor, merchant["id"]]
        )
        audit.record(database, actor, "merchant.unlock", merchant["id"])
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
