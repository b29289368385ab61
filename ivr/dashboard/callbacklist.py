"""Call-back requests as a work queue: waiting ones oldest first with how long they have waited and their attempts."""
from ivr import clock
from ivr.errors import InvalidInput
from ivr.storage import callbacklist as store
from ivr.verification import cases

PAGE = 100
STATUSES = ("waiting", "done")


def listed(database, status="waiting", after=None, limit=PAGE):
    """Return (call-back requests with `status`, the next page's cursor or None): waiting ones oldest first, closed
    ones newest first; each with `waited`, `attempt_list` and `nothing_to_call`."""
    rows = store.callbacks_with_status(database, status, limit + 1, newest_first=status != "waiting",
                                       after=_cursor(after))
    rows, more = rows[:limit], len(rows) > limit
    attempts = store.attempts(database, [row["id"] for row in rows])
    now = clock.now()
    for row in rows:
        row["waited"] = cases.waited(row, now)
        row["attempt_list"] = attempts.get(row["id"], [])
        row["nothing_to_call"] = cases.nothing_to_call(row)
    last = rows[-1] if rows and more else None
    following = f"{(last['done_at'] if status != 'waiting' else last['created_at']) or ''}|{last['id']}" if last else None
    return rows, following


def _cursor(text):
    """Return the (stamp, id) a page cursor names, or None; raise InvalidInput for one that is not ours."""
    if not text:
        return None
    stamp, _, number = str(text).rpartition("|")
    if not (number.isdigit() and len(number) <= 18 and len(stamp) <= 40):
        raise InvalidInput("bad page cursor", field="after")
    return stamp, int(number)


def mark_done(database, callback_id, actor):
    """Mark a waiting call-back request done: the older single button, recorded as an attempt that reached them."""
    cases.log_attempt(database, callback_id, "reached", actor)


def waited_words(waited, translate):
    """Return a waiting time as staff read it ("2 d 3 h", "45 min"), with `translate(text, **values)`."""
    minutes = int(waited.total_seconds() // 60)
    days, hours, minutes = minutes // (24 * 60), minutes // 60 % 24, minutes % 60
    if days:
        return translate("{d} d {h} h", d=days, h=hours)
    if hours:
        return translate("{h} h {m} min", h=hours, m=minutes)
    return translate("{m} min", m=minutes)
