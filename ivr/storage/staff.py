"""Staff storage: accounts, the sign-in throttle's counters and the audit log's rows."""
from ivr.storage import db


def add_user(database, name, role, password_hash, created_at):
    """Insert a staff account."""
    db.insert_row(database, "users", {"name": name, "role": role, "password_hash": password_hash,
                                      "created_at": created_at, "password_changed_at": created_at})


def find_user(database, name):
    """Return the user row named `name`, or None."""
    rows = list(database.query("SELECT * FROM users WHERE name = ?", [name]))
    return rows[0] if rows else None


def find_user_by_id(database, user_id):
    """Return the user row with id `user_id`, or None."""
    rows = list(database.query("SELECT * FROM users WHERE id = ?", [user_id]))
    return rows[0] if rows else None


def all_users(database, limit=None, offset=0):
    """Return the staff accounts' public columns by name: `limit` of them from `offset` (None: every one)."""
    sql = ("SELECT id, name, role, created_at, disabled, last_sign_in_at, password_changed_at, password_temporary_until"
           " FROM users ORDER BY name")
    if limit is None:
        return list(database.query(sql))
    return list(database.query(sql + " LIMIT ? OFFSET ?", [limit, offset]))


def user_names(database, enabled_only):
    """Return the staff accounts' names in order, leaving out disabled ones with `enabled_only`."""
    where = " WHERE disabled = 0" if enabled_only else ""
    return [row[0] for row in database.execute(f"SELECT name FROM users{where} ORDER BY name")]


def count_users(database):
    """Return how many staff accounts there are."""
    return database.execute("SELECT count(*) FROM users").fetchone()[0]


def change_user(database, user_id, fields):
    """Set the given columns of the user with id `user_id`."""
    db.update_row(database, "users", user_id, fields)


def note_sign_in(database, user_id, at):
    """Remember when a user last signed in."""
    database.execute("UPDATE users SET last_sign_in_at = ? WHERE id = ?", [at, user_id])


# -- the sign-in throttle: failures in a row per key ("account:<name>", "address:<ip>") ------------------------


def throttle_rows(database, keys):
    """Return {key: {failures, last_failed_at}} for those of `keys` with failures on record."""
    keys = list(keys)
    if not keys:
        return {}
    marks = ", ".join("?" * len(keys))
    return {row["key"]: row for row in database.query(
        f"SELECT key, failures, last_failed_at FROM sign_in_throttle WHERE key IN ({marks})", keys
    )}


def count_attempt(database, keys, at, forgotten_before):
    """Count one more attempt against each key; a key quiet since `forgotten_before` starts again at one."""
    database.conn.executemany(
        "INSERT INTO sign_in_throttle (key, failures, last_failed_at) VALUES (?, 1, ?)"
        " ON CONFLICT (key) DO UPDATE SET last_failed_at = excluded.last_failed_at,"
        " failures = CASE WHEN sign_in_throttle.last_failed_at < ? THEN 1 ELSE sign_in_throttle.failures + 1 END",
        [(key, at, forgotten_before) for key in keys],
    )


def uncount_attempt(database, key):
    """Take back one counted attempt of `key` (it turned out to be a good one)."""
    database.execute("UPDATE sign_in_throttle SET failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END WHERE key = ?", [key])


def clear_throttle(database, key):
    """Forget every failure counted against `key`."""
    database.execute("DELETE FROM sign_in_throttle WHERE key = ?", [key])


def forget_throttle(database, before):
    """Delete the counters of keys with no attempt since `before`: they would start again anyway."""
    database.execute("DELETE FROM sign_in_throttle WHERE last_failed_at < ?", [before])


# -- the audit log --------------------------------------------------------------------------------------------


def add_audit_row(database, at, user, action, target, detail):
    """Append one row to the audit log; `target` and `detail` are text or None."""
    db.insert_row(database, "audit", {"at": at, "user": user, "action": action, "target": target, "detail": detail})


def audit_rows(database, user, action, target, before, limit):
    """Return up to `limit` audit rows newest first, matching each given user, action and target, ids below `before`."""
    where, params = [], []
    for column, value in (("user", user), ("action", action), ("target", target)):
        if value:
            where.append(f'"{column}" = ?')  # quoted: `user` alone is the session's user on PostgreSQL
            params.append(value)
    if before is not None:
        where.append("id < ?")
        params.append(before)
    sql = "SELECT * FROM audit" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id DESC LIMIT ?"
    return list(database.query(sql, params + [limit]))


def audit_actions(database):
    """Return the distinct action names in the audit log, sorted."""
    return [row[0] for row in database.execute("SELECT DISTINCT action FROM audit ORDER BY action").fetchall()]
