"""Staff CLI for verification: `flask merchants import|unlock`, `flask outreach add|actions|cancel|complete`,
`flask numbers confirm|clear`."""
import getpass
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from ivr.dashboard import localtime, merchantview
from ivr.database import close as close_database
from ivr.database import connect as connect_database
from ivr.errors import Conflict, HotlineError, InvalidInput, NotFound
from ivr.storage import db
from ivr.upgrade import upgrade
from ivr.verification import merchants, outreach, reports

merchants_cli = AppGroup("merchants", help="Merchants: import from CSV, list the locks in force, unlock after too many"
                                           " wrong codes.")
outreach_cli = AppGroup("outreach", help="Outreach: record a genuine contact (prints its reference code), list the"
                                         " actions it may ask for, cancel or complete it.")
numbers_cli = AppGroup("numbers", help="The number watchlist: confirm a scam number or clear a false positive;"
                                       " unlock a calling number after too many wrong codes.")


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
    database = connect_database(current_app.config)
    try:
        upgrade(database, current_app.config["CODE_SECRET"])
        return work(database)
    except InvalidInput as error:
        raise click.ClickException(f"{error.field}: {error}" if error.field else str(error)) from None
    except (NotFound, Conflict, HotlineError) as error:
        raise click.ClickException(str(error)) from None
    finally:
        close_database(database)


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


# How the CLI names the lock scopes (merchants.LOCK_SCOPES), and which scopes `merchants unlock --scope` lifts.
SCOPE_WORDS = {"merchant_strangers": "callers not on file", "merchant_registered": "its registered phones",
               "number": "calling number, all merchants"}
UNLOCK_SCOPES = {"strangers": ("merchant_strangers",), "registered": ("merchant_registered",),
                 "both": ("merchant_strangers", "merchant_registered")}


def _lock_settings():
    return current_app.config["LOCK_ATTEMPTS"], current_app.config["LOCK_HOURS"]


def _lift(database, scope, key, actor):
    """Lift one lock; return (wrong codes lifted, whether they had locked it)."""
    limit, hours = _lock_settings()
    locked = merchants.failed_attempts(database, scope, key, hours) >= limit
    return merchants.lift_lock(database, scope, key, actor), locked


@merchants_cli.command("locks")
def locks_command():
    """List every lock in force, with its wrong codes and when it ends.

    A lock is IVR_LOCK_ATTEMPTS wrong codes within IVR_LOCK_HOURS, counted per merchant for callers not on file,
    per merchant for its registered phones, and per calling number across merchants. Times are in IVR_DASHBOARD_TZ.
    """
    limit, hours = _lock_settings()
    found = _run(lambda database: merchantview.locks_in_force(database, limit, hours))
    rule = f"{limit} wrong codes within {hours} h lock code checking"
    if not found:
        click.echo(f"No locks in force ({rule}).")
        return
    zone = current_app.config["DASHBOARD_TZ"]
    click.echo(f"{len(found)} lock(s) in force ({rule}); times in {zone}:")
    for lock in found:
        if lock["scope"] == "number":
            who, lift = f"number {lock['number']}", f"flask numbers unlock {lock['number']}"
        else:
            who = f"merchant {lock['merchant_id']}" + (f" ({lock['merchant_name']})" if lock["merchant_name"] else "")
            lift = f"flask merchants unlock {lock['merchant_id']} --scope {lock['scope'].split('_')[1]}"
        click.echo(f"  {who}, {SCOPE_WORDS[lock['scope']]}: {lock['failures']} wrong codes,"
                   f" until {localtime.show(lock['until'])}  (lift: {lift})")


@merchants_cli.command("unlock")
@click.argument("merchant_id")
@click.option("--scope", type=click.Choice(tuple(UNLOCK_SCOPES)), default="both", show_default=True,
              help="Which lock to lift: strangers (callers not on file, withheld IDs included), registered (the"
                   " merchant's registered phones), or both.")
@BY
def unlock_command(merchant_id, scope, actor):
    """Lift a merchant's lock(s) so it can check codes again; says how many wrong codes were lifted.

    Audited as lock.lift, one row per scope.
    """
    def work(database):
        merchant = merchants.get_merchant(database, merchant_id)
        with db.transaction(database):
            lifted = [(name,) + _lift(database, name, merchant["id"], actor or _actor()) for name in UNLOCK_SCOPES[scope]]
        return merchant, lifted

    merchant, lifted = _run(work)
    total = sum(count for _, count, _ in lifted)
    click.echo(f"Unlocked merchant {merchant['id']} ({merchant['name']}): {total} wrong code(s) lifted.")
    for name, count, locked in lifted:
        click.echo(f"  {SCOPE_WORDS[name]}: {count} wrong code(s) lifted ({'was locked' if locked else 'was not locked'}).")


@outreach_cli.command("add")
@click.option("--merchant", "merchant_id", required=True, help="Merchant number.")
@click.option("--reason", required=True, type=click.Choice(outreach.REASONS))
@click.option("--channel", required=True, type=click.Choice(outreach.CHANNELS))
@click.option("--from-number", default=None, help="The official number used (required for phone and sms).")
@click.option("--staff", "staff_name", required=True,
              help="The staff member's name (letters only), as the merchant will hear it.")
@click.option("--action", required=True,
              help="What the merchant is asked to do: a key of the catalogue (see `flask outreach actions`).")
@click.option("--valid-hours", default=168, show_default=True, type=int)
@BY
def outreach_add_command(merchant_id, reason, channel, from_number, staff_name, action, valid_hours, actor):
    """Record a genuine contact and print the reference code to give the merchant."""
    created = _run(lambda database: outreach.create_outreach(
        database, merchant_id, reason, channel, from_number, staff_name, action, valid_hours, actor or _actor(),
        catalogue=current_app.extensions["ivr"]["outreach_actions"], code_key=current_app.config["CODE_SECRET"],
    ))
    click.echo(f"Outreach {created['id']}: reference code {created['reference_code']}, valid until {created['expires_at']}.")


@outreach_cli.command("actions")
def outreach_actions_command():
    """List what outreach may ask a merchant to do: each key, then its text in every language."""
    catalogue = current_app.extensions["ivr"]["outreach_actions"]
    click.echo("\t".join(("key",) + catalogue.languages))
    for entry in catalogue.entries():
        click.echo("\t".join(entry[field] for field in ("key",) + catalogue.languages))


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
    # The operator's own numbers are refused (Conflict, shown as an error) when asked to be confirmed as a scam.
    protected = current_app.extensions["ivr"]["official_numbers"]
    summary = _run(lambda database: reports.set_number_status(database, number, status, actor or _actor(), reason,
                                                              protected=protected))
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


@numbers_cli.command("unlock")
@click.argument("number")
@BY
def numbers_unlock_command(number, actor):
    """Lift a calling number's lock so it can check codes again; says how many wrong codes were lifted.

    NUMBER in any format (+8613800138000, 13800138000). The lock counts wrong codes from this number about any
    merchant. Audited as lock.lift.
    """
    def work(database):
        found = reports.check_number(number)
        return (found,) + _lift(database, "number", found, actor or _actor())

    found, count, locked = _run(work)
    click.echo(f"Unlocked calling number {found}: {count} wrong code(s) lifted ({'was locked' if locked else 'was not locked'}).")
