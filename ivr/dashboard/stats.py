"""Overview figures for the dashboard: calls and reports per day, top reported numbers, verdict times."""
import statistics
from datetime import timedelta

from ivr.dashboard import localtime
from ivr.vocabulary import FINAL_STATUSES, VERDICTS

# The charts' order: genuine at the foot of each bar, then the other verdicts by precedence, then no verdict.
VERDICT_ORDER = tuple(sorted(VERDICTS, key=lambda verdict: verdict != "genuine")) + (None,)
DAYS = 30


def _days(first, count):
    return [(first + timedelta(days=offset)).isoformat() for offset in range(count)]


def overview(database, days=DAYS):
    """Return the overview's figures for today and the last `days` days (local days, today included)."""
    today = localtime.today()
    first = today - timedelta(days=days - 1)
    since = localtime.day_start(first)
    labels = _days(first, days)
    per_day = {verdict: [0] * days for verdict in VERDICT_ORDER}
    index = {day: position for position, day in enumerate(labels)}
    abandoned = [0] * days
    ended_marks = ",".join(f"'{status}'" for status in FINAL_STATUSES)
    call_day, call_day_parameters = localtime.local_date_sql("started_at", first, today)
    # One pass over the covering index calls_overview gives every per-day calls figure.
    for day, verdict, count, gave_up in database.execute(
        f"SELECT {call_day} AS day, verdict, count(*),"
        f" sum(verdict IS NULL AND status IN ({ended_marks}))"
        " FROM calls INDEXED BY calls_overview WHERE started_at >= :since GROUP BY day, verdict",
        dict(call_day_parameters, since=since),
    ):
        if day not in index:
            continue
        per_day[verdict if verdict in per_day else "unconfirmed"][index[day]] += count
        abandoned[index[day]] += gave_up or 0
    reports = [0] * days
    report_day, report_day_parameters = localtime.local_date_sql("created_at", first, today)
    for day, count in database.execute(
        f"SELECT {report_day} AS day, count(*) FROM reports WHERE created_at >= :since GROUP BY day",
        dict(report_day_parameters, since=since),
    ):
        if day in index:
            reports[index[day]] = count
    seconds = [
        row[0] for row in database.execute(
            "SELECT (julianday(verdict_at) - julianday(coalesce(answered_at, started_at))) * 86400"
            " FROM calls INDEXED BY calls_overview WHERE started_at >= ? AND verdict_at IS NOT NULL",
            [since],
        ) if row[0] is not None and row[0] >= 0
    ]
    total = sum(sum(values) for values in per_day.values())
    with_verdict = total - sum(per_day[None])
    last = days - 1
    today_calls = sum(values[last] for values in per_day.values())
    return {
        "labels": labels,
        "per_day": per_day,
        "reports": reports,
        "total": total,
        "with_verdict": with_verdict,
        "verdict_share": (with_verdict / total) if total else None,
        "median_seconds": statistics.median(seconds) if seconds else None,
        "abandoned": sum(abandoned),
        "today": {
            "calls": today_calls,
            "with_verdict": today_calls - per_day[None][last],
            "abandoned": abandoned[last],
            "reports": reports[last],
            "known_scam": per_day["known_scam"][last],
        },
        "top_numbers": top_numbers(database),
        "callbacks_waiting": database.execute("SELECT count(*) FROM callbacks WHERE status = 'waiting'").fetchone()[0],
    }


def top_numbers(database, days=7, limit=10):
    """Return the numbers most reported in the last `days` days, with distinct merchants and status."""
    since = localtime.day_start(localtime.today() - timedelta(days=days - 1))
    return list(database.query(
        "SELECT r.number, count(*) AS reports, count(DISTINCT r.merchant_id) AS merchants,"
        " coalesce(n.status, 'reported') AS status"
        " FROM reports r LEFT JOIN numbers n ON n.number = r.number"
        " WHERE r.created_at >= ? AND r.number IS NOT NULL GROUP BY r.number ORDER BY reports DESC, r.number LIMIT ?",
        [since, limit],
    ))
