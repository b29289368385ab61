"""Call log reads beyond the webhook's verbs in db.py: calls filtered for the API, and a call's call-backs."""


def calls_matching(database, verdict, since, merchant_id, limit):
    """Return up to `limit` call rows, newest first, matching each given verdict, start stamp floor and merchant."""
    where, params = [], []
    if verdict:
        where.append("verdict = ?")
        params.append(verdict)
    if since:
        where.append("started_at >= ?")
        params.append(since)
    if merchant_id:
        where.append("merchant_id = ?")
        params.append(merchant_id)
    filters = " WHERE " + " AND ".join(where) if where else ""
    sql = "SELECT * FROM calls" + filters + " ORDER BY started_at DESC LIMIT ?"
    return list(database.query(sql, params + [limit]))


def call_callbacks(database, sid):
    """Return the call-back requests filed on a call, in the order they were filed."""
    return list(database.query("SELECT * FROM callbacks WHERE call_sid = ? ORDER BY id", [sid]))
