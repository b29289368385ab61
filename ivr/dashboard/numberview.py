"""What the numbers pages show: the watchlist sorted a page at a time, where a number is registered and with which
carrier, the merchants who asked about it, and the "new suspected number" banner until someone has opened it."""
import math
from dataclasses import dataclass

import phonenumbers
from phonenumbers import carrier, geocoder

from ivr import clock
from ivr.errors import InvalidInput
from ivr.storage import db
from ivr.storage import numberview as store

PAGE = 50
SORTS = tuple(store.NUMBER_ORDERS)
# The number page lists the merchants who asked about it this many to a page.
ASKING_MERCHANTS = 50
# The banner names this many of the newest suspected numbers and counts the rest.
BANNER_NAMES = 3


@dataclass
class NumberList:
    """One page of the numbers list: its rows, how many numbers match in all, and where it is."""

    rows: list
    total: int
    page: int
    pages: int


def list_numbers(database, status="", q="", sort="last_reported", page=1, limit=PAGE, lang="zh"):
    """Return a NumberList of watchlist numbers with `status` and containing `q`'s digits, sorted by an
    allow-listed key, each with its location and carrier in `lang`."""
    if sort not in SORTS:
        raise InvalidInput(f"sort: unknown value {sort[:20]!r}", field="sort")
    fragment = "".join(ch for ch in q if ch.isdigit() or ch == "+")
    total = store.count_numbers(database, status, fragment)
    pages = max(math.ceil(total / limit), 1)
    page = min(max(page, 1), pages)
    rows = store.numbers_page(database, status, fragment, sort, limit, (page - 1) * limit)
    for row in rows:
        row.update(where_from(row["number"], lang))
    return NumberList(rows, total, page, pages)


def where_from(number, lang="zh"):
    """Return {location, carrier} of a phone number from phonenumbers' offline data, in `lang` ('' when unknown)."""
    try:
        parsed = phonenumbers.parse(number or "", None)
    except phonenumbers.NumberParseException:
        return {"location": "", "carrier": ""}
    return {"location": geocoder.description_for_number(parsed, lang),
            "carrier": carrier.name_for_number(parsed, lang)}


def number_facts(database, number, lang="zh", asking_page=1):
    """Return what the number page adds about `number`: where it is from, a page of the merchants who asked about
    it, and who first opened it since it became suspected."""
    # The query groups every asking call before it sorts, so reading the pages before this one as well costs little.
    skipped = (asking_page - 1) * ASKING_MERCHANTS
    asking = store.asking_merchants(database, number, skipped + ASKING_MERCHANTS + 1)[skipped:]
    return dict(where_from(number, lang), asking=asking[:ASKING_MERCHANTS], asking_page=asking_page,
                asking_more=len(asking) > ASKING_MERCHANTS, sighting=store.suspected_sighting(database, number))


def note_opened(database, found, who):
    """Record that `who` opened the page of `found` (number_page's data) if it is a suspected number no one has
    opened since it became suspected, so the banner stops showing it; return the page's data updated."""
    row, sighting = found["row"], found.get("sighting")
    if row.get("status") != "suspected":
        return found
    if sighting is not None and sighting["seen_at"] >= (row.get("status_changed_at") or ""):
        return found
    # A write on a GET, but only the first time the number is opened: the banner counts on it.
    with db.transaction(database):
        store.note_suspected_seen(database, found["number"], who, clock.stamp())
    return dict(found, sighting=store.suspected_sighting(database, found["number"]), first_opening=True)


def banner(database):
    """Return (how many suspected numbers no one has opened yet, the newest few of them)."""
    return store.unseen_suspected(database, BANNER_NAMES)
