"""Data retention: `flask purge --older-than DAYS` removes callers' personal data from old calls."""
from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

from ivr import clock
from ivr.storage import db
from ivr.upgrade import upgrade

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


def init_app(app):
    """Register `flask purge`."""
    app.cli.add_command(purge_command)


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


def _positive_days(ctx, param, value):
    if value is None or value < 1:
        raise click.BadParameter("must be a whole number of days, 1 or more (for example --older-than 90)")
    return value


@click.command("purge")
@click.option("--older-than", "days", type=int, required=True, callback=_positive_days, metavar="DAYS",
              help="Purge calls that ended more than DAYS days ago.")
@click.option("--dry-run", is_flag=True, help="Only count what would be purged; change nothing.")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=BATCH_SIZE, show_default=True,
              help="Rows changed per short write transaction.")
@with_appcontext
def purge_command(days, dry_run, batch_size):
    """Remove events, recording links and phone numbers of old calls; keep the counts the overview needs."""
    try:
        database = db.connect(current_app.config["DATABASE"], current_app.config["DATABASE_TIMEOUT"])
    except Exception as error:  # noqa: BLE001 - turned into a clear message for the operator
        raise click.ClickException(f"cannot open {current_app.config['DATABASE']}: {error}") from None
    try:
        upgrade(database, current_app.config["CODE_SECRET"])
        summary = purge(database, days, dry_run=dry_run, batch_size=batch_size)
    except Exception as error:  # noqa: BLE001 - a locked or broken database gets a clear message, not a traceback
        raise click.ClickException(f"purge stopped (run it again to finish): {error}") from None
    finally:
        database.conn.close()
    verb = "Would purge (dry run, nothing changed)" if dry_run else "Purged"
    click.echo(
        f"{verb}: calls that ended before {summary['cutoff']}: {summary['calls']} calls"
        f" ({summary['events']} events deleted; caller numbers and flow state cleared);"
        f" {summary['callbacks']} call-back requests and {summary['reports']} reports"
        f" (caller numbers and recording links cleared; reported numbers kept);"
        f" {summary['code_attempts']} code attempts (caller number cleared);"
        f" {summary['deliveries']} stored webhook answers deleted."
    )
    window = current_app.config.get("REPORT_WINDOW_DAYS")
    if window and days < window:
        click.echo(
            f"Note: reports older than {days} days no longer name their reporter, so the watchlist's count of"
            f" distinct reporters over {window} days counts only merchants for them."
        )
