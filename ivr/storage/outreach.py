"""Outreach's SQL: outreach rows, their code hashes, and the plaintext codes left from before migration 6."""
import contextlib
import sqlite3

import psycopg

from ivr.storage.db import insert_row
from ivr.storage.postgres import is_postgresql

_PLAINTEXT = "SELECT id, merchant_id, reference_code FROM outreach WHERE reference_code != ''"


def open_code_hashes(database, merchant_id):
    """Return the code hashes of the merchant's open outreach, as a set."""
    return {row[0] for row in database.execute(
        "SELECT code_hash FROM outreach WHERE merchant_id = ? AND status = 'open'", [merchant_id]
    ).fetchall()}


def insert_outreach(database, row):
    """Store an outreach row (a dict of its columns) and return its id."""
    return insert_row(database, "outreach", row)


def outreach_row(database, outreach_id):
    """Return one outreach row as a dict, or None."""
    return next(iter(database.query("SELECT * FROM outreach WHERE id = ?", [outreach_id])), None)


def outreach_status(database, outreach_id):
    """Return the stored status of one outreach row."""
    return database.execute("SELECT status FROM outreach WHERE id = ?", [outreach_id]).fetchone()[0]


def set_outreach_status(database, outreach_id, status, at, actor):
    """Store a new status of one outreach row, when it changed and who changed it."""
    database.execute(
        "UPDATE outreach SET status = ?, status_changed_at = ?, status_changed_by = ? WHERE id = ?",
        [status, at, actor, outreach_id],
    )


def outreach_rows(database, merchant_id, limit=None):
    """Return a merchant's outreach rows (at most `limit`), newest first."""
    sql = "SELECT * FROM outreach WHERE merchant_id = ? ORDER BY id DESC"
    if limit is None:
        return list(database.query(sql, [merchant_id]))
    return list(database.query(sql + " LIMIT ?", [merchant_id, limit]))


def newest_open(database, merchant_id, now):
    """Return the merchant's newest open outreach that expires after `now`, or None."""
    rows = database.query(
        "SELECT * FROM outreach WHERE merchant_id = ? AND status = 'open' AND expires_at > ?"
        " ORDER BY created_at DESC LIMIT 1",
        [merchant_id, now],
    )
    return next(iter(rows), None)


def has_plaintext_codes(database):
    """True when some outreach row still holds a plaintext code (stored before migration 6)."""
    return database.execute(_PLAINTEXT + " LIMIT 1").fetchone() is not None


def plaintext_codes(database):
    """Return (id, merchant_id, code) of every outreach row that still holds a plaintext code."""
    return [tuple(row) for row in database.execute(_PLAINTEXT).fetchall()]


def replace_plaintext_codes(database, hashes):
    """Store each (code_hash, id) pair's hash on its row and blank the row's plaintext code."""
    database.conn.executemany("UPDATE outreach SET code_hash = ?, reference_code = '' WHERE id = ?", hashes)


@contextlib.contextmanager
def secure_delete(database):
    """Run a block with SQLite's secure_delete on, so what it overwrites or deletes is zeroed in the file."""
    if is_postgresql(database):
        yield database  # PostgreSQL has no such setting: checkpoint vacuums the old row versions away instead
        return
    secure = database.execute("PRAGMA secure_delete").fetchone()[0]
    database.execute("PRAGMA secure_delete = ON")
    try:
        yield database
    finally:
        database.execute(f"PRAGMA secure_delete = {int(secure)}")


def checkpoint(database):
    """Copy the log back into the database file and truncate it, unless another connection is still reading it (on
    PostgreSQL: vacuum the outreach table, removing the rows' old versions)."""
    # A checkpoint is only a clean-up here: one that cannot run now changes nothing that was written.
    with contextlib.suppress(sqlite3.Error, psycopg.Error):
        if is_postgresql(database):
            if not database.in_transaction:  # VACUUM cannot run inside one, and a failed statement would end it
                database.execute("VACUUM outreach")
        else:
            database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
