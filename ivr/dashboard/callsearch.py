"""The calls list: filters from the query string, keyset pages both ways, counts (or labelled estimates) and
free-text search."""
import re
from dataclasses import dataclass, field
from datetime import timedelta

from ivr.dashboard import localtime, merchantview, paging
from ivr.phone import to_e164
from ivr.storage import callsearch as store
from ivr.vocabulary import CALL_STATUSES as STATUSES
from ivr.vocabulary import VERDICTS

PAGE = 50
# Up to this many matches are counted one by one; beyond it a filter that no single index answers is estimated.
COUNT_CAP = 10_000
# How many calls, picked evenly through the table, an estimate reads.
ESTIMATE_SAMPLE = 20_000
SORTS = ("newest", "oldest")
# A merchant filter that is not a whole merchant number lists the calls of at most this many matching merchants.
MERCHANT_MATCHES = 200
MERCHANT_NUMBER = re.compile(r"[0-9]{15}")
LAST_FOUR = re.compile(r"(?:[0-9 +*]*\*)?([0-9]{4})")
# Free-text search looks at the newest matching answers only, so a common word stays fast on a million calls.
SEARCH_CAP = 5_000


@dataclass
class CallFilter:
    """The calls list's filters, as validated values."""

    date_from: object = None
    date_to: object = None
    verdict: str = ""
    merchant: str = ""
    caller: str = ""
    called: str = ""  # the number the caller said called them
    language: str = ""
    status: str = ""
    q: str = ""
    sort: str = "newest"
    errors: list = field(default_factory=list)
    hits: list | None = field(default=None, repr=False)  # search results, kept for the page's count query
    merchant_ids: list | None = field(default=None, repr=False)  # merchants a partial number or name matched

    @classmethod
    def from_args(cls, args, languages):
        """Build a filter from query-string arguments, collecting (not raising) what is invalid.

        `languages` are the language codes the flow declares, which a call's language is one of.
        """
        result = cls()
        localtime.parse_range(result, args)
        verdict = (args.get("verdict") or "").strip()
        if verdict and verdict not in VERDICTS + ("none",):
            result.errors.append(f"verdict: unknown value {verdict!r}")
        else:
            result.verdict = verdict
        for name, allowed in (("language", tuple(languages)), ("status", STATUSES)):
            value = (args.get(name) or "").strip()
            if value and value not in allowed:
                result.errors.append(f"{name}: unknown value {value!r}")
            else:
                setattr(result, name, value)
        result.merchant = (args.get("merchant") or "").strip()[:64]
        caller = (args.get("caller") or "").strip()[:40]
        if caller and caller.lower() != "withheld" and to_e164(caller) is None and not last_four(caller):
            result.errors.append(f"caller: {caller!r} is not a phone number or its last four digits")
        else:
            result.caller = caller
        called = (args.get("called") or "").strip()[:40]
        if called and to_e164(called) is None:
            result.errors.append(f"called: {called!r} is not a phone number")
        else:
            result.called = called
        result.q = " ".join((args.get("q") or "").split())[:100]
        sort = (args.get("sort") or "newest").strip()
        if sort not in SORTS:
            result.errors.append(f"sort: unknown value {sort[:20]!r}")
        else:
            result.sort = sort
        return result

    def args(self):
        """Return the filter as query-string arguments (empty ones left out)."""
        values = {
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
            "verdict": self.verdict, "merchant": self.merchant, "caller": self.caller, "called": self.called,
            "language": self.language, "status": self.status, "q": self.q,
            "sort": "" if self.sort == "newest" else self.sort,
        }
        return {key: value for key, value in values.items() if value}


def last_four(text):
    """Return the last four digits a caller filter asks for ("8000", or a masked "138****8000"), or ''."""
    found = LAST_FOUR.fullmatch(text.strip())
    return found.group(1) if found and to_e164(text) is None else ""


def speech_hits(database, text):
    """Return the sids of calls whose callers said `text`, newest answers first, at most SEARCH_CAP."""
    return store.speech_hits(database, text, SEARCH_CAP)


