"""`flask recordings sync`: copy recordings from Twilio, verify them, then delete them there (safe from cron)."""
import click
from flask import current_app
from flask.cli import with_appcontext

from ivr.database import close as close_database
from ivr.database import connect as connect_database
from ivr.errors import TwilioUnavailable
from ivr.telephony import recordings, rest


def init_app(app):
    """Register the recordings commands."""
    app.cli.add_command(recordings_group)


@click.group("recordings")
def recordings_group():
    """Callers' recordings, kept in the hotline's own database."""


@recordings_group.command("sync")
@with_appcontext
def sync_command():
    """Copy every recording still only at Twilio, then delete at Twilio each one with a verified copy here."""
    config = current_app.config
    try:
        client = rest.client(rest.RestSettings.from_config(config))
    except TwilioUnavailable as error:
        raise click.ClickException(str(error)) from None
    database = connect_database(config)
    try:
        counts = recordings.sync(database, client, config["TWILIO_API_URL"])
    finally:
        close_database(database)
    summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(counts.items())) or "nothing to do"
    click.echo(f"Recordings: {summary}.")
    if counts.get("failed") or counts.get("not deleted"):
        raise click.ClickException("some recordings could not be copied or deleted yet; the next run tries again")
