"""Call-back requests as staff work them: list, and mark done (with an audit row)."""
from ivr import clock
from ivr.errors import Conflict, NotFound
from ivr.staff import audit
from ivr.storage import callbacklist as store
from ivr.storage.db import transaction

LIMIT = 200


def listed(database, status="waiting", limit=LIMIT):
    """Return call-back requests with `status`: waiting ones oldest first, done ones newest first."""
    return store.callbacks_with_status(database, status, limit, newest_first=status != "waiting")


def mark_done(database, callback_id, actor):
    """Mark a waiting call-back request done by `actor`."""
    with transaction(database):
        status = store.callback_status(database, callback_id)
        if status is None:
            raise NotFound(f"no call-back {callback_id}")
        if status != "waiting":
            raise Conflict(f"call-back {callback_id} is already {status}")
        store.set_callback_done(database, callback_id, actor, clock.stamp())
        audit.record(database, actor, "callback.done", callback_id)
