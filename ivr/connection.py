"""SQLite connections: WAL mode, one cached connection per worker thread, write transactions and snapshots."""
import contextlib
import os
import sqlite3
import threading
import time

import sqlite_utils
from flask import after_this_request, current_app, g, has_request_context


def connect(path, timeout=5.0):
    """Open a sqlite-utils Database on `path` in WAL mode, waiting up to `timeout` seconds on locks."""
    if path != ":memory:" and not os.path.exists(path):
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise sqlite3.OperationalError(f"database folder {directory} does not exist")
    # Autocommit at the driver level: transactions are opened explicitly (BEGIN IMMEDIATE, or a Snapshot's BEGIN).
    conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")  # the log is restarted by restart_log() instead
    conn.execute(f"PRAGMA journal_size_limit = {LOG_LIMIT_BYTES * 3 // 4}")
    database = sqlite_utils.Database(conn)
    if path != ":memory:" and database.journal_mode != "wal":
        database.enable_wal()
    database.log_path = None if path == ":memory:" else path + "-wal"
    database.busy_ms = int(timeout * 1000)
    return database


# SQLite's own checkpoints never got the log back to its start under steady load: some worker was always reading
# from it. The log grew without end (60 MB in 10 s), and past 1000 pages every commit ran a checkpoint with two
# fsyncs. Now a commit that finds the log past LOG_LIMIT_BYTES (looking at most every LOG_CHECK_SECONDS per
# connection) checkpoints it and starts it again from the beginning; in a request, once the response has gone out.
# The file keeps three quarters of that (journal_size_limit): commits that overwrite blocks the file already has
# cost a sixth less than commits that grow it, and its size past the limit still tells how long the log is.
LOG_LIMIT_BYTES = 4 * 1024 * 1024
LOG_RESTART_WAIT_MS = 20
LOG_CHECK_SECONDS = 0.2


def _busy_ms(database):
    # As connect() set it; read from SQLite only for a connection opened some other way.
    waited = getattr(database, "busy_ms", None)
    return waited if waited is not None else database.conn.execute("PRAGMA busy_timeout").fetchone()[0]


def _polling(database, wait_ms, attempt):
    """Call attempt() until it returns True, for at most wait_ms, with SQLite's busy handler off; True if it did."""
    # SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25 ms between tries: with each webhook holding the
    # lock for well under a millisecond, waiting workers slept through long stretches in which it was free, and
    # a checkpoint waiting for readers slept while holding the write lock.
    conn = database.conn
    deadline, pause = time.monotonic() + wait_ms / 1000, 0.0001
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        while not attempt():
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, 0.001)
        return True
    finally:
        conn.execute(f"PRAGMA busy_timeout = {_busy_ms(database)}")


def _is_busy(error):
    return (getattr(error, "sqlite_errorcode", 0) & 0xFF) == sqlite3.SQLITE_BUSY


def _log_due(database):
    path = getattr(database, "log_path", None)
    now = time.monotonic()
    if path is None or now < getattr(database, "next_log_check", 0.0):
        return False
    database.next_log_check = now + LOG_CHECK_SECONDS
    try:
        return os.stat(path).st_size >= LOG_LIMIT_BYTES
    except OSError:
        return False


def restart_log(database):
    """Checkpoint the write-ahead log so that the next commit starts it again; False if readers kept it (tried again)."""
    conn = database.conn
    database.restart_asked = False
    try:
        # PASSIVE copies the log back without stopping writers; RESTART then takes the write lock only to copy the
        # last few pages, once no reader is left on the old log, so the next commit writes from its start.
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        return _polling(database, LOG_RESTART_WAIT_MS,
                        lambda: conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()[0] == 0)
    except sqlite3.Error:
        return False  # a checkpoint is an optimisation: the commits before it stand


def _committed(database):
    if not _log_due(database):
        return
    # Once the response has gone out; at once outside a request, or if a restart asked for earlier never ran
    # (a WSGI server that does not close responses).
    if has_request_context() and not getattr(database, "restart_asked", False):
        database.restart_asked = True

        @after_this_request
        def restart_after_response(response):
            response.call_on_close(lambda: restart_log(database))
            return response
    else:
        restart_log(database)


