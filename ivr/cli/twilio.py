"""`flask twilio ...`: set up the Twilio account's side of the hotline through its REST API."""
import click
from flask import current_app
from flask.cli import with_appcontext

from ivr.errors import InvalidInput, NotFound, TwilioUnavailable
from ivr.phone import to_e164
from ivr.telephony import numbers, rest


@click.group("twilio")
def twilio_group():
    """Set up the Twilio account's side of the hotline (needs TWILIO_ACCOUNT_SID and credentials)."""


@twilio_group.command("configure-number")
@click.argument("number")
@click.option("--public-url", required=True, help="The https:// address Twilio reaches the hotline at.")
@click.option("--dry-run", is_flag=True, help="Show what would change without changing anything.")
@with_appcontext
def configure_number_command(number, public_url, dry_run):
    """Point NUMBER's Voice URL, fallback and status callback at the hotline (all POST)."""
    e164 = to_e164(number)
    if e164 is None:
        raise click.ClickException(f"{number!r} is not a valid phone number; give it as +E.164, e.g. +861012345678")
    try:
        client = rest.client(rest.RestSettings.from_config(current_app.config))
        record, changes, warnings = numbers.configure_number(client, e164, public_url, dry_run=dry_run)
    except (InvalidInput, NotFound, TwilioUnavailable) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{record.phone_number} ({record.sid}, {record.friendly_name}):")
    for change in changes:
        click.echo(f"  {change.label}: {change.before or '(empty)'} -> {change.after}")
    if not changes:
        click.echo("  already points at the hotline; nothing to change.")
    elif dry_run:
        click.echo("Dry run: nothing was changed.")
    else:
        click.echo(f"Changed {len(changes)} settings.")
    for warning in warnings:
        click.echo(f"Warning: {warning}.", err=True)
