"""Read-side queries for scam reports and the numbers watchlist, as the dashboard lists them."""
from dataclasses import dataclass, field
from datetime import timedelta

from ivr import clock
from ivr.dashboard import localtime
from ivr.errors import InvalidInput
from ivr.phone import to_e164

PAGE = 50
NUMBER_STATUSES = ("reported", "suspected", "confirmed", "cleared")


@dataclass
class ReportFilter:
    """Filters for the reports list and its CSV export."""

    date_from: object = None
    date_to: object = None
    category: str = ""
    number: str = ""
    errors: list = field(default_factory=list)

    @classmethod
    def from_args(cls, args):
        """Build a filter from query-string arguments, collecting what is invalid."""
        result = cls()
        localtime.parse_range(result, args)
        result.category = (args.get("category") or "").strip()[:100]
        number = (args.get("number") or "").strip()[:40]
        if number and to_e164(number) is None:
            result.errors.append(f"number: {number!r} is not a phone number")
        else:
            result.number = number
        return result

    def args(self):
        """Return the filter as query-string arguments (empty ones left out)."""
        values = {
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
            "category": self.category, "number": self.number,
        }
        return {key: value for key, value in values.items() if value}


def _where(filters):
    where, params = [], []
    if filters.date_from:
        where.append("created_at >= ?")
        params.append(localtime.day_start(filters.date_from))
    if filters.date_to:
        where.append("created_at < ?")
        params.append(localtime.day_start(filters.date_to + timedelta(days=1)))
    if filters.category:
        where.append("category = ?")
        params.append(filters.category)
    if filters.number:
        where.append("number = ?")
        params.append(to_e164(filters.number))
    return where, params


def list_reports(database, filters, before=None, limit=PAGE):
    """Return (reports newest first, has_more) older than report id `before`."""
    where, params = _where(filters)
    if before:
        try:
            params.append(int(before))
        except ValueError:
            raise InvalidInput("bad page cursor", field="before") from None
        where.append("id < ?")
    sql = "SELECT * FROM reports" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id DESC LIMIT ?"
    rows = list(database.query(sql, params + [limit + 1]))
    return rows[:limit], len(rows) > limit


def iter_reports(database, filters, batch=2000):
    """Yield every matching report, newest first (for CSV export)."""
    before = None
    while True:
        rows, more = list_reports(database, filters, before, batch)
        yield from rows
        if not more:
            return
        before = rows[-1]["id"]


def categories(database):
    """Return the report categories in use, for the filter menu."""
    return [row[0] for row in database.execute("SELECT DISTINCT category FROM reports ORDER BY category")]


def list_numbers(database, status="", search="", before=None, limit=PAGE):
    """Return (reported numbers, most recently reported first, with report and distinct-merchant counts, has_more)."""
    where, params = [], []
    if status:
        where.append("n.status = ?")
        params.append(status)
    if search:
        where.append("n.number LIKE ?")
        params.append("%" + "".join(ch for ch in search if ch.isdigit() or ch == "+") + "%")
    if before:
        stamp, _, number = before.partition("|")
        where.append("(n.last_reported_at < ? OR (n.last_reported_at = ? AND n.number < ?))")
        params += [stamp, stamp, number]
    sql = (
        "SELECT n.*, (SELECT count(*) FROM reports r WHERE r.number = n.number) AS reports,"
        " (SELECT count(DISTINCT r.merchant_id) FROM reports r WHERE r.number = n.number) AS merchants,"
        " (SELECT count(DISTINCT r.merchant_id) FROM reports r WHERE r.number = n.number AND r.counted = 1)"
        " AS counted_merchants,"
        " (SELECT group_concat(DISTINCT r.category) FROM reports r WHERE r.number = n.number) AS categories"
        " FROM numbers n" + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY n.last_reported_at DESC, n.number DESC LIMIT ?"
    )
    rows = list(database.query(sql, params + [limit + 1]))
    return rows[:limit], len(rows) > limit


def number_detail(database, number, window_days=30):
    """Return a number's watchlist row, its reports (each with `counted`), what counts towards the watchlist, and
    its status history, or None."""
    rows = list(database.query("SELECT * FROM numbers WHERE number = ?", [number]))
    reports = list(database.query("SELECT * FROM reports WHERE number = ? ORDER BY id DESC LIMIT 200", [number]))
    if not rows and not reports:
        return None
    changes = list(database.query(
        "SELECT * FROM number_status_changes WHERE number = ? ORDER BY id DESC", [number]
    ))
    merchants = sorted({report["merchant_id"] for report in reports if report["merchant_id"]})
    since = clock.stamp(clock.now() - timedelta(days=window_days))
    counted_merchants, recent_merchants, uncounted = database.execute(
        "SELECT count(DISTINCT CASE WHEN counted = 1 THEN merchant_id END),"
        " count(DISTINCT CASE WHEN counted = 1 AND created_at >= ? THEN merchant_id END),"
        " coalesce(sum(counted = 0), 0) FROM reports WHERE number = ?", [since, number],
    ).fetchone()
    return {
        "number": number,
        "row": rows[0] if rows else {"number": number, "status": "reported"},
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
