"""The reports list's and the numbers watchlist pages' SQL: filtered pages, categories in use, one number's detail."""
from dataclasses import dataclass


@dataclass
class ReportCriteria:
    """What listed reports must match, as stored values; empty ones match every report."""

    created_from: str = ""  # a UTC stamp: reports made at or after it
    created_before: str = ""  # a UTC stamp: reports made before it
    category: str = ""
    number: str = ""  # E.164


def _where(criteria):
    where, params = [], []
    if criteria.created_from:
        where.append("created_at >= ?")
        params.append(criteria.created_from)
    if criteria.created_before:
        where.append("created_at < ?")
        params.append(criteria.created_before)
    if criteria.category:
        where.append("category = ?")
        params.append(criteria.category)
    if criteria.number:
        where.append("number = ?")
        params.append(criteria.number)
    return where, params


def reports_page(database, criteria, before_id, limit):
    """Return up to `limit` matching reports, newest first, with ids below `before_id` (None for all)."""
    where, params = _where(criteria)
    if before_id is not None:
        params.append(before_id)
        where.append("id < ?")
    sql = "SELECT * FROM reports" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id DESC LIMIT ?"
    return list(database.query(sql, params + [limit]))


def report_categories(database):
    """Return the report categories in use, in order."""
    return [row[0] for row in database.execute("SELECT DISTINCT category FROM reports ORDER BY category")]


def numbers_page(database, status, fragment, before, limit):
    """Return up to `limit` watchlist numbers, most recently reported first, with report and distinct-merchant counts:
    with `status` ('' for all), containing `fragment` (None for all), after the (last_reported_at, number) `before`."""
    where, params = [], []
    if status:
        where.append("n.status = ?")
        params.append(status)
    if fragment is not None:
        where.append("n.number LIKE ?")
        params.append(f"%{fragment}%")
    if before:
        stamp, number = before
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
    return list(database.query(sql, params + [limit]))


def watched_number(database, number):
    """Return a number's watchlist row, or None."""
    return next(iter(database.query("SELECT * FROM numbers WHERE number = ?", [number])), None)


def number_reports(database, number):
    """Return the 200 newest reports of a number."""
    return list(database.query("SELECT * FROM reports WHERE number = ? ORDER BY id DESC LIMIT 200", [number]))


def number_changes(database, number):
    """Return a number's status changes, newest first."""
    return list(database.query("SELECT * FROM number_status_changes WHERE number = ? ORDER BY id DESC", [number]))


def number_report_counts(database, number, since):
    """Return (merchants with counted reports, those of them reporting since `since`, reports not counted)."""
    return database.execute(
        "SELECT count(DISTINCT CASE WHEN counted = 1 THEN merchant_id END),"
        " count(DISTINCT CASE WHEN counted = 1 AND created_at >= ? THEN merchant_id END),"
        " coalesce(sum(counted = 0), 0) FROM reports WHERE number = ?", [since, number],
    ).fetchone()
