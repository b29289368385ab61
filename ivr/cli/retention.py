"""`flask purge --older-than DAYS`: remove callers' personal data from old calls."""
import click
from flask import current_app
from flask.cli import with_appcontext

from ivr.storage import db
from ivr.storage.retention import BATCH_SIZE, purge
from ivr.upgrade import upgrade


def init_app(app):
    """Register `flask purge`."""
    app.cli.add_command(purge_command)


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
