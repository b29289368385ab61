"""`flask sms send` and `flask alerts send`: send what calls queued (safe to run from cron every minute)."""
import click
from flask import current_app
from flask.cli import with_appcontext

from ivr.database import close as close_database
from ivr.database import connect as connect_database
from ivr.errors import TwilioUnavailable
from ivr.notify import alerts, sms
from ivr.telephony import rest


def init_app(app):
    """Register the sms and alerts commands."""
    app.cli.add_command(sms_group)
    app.cli.add_command(alerts_group)


def _database():
    return connect_database(current_app.config)


def _summary(counts):
    return ", ".join(f"{count} {status}" for status, count in sorted(counts.items())) or "nothing was due"


@click.group("sms")
def sms_group():
    """SMS notes to merchants after a call (IVR_SMS_FROM)."""


@sms_group.command("send")
@with_appcontext
def sms_send_command():
    """Send the SMS notes that are due, and retry failed ones."""
    config = current_app.config
    if not config["SMS_FROM"]:
        raise click.ClickException("IVR_SMS_FROM is not set, so no SMS notes are sent")
    try:
        client = rest.client(rest.RestSettings.from_config(config))
    except TwilioUnavailable as error:
        raise click.ClickException(str(error)) from None
    database = _database()
    try:
        rules = current_app.extensions["ivr"]["action_settings"](current_app)
        counts = sms.send_due(database, client, rules.sms)
    finally:
        close_database(database)
    click.echo(f"SMS notes: {_summary(counts)}.")
    if counts.get("failed"):
        raise click.ClickException(f"{counts['failed']} notes failed; they are tried again on the next run")


@click.group("alerts")
def alerts_group():
    """Staff alerts to the chat group's robot (IVR_ALERT_WEBHOOK)."""


@alerts_group.command("send")
@with_appcontext
def alerts_send_command():
    """Look for a surge of reports, then post the alerts that are due and retry failed ones."""
    settings = alerts.settings_from(current_app.config)
    if not settings.enabled:
        raise click.ClickException("IVR_ALERT_WEBHOOK is not set, so no alerts are posted")
    database = _database()
    try:
        alerts.check_surge(database, settings)
        counts = alerts.send_due(database, settings)
    finally:
        close_database(database)
    click.echo(f"Alerts: {_summary(counts)}.")
    if counts.get("failed"):
        raise click.ClickException(f"{counts['failed']} alerts failed; they are tried again on the next run")
