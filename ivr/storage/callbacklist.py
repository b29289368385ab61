"""The call-backs page's SQL: requests by status with their attempts, and recording an attempt or the close."""
from ivr.storage import db

# Each request with whether its call withheld the number (its attempts are read apart, by `attempts`).
LISTED = (
    "SELECT c.*, coalesce(k.caller_withheld, 0) AS caller_withheld"
    " FROM callbacks c LEFT JOIN calls k ON k.sid = c.call_sid"
)


def callbacks_with_status(database, status, limit, newest_first=False, before=None, after=None):
    """Return up to `limit` call-back requests with `status`, keyed by (when they were left, id), or with
    `newest_first` by (when they were closed, id): before the cursor `before`, latest first; after `after`, earliest
    first; or with neither, from the earliest (from the latest with `newest_first`)."""
    stamp = "c.done_at" if newest_first else "c.created_at"
    where, params = ["c.status = :status"], {"status": status, "limit": limit}
    # A NULL done_at (rows from before stamps were kept) sorts as the empty string; created_at is never NULL, and
    # left bare so that the index callbacks_status serves the waiting list's pages.
    key = f"coalesce({stamp}, '')" if newest_first else stamp
    if before or after:
        where.append(f"({key}, c.id) {'<' if before else '>'} (:stamp, :id)")
        params.update(stamp=(before or after)[0], id=(before or after)[1])
    order = "ASC" if after or (not before and not newest_first) else "DESC"
    sql = f"{LISTED} WHERE {' AND '.join(where)} ORDER BY {key} {order}, c.id {order} LIMIT :limit"
    return list(database.query(sql, params))


def callback(database, callback_id):
    """Return one call-back request as listed, or None."""
    return next(iter(database.query(f"{LISTED} WHERE c.id = ?", [callback_id])), None)


def attempts(database, callback_ids):
    """Return {callback id: [its attempts, oldest first]}."""
    if not callback_ids:
        return {}
    marks = ",".join("?" * len(callback_ids))
    found = {}
    for row in database.query(
        f"SELECT * FROM callback_attempts WHERE callback_id IN ({marks}) ORDER BY id", list(callback_ids)
    ):
        found.setdefault(row["callback_id"], []).append(row)
    return found


def add_attempt(database, callback_id, outcome, made_by, at):
    """Record one attempt to ring a caller back and return its id."""
    return db.insert_row(
        database, "callback_attempts", {"callback_id": callback_id, "outcome": outcome, "made_by": made_by, "at": at})


def set_callback_done(database, callback_id, actor, at):
    """Record that `actor` closed a call-back request at `at`."""
    database.execute(
        "UPDATE callbacks SET status = 'done', done_by = ?, done_at = ? WHERE id = ?", [actor, at, callback_id]
    )
