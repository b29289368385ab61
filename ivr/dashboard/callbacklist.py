"""Call-back requests as staff work them: list, and mark done (with an audit row)."""
from ivr import clock
from ivr.errors import Conflict, NotFound
from ivr.staff import audit
from ivr.storage.db import transaction

LIMIT = 200


def listed(database, status="waiting", limit=LIMIT):
    """Return call-back requests with `status`: waiting ones oldest first, done ones newest first."""
    order = "created_at" if status == "waiting" else "done_at DESC"
    return list(database.query(f"SELECT * FROM callbacks WHERE status = ? ORDER BY {order} LIMIT ?", [status, limit]))


def mark_done(database, callback_id, actor):
    """Mark a waiting call-back request done by `actor`."""
    with transaction(database):
        found = database.execute("SELECT status FROM callbacks WHERE id = ?", [callback_id]).fetchone()
        if found is None:
            raise NotFound(f"no call-back {callback_id}")
        if found[0] != "waiting":
            raise Conflict(f"call-back {callback_id} is already {found[0]}")
        database.execute(
            "UPDATE callbacks SET status = 'done', done_by = ?, done_at = ? WHERE id = ?",
            [actor, clock.stamp(), callback_id],
        )
        audit.record(database, actor, "callback.done", callback_id)
