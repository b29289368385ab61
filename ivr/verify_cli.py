"""Staff CLI for verification: `flask merchants import|unlock`, `flask outreach add|cancel|complete`, `flask numbers confirm|clear`."""
import getpass
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from . import db, merchants, outreach, reports
from .errors import Conflict, HotlineError, InvalidInput, NotFound

merchants_cli = AppGroup("merchants", help="Merchants: import from CSV, unlock after too many wrong codes.")
outreach_cli = AppGroup("outreach", help="Outreach: record a genuine contact (prints its reference code), cancel or complete it.")
numbers_cli = AppGroup("numbers", help="The number watchlist: confirm a scam number or clear a false positive.")


def init_app(app):
    """Register the merchants, outreach and numbers command groups."""
    for group in (merchants_cli, outreach_cli, numbers_cli):
        app.cli.add_command(group)


def _actor():
    try:
        return "cli:" + getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        return "cli"


BY = click.option("--by", "actor", default=None, help="Who is acting, for the audit log (default: cli:<login>).")


def _run(work):
    """Open the database, run `work(database)`, and turn domain errors into clear CLI errors."""
    database = db.connect(current_app.config["DATABASE"], current_app.config["DATABASE_TIMEOUT"])
    try:
        db.migrate(database)
        return work(database)
    except InvalidInput as error:
        raise click.ClickException(f"{error.field}: {error}" if error.field else str(error)) from None
    except (NotFound, Conflict, HotlineError) as error:
        raise click.ClickException(str(error)) from None
    finally:
        database.conn.close()


@merchants_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@BY
def import_command(file, actor):
    """Import merchants from a CSV with columns merchant_id,name,phones (phones separated by ';')."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise click.ClickException(f"{file}: not UTF-8 text; save the CSV as UTF-8") from None
    rows, errors = merchants.read_csv(text)
    if errors:
        for line in errors[:50]:
            click.echo(line, err=True)
        if len(errors) > 50:
            click.echo(f"... and {len(errors) - 50} more", err=True)
        raise click.ClickException(f"{file}: {len(errors)} bad line(s); nothing was imported")

    def work(database):
        with click.progressbar(length=len(rows), label="Importing merchants") as bar:
            return merchants.import_rows(database, rows, actor or _actor(), progress=bar.update)

    result = _run(work)
    click.echo(f"Imported {len(rows)} merchants: {result['created']} new, {result['updated']} updated.")


@merchants_cli.command("unlock")
@click.argument("merchant_id")
@BY
def unlock_command(merchant_id, actor):
    """Let a merchant check codes again after too many wrong ones."""
    merchant = _run(lambda database: merchants.unlock_merchant(database, merchant_id, actor or _actor()))
    click.echo(f"Unlocked merchant {merchant['id']} ({merchant['name']}).")


@outreach_cli.command("add")
@click.option("--merchant", "merchant_id", required=True, help="Merchant number.")
@click.option("--reason", required=True, type=click.Choice(outreach.REASONS))
@click.option("--channel", required=True, type=click.Choice(outreach.CHANNELS))
@click.option("--from-number", default=None, help="The official number used (required for phone and sms).")
@click.option("--staff", "staff_name", required=True, help="The staff member's name, as the merchant will hear it.")
@click.option("--instructions", required=True, help="What the merchant must do, and where.")
@click.option("--valid-hours", default=168, show_default=True, type=int)
@BY
def outreach_add_command(merchant_id, reason, channel, from_number, staff_name, instructions, valid_hours, actor):
    """Record a genuine contact and print the reference code to give the merchant."""
    created = _run(lambda database: outreach.create_outreach(
        database, merchant_id, reason, channel, from_number, staff_name, instructions, valid_hours, actor or _actor()
    ))
    click.echo(f"Outreach {created['id']}: reference code {created['reference_code']}, valid until {created['expires_at']}.")


@outreach_cli.command("cancel")
@click.argument("outreach_id")
@BY
def outreach_cancel_command(outreach_id, actor):
    """Cancel open outreach: its code will then be reported as no longer valid."""
    row = _run(lambda database: outreach.cancel_outreach(database, outreach_id, actor or _actor()))
    click.echo(f"Outreach {row['id']} cancelled.")


@outreach_cli.command("complete")
@click.argument("outreach_id")
@BY
def outreach_complete_command(outreach_id, actor):
    """Mark open outreach as done: its code will then be reported as no longer valid."""
    row = _run(lambda database: outreach.complete_outreach(database, outreach_id, actor or _actor()))
    click.echo(f"Outreach {row['id']} completed.")


def _set_status(number, status, reason, actor):
    summary = _run(lambda database: reports.set_number_status(database, number, status, actor or _actor(), reason))
    click.echo(f"{summary['number']}: {summary['status']} ({summary['reports']} reports).")


@numbers_cli.command("confirm")
@click.argument("number")
@click.option("--reason", default=None, help="Why, for the record.")
@BY
def numbers_confirm_command(number, reason, actor):
    """Mark a number as a confirmed scam number: callers checking it hear known_scam."""
    _set_status(number, "confirmed", reason, actor)


@numbers_cli.command("clear")
@click.argument("number")
@click.option("--reason", default=None, help="Why, for the record.")
@BY
def numbers_clear_command(number, reason, actor):
    """Clear a number (a false positive): it never yields known_scam again, whatever the reports."""
    _set_status(number, "cleared", reason, actor)
