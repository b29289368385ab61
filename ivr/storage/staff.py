"""Staff storage: accounts, their sign-in counters and the audit log's rows."""


def add_user(database, name, role, password_hash, created_at):
    """Insert a staff account."""
    database["users"].insert({"name": name, "role": role, "password_hash": password_hash, "created_at": created_at})


def find_user(database, name):
    """Return the user row named `name`, or None."""
    rows = list(database.query("SELECT * FROM users WHERE name = ?", [name]))
    return rows[0] if rows else None


def all_users(database):
    """Return every staff account's public columns, by name."""
    return list(database.query("SELECT id, name, role, created_at, failed_logins, disabled FROM users ORDER BY name"))


def change_user(database, user_id, fields):
    """Set the given columns of the user with id `user_id`."""
    database["users"].update(user_id, fields)


def count_failed_sign_in(database, user_id, at):
    """Add one to a user's run of failed sign-ins, noting when this one happened."""
    database.execute(
        "UPDATE users SET failed_logins = failed_logins + 1, last_failed_at = ? WHERE id = ?", [at, user_id]
    )


def clear_failed_sign_ins(database, user_id):
    """Reset a user's run of failed sign-ins after a good one."""
    database.execute("UPDATE users SET failed_logins = 0, last_failed_at = NULL WHERE id = ?", [user_id])


def add_audit_row(database, at, user, action, target, detail):
    """Append one row to the audit log; `target` and `detail` are text or None."""
    database["audit"].insert({"at": at, "user": user, "action": action, "target": target, "detail": detail})


def audit_rows(database, user, action, target, before, limit):
    """Return up to `limit` audit rows newest first, matching each given user, action and target, ids below `before`."""
    where, params = [], []
    for column, value in (("user", user), ("action", action), ("target", target)):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    if before is not None:
        where.append("id < ?")
        params.append(before)
    sql = "SELECT * FROM audit" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id DESC LIMIT ?"
    return list(database.query(sql, params + [limit]))


def audit_actions(database):
    """Return the distinct action names in the audit log, sorted."""
    return [row[0] for row in database.execute("SELECT DISTINCT action FROM audit ORDER BY action").fetchall()]
