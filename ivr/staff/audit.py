"""The audit log: who did what to which record, and when."""
import json

from ivr import clock

PAGE = 100


def record(database, user, action, target=None, detail=None):
    """Append one audit row (sign-in, reveal, status change, ...)."""
    database["audit"].insert(
        {
            "at": clock.stamp(),
            "user": user,
            "action": action,
            "target": None if target is None else str(target),
            "detail": None if detail is None else json.dumps(detail, ensure_ascii=False, sort_keys=True),
        }
    )


def entries(database, user=None, action=None, target=None, before=None, limit=PAGE):
    """Return audit rows newest first, filtered by user, action or target, older than id `before`."""
    where, params = [], []
    for column, value in (("user", user), ("action", action), ("target", target)):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    if before:
        where.append("id < ?")
        params.append(int(before))
    sql = "SELECT * FROM audit" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id DESC LIMIT ?"
    rows = list(database.query(sql, params + [limit]))
    for row in rows:
        try:
            row["detail_data"] = json.loads(row["detail"]) if row["detail"] else {}
        except ValueError:
            row["detail_data"] = {"text": row["detail"]}
    return rows


def actions(database):
    """Return the distinct action names seen in the log, for the filter menu."""
    return [row[0] for row in database.execute("SELECT DISTINCT action FROM audit ORDER BY action").fetchall()]
