"""`flask purge --older-than DAYS` or `--merchant ID`: remove callers' personal data, here and at Twilio."""
import click
from flask import current_app
from flask.cli import with_appcontext

from ivr.database import close as close_database
from ivr.database import connect as connect_database
from ivr.errors import NotFound, TwilioUnavailable
from ivr.storage import pgschema
from ivr.storage.retention import BATCH_SIZE, purge, purge_merchant
from ivr.telephony import recordings, rest
from ivr.upgrade import upgrade
from ivr.verification import merchants


def init_app(app):
    """Register `flask purge`."""
    app.cli.add_command(purge_command)


def _recording_deleter(config):
    """A function that deletes one recording at Twilio (True when gone), or None without credentials."""
    try:
        client = rest.client(rest.RestSettings.from_config(config))
    except TwilioUnavailable as error:
        click.echo(f"Warning: {error} Recordings still at Twilio stay there, named by their SID only, until"
                   " `flask recordings sync` runs with credentials.", err=True)
        return None

    def delete(sid):
        try:
            recordings.delete_at_twilio(client, sid)
        except TwilioUnavailable as error:
            click.echo(f"Warning: recording {sid} stays at Twilio for now: {error}", err=True)
            return False
        return True

    return delete


@click.command("purge")
@click.option("--older-than", "days", type=click.IntRange(min=0), metavar="DAYS",
              help="Purge calls that ended more than DAYS days ago; 0 purges every call that has ended.")
@click.option("--merchant", "merchant_id", metavar="ID",
              help="Erase one merchant's personal data on request (name, phones, its calls), keeping the counts.")
@click.option("--dry-run", is_flag=True, help="Only count what would be purged; change nothing (with --older-than).")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=BATCH_SIZE, show_default=True,
              help="Rows changed per short write transaction.")
@with_appcontext
def purge_command(days, merchant_id, dry_run, batch_size):
    """Remove events, recordings (here and at Twilio) and phone numbers; keep the counts the overview needs."""
    if (days is None) == (merchant_id is None):
        raise click.UsageError("give either --older-than DAYS or --merchant ID")
    if merchant_id is not None and dry_run:
        raise click.UsageError("--dry-run counts what --older-than would purge")
    config = current_app.config
    try:
        database = connect_database(config)
    except Exception as error:  # noqa: BLE001 - turned into a clear message for the operator
        where = pgschema.display(config["DATABASE_URL"]) if config.get("DATABASE_URL") else config["DATABASE"]
        raise click.ClickException(f"cannot open {where}: {error}") from None
    try:
        upgrade(database, config["CODE_SECRET"])
        if merchant_id is not None:
            merchants.get_merchant(database, merchant_id)  # NotFound names it
        delete = None if dry_run else _recording_deleter(config)
        if merchant_id is not None:
            summary = purge_merchant(database, merchant_id, batch_size=batch_size, delete_recording=delete)
        else:
            summary = purge(database, days, dry_run=dry_run, batch_size=batch_size, delete_recording=delete)
    except NotFound as error:
        raise click.ClickException(str(error)) from None
    except Exception as error:  # noqa: BLE001 - a locked or broken database gets a clear message, not a traceback
        raise click.ClickException(f"purge stopped (run it again to finish): {error}") from None
    finally:
        close_database(database)
    _report(summary, days, dry_run, merchant_id)


def _report(summary, days, dry_run, merchant_id):
    verb = "Would purge (dry run, nothing changed)" if dry_run else "Purged"
    which = f"merchant {merchant_id}'s calls" if merchant_id else f"calls that ended before {summary['cutoff']}"
    click.echo(f"{verb}: {which}: {summary['calls']} calls ({summary['events']} events deleted; caller numbers and"
               f" flow state cleared); {summary['recordings']} recordings.")
    if merchant_id:
        click.echo(f"Merchant {merchant_id}: name and {summary['phones']} phones erased;"
                   f" {summary['reports']} reports, {summary['code_attempts']} code attempts and"
                   f" {summary['sms_notes']} SMS notes cleared; {summary['report_notes']} report notes emptied or"
                   f" redacted (author and time kept); {summary['audit']} audit rows redacted.")
    else:
        click.echo(
            f"{summary['callbacks']} call-back requests and {summary['reports']} reports (caller numbers and"
            f" recording links cleared; reported numbers kept); {summary['code_attempts']} code attempts (caller number"
            f" cleared); {summary['sms_notes']} SMS notes cleared; {summary['report_notes']} report notes emptied"
            f" (author and time kept); {summary['deliveries']} stored webhook answers"
            f" deleted." + ("" if dry_run else f" {summary['audit']} audit rows had phone numbers redacted.")
        )
    if summary.get("recordings_left_at_twilio"):
        click.echo(f"{summary['recordings_left_at_twilio']} recordings are still at Twilio; `flask recordings sync`"
                   " deletes them once it can reach Twilio.", err=True)
    if not dry_run and not summary.get("wal_emptied", True):
        click.echo("The write-ahead log could not be emptied while the app was reading; run purge again when it is"
                   " quiet to remove the purged data from it.", err=True)
    window = current_app.config.get("REPORT_WINDOW_DAYS")
    if days is not None and window and days < window:
        click.echo(
            f"Note: reports older than {days} days no longer name their reporter, so the watchlist's count of"
            f" distinct reporters over {window} days counts only merchants for them."
        )