# One open connection per worker thread, reused across requests: opening one costs four PRAGMAs, and
# closing the last connection to a WAL database checkpoints it, which together took most of a webhook's time.
_thread = threading.local()


def _file_identity(path):
    # A connection is reused only while its file is the same file with the same owner and permissions,
    # in the same process: a restored, moved, replaced or chmod-ed database is reopened as it is now.
    status = os.stat(path)
    return (os.getpid(), status.st_dev, status.st_ino, status.st_mode, status.st_uid, status.st_gid)


def _cached_connection(path, timeout):
    cached = getattr(_thread, "db", None)
    if cached is not None:
        key, database = cached
        try:
            if key == (path, timeout, _file_identity(path)):
                return database
        except OSError:
            pass
        _thread.db = None
        _close_quietly(database)
    database = connect(path, timeout)
    if path != ":memory:":
        try:
            _thread.db = ((path, timeout, _file_identity(path)), database)
        except OSError:
            pass  # not kept: closed at the end of the request
    return database


def _close_quietly(database):
    try:
        database.conn.close()
    except sqlite3.Error:
        pass


def get_db():
    """Return this request's database connection: the thread's open one while its file is unchanged."""
    # Proxies resolved once: each attribute read through a proxy first fails and formats an AttributeError.
    namespace = g._get_current_object()
    database = namespace.get("db")
    if database is None:
        config = current_app._get_current_object().config
        database = namespace.db = _cached_connection(config["DATABASE"], config["DATABASE_TIMEOUT"])
    return database


def close_db(exception=None):
    """End this request's use of its connection; keep it open for the thread's next request if it is clean."""
    database = g._get_current_object().pop("db", None)
    if database is None:
        return
    cached = getattr(_thread, "db", None)
    if cached is not None and cached[1] is database:
        if exception is None and not database.conn.in_transaction:
            return
        _thread.db = None
    if database.conn.in_transaction:
        try:
            database.conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass
    _close_quietly(database)


def begin_immediate(database):
    """BEGIN IMMEDIATE, trying for the write lock every fraction of a millisecond until the busy timeout."""
    conn = database.conn

    def attempt():
        try:
            conn.execute("BEGIN IMMEDIATE")
            return True
        except sqlite3.OperationalError as error:
            if _is_busy(error):
                return False
            raise

    if not _polling(database, _busy_ms(database), attempt):
        raise sqlite3.OperationalError("database is locked")


@contextlib.contextmanager
def transaction(database):
    """Run a block in one write transaction, taking the write lock up front to avoid deadlocks."""
    if database.conn.in_transaction:
        yield database
        return
    begin_immediate(database)
    try:
        yield database
    except BaseException:
        if database.conn.in_transaction:
            database.conn.execute("ROLLBACK")
        raise
    else:
        database.conn.execute("COMMIT")
        _committed(database)


class WriteNeeded(Exception):
    """Work on a snapshot could not take the write lock (another worker wrote meanwhile): run it again under the lock."""


class Snapshot:
    """One deferred transaction: its reads share one snapshot, and its first write takes the write lock only if
    nothing was written since that snapshot (otherwise WriteNeeded is raised)."""

    # Webhooks work out their answer here and hold the single write lock only to store it: computed inside
    # BEGIN IMMEDIATE, a worker preempted mid-step held every other worker up for the rest of its time slice.

    def __init__(self, database):
        self.database = database
        self.conn = database.conn

    def __enter__(self):
        self.conn.execute("BEGIN")
        return self

    def commit(self):
        """Commit what the block wrote."""
        self.conn.execute("COMMIT")
        _committed(self.database)

    def __exit__(self, kind, error, traceback):
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        # SQLite does not wait for the lock when a read transaction asks to write: it answers SQLITE_BUSY
        # (or SQLITE_BUSY_SNAPSHOT when another connection has written since the snapshot was taken).
        if isinstance(error, sqlite3.OperationalError) and _is_busy(error):
            raise WriteNeeded(str(error)) from error
        return False


def init_app(app):
    """Close (or keep) connections after each request."""
    app.teardown_appcontext(close_db)
