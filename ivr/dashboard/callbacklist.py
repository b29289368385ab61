"""Call-back requests as a work queue: waiting ones oldest first with how long they have waited and their attempts."""
from ivr import clock
from ivr.dashboard import paging
from ivr.errors import InvalidInput
from ivr.storage import callbacklist as store
from ivr.verification import cases

PAGE = 100
STATUSES = ("waiting", "done")


def listed(database, status="waiting", before=None, after=None, limit=PAGE):
    """Return (call-back requests with `status`, the older page's cursor, the newer page's cursor; None where there
    is none): waiting ones oldest first, closed ones newest first; each with `waited`, `attempt_list` and
    `nothing_to_call`."""
    oldest_first = status == "waiting"
    before, after = _cursor(before, "before"), _cursor(after, "after")
    rows = store.callbacks_with_status(database, status, limit + 1, newest_first=not oldest_first,
                                       before=before, after=after)
    fetched_oldest_first = bool(after) or (oldest_first and not before)
    rows, has_older, has_newer = paging.keyset_page(rows, limit, fetched_oldest_first, oldest_first,
                                                    bool(before or after))
    attempts = store.attempts(database, [row["id"] for row in rows])
    now = clock.now()
    for row in rows:
        row["waited"] = cases.waited(row, now)
        row["attempt_list"] = attempts.get(row["id"], [])
        row["nothing_to_call"] = cases.nothing_to_call(row)
    if not rows:
        return rows, None, None
    oldest, newest = (rows[0], rows[-1]) if oldest_first else (rows[-1], rows[0])
    stamp = "created_at" if oldest_first else "done_at"
    return (rows, f"{oldest[stamp] or ''}|{oldest['id']}" if has_older else None,
            f"{newest[stamp] or ''}|{newest['id']}" if has_newer else None)


def _cursor(text, name):
    """Return the (stamp, id) a page cursor names, or None; raise InvalidInput for one that is not ours."""
    if not text:
        return None
    stamp, _, number = str(text).rpartition("|")
    if not (number.isdigit() and len(number) <= 18 and len(stamp) <= 40):
        raise InvalidInput("bad page cursor", field=name)
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
