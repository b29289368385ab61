"""`flask copy-database --to postgresql://…`: the move from the embedded SQLite file to PostgreSQL."""
import contextlib

import click
from flask import current_app
from flask.cli import with_appcontext

from ivr.storage import pgcopy, pgschema


def init_app(app):
    """Register `flask copy-database`."""
    app.cli.add_command(copy_database_command)


@click.command("copy-database")
@click.option("--to", "url", required=True, metavar="URL",
              help="The PostgreSQL database, as postgresql://user:password@host:5432/name.")
@click.option("--batch-size", type=click.IntRange(min=1), default=pgcopy.BATCH_ROWS, show_default=True,
              help="Rows inserted and committed at a time.")
@with_appcontext
def copy_database_command(url, batch_size):
    """Copy everything from the SQLite database (IVR_DATABASE) into PostgreSQL, migrating it first; safe to re-run."""
    path = current_app.config["DATABASE"]
    try:
        target = pgschema.display(pgschema.engine_url(url))
    except pgschema.SchemaError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Copying {path} to {target}.")
    with contextlib.ExitStack() as stack:
        bar = None

        def start(total):
            # The bar opens once the rows are counted, after the checks and the migration have passed.
            nonlocal bar
            bar = stack.enter_context(click.progressbar(length=total, label="Copying rows", show_pos=True))

        def advance(table, rows):
            bar.update(rows)

        try:
            summary = pgcopy.copy_database(path, url, batch_rows=batch_size, on_start=start, on_rows=advance,
                                           timeout=current_app.config["DATABASE_TIMEOUT"])
        except pgcopy.CopyError as error:
            raise click.ClickException(str(error)) from None
    before, after = summary["revision_before"], summary["revision"]
    click.echo(f"Schema: revision {after}" + (" (created)" if before is None else
                                              f" (migrated from {before})" if before != after else " (up to date)"))
    width = max(len(row["table"]) for row in summary["tables"])
    for row in summary["tables"]:
        mark = "ok" if row["sqlite"] == row["postgresql"] else "DIFFERS"
        click.echo(f"  {row['table']:<{width}}  SQLite {row['sqlite']:>12,}  PostgreSQL {row['postgresql']:>12,}"
                   f"  ({row['added']:,} added)  {mark}")
    added = sum(row["added"] for row in summary["tables"])
    differ = [row for row in summary["tables"] if row["sqlite"] != row["postgresql"]]
    if differ:
        listed = ", ".join(f"{row['table']} (SQLite {row['sqlite']:,}, PostgreSQL {row['postgresql']:,})"
                           for row in differ)
        raise click.ClickException(f"row counts differ after the copy: {listed}")
    click.echo(f"Copied {added:,} new rows in {summary['seconds']:.1f} s; every table's row count matches.")
