"""The audit log page's SQL: a page of rows newer than a row, for paging back towards the newest."""


def audit_rows_after(database, user, action, target, after, limit):
    """Return up to `limit` audit rows with ids above `after`, oldest first, matching each given user, action and
    target."""
    where, params = ["id > ?"], [after]
    for column, value in (("user", user), ("action", action), ("target", target)):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    return list(database.query(
        "SELECT * FROM audit WHERE " + " AND ".join(where) + " ORDER BY id LIMIT ?", params + [limit]
    ))
