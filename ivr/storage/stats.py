"""The overview's SQL: calls and reports per local day, times to a verdict, call-backs waiting."""
from ivr.storage.dialect import indexed_by_sql, seconds_between_sql
from ivr.vocabulary import FINAL_STATUSES


def count_waiting_callbacks(database):
    """Return (call-backs waiting to be made, waiting messages that leave nothing to call back)."""
    # "Nothing to call back" is verification.cases.nothing_to_call: no number to ring and no recording to hear.
    something = ("coalesce(from_number, '') != '' OR coalesce(recording_sid, '') != ''"
                 " OR coalesce(recording_url, '') != ''")
    to_make, nothing = database.execute(
        f"SELECT count(*) FILTER (WHERE {something}), count(*) FILTER (WHERE NOT ({something}))"
        " FROM callbacks WHERE status = 'waiting'"
    ).fetchone()
    return to_make or 0, nothing or 0


def calls_by_day(database, days, verdicts):
    """Return, for each local day given as a UTC [start, end) pair, (calls, {verdict: calls}, calls without a
    verdict, calls ended without one); a verdict not in `verdicts` counts only in the total."""
    ended_marks = ",".join(f"'{status}'" for status in FINAL_STATUSES)
    sums = ", ".join(f"count(*) FILTER (WHERE verdict = :v{index})" for index in range(len(verdicts)))
    # One short range of the covering index calls_overview per day, summed without sorting: reading each call's
    # key once is what a day costs, and a day's boundaries come from its own UTC offset (clock changes included).
    sql = (
        f"SELECT count(*), {sums}, count(*) FILTER (WHERE verdict IS NULL),"
        f" count(*) FILTER (WHERE verdict IS NULL AND status IN ({ended_marks}))"
        f" FROM calls{indexed_by_sql(database, 'calls_overview')} WHERE started_at >= :start AND started_at < :end"
    )
    names = {f"v{index}": verdict for index, verdict in enumerate(verdicts)}
    found = []
    for start, end in days:
        total, *counts, without, gave_up = database.execute(sql, dict(names, start=start, end=end)).fetchone()
        found.append((total, {verdict: count or 0 for verdict, count in zip(verdicts, counts)}, without or 0,
                      gave_up or 0))
    return found


def reports_by_day(database, days):
    """Return, for each local day given as a UTC [start, end) pair, {category: reports made that day}."""
    return [dict(database.execute(
        "SELECT category, count(*) FROM reports WHERE created_at >= ? AND created_at < ? GROUP BY category",
        [start, end],
    ).fetchall()) for start, end in days]


def recent_seconds_to_verdict(database, since, until, limit):
    """Return the seconds from answer (or start) to verdict of the `limit` latest calls started in [since, until)
    that reached a verdict."""
    return [row[0] for row in database.execute(
        f"SELECT {seconds_between_sql(database, 'coalesce(answered_at, started_at)', 'verdict_at')}"
        f" FROM calls{indexed_by_sql(database, 'calls_overview')}"
        " WHERE started_at >= ? AND started_at < ? AND verdict_at IS NOT NULL"
        " ORDER BY started_at DESC LIMIT ?",
        [since, until, limit],
    )]
