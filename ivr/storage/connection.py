"""Connections: SQLite's (WAL mode, one kept per worker thread) and, for both databases, write transactions and
read-only work."""
import contextlib
import os
import sqlite3
import threading

import psycopg
import sqlite_utils

from ivr.storage import postgres
from ivr.storage.postgres import is_postgresql

JOURNAL_SIZE_LIMIT = 4 * 1024 * 1024


def connect(path, timeout=5.0, reader=False):
    """Open a sqlite-utils Database on `path` in WAL mode, waiting up to `timeout` seconds on locks (a `reader` cannot write)."""
    if path != ":memory:" and not os.path.exists(path):
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise sqlite3.OperationalError(f"database folder {directory} does not exist")
    # Autocommit at the driver level: write transactions are opened explicitly with BEGIN IMMEDIATE.
    conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
    if reader:
        # Set once for the connection's life: setting a flag PRAGMA expires every statement SQLite has prepared on
        # the connection, so toggling it around each webhook's reads made SQLite parse every statement again.
        conn.execute("PRAGMA query_only = ON")
        return sqlite_utils.Database(conn)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = NORMAL")
    # Deleted and overwritten content is zeroed, so a purge leaves no callers' numbers or words in free space.
    conn.execute("PRAGMA secure_delete = ON")
    # SQLite's own checkpoints, with the log file cut back to this size after each one.
    conn.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}")
    database = sqlite_utils.Database(conn)
    if path != ":memory:" and database.journal_mode != "wal":
        database.enable_wal()
    return database


def open_database(path, timeout, url=None, pool_size=5):
    """Return a connection of its own to the PostgreSQL database at `url`, or else to the SQLite file at `path`;
    give it back with close()."""
    if url:
        return postgres.checkout(url, pool_size, timeout)
    return connect(path, timeout)


def close(database):
    """Give back a connection from open_database, rolling back what it left uncommitted."""
    if is_postgresql(database):
        if database.in_transaction and not database.broken:
            database.execute("ROLLBACK")
        database.close()
    else:
        database.conn.close()


@contextlib.contextmanager
def opened(path, timeout, url=None, pool_size=5):
    """A connection of its own for a command or a job, closed after the block."""
    database = open_database(path, timeout, url, pool_size)
    try:
        yield database
    finally:
        close(database)


# One open connection per worker thread, reused across requests: opening one costs four PRAGMAs, and
# closing the last connection to a WAL database checkpoints it, which together took most of a webhook's time.
_thread = threading.local()


def _file_identity(path):
    # A connection is reused only while its file is the same file with the same owner and permissions,
    # in the same process: a restored, moved, replaced or chmod-ed database is reopened as it is now.
    status = os.stat(path)
    return (os.getpid(), status.st_dev, status.st_ino, status.st_mode, status.st_uid, status.st_gid)


def thread_connection(path, timeout):
    """Return this thread's open connection to `path`, opening it if there is none or its file changed."""
    cached = getattr(_thread, "db", None)
    if cached is not None:
        try:
            if cached.key == (path, timeout, _file_identity(path)):
                return cached.database
        except OSError:
            pass
        _forget_thread_connection()
    database = connect(path, timeout)
    if path != ":memory:":
        try:
            _thread.db = ThreadConnection((path, timeout, _file_identity(path)), database)
        except OSError:
            pass  # not kept: closed at the end of the request
    return database


class ThreadConnection:
    """A worker thread's kept connection, and the read-only companion it opens for work that must only read."""

    def __init__(self, key, database):
        self.key = key
        self.database = database
        self.reader = None

    def close(self):
        """Close both connections."""
        for database in (self.database, self.reader):
            if database is not None:
                _close_quietly(database)


def _forget_thread_connection():
    cached = getattr(_thread, "db", None)
    _thread.db = None
    if cached is not None:
        cached.close()


def _close_quietly(database):
    try:
        database.conn.close()
    except sqlite3.Error:
        pass


def release(database, failed=False):
    """End one use of a connection: keep the thread's connection open for its next use if it is clean."""
    if is_postgresql(database):
        close(database)
        return
    cached = getattr(_thread, "db", None)
    if cached is not None and cached.database is database:
        if not failed and not database.conn.in_transaction:
            return
        _thread.db = None
        if cached.reader is not None:
            _close_quietly(cached.reader)
    if database.conn.in_transaction:
        try:
            database.conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass
    _close_quietly(database)


@contextlib.contextmanager
def transaction(database):
    """Run a block in one write transaction, taking the write lock up front to avoid deadlocks."""
    if database.conn.in_transaction:
        yield database
        return
    # SQLite: take the write lock up front. PostgreSQL locks only the rows a transaction writes.
    database.conn.execute("BEGIN" if is_postgresql(database) else "BEGIN IMMEDIATE")
    try:
        yield database
    except BaseException:
        if database.conn.in_transaction and not getattr(database, "broken", False):
            database.conn.execute("ROLLBACK")
        raise
    else:
        database.conn.execute("COMMIT")


@contextlib.contextmanager
def _read_only_transaction(database):
    database.execute("BEGIN READ ONLY")
    try:
        yield
    except psycopg.errors.ReadOnlySqlTransaction as error:
        raise WriteAttempted(str(error)) from error
    finally:
        if database.in_transaction and not database.broken:
            database.execute("ROLLBACK")


class WriteAttempted(Exception):
    """Work done read-only tried to write: it must be done again inside a write transaction."""


@contextlib.contextmanager
def read_only(database):
    """Give a block a connection to `database`'s file that cannot write; a write in it raises WriteAttempted."""
    if is_postgresql(database):
        with _read_only_transaction(database):
            yield database
        return
    cached = getattr(_thread, "db", None)
    kept = cached is not None and cached.database is database
    if kept and cached.reader is not None:
        reader = cached.reader
    elif kept:
        path, timeout, _ = cached.key
        reader = cached.reader = connect(path, timeout, reader=True)
    else:
        path = database.execute("PRAGMA database_list").fetchone()[2]
        reader = connect(path, database.conn.execute("PRAGMA busy_timeout").fetchone()[0] / 1000, reader=True)
    try:
        yield reader
    except sqlite3.OperationalError as error:
        if getattr(error, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_READONLY:
            raise WriteAttempted(str(error)) from error
        raise
    finally:
        if reader.conn.in_transaction:
            reader.conn.execute("ROLLBACK")
        if not kept:
            _close_quietly(reader)
