"""Overview figures for the dashboard over a chosen period: calls and reports per day, reports by category, the
numbers most reported with their trend, verdict times."""
import statistics
from dataclasses import dataclass, field
from datetime import timedelta

from ivr.dashboard import localtime, numberview
from ivr.errors import InvalidInput
from ivr.storage import numberview as number_store
from ivr.storage import stats as store
from ivr.verification.reports import CATEGORIES as CATEGORY_KEYS
from ivr.vocabulary import VERDICTS

# The charts' order: genuine at the foot of each bar, then the other verdicts by precedence, then no verdict.
VERDICT_ORDER = tuple(sorted(VERDICTS, key=lambda verdict: verdict != "genuine")) + (None,)
CATEGORIES = tuple(CATEGORY_KEYS.values())
DAYS = 30
# The picker's periods: today, the last 7 or 30 days (today included), or chosen days.
RANGES = {"today": 1, "7d": 7, "30d": 30, "custom": None}
# A custom period is at most a quarter: each day is one range of an index, and a quarter stays well under the
# dashboard's 300 ms on a million calls.
MAX_DAYS = 92
# The median time to a verdict is taken over the latest calls of the period, at most this many.
MEDIAN_SAMPLE = 20_000
TOP_NUMBERS = 10


@dataclass
class Period:
    """The local days an overview covers, first to last, and how the picker named them."""

    first: object = None
    last: object = None
    key: str = "30d"
    errors: list = field(default_factory=list)

    @property
    def days(self):
        return (self.last - self.first).days + 1

    def args(self):
        """Return the period as query-string arguments (the default left out)."""
        if self.key == "custom":
            return {"range": "custom", "date_from": self.first.isoformat(), "date_to": self.last.isoformat()}
        return {} if self.key == "30d" else {"range": self.key}


def period_from_args(args):
    """Return the Period the query string asks for (the last 30 days by default), collecting what is invalid."""
    today = localtime.today()
    key = (args.get("range") or "").strip()
    if not key:
        key = "custom" if args.get("date_from") or args.get("date_to") else "30d"
    period = Period(key=key)
    if key not in RANGES:
        period.errors.append(f"range: unknown value {key[:20]!r}")
        key = period.key = "30d"
    if key != "custom":
        period.first, period.last = today - timedelta(days=RANGES[key] - 1), today
        return period
    try:
        period.first = localtime.parse_day(args.get("date_from"), "date_from")
        period.last = localtime.parse_day(args.get("date_to"), "date_to") or today
    except InvalidInput as error:
        period.errors.append(str(error))
    if not period.errors:
        problem = _custom_problem(period)
        if problem:
            period.errors.append(problem)
    if period.errors:
        period.key, period.first, period.last = "30d", today - timedelta(days=DAYS - 1), today
    return period


def _custom_problem(period):
    """Return what is wrong with a custom period's days, or None."""
    if period.first is None:
        return "date_from: a custom period needs its first day"
    if period.first > period.last:
        return "date_from: the first day is after the last"
    if period.days > MAX_DAYS:
        return f"date_to: a custom period is at most {MAX_DAYS} days"
    return None


def _days(first, count):
    return [first + timedelta(days=offset) for offset in range(count)]


def _bounds(days):
    """Return the UTC [start, end) stamps of each local day."""
    return [(localtime.day_start(day), localtime.day_start(day + timedelta(days=1))) for day in days]


def overview(database, period=None):
    """Return the overview's figures for today and the period's local days (the last 30 days by default)."""
    if period is None:
        today = localtime.today()
        period = Period(today - timedelta(days=DAYS - 1), today)
    days = _days(period.first, period.days)
    bounds = _bounds(days)
    since, until = bounds[0][0], bounds[-1][1]
    labels = [day.isoformat() for day in days]
    per_day = {verdict: [0] * len(days) for verdict in VERDICT_ORDER}
    abandoned = [0] * len(days)
    named = [verdict for verdict in VERDICT_ORDER if verdict]
    for index, (total, counts, without, gave_up) in enumerate(store.calls_by_day(database, bounds, named)):
        for verdict, count in counts.items():
            per_day[verdict][index] = count
        # A verdict the dashboard does not know yet is drawn with the unconfirmed ones, as before.
        per_day["unconfirmed"][index] += total - sum(counts.values()) - without
        per_day[None][index] = without
        abandoned[index] = gave_up
    by_category = {category: [0] * len(days) for category in CATEGORIES}
    reports = [0] * len(days)
    for index, counts in enumerate(store.reports_by_day(database, bounds)):
        for category, count in counts.items():
            by_category.setdefault(category, [0] * len(days))[index] = count
        reports[index] = sum(counts.values())
    seconds = [value for value in store.recent_seconds_to_verdict(database, since, until, MEDIAN_SAMPLE)
               if value is not None and value >= 0]
    total = sum(sum(values) for values in per_day.values())
    with_verdict = total - sum(per_day[None])
    # As the call-backs list shows them: a message with no number and no recording is not a call-back to make.
    to_call, nothing_to_call = store.count_waiting_callbacks(database)
    return {
        "labels": labels,
        "per_day": per_day,
        "reports": reports,
        "by_category": by_category,
        "total": total,
        "with_verdict": with_verdict,
        "verdict_share": (with_verdict / total) if total else None,
        "median_seconds": statistics.median(seconds) if seconds else None,
        "median_sampled": len(seconds) >= MEDIAN_SAMPLE,
        "abandoned": sum(abandoned),
        "reports_total": sum(reports),
        "today": today_figures(database),
        "callbacks_waiting": to_call,
        "callbacks_nothing_to_call": nothing_to_call,
    }


def today_figures(database):
    """Return today's tiles: calls, verdicts, abandoned calls, reports and known scams."""
    bounds = _bounds([localtime.today()])
    named = [verdict for verdict in VERDICT_ORDER if verdict]
    [(total, counts, without, gave_up)] = store.calls_by_day(database, bounds, named)
    [reports] = store.reports_by_day(database, bounds)
    return {"calls": total, "with_verdict": total - without, "abandoned": gave_up,
            "reports": sum(reports.values()), "known_scam": counts["known_scam"]}


def top_numbers(database, period, limit=TOP_NUMBERS, lang="zh"):
    """Return the numbers most reported in the period, each with reports, distinct merchants, status, the reports
    of the period just before (the trend), location and carrier."""
    since = localtime.day_start(period.first)
    until = localtime.day_start(period.last + timedelta(days=1))
    before = localtime.day_start(period.first - timedelta(days=period.days))
    rows = number_store.top_reported(database, since, until, limit)
    previous = number_store.reports_of_numbers(database, [row["number"] for row in rows], before, since)
    for row in rows:
        row["previous"] = previous.get(row["number"], 0)
        row["change"] = row["reports"] - row["previous"]
        row.update(numberview.where_from(row["number"], lang))
    return rows