def _criteria(database, filters):
    """Return the stored values a filter asks calls to match, searching what callers said once per filter."""
    if filters.q and filters.hits is None:
        filters.hits = speech_hits(database, filters.q)
    whole_merchant = bool(MERCHANT_NUMBER.fullmatch(filters.merchant))
    if filters.merchant and not whole_merchant and filters.merchant_ids is None:
        filters.merchant_ids = matching_merchants(database, filters.merchant)
    withheld = filters.caller.lower() == "withheld"
    tail = last_four(filters.caller) if filters.caller and not withheld else ""
    return store.CallCriteria(
        started_from=localtime.day_start(filters.date_from) if filters.date_from else "",
        started_before=localtime.day_start(filters.date_to + timedelta(days=1)) if filters.date_to else "",
        verdict="" if filters.verdict == "none" else filters.verdict,
        without_verdict=filters.verdict == "none",
        merchant_id=filters.merchant if whole_merchant else "",
        merchant_ids=filters.merchant_ids if filters.merchant and not whole_merchant else None,
        caller_number=to_e164(filters.caller) if filters.caller and not withheld and not tail else "",
        caller_tail=tail,
        caller_withheld=withheld,
        called_number=to_e164(filters.called) if filters.called else "",
        language=filters.language,
        status=filters.status,
        sids=filters.hits if filters.q else None,
    )


def matching_merchants(database, text, limit=MERCHANT_MATCHES):
    """Return the numbers of the merchants (at most `limit`) a partial merchant number, name or phone finds."""
    return merchantview.matching_ids(database, text, limit)


def list_calls(database, filters, before=None, after=None, limit=PAGE):
    """Return (calls in the filter's order, has_older, has_newer) for one page: the calls before the cursor
    `before` (older) or after `after` (newer), or the first page."""
    criteria = _criteria(database, filters)
    oldest_first = filters.sort == "oldest"
    # A cursor of the older form names no call: its direction's first page is given.
    before = before and paging.read_call_cursor(before, "before")
    after = after and paging.read_call_cursor(after, "after")
    if before:
        rows = store.calls_page(database, criteria, limit + 1, before=before)
    elif after:
        rows = store.calls_page(database, criteria, limit + 1, after=after)
    else:
        rows = store.calls_page(database, criteria, limit + 1, oldest_first=oldest_first)
    fetched_oldest_first = bool(after) or (oldest_first and not before)
    return paging.keyset_page(rows, limit, fetched_oldest_first, oldest_first, bool(before or after))


def page_cursors(rows, has_older, has_newer):
    """Return (cursor for the older page, cursor for the newer page) of a listed page (None where there is none)."""
    if not rows:
        return None, None
    oldest, newest = min(rows, key=_position), max(rows, key=_position)
    return (paging.call_cursor(oldest) if has_older else None), (paging.call_cursor(newest) if has_newer else None)


def _position(row):
    return row["started_at"], row["sid"]


@dataclass
class Count:
    """How many calls match: `value`, and whether it is an estimate."""

    value: int
    estimated: bool = False


def count_calls(database, filters, cap=None):
    """Return a Count of the matching calls: exact up to `cap` matches, and beyond it exact when one index answers
    the filter (a cheap count of an index range), otherwise estimated from a sample."""
    cap = COUNT_CAP if cap is None else cap
    criteria = _criteria(database, filters)
    counted = store.count_calls(database, criteria, cap + 1)
    if counted <= cap:
        return Count(counted)
    if _one_index_answers(criteria):
        return Count(store.count_calls(database, criteria))
    window = store.count_calls(database, store.CallCriteria(started_from=criteria.started_from,
                                                            started_before=criteria.started_before))
    in_window, matched = store.sample_matches(database, criteria, ESTIMATE_SAMPLE, window)
    if not in_window:
        return Count(cap + 1, estimated=True)
    # Never below what was counted one by one.
    return Count(max(round(window * matched / in_window), cap + 1), estimated=True)


def _one_index_answers(criteria):
    """True when the filter is at most one indexed column and the dates, so counting it reads one index range."""
    columns = [criteria.verdict or criteria.without_verdict, criteria.merchant_id, criteria.caller_number,
               criteria.caller_tail, criteria.language, criteria.status]
    return (sum(bool(column) for column in columns) <= 1 and criteria.sids is None and criteria.merchant_ids is None
            and not criteria.called_number and not criteria.caller_withheld)


def rounded(value):
    """Round an estimate to two significant figures (12,345 becomes 12,000), as a number staff read as 'about'."""
    if value < 100:
        return value
    digits = len(str(value)) - 2
    return round(value, -digits)


def iter_calls(database, filters, batch=2000):
    """Yield every matching call in the filter's order, a keyset page at a time (for CSV export)."""
    cursor = None
    oldest_first = filters.sort == "oldest"
    while True:
        if oldest_first:
            rows, _, more = list_calls(database, filters, after=cursor, limit=batch)
        else:
            rows, more, _ = list_calls(database, filters, before=cursor, limit=batch)
        yield from rows
        if not more or not rows:
            return
        cursor = paging.call_cursor(rows[-1])


def said_by_call(database, sids):
    """Return {sid: [what the caller said, ...]} for listed calls (speech answers only)."""
    return store.speech_by_call(database, sids)
