"""Overview figures for the dashboard: calls and reports per day, top reported numbers, verdict times."""
import statistics
from datetime import timedelta

from ivr.dashboard import localtime
from ivr.storage import stats as store
from ivr.vocabulary import VERDICTS

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
    zone = localtime.zone()
    for day, verdict, count, gave_up in store.calls_per_day(database, zone, first, today, since):
        if day not in index:
            continue
        per_day[verdict if verdict in per_day else "unconfirmed"][index[day]] += count
        abandoned[index[day]] += gave_up or 0
    reports = [0] * days
    for day, count in store.reports_per_day(database, zone, first, today, since):
        if day in index:
            reports[index[day]] = count
    seconds = [value for value in store.seconds_to_verdict(database, since) if value is not None and value >= 0]
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
        "callbacks_waiting": store.count_waiting_callbacks(database),
    }


def top_numbers(database, days=7, limit=10):
    """Return the numbers most reported in the last `days` days, with distinct merchants and status."""
    since = localtime.day_start(localtime.today() - timedelta(days=days - 1))
    return store.top_reported_numbers(database, since, limit)
