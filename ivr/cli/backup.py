"""`flask backup PATH`: a consistent copy of the live SQLite database, taken while the hotline keeps answering."""
import click
from flask import current_app
from flask.cli import with_appcontext

from ivr.storage import backup


def init_app(app):
    """Register `flask backup`."""
    app.cli.add_command(backup_command)


@click.command("backup")
@click.argument("path", type=click.Path())
@click.option("--force", is_flag=True, help="Replace PATH if it already exists.")
@with_appcontext
def backup_command(path, force):
    """Copy the live database to PATH (mode 0600) with SQLite's online backup API, check it, then rename it into place."""
    if current_app.config.get("DATABASE_URL"):
        raise click.ClickException("flask backup copies the SQLite file only; back up PostgreSQL with pg_dump.")
    try:
        summary = backup.backup(current_app.config["DATABASE"], path, force=force,
                                timeout=current_app.config["DATABASE_TIMEOUT"])
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    counts = ", ".join(f"{count:,} {table}" for table, count in summary["counts"].items())
    click.echo(
        f"Backed up {summary['source']} to {summary['destination']}:"
        f" {summary['bytes'] / 1024 / 1024:,.1f} MiB, {summary['pages']:,} pages of {summary['page_size']:,} bytes"
        f" ({summary['steps']:,} step{'' if summary['steps'] == 1 else 's'}); {counts};"
        f" schema version {summary['schema_version']}."
    )
    click.echo(f"Copied in {summary['copy_seconds']:.2f} s, checked (integrity ok, one self-contained file)"
               f" in {summary['seconds']:.2f} s in all.")
