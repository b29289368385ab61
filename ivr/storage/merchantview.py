"""The merchant pages' SQL: finding merchants, a merchant's calls and reports, lock references, the outreach list."""
from dataclasses import dataclass

from ivr.storage.dialect import comma_list_sql, contains_sql, ignoring_case_like_sql, last_characters_sql

# The merchants list's orders (its allow-list): SQL chosen by key, never taken from the URL.
MERCHANT_ORDERS = {
    "number": "m.id",
    "name": "m.name, m.id",
    "newest": "m.created_at DESC, m.id DESC",
    "oldest": "m.created_at, m.id",
}


@dataclass
class MerchantMatch:
    """What listed merchants must match, any of it; all empty lists every merchant."""

    digits: str = ""  # found anywhere in the merchant number, or the last four digits of a registered phone
    text: str = ""  # found anywhere in the name
    phone: str = ""  # E.164: a registered phone


def _like(text):
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _match_where(database, match):
    where, params = [], []
    if match.digits:
        where.append(contains_sql(database, "m.id"))
        params.append(match.digits)
    if match.text:
        where.append(ignoring_case_like_sql(database, "m.name"))
        params.append(_like(match.text))
    phones = []
    if match.phone:
        phones.append("phone = ?")
        params.append(match.phone)
    if len(match.digits) == 4:
        # Only the last four, which the masked number shows: matching any run of digits would let staff read the
        # hidden ones a search at a time, with no reveal audited.
        phones.append(f"{last_characters_sql(database, 'phone', 4)} = ?")
        params.append(match.digits)
    if phones:
        where.append(f"m.id IN (SELECT merchant_id FROM merchant_phones WHERE {' OR '.join(phones)})")
    return (" WHERE " + " OR ".join(where) if where else ""), params


def merchants_page(database, match, order, limit, offset):
    """Return `limit` merchants matching `match` in the order named `order` (a MERCHANT_ORDERS key), from `offset`,
    each with its registered phones (comma-separated)."""
    where, params = _match_where(database, match)
    return list(database.query(
        f"SELECT m.*, (SELECT {comma_list_sql(database, 'phone')} FROM merchant_phones p WHERE p.merchant_id = m.id)"
        " AS phones"
        f" FROM merchants m{where} ORDER BY {MERCHANT_ORDERS[order]} LIMIT ? OFFSET ?",
        params + [limit, offset],
    ))


def count_merchants(database, match):
    """Return how many merchants match `match`."""
    where, params = _match_where(database, match)
    return database.execute(f"SELECT count(*) FROM merchants m{where}", params).fetchone()[0]


def merchant_calls(database, merchant_id, limit, before=None):
    """Return a merchant's `limit` newest calls, those before the (started_at, sid) `before` when given."""
    where, params = "merchant_id = ?", [merchant_id]
    if before:
        # The form calls_page uses, so that the index calls_merchant_started serves the range too.
        where += " AND started_at <= ? AND NOT (started_at = ? AND sid >= ?)"
        params += [before[0], before[0], before[1]]
    return list(database.query(
        "SELECT sid, from_number, language, started_at, status, duration, verdict, identified_by"
        f" FROM calls WHERE {where} ORDER BY started_at DESC, sid DESC LIMIT ?", params + [limit],
    ))


def count_merchant_calls(database, merchant_id):
    """Return how many calls a merchant has (one range of the index calls_merchant_started)."""
    return database.execute("SELECT count(*) FROM calls WHERE merchant_id = ?", [merchant_id]).fetchone()[0]


def merchant_reports(database, merchant_id, limit):
    """Return a merchant's `limit` newest reports."""
    # Reports filed in the same millisecond newest first on both databases (SQLite's index reports_merchant holds
    # the id after created_at, so this costs it no sort).
    return list(database.query(
        "SELECT * FROM reports WHERE merchant_id = ? ORDER BY created_at DESC, id DESC LIMIT ?", [merchant_id, limit]
    ))


def merchant_names(database, merchant_ids):
    """Return {id: name} of the merchants with these ids."""
    if not merchant_ids:
        return {}
    marks = ",".join("?" * len(merchant_ids))
    return dict(database.execute(f"SELECT id, name FROM merchants WHERE id IN ({marks})", merchant_ids).fetchall())


def newest_wrong_code(database, number):
    """Return the id of the newest wrong code entered from a calling number, or None."""
    return database.execute(
        "SELECT max(id) FROM code_attempts WHERE caller_number = ? AND success = 0", [number]
    ).fetchone()[0]


def attempt_number(database, attempt_id):
    """Return the calling number of a reference-code attempt, or None (no such attempt, or no number)."""
    found = database.execute("SELECT caller_number FROM code_attempts WHERE id = ?", [attempt_id]).fetchone()
    return found[0] if found else None


def outreach_page(database, state, merchant_id, now, limit, before_id=None, after_id=None):
    """Return up to `limit` outreach rows with their merchant's name: in `state` at `now` (open, expired or a stored
    status; '' for all), of `merchant_id` ('' for all); ids below `before_id` newest first, or above `after_id`
    oldest first, or the newest."""
    where, params = [], []
    if state == "expired":
        where.append("o.status = 'open' AND o.expires_at <= ?")
        params.append(now)
    elif state == "open":
        where.append("o.status = 'open' AND o.expires_at > ?")
        params.append(now)
    elif state:
        where.append("o.status = ?")
        params.append(state)
    if merchant_id:
        where.append("o.merchant_id = ?")
        params.append(merchant_id)
    if after_id is not None:
        where.append("o.id > ?")
        params.append(after_id)
    elif before_id is not None:
        where.append("o.id < ?")
        params.append(before_id)
    sql = (
        "SELECT o.*, m.name AS merchant_name FROM outreach o LEFT JOIN merchants m ON m.id = o.merchant_id"
        + (" WHERE " + " AND ".join(where) if where else "")
        + f" ORDER BY o.id {'ASC' if after_id is not None else 'DESC'} LIMIT ?"
    )
    return list(database.query(sql, params + [limit]))
