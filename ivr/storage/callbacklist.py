"""The call-backs page's SQL: requests by status, and marking one done."""


def callbacks_with_status(database, status, limit, newest_first=False):
    """Return up to `limit` call-back requests with `status`, oldest created first, or newest done first."""
    order = "done_at DESC" if newest_first else "created_at"
    return list(database.query(f"SELECT * FROM callbacks WHERE status = ? ORDER BY {order} LIMIT ?", [status, limit]))


def callback_status(database, callback_id):
    """Return a call-back request's status, or None when there is no such request."""
    found = database.execute("SELECT status FROM callbacks WHERE id = ?", [callback_id]).fetchone()
    return found[0] if found else None


def set_callback_done(database, callback_id, actor, at):
    """Record that `actor` did a call-back request at `at`."""
    database.execute(
        "UPDATE callbacks SET status = 'done', done_by = ?, done_at = ? WHERE id = ?", [actor, at, callback_id]
    )
