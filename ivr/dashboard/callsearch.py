"""The calls list: filters from the query string, keyset pages, capped counts and free-text search."""
from dataclasses import dataclass, field
from datetime import timedelta

from ivr.dashboard import localtime
from ivr.errors import InvalidInput
from ivr.phone import to_e164
from ivr.storage import callsearch as store
from ivr.vocabulary import CALL_STATUSES as STATUSES
from ivr.vocabulary import VERDICTS

PAGE = 50
COUNT_CAP = 10_000
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
    language: str = ""
    status: str = ""
    q: str = ""
    errors: list = field(default_factory=list)
    hits: list | None = field(default=None, repr=False)  # search results, kept for the page's count query

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
        if caller and caller.lower() != "withheld" and to_e164(caller) is None:
            result.errors.append(f"caller: {caller!r} is not a phone number")
        else:
            result.caller = caller
        result.q = " ".join((args.get("q") or "").split())[:100]
        return result

    def args(self):
        """Return the filter as query-string arguments (empty ones left out)."""
        values = {
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
            "verdict": self.verdict, "merchant": self.merchant, "caller": self.caller,
            "language": self.language, "status": self.status, "q": self.q,
        }
        return {key: value for key, value in values.items() if value}


def speech_hits(database, text):
    """Return the sids of calls whose callers said `text`, newest answers first, at most SEARCH_CAP."""
    return store.speech_hits(database, text, SEARCH_CAP)


def _criteria(database, filters):
    """Return the stored values a filter asks calls to match, searching what callers said once per filter."""
    if filters.q and filters.hits is None:
        filters.hits = speech_hits(database, filters.q)
    withheld = filters.caller.lower() == "withheld"
    return store.CallCriteria(
        started_from=localtime.day_start(filters.date_from) if filters.date_from else "",
        started_before=localtime.day_start(filters.date_to + timedelta(days=1)) if filters.date_to else "",
        verdict="" if filters.verdict == "none" else filters.verdict,
        without_verdict=filters.verdict == "none",
        merchant_id=filters.merchant,
        caller_number=to_e164(filters.caller) if filters.caller and not withheld else "",
        caller_withheld=withheld,
        language=filters.language,
        status=filters.status,
        sids=filters.hits if filters.q else None,
    )


def _cursor(text):
    try:
        started, rid = text.rsplit("|", 1)
        return started, int(rid)
    except (AttributeError, ValueError):
        raise InvalidInput("bad page cursor", field="cursor") from None


def cursor_of(row):
    """Return the keyset cursor that points at a listed call."""
    return f"{row['started_at']}|{row['rid']}"


def list_calls(database, filters, before=None, after=None, limit=PAGE):
    """Return (calls newest first, has_older, has_newer) for one page before or after a cursor."""
    criteria = _criteria(database, filters)
    if before:
        rows = store.calls_page(database, criteria, limit + 1, before=_cursor(before))
    else:
        rows = store.calls_page(database, criteria, limit + 1, after=_cursor(after) if after else None)
    more = len(rows) > limit
    rows = rows[:limit]
    if after:
        rows.reverse()
        return rows, True, more
    return rows, more, bool(before)


def count_calls(database, filters, cap=COUNT_CAP):
    """Return how many calls match, counting no further than `cap` (the page shows 'cap+')."""
    return store.count_calls(database, _criteria(database, filters), cap + 1)


def iter_calls(database, filters, batch=2000):
    """Yield every matching call, newest first, a keyset page at a time (for CSV export)."""
    before = None
    while True:
        rows, more, _ = list_calls(database, filters, before=before, limit=batch)
        yield from rows
        if not more or not rows:
            return
        before = cursor_of(rows[-1])


def said_by_call(database, sids):
    """Return {sid: [what the caller said, ...]} for listed calls (speech answers only)."""
    return store.speech_by_call(database, sids)
