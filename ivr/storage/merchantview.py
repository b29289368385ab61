"""The merchant pages' SQL: finding merchants, a merchant's calls and reports, lock references, the outreach list."""


def newest_merchants(database, limit):
    """Return the `limit` most recently created merchants."""
    return list(database.query("SELECT * FROM merchants ORDER BY created_at DESC LIMIT ?", [limit]))


def merchants_matching(database, digits, text, limit):
    """Return merchants whose id starts with `digits` (when not empty) or whose name contains `text`, by id."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return list(database.query(
        "SELECT * FROM merchants WHERE (? != '' AND id >= ? AND id < ? || 'z') OR name LIKE ? ESCAPE '\\'"
        " ORDER BY id LIMIT ?",
        [digits, digits, digits, f"%{escaped}%", limit],
    ))


def merchant_calls(database, merchant_id, limit):
    """Return a merchant's `limit` newest calls."""
    return list(database.query(
        "SELECT rowid AS rid, sid, from_number, language, started_at, status, duration, verdict, identified_by"
        " FROM calls WHERE merchant_id = ? ORDER BY started_at DESC LIMIT ?", [merchant_id, limit],
    ))


def merchant_reports(database, merchant_id, limit):
    """Return a merchant's `limit` newest reports."""
    return list(database.query(
        "SELECT * FROM reports WHERE merchant_id = ? ORDER BY created_at DESC LIMIT ?", [merchant_id, limit]
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


def outreach_page(database, state, merchant_id, before_id, now, limit):
    """Return up to `limit` outreach rows with their merchant's name, newest first: in `state` at `now` (open,
    expired or a stored status; '' for all), of `merchant_id` ('' for all), with ids below `before_id` (None: all)."""
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
    if before_id is not None:
        where.append("o.id < ?")
        params.append(before_id)
    sql = (
        "SELECT o.*, m.name AS merchant_name FROM outreach o LEFT JOIN merchants m ON m.id = o.merchant_id"
        + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY o.id DESC LIMIT ?"
    )
    return list(database.query(sql, params + [limit]))
