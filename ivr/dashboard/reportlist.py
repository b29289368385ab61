"""Scam reports and the numbers watchlist as the dashboard lists them: filters, pages and a number's detail."""
from dataclasses import dataclass, field
from datetime import timedelta

from ivr import clock
from ivr.dashboard import localtime, paging
from ivr.phone import to_e164
from ivr.storage import reportlist as store
from ivr.vocabulary import CASE_STATUSES

PAGE = 50
ASKED_PAGE = 50
NUMBER_STATUSES = ("reported", "suspected", "confirmed", "cleared")
SORTS = ("newest", "oldest")
# The assignee filter's value for reports no one has taken; user names never hold parentheses.
UNASSIGNED = "(none)"


@dataclass
class ReportFilter:
    """Filters for the reports list and its CSV export."""

    date_from: object = None
    date_to: object = None
    category: str = ""
    number: str = ""
    status: str = ""  # a case status
    assignee: str = ""  # a staff user's name, or UNASSIGNED
    mine: bool = False  # assigned to the staff member looking
    sort: str = "newest"
    errors: list = field(default_factory=list)

    @classmethod
    def from_args(cls, args, me=None):
        """Build a filter from query-string arguments, collecting what is invalid; `me` names who "mine" means."""
        result = cls()
        localtime.parse_range(result, args)
        result.category = (args.get("category") or "").strip()[:100]
        number = (args.get("number") or "").strip()[:40]
        if number and to_e164(number) is None:
            result.errors.append(f"number: {number!r} is not a phone number")
        else:
            result.number = number
        status = (args.get("status") or "").strip()
        if status and status not in CASE_STATUSES:
            result.errors.append(f"status: unknown value {status[:20]!r}")
        else:
            result.status = status
        result.assignee = (args.get("assignee") or "").strip()[:64]
        result.mine = bool(args.get("mine")) and bool(me)
        if result.mine:
            result.assignee = me
        sort = (args.get("sort") or "newest").strip()
        if sort not in SORTS:
            result.errors.append(f"sort: unknown value {sort[:20]!r}")
        else:
            result.sort = sort
        return result

    def args(self):
        """Return the filter as query-string arguments (empty ones and the default order left out)."""
        values = {
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
            "category": self.category, "number": self.number, "status": self.status,
            "assignee": "" if self.mine else self.assignee, "mine": "1" if self.mine else "",
            "sort": "" if self.sort == "newest" else self.sort,
        }
        return {key: value for key, value in values.items() if value}


def _criteria(filters):
    """Return the stored values a filter asks reports to match."""
    return store.ReportCriteria(
        created_from=localtime.day_start(filters.date_from) if filters.date_from else "",
        created_before=localtime.day_start(filters.date_to + timedelta(days=1)) if filters.date_to else "",
        category=filters.category,
        number=to_e164(filters.number) if filters.number else "",
        case_status=filters.status,
        assignee="" if filters.assignee == UNASSIGNED else filters.assignee,
        unassigned=filters.assignee == UNASSIGNED,
    )


def list_reports(database, filters, before=None, after=None, limit=PAGE):
    """Return (reports in the filter's order, has_older, has_newer) for one page: the reports filed before report id
    `before` (older), after `after` (newer), or the first page."""
    criteria = _criteria(filters)
    oldest_first = filters.sort == "oldest"
    if before:
        rows = store.reports_page(database, criteria, paging.id_cursor(before, "before"), limit + 1)
    elif after:
        rows = store.reports_page(database, criteria, paging.id_cursor(after, "after"), limit + 1, oldest_first=True)
    else:
        rows = store.reports_page(database, criteria, None, limit + 1, oldest_first=oldest_first)
    fetched_oldest_first = bool(after) or (oldest_first and not before)
    return paging.keyset_page(rows, limit, fetched_oldest_first, oldest_first, bool(before or after))


def iter_reports(database, filters, batch=2000):
    """Yield every matching report in the filter's order (for CSV export)."""
    cursor = None
    oldest_first = filters.sort == "oldest"
    while True:
        if oldest_first:
            rows, _, more = list_reports(database, filters, after=cursor, limit=batch)
        else:
            rows, more, _ = list_reports(database, filters, before=cursor, limit=batch)
        yield from rows
        if not more or not rows:
            return
        cursor = rows[-1]["id"]


def asked_counts(database, rows):
    """Return {reported number: how many calls asked about it} for the reports `rows`."""
    return store.asked_counts(database, [row["number"] for row in rows])


def asked_calls(database, number, before=None, after=None, limit=ASKED_PAGE):
    """Return (calls whose verify branch was told `number` called them, the latest asking first, has_older,
    has_newer) for one page: asked before the event id `before`, after `after`, or the latest."""
    if before:
        rows = store.asked_calls(database, number, limit + 1, before=paging.id_cursor(before, "asked_before"))
    elif after:
        rows = store.asked_calls(database, number, limit + 1, after=paging.id_cursor(after, "asked_after"))
    else:
        rows = store.asked_calls(database, number, limit + 1)
    return paging.keyset_page(rows, limit, bool(after), False, bool(before or after))


def categories(database):
    """Return the report categories in use, for the filter menu."""
    return store.report_categories(database)


def number_detail(database, number, window_days=30):
    """Return a number's watchlist row, its reports (each with `counted`), what counts towards the watchlist, and
    its status history, or None."""
    row = store.watched_number(database, number)
    reports = store.number_reports(database, number)
    if row is None and not reports:
        return None
    changes = store.number_changes(database, number)
    merchants = sorted({report["merchant_id"] for report in reports if report["merchant_id"]})
    since = clock.stamp(clock.now() - timedelta(days=window_days))
    counted_merchants, recent_merchants, uncounted = store.number_report_counts(database, number, since)
    return {
        "number": number,
        "row": row or {"number": number, "status": "reported"},
        "reports": reports,
        "changes": changes,
        "merchants": merchants,
        "counted_merchants": counted_merchants,
        "recent_merchants": recent_merchants,
        "uncounted_reports": uncounted,
        "window_days": window_days,
    }


def empty_number(number, window_days=30):
    """The number page's data for a number never reported (shown when it is locked as a calling number)."""
    return {"number": number, "row": {"number": number, "status": None}, "reports": [], "changes": [],
            "merchants": [], "counted_merchants": 0, "recent_merchants": 0, "uncounted_reports": 0,
            "window_days": window_days}
