"""Copying the embedded SQLite database into PostgreSQL: batches in foreign-key order, re-runnable, counts checked."""
import itertools
import os
import sqlite3
import time

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from ivr.storage import connection, pgschema
from ivr.storage.schema import MIGRATIONS
from ivr.storage.tables import metadata

BATCH_ROWS = 5000


class CopyError(Exception):
    """The copy was refused or stopped; what was committed before it stays, and a re-run carries on from there."""


def copy_database(path, url, batch_rows=BATCH_ROWS, timeout=5.0, on_start=None, on_rows=None):
    """Copy every table of the SQLite file at `path` into the PostgreSQL database at `url`; return what was copied."""
    # on_start(total rows) and on_rows(table, rows) let the CLI draw a progress bar without storage knowing click.
    # The summary: the revisions before and after migrating, the seconds taken, and per table, in copy order, its
    # rows in SQLite and in PostgreSQL and how many of those this run added (0 everywhere on a re-run).
    started = time.monotonic()
    source = _open_source(path, timeout)
    try:
        _check_source(source, path)
        try:
            before, after = pgschema.upgrade(url)
        except pgschema.SchemaError as error:
            raise CopyError(str(error)) from None
        # One read transaction for the whole copy: every table is read as of the same moment, even while the
        # hotline keeps writing to the file.
        source.execute("BEGIN")
        counts = {table.name: source[table.name].count for table in metadata.sorted_tables}
        if on_start:
            on_start(sum(counts.values()))
        engine = pgschema.create_engine(url)
        try:
            with engine.connect() as target:
                existing = _target_counts(target)
                for table in metadata.sorted_tables:
                    _copy_table(source, target, table, batch_rows, on_rows)
                _continue_identities(target)
                copied = _target_counts(target)
        finally:
            engine.dispose()
    except sa.exc.SQLAlchemyError as error:
        raise CopyError(f"the copy to {pgschema.display(url)} stopped: {_reason(error)}") from None
    except sqlite3.Error as error:
        raise CopyError(f"reading {path} failed: {error}") from None
    finally:
        source.conn.close()
    tables = [{"table": name, "sqlite": counts[name], "postgresql": copied[name],
               "added": copied[name] - existing[name]} for name in counts]
    return {"revision_before": before, "revision": after, "tables": tables, "seconds": time.monotonic() - started}


def _open_source(path, timeout):
    if str(path) == ":memory:" or not os.path.isfile(path):
        raise CopyError(f"there is no database file at {path} (IVR_DATABASE) to copy")
    try:
        # A reader: a mistake here must not be able to change the operator's database.
        return connection.connect(str(path), timeout, reader=True)
    except sqlite3.Error as error:
        raise CopyError(f"cannot open {path}: {error}") from None


def _check_source(source, path):
    """Raise CopyError unless the file is at this release's schema, with the columns tables.py describes."""
    if "schema_migrations" not in source.table_names():
        raise CopyError(f"{path} is not a hotline database (it has no schema_migrations table)")
    version = source.execute("SELECT max(version) FROM schema_migrations").fetchone()[0]
    expected = max(migration[0] for migration in MIGRATIONS)
    if version != expected:
        advice = "run `flask init-db` first" if (version or 0) < expected else "it was migrated by a newer release"
        raise CopyError(f"{path} is at schema version {version}, not {expected} as this release expects: {advice}")
    for table in metadata.sorted_tables:
        found = set(source[table.name].columns_dict) if source[table.name].exists() else set()
        if found != {column.name for column in table.columns}:
            raise CopyError(f"{path}: the columns of table {table.name} are not those this release copies")
    # PostgreSQL would refuse these rows half-way through the copy; say which table up front.
    broken = {}
    for row in source.execute("PRAGMA foreign_key_check").fetchall():
        broken[row[0]] = broken.get(row[0], 0) + 1
    if broken:
        listed = ", ".join(f"{count:,} in {table}" for table, count in sorted(broken.items()))
        raise CopyError(f"{path} has rows that refer to rows which do not exist ({listed});"
                        " PostgreSQL would refuse them")


def _copy_table(source, target, table, batch_rows, on_rows):
    """Insert the table's rows in batches of `batch_rows`, each committed; rows already there are left alone."""
    names = [column.name for column in table.columns]
    wanted = {column.name: column.type.python_type for column in table.columns}
    insert = postgresql.insert(table).on_conflict_do_nothing()
    rows = source[table.name].rows_where(select=", ".join(f"[{name}]" for name in names), order_by="rowid")
    while batch := list(itertools.islice(rows, batch_rows)):
        for row in batch:
            for name, value in row.items():
                if value is not None and not isinstance(value, wanted[name]):
                    row[name] = _fit(table.name, name, value, wanted[name])
        try:
            target.execute(insert, batch)
            target.commit()
        except sa.exc.DBAPIError as error:
            target.rollback()
            raise CopyError(f"table {table.name}: a batch of rows was refused: {_reason(error)}") from None
        if on_rows:
            on_rows(table.name, len(batch))


def _fit(table, column, value, wanted):
    """Return `value` as the column's type (SQLite lets any column hold any type); raise CopyError if it cannot be."""
    try:
        if wanted is str:
            return value.decode("utf-8") if isinstance(value, bytes) else str(value)
        if wanted is int and (isinstance(value, str) or (isinstance(value, float) and value.is_integer())):
            return int(value)
        if wanted is float and isinstance(value, (int, str)):
            return float(value)
        if wanted is bytes and isinstance(value, str):
            return value.encode("utf-8")
    except (ValueError, UnicodeDecodeError):
        pass
    # The value itself stays out of the message: it may be a caller's number or words.
    raise CopyError(f"table {table}, column {column}: a {type(value).__name__} value cannot be stored as"
                    f" {wanted.__name__}")


def _continue_identities(target):
    """Move each identity sequence past the largest copied id, so the next insert does not reuse one."""
    for table in metadata.sorted_tables:
        if any(column.identity is not None for column in table.columns):
            # setval(…, 1, false) on an empty table: the next id is 1.
            target.execute(sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), coalesce(max(id), 1),"
                f" max(id) IS NOT NULL) FROM {table.name}"
            ))
    target.commit()


def _target_counts(target):
    counts = {table.name: target.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
              for table in metadata.sorted_tables}
    target.commit()
    return counts


def _reason(error):
    """The database's own words, without SQLAlchemy's echo of the statement and its (possibly personal) values."""
    return str(getattr(error, "orig", None) or error).strip().splitlines()[0]
