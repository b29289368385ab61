"""Read-side queries for the merchant pages and the outreach list."""
from . import clock, merchants, outreach

PAGE = 50


def search(database, q, limit=PAGE):
    """Return merchants whose number starts with `q` or whose name contains it (newest first when q is empty)."""
    if not q:
        return list(database.query("SELECT * FROM merchants ORDER BY created_at DESC LIMIT ?", [limit]))
    digits = "".join(ch for ch in q if ch.isdigit())
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return list(database.query(
        "SELECT * FROM merchants WHERE (? != '' AND id >= ? AND id < ? || 'z') OR name LIKE ? ESCAPE '\\'"
        " ORDER BY id LIMIT ?",
        [digits, digits, digits, f"%{escaped}%", limit],
    ))


def detail(database, merchant_id, lock_attempts=5, lock_hours=24, limit=PAGE):
    """Return a merchant with phones, lock state, outreach history, recent calls and reports; raise NotFound."""
    merchant = merchants.get_merchant(database, merchant_id)
    merchant_id = merchant["id"]
    calls = list(database.query(
        "SELECT rowid AS rid, sid, from_number, language, started_at, status, duration, verdict FROM calls"
        " WHERE merchant_id = ? ORDER BY started_at DESC LIMIT ?", [merchant_id, limit],
    ))
    found_reports = list(database.query(
        "SELECT * FROM reports WHERE merchant_id = ? ORDER BY created_at DESC LIMIT ?", [merchant_id, limit]
    ))
    return {
        "merchant": merchant,
        "locked": merchants.is_locked(database, merchant_id, None, lock_attempts, lock_hours),
        "failed_codes": merchants.failed_attempts(database, merchant_id=merchant_id, hours=lock_hours),
        "outreach_rows": outreach.for_merchant(database, merchant_id, limit),
        "calls": calls,
        "reports": found_reports,
    }


def list_outreach(database, state="", merchant_id="", before=None, limit=PAGE):
    """Return (outreach newest first without codes, each with its state, has_more)."""
    where, params = [], []
    now = clock.stamp()
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
    if before:
        where.append("o.id < ?")
        params.append(int(before) if str(before).isdigit() else 0)
    sql = (
        "SELECT o.*, m.name AS merchant_name FROM outreach o LEFT JOIN merchants m ON m.id = o.merchant_id"
        + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY o.id DESC LIMIT ?"
    )
    rows = []
    for row in database.query(sql, params + [limit + 1]):
        row["state"] = "expired" if row["status"] == "open" and row["expires_at"] <= now else row["status"]
        rows.append(outreach.public(row))
    return rows[:limit], len(rows) > limit
