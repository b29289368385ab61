"""Data retention: removing callers' personal data from old calls, in short batches."""
from datetime import timedelta

from ivr import clock
from ivr.storage import db

BATCH_SIZE = 500
# Old calls: ended before the cutoff, or (status callback lost) started before it and never ended.
OLD_CALLS = (
    "SELECT sid FROM calls INDEXED BY calls_unpurged_ended"
    " WHERE purged_at IS NULL AND ended_at IS NOT NULL AND ended_at < :cutoff",
    "SELECT sid FROM calls INDEXED BY calls_unpurged_unended"
    " WHERE purged_at IS NULL AND ended_at IS NULL AND started_at < :cutoff",
)
# A purged call keeps what the overview counts (dates, verdict, status, language, duration, merchant) and
# loses who called, its flow state (which holds codes typed and recording links) and the last answer it heard.
CALL_CHANGES = "SET from_number = NULL, from_raw = NULL, state = '{}', answer = NULL, purged_at = :now"
# Other rows that name a caller or a recording: (table, key, change or None to delete, which rows).
DETAILS = (
    ("callbacks", "id", "SET from_number = NULL, recording_url = NULL, recording_sid = NULL",
     "created_at < :cutoff AND (from_number IS NOT NULL OR recording_url IS NOT NULL OR recording_sid IS NOT NULL)"),
    # The reported number is the scammer's and stays for the watchlist; the reporter's number goes.
    ("reports", "id", "SET reporter_number = NULL, recording_url = NULL, recording_sid = NULL",
     "created_at < :cutoff AND (reporter_number IS NOT NULL OR recording_url IS NOT NULL OR recording_sid IS NOT NULL)"),
    ("code_attempts", "id", "SET caller_number = NULL", "at < :cutoff AND caller_number IS NOT NULL"),
    # Webhook answers stored by releases before migration 21 (they now live on the call's row).
    ("deliveries", "rowid", None, "at < :cutoff"),
)


def purge(database, older_than_days, dry_run=False, batch_size=BATCH_SIZE, now=None):
    """Remove events, recording links and phone numbers of calls that ended more than `older_than_days` ago."""
    cutoff = clock.stamp((now or clock.now()) - timedelta(days=older_than_days))
    summary = {"cutoff": cutoff, "calls": 0, "events": 0}
    if dry_run:
        return _count(database, cutoff, summary)
    # Small batches, each its own short write transaction, so webhooks never wait long behind a purge.
    for select in OLD_CALLS:
        while True:
            with db.transaction(database):
                sids = [row[0] for row in database.execute(select + " LIMIT :batch",
                                                           {"cutoff": cutoff, "batch": batch_size})]
                if not sids:
                    break
                marks = ",".join("?" * len(sids))
                summary["events"] += database.execute(f"DELETE FROM events WHERE call_sid IN ({marks})", sids).rowcount
                database.execute(f"UPDATE calls {CALL_CHANGES.replace(':now', '?')} WHERE sid IN ({marks})",
                                 [clock.stamp(), *sids])
                summary["calls"] += len(sids)
    for table, key, change, where in DETAILS:
        summary[table] = 0
        after = -1
        while True:
            # Walking the key upwards visits each old row once, however many were purged before.
            with db.transaction(database):
                keys = [row[0] for row in database.execute(
                    f"SELECT {key} FROM {table} WHERE {key} > :after AND {where} ORDER BY {key} LIMIT :batch",
                    {"after": after, "cutoff": cutoff, "batch": batch_size})]
                if not keys:
                    break
                action = f"UPDATE {table} {change}" if change else f"DELETE FROM {table}"
                database.execute(f"{action} WHERE {key} IN ({','.join('?' * len(keys))})", keys)
            summary[table] += len(keys)
            after = keys[-1]
    return summary


def _count(database, cutoff, summary):
    """Fill `summary` with what a purge at `cutoff` would change, changing nothing."""
    for select in OLD_CALLS:
        summary["calls"] += database.execute(f"SELECT count(*) FROM ({select})", {"cutoff": cutoff}).fetchone()[0]
        summary["events"] += database.execute(
            f"SELECT count(*) FROM events WHERE call_sid IN ({select})", {"cutoff": cutoff}).fetchone()[0]
    for table, _, _, where in DETAILS:
        summary[table] = database.execute(f"SELECT count(*) FROM {table} WHERE {where}", {"cutoff": cutoff}).fetchone()[0]
    return summary
