"""The overview's SQL: calls and reports per local day, times to a verdict, top reported numbers, call-backs waiting."""
from ivr.storage.daybuckets import local_date_sql
from ivr.vocabulary import FINAL_STATUSES


def calls_per_day(database, zone, first, last, since):
    """Return (local day, verdict, calls, calls ended without a verdict) for calls started since `since`."""
    ended_marks = ",".join(f"'{status}'" for status in FINAL_STATUSES)
    call_day, call_day_parameters = local_date_sql("started_at", zone, first, last)
    # One pass over the covering index calls_overview gives every per-day calls figure.
    return database.execute(
        f"SELECT {call_day} AS day, verdict, count(*),"
        f" sum(verdict IS NULL AND status IN ({ended_marks}))"
        " FROM calls INDEXED BY calls_overview WHERE started_at >= :since GROUP BY day, verdict",
        dict(call_day_parameters, since=since),
    ).fetchall()


def reports_per_day(database, zone, first, last, since):
    """Return (local day, reports) for reports made since `since`."""
    report_day, report_day_parameters = local_date_sql("created_at", zone, first, last)
    return database.execute(
        f"SELECT {report_day} AS day, count(*) FROM reports WHERE created_at >= :since GROUP BY day",
        dict(report_day_parameters, since=since),
    ).fetchall()


def seconds_to_verdict(database, since):
    """Return the seconds from answer (or start) to verdict of each call started since `since` with a verdict."""
    return [row[0] for row in database.execute(
        "SELECT (julianday(verdict_at) - julianday(coalesce(answered_at, started_at))) * 86400"
        " FROM calls INDEXED BY calls_overview WHERE started_at >= ? AND verdict_at IS NOT NULL",
        [since],
    )]


def top_reported_numbers(database, since, limit):
    """Return the numbers most reported since `since`, with reports, distinct merchants and watchlist status."""
    return list(database.query(
        "SELECT r.number, count(*) AS reports, count(DISTINCT r.merchant_id) AS merchants,"
        " coalesce(n.status, 'reported') AS status"
        " FROM reports r LEFT JOIN numbers n ON n.number = r.number"
        " WHERE r.created_at >= ? AND r.number IS NOT NULL GROUP BY r.number ORDER BY reports DESC, r.number LIMIT ?",
        [since, limit],
    ))


def count_waiting_callbacks(database):
    """Return how many call-back requests are waiting."""
    return database.execute("SELECT count(*) FROM callbacks WHERE status = 'waiting'").fetchone()[0]
