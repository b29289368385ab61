"""Staff sessions kept on the server (by the SHA-256 of their id), and the numbers revealed in each."""


def add_session(database, token_hash, user_id, at, expires_at, remote):
    """Insert a session and return its row id."""
    cursor = database.execute(
        "INSERT INTO staff_sessions (token_hash, user_id, created_at, last_seen_at, expires_at, remote)"
        " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        [token_hash, user_id, at, at, expires_at, remote],
    )
    return cursor.fetchall()[0][0]


def find_session(database, token_hash):
    """Return the session stored under `token_hash`, or None."""
    rows = list(database.query("SELECT * FROM staff_sessions WHERE token_hash = ?", [token_hash]))
    return rows[0] if rows else None


def touch_session(database, session_id, at):
    """Note that a session was used at `at`."""
    database.execute("UPDATE staff_sessions SET last_seen_at = ? WHERE id = ?", [at, session_id])


def revoke_session(database, session_id, at, reason):
    """End one session, saying why."""
    database.execute(
        "UPDATE staff_sessions SET revoked_at = ?, revoked_reason = ? WHERE id = ? AND revoked_at IS NULL",
        [at, reason, session_id],
    )


def revoke_user_sessions(database, user_id, at, reason):
    """End every open session of a user, saying why; return how many were open."""
    return database.execute(
        "UPDATE staff_sessions SET revoked_at = ?, revoked_reason = ? WHERE user_id = ? AND revoked_at IS NULL",
        [at, reason, user_id],
    ).rowcount


def forget_sessions(database, before):
    """Delete sessions that expired or were revoked before `before` (their revealed numbers go with them)."""
    database.execute("DELETE FROM staff_sessions WHERE expires_at < ? OR revoked_at < ?", [before, before])


def add_reveals(database, session_id, record, numbers, at, expires_at):
    """Keep `numbers` (of the record "kind:ref") shown in full in one session until `expires_at`."""
    database.conn.executemany(
        "INSERT INTO revealed_numbers (session_id, number, record, revealed_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        [(session_id, number, record, at, expires_at) for number in numbers],
    )


def revealed_numbers(database, session_id, now):
    """Return {number: record it was revealed on} for a session's reveals that have not expired by `now`."""
    return dict(database.execute(
        "SELECT number, record FROM revealed_numbers WHERE session_id = ? AND expires_at > ? ORDER BY id",
        [session_id, now],
    ).fetchall())


def forget_reveals(database, before):
    """Delete reveals that expired before `before`."""
    database.execute("DELETE FROM revealed_numbers WHERE expires_at < ?", [before])
