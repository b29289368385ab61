"""Paging shared by the dashboard's lists: keyset pages in both directions, and numbered pages for short lists."""
import math
import re
from dataclasses import dataclass

from ivr.errors import InvalidInput


def keyset_page(rows, limit, fetched_oldest_first, oldest_first, came_by_cursor):
    """Return (rows in the list's order, has_older, has_newer) of a page fetched with one row more than `limit`."""
    more = len(rows) > limit
    rows = rows[:limit]
    if fetched_oldest_first != oldest_first:
        rows.reverse()
    # The direction fetched has `more` beyond this page; the other has pages whenever a cursor brought us here.
    if fetched_oldest_first:
        return rows, came_by_cursor, more
    return rows, more, came_by_cursor


def id_cursors(rows, has_older, has_newer, key="id"):
    """Return (cursor for the older page, cursor for the newer page) of a page keyed by a growing id, or None."""
    if not rows:
        return None, None
    ids = [row[key] for row in rows]
    return (min(ids) if has_older else None), (max(ids) if has_newer else None)


def id_cursor(text, name):
    """Return the integer id a page cursor names; raise InvalidInput for one that is not ours."""
    # Ids are SQLite integers: a longer number would not fit the query, so it is not one of ours.
    if not (str(text).isdigit() and len(str(text)) <= 18):
        raise InvalidInput("bad page cursor", field=name)
    return int(text)


CALL_CURSOR = re.compile(r"(?P<started>[0-9T:.+Z-]{10,40})\|(?P<sid>[A-Za-z0-9]{1,64})")


def call_cursor(row):
    """Return the cursor of a listed call: where it starts and its sid, the key calls are paged by."""
    return f"{row['started_at']}|{row['sid']}"


def read_call_cursor(text, name):
    """Return the (started_at, sid) a call cursor names, None for one of the older (started_at, rowid) form, which
    gives the first page; raise InvalidInput for one that is not ours."""
    match = CALL_CURSOR.fullmatch(str(text))
    if match is None:
        raise InvalidInput("bad page cursor", field=name)
    if match["sid"].isdigit():
        return None
    return match["started"], match["sid"]


@dataclass
class Numbered:
    """Where a numbered page sits: its number, how many pages there are, and the rows it skips."""

    page: int
    pages: int
    offset: int


def numbered(total, page, limit):
    """Return the Numbered page `page` (clamped to those that exist) of `total` rows, `limit` to a page."""
    pages = max(math.ceil(total / limit), 1)
    page = min(max(page, 1), pages)
    return Numbered(page, pages, (page - 1) * limit)


def page_number(text):
    """Return the page number a query string asks for (1 when it asks for none, or for nonsense)."""
    text = text or ""
    return int(text) if text.isdigit() and len(text) < 9 else 1
