"""The reports list's and the numbers watchlist pages' SQL: filtered pages, categories in use, one number's detail,
and the calls that asked about a number."""
from dataclasses import dataclass

from ivr.storage.dialect import json_field_sql


def asked_number_sql(database):
    """SQL for the number a verify call's `number` event names ("the number that called them"), spelled as the
    expression of the index events_asked_number (migration 33, tables.ASKED_NUMBER) so that both databases use it."""
    return json_field_sql(database, "detail", "number")


@dataclass
class ReportCriteria:
    """What listed reports must match, as stored values; empty ones match every report."""

    created_from: str = ""  # a UTC stamp: reports made at or after it
    created_before: str = ""  # a UTC stamp: reports made before it
    category: str = ""
    number: str = ""  # E.164
    case_status: str = ""
    assignee: str = ""  # a staff user's name
    unassigned: bool = False


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
    if criteria.case_status:
        where.append("case_status = ?")
        params.append(criteria.case_status)
    if criteria.unassigned:
        where.append("assignee IS NULL")
    elif criteria.assignee:
        where.append("assignee = ?")
        params.append(criteria.assignee)
    return where, params


def reports_page(database, criteria, cursor_id, limit, oldest_first=False):
    """Return up to `limit` matching reports in filing order (ids grow as reports are filed): newest first with ids
    below `cursor_id`, or oldest first with ids above it (None for all)."""
    where, params = _where(criteria)
    if cursor_id is not None:
        params.append(cursor_id)
        where.append("id > ?" if oldest_first else "id < ?")
    sql = ("SELECT * FROM reports" + (" WHERE " + " AND ".join(where) if where else "")
           + f" ORDER BY id {'ASC' if oldest_first else 'DESC'} LIMIT ?")
    return list(database.query(sql, params + [limit]))


def asked_counts(database, numbers):
    """Return {number: how many calls asked about it} for the E.164 `numbers` (numbers no call asked about left out)."""
    numbers = sorted({number for number in numbers if number})
    if not numbers:
        return {}
    marks = ",".join("?" * len(numbers))
    asked = asked_number_sql(database)
    sql = (f"SELECT {asked} AS asked, count(DISTINCT call_sid) FROM events"
           f" WHERE kind = 'number' AND {asked} IN ({marks}) GROUP BY asked")
    return {number: count for number, count in database.execute(sql, numbers)}


def asked_calls(database, number, limit, before=None, after=None):
    """Return up to `limit` calls whose verify branch recorded `number` as the number that called them, each with
    `event_id` (its latest asking, the page cursor): asking below event id `before`, the latest first; above `after`,
    the earliest first; or with neither, the latest first."""
    # max(id) spelled out: PostgreSQL's HAVING cannot name a column of the select list.
    having = ""
    if before is not None:
        having = " HAVING max(id) < :before"
    elif after is not None:
        having = " HAVING max(id) > :after"
    order = "ASC" if after is not None else "DESC"
    sql = (
        "SELECT asked.event_id, c.sid, c.started_at, c.from_number, c.caller_withheld, c.language, c.verdict,"
        " c.merchant_id, c.identified_by FROM"
        " (SELECT max(id) AS event_id, call_sid FROM events WHERE kind = 'number'"
        f" AND {asked_number_sql(database)} = :number"
        f" GROUP BY call_sid{having} ORDER BY event_id {order} LIMIT :limit) AS asked"
        f" JOIN calls c ON c.sid = asked.call_sid ORDER BY asked.event_id {order}"
    )
    return list(database.query(sql, {"number": number, "before": before, "after": after, "limit": limit}))


def report_categories(database):
    """Return the report categories in use, in order."""
    return [row[0] for row in database.execute("SELECT DISTINCT category FROM reports ORDER BY category")]


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
        " count(*) FILTER (WHERE counted = 0) FROM reports WHERE number = ?", [since, number],
    ).fetchone()
