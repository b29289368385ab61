"""Flask CLI commands for the dashboard: `flask users ...` and `flask demo-data`."""
import contextlib
import sys

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from ivr.database import close as close_database
from ivr.database import connect as connect_database
from ivr.errors import Conflict, InvalidInput, NotFound
from ivr.staff import users
from ivr.upgrade import upgrade

users_group = AppGroup("users", help="Manage staff accounts for the dashboard.")


def init_app(app):
    """Register the dashboard's CLI commands."""
    app.cli.add_command(users_group)
    app.cli.add_command(demo_data_command)


@contextlib.contextmanager
def _database():
    """Open the app's database for one command, turning domain errors into clear CLI errors."""
    database = connect_database(current_app.config)
    try:
        upgrade(database, current_app.config["CODE_SECRET"])
        yield database
    except (InvalidInput, Conflict, NotFound) as error:
        raise click.ClickException(str(error)) from None
    finally:
        close_database(database)


def _read_password():
    """Ask twice without echo on a terminal; read two lines (or one, used twice) from a pipe."""
    if sys.stdin.isatty():
        first = click.prompt("Password", hide_input=True)
        second = click.prompt("Repeat password", hide_input=True)
    else:
        lines = sys.stdin.read().splitlines()
        if not lines:
            raise click.ClickException("no password on standard input")
        first = lines[0]
        second = lines[1] if len(lines) > 1 else first
    if first != second:
        raise click.ClickException("the two passwords differ")
    return first


@users_group.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(users.ROLES), default="agent", show_default=True)
def create_user_command(name, role):
    """Create a staff account; the password is asked twice (or read from standard input)."""
    password = _read_password()
    # create_user hashes first and then writes in its own short transaction: no lock is held while it hashes.
    with _database() as database:
        user = users.create_user(database, name, role, password, actor="cli")
    click.echo(f"Created {user['role']} {user['name']!r}.")


@users_group.command("list")
def list_users_command():
    """List staff accounts."""
    with _database() as database:
        for user in users.list_users(database):
            state = " (disabled)" if user["disabled"] else ""
            click.echo(f"{user['name']}\t{user['role']}{state}\tcreated {user['created_at']}")


@users_group.command("set")
@click.argument("name")
@click.option("--role", type=click.Choice(users.ROLES), default=None)
@click.option("--disable/--enable", "disabled", default=None)
@click.option("--password", "new_password", is_flag=True, help="Set a new password (asked, or read from standard input).")
def set_user_command(name, role, disabled, new_password):
    """Change a staff account's role, password, or disable/enable it (also clears a sign-in slow-down)."""
    password = _read_password() if new_password else None
    with _database() as database:
        users.update_user(database, name, "cli", role=role, disabled=disabled, password=password, clear_wait=True)
    click.echo(f"Updated {name!r}.")


@click.command("demo-data")
@click.option("--calls", "count", default=10_000, show_default=True, help="How many calls to generate.")
@click.option("--days", default=365, show_default=True, help="Spread the calls over this many days up to now.")
@click.option("--seed", default=7, show_default=True, help="Random seed, for repeatable data.")
@with_appcontext
def demo_data_command(count, days, seed):
    """Generate realistic bulk data (calls, events, merchants, reports, outreach) for the dashboard, fast."""
    from ivr.devtools import bigdemo

    with _database() as database:
        summary = bigdemo.generate(database, count, days=days, seed=seed, echo=click.echo)
    click.echo(summary)
