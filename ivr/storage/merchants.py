"""Merchants' SQL: merchants, their registered phones, reference-code attempts and lock lifts."""
from ivr.storage.connection import transaction

# Each lock counter's scope: (the column its key is in, which attempts fill it).
COUNTERS = {
    "merchant_strangers": ("merchant_id", "merchant_id IS NOT NULL AND registered = 0"),
    "merchant_registered": ("merchant_id", "merchant_id IS NOT NULL AND registered = 1"),
    "number": ("caller_number", "caller_number IS NOT NULL"),
}
# Wrong codes within the window and after the counter's last lift. An attempt fills two counters (its merchant's
# and its number's), so lifting one must leave the other as it is: lifts are kept per counter.
_COUNTED = (
    "success = 0 AND at >= :since AND at > coalesce("
    "(SELECT max(l.at) FROM lock_lifts l WHERE l.scope = :scope AND l.key = {column}), '')"
)


def merchant_exists(database, merchant_id):
    """True when a merchant with this id is stored."""
    return database.execute("SELECT 1 FROM merchants WHERE id = ?", [merchant_id]).fetchone() is not None


def insert_merchant(database, merchant_id, name, at):
    """Store a new merchant created at `at`."""
    database.execute(
        "INSERT INTO merchants (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)", [merchant_id, name, at, at]
    )


def update_merchant_name(database, merchant_id, name, at):
    """Rename a stored merchant, updated at `at`."""
    database.execute("UPDATE merchants SET name = ?, updated_at = ? WHERE id = ?", [name, at, merchant_id])


def replace_phones(database, merchant_id, numbers):
    """Make `numbers` the merchant's registered phones, in place of those it had."""
    with transaction(database):
        database.execute("DELETE FROM merchant_phones WHERE merchant_id = ?", [merchant_id])
        database.conn.executemany(
            "INSERT INTO merchant_phones (merchant_id, phone) VALUES (?, ?)",
            [(merchant_id, number) for number in numbers],
        )


def merchant_row(database, merchant_id):
    """Return a merchant's row as a dict, or None."""
    return next(iter(database.query("SELECT * FROM merchants WHERE id = ?", [merchant_id])), None)


def merchant_phones(database, merchant_id):
    """Return a merchant's registered phones, in order."""
    return [row[0] for row in database.execute(
        "SELECT phone FROM merchant_phones WHERE merchant_id = ? ORDER BY phone", [merchant_id]
    ).fetchall()]


def merchants_with_phone(database, number):
    """Return the ids, in order, of the merchants that registered `number`."""
    return [row[0] for row in database.execute(
        "SELECT merchant_id FROM merchant_phones WHERE phone = ? ORDER BY merchant_id", [number]
    ).fetchall()]


def mark_unlocked(database, merchant_id, at, actor):
    """Record on the merchant's row when its locks were last lifted, and by whom."""
    database.execute("UPDATE merchants SET unlocked_at = ?, unlocked_by = ? WHERE id = ?", [at, actor, merchant_id])


def insert_attempt(database, merchant_id, caller_number, call_sid, at, success, registered):
    """Store one reference-code attempt."""
    database.execute(
        "INSERT INTO code_attempts (merchant_id, caller_number, call_sid, at, success, registered)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [merchant_id, caller_number, call_sid, at, int(bool(success)), int(bool(registered))],
    )


def count_failed(database, scope, key, since):
    """Count the wrong codes in one counter (`scope` of COUNTERS, for `key`) since `since` and its last lift."""
    column, fills = COUNTERS[scope]
    return database.execute(
        f"SELECT count(*) FROM code_attempts WHERE {fills} AND {column} = :key AND {_COUNTED.format(column=column)}",
        {"key": key, "since": since, "scope": scope},
    ).fetchone()[0]


def counters_at_limit(database, scope, since, limit, key=None):
    """Return (key, failures, last_at) of each counter in `scope` (or only `key`'s) with `limit` or more wrong codes."""
    column, fills = COUNTERS[scope]
    where = f"{fills} AND {_COUNTED.format(column=column)}" + (f" AND {column} = :key" if key is not None else "")
    return [tuple(row) for row in database.execute(
        f"SELECT {column}, count(*), max(at) FROM code_attempts WHERE {where} GROUP BY {column}"
        " HAVING count(*) >= :limit", {"since": since, "scope": scope, "limit": limit, "key": key},
    ).fetchall()]


def nth_newest_failure(database, scope, key, since, n):
    """Return when the `n`-th newest counted wrong code of one counter was typed (n = 1 is the newest)."""
    column, fills = COUNTERS[scope]
    return database.execute(
        f"SELECT at FROM code_attempts WHERE {fills} AND {column} = :key AND {_COUNTED.format(column=column)}"
        " ORDER BY at DESC LIMIT 1 OFFSET :offset", {"since": since, "scope": scope, "key": key, "offset": n - 1},
    ).fetchone()[0]


def insert_lock_lift(database, scope, key, at, actor):
    """Store the lift of one counter's lock."""
    database.execute("INSERT INTO lock_lifts (scope, key, at, lifted_by) VALUES (?, ?, ?, ?)", [scope, key, at, actor])
