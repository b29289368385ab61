"""The embedded SQLite database: connections, migrations and the call log's verbs."""
import contextlib
import json
import os
import re
import sqlite3
import threading
import time

import sqlite_utils
from flask import current_app, g

from . import clock
from .schema import MIGRATIONS

COLUMN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def connect(path, timeout=5.0):
    """Open a sqlite-utils Database on `path` in WAL mode, waiting up to `timeout` seconds on locks."""
    if path != ":memory:" and not os.path.exists(path):
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise sqlite3.OperationalError(f"database folder {directory} does not exist")
    # Autocommit at the driver level: transactions are opened explicitly with BEGIN IMMEDIATE.
    conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")  # the log is restarted by restart_log() instead
    database = sqlite_utils.Database(conn)
    if path != ":memory:" and database.journal_mode != "wal":
        database.enable_wal()
    database.log_path = None if path == ":memory:" else path + "-wal"
    return database


# SQLite's own checkpoints never got the log back to its start under steady load: some worker was always reading
# from it. The log grew without end (60 MB in 10 s), and past 1000 pages every commit ran a checkpoint with two
# fsyncs. Now a commit that finds the log past LOG_LIMIT_BYTES checkpoints it and starts it again from the
# beginning, waiting at most LOG_RESTART_WAIT_MS for readers, and at most every LOG_CHECK_SECONDS per thread.
LOG_LIMIT_BYTES = 4 * 1024 * 1024
LOG_RESTART_WAIT_MS = 20
LOG_CHECK_SECONDS = 0.2


def restart_log(database, force=False):
    """Checkpoint the write-ahead log and start it again from empty if it has grown past LOG_LIMIT_BYTES."""
    path = getattr(database, "log_path", None)
    now = time.monotonic()
    if path is None or (not force and now < getattr(_thread, "next_log_check", 0.0)):
        return False
    _thread.next_log_check = now + LOG_CHECK_SECONDS
    try:
        if not force and os.stat(path).st_size < LOG_LIMIT_BYTES:
            return False
    except OSError:
        return False
    conn = database.conn
    waited = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    try:
        # PASSIVE copies most of the log back without stopping writers; TRUNCATE then holds the write lock only to
        # copy the last few pages and wait (briefly) for readers of the old log, so the next commit starts afresh.
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        conn.execute(f"PRAGMA busy_timeout = {LOG_RESTART_WAIT_MS}")
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except sqlite3.Error:
        busy = 1  # a checkpoint is an optimisation: the commit before it stands
    finally:
        conn.execute(f"PRAGMA busy_timeout = {waited}")
    return not busy


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
    if "db" not in g:
        g.db = _cached_connection(current_app.config["DATABASE"], current_app.config["DATABASE_TIMEOUT"])
    return g.db


def close_db(exception=None):
    """End this request's use of its connection; keep it open for the thread's next request if it is clean."""
    database = g.pop("db", None)
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
    """BEGIN IMMEDIATE, polling for the write lock every fraction of a millisecond until the busy timeout."""
    # SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25 ms between tries: with each webhook holding the
    # lock for well under a millisecond, waiting workers slept through long stretches in which it was free.
    conn = database.conn
    waited = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    deadline, pause = time.monotonic() + waited / 1000, 0.0001
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                busy = (getattr(error, "sqlite_errorcode", 0) & 0xFF) == sqlite3.SQLITE_BUSY
                if not busy or time.monotonic() >= deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.001)
    finally:
        conn.execute(f"PRAGMA busy_timeout = {waited}")


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
        restart_log(database)


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
        self.changes = 0

    def __enter__(self):
        self.conn.execute("BEGIN")
        self.changes = self.conn.total_changes
        return self

    @property
    def writing(self):
        """True once the block has written, and so holds the write lock on a snapshot that is still current."""
        return self.conn.total_changes != self.changes

    def commit(self):
        """Commit what the block wrote."""
        self.conn.execute("COMMIT")
        restart_log(self.database)

    def __exit__(self, kind, error, traceback):
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        # SQLite does not wait for the lock when a read transaction asks to write: it answers SQLITE_BUSY
        # (or SQLITE_BUSY_SNAPSHOT when another connection has written since the snapshot was taken).
        if isinstance(error, sqlite3.OperationalError) and (getattr(error, "sqlite_errorcode", 0) & 0xFF) == sqlite3.SQLITE_BUSY:
            raise WriteNeeded(str(error)) from error
        return False


def migrate(database):
    """Apply every migration not yet applied; safe to run on every boot and from several workers."""
    applied = []
    with transaction(database):
        database.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)"
        )
        done = {row[0] for row in database.execute("SELECT version FROM schema_migrations").fetchall()}
        for version, name, sql in MIGRATIONS:
            if version in done:
                continue
            for statement in statements(sql):
                database.execute(statement)
            database.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                [version, name, clock.stamp()],
            )
            applied.append(version)
    return applied


def statements(script):
    """Split an SQL script into whole statements, keeping trigger bodies (which contain ';') intact."""
    found, current = [], ""
    for piece in script.split(";"):
        current += piece + ";"
        if sqlite3.complete_statement(current):
            if current.strip(" \n\t;"):
                found.append(current.strip())
            current = ""
    if current.strip(" \n\t;"):
        found.append(current.strip())
    return found


def check(database):
    """Raise if the database cannot be read and written; used by /healthz."""
    database.execute("SELECT count(*) FROM schema_migrations").fetchone()
    with transaction(database):
        database.execute("CREATE TEMP TABLE IF NOT EXISTS health_probe (x)")
        # BEGIN IMMEDIATE and TEMP tables succeed on a read-only file; a (no-op) write to it does not.
        database.execute("UPDATE schema_migrations SET version = version WHERE 0")
    return True


def init_app(app):
    """Close connections after each request."""
    app.teardown_appcontext(close_db)


# -- the call log ---------------------------------------------------------------------------


def find_delivery(database, token):
    """Return the stored response of a webhook delivery already handled, or None."""
    return database.execute("SELECT status_code, body FROM deliveries WHERE token = ?", [token]).fetchone()


# The per-webhook verbs below use plain SQL: sqlite-utils' table helpers re-read the schema (about a dozen
# queries of sqlite_master and PRAGMA table_info) on every call, which cost more than the writes themselves.


def save_delivery(database, token, call_sid, status_code, body):
    """Remember the response to a webhook delivery so a retried delivery is not handled twice."""
    database.execute(
        "INSERT INTO deliveries (token, call_sid, at, status_code, body) VALUES (?, ?, ?, ?, ?)",
        [token, call_sid, clock.stamp(), status_code, body],
    )


def get_call(database, sid):
    """Return a call row with its flow state decoded, or None."""
    return read_call(database, sid)[0]


def read_call(database, sid):
    """Return (call with its flow state decoded, or None; the row as stored, to compare with call_version)."""
    cursor = database.execute("SELECT * FROM calls WHERE sid = ?", [sid])
    row = cursor.fetchone()
    if row is None:
        return None, None
    call = dict(zip([column[0] for column in cursor.description], row))
    call["state"] = json.loads(call["state"] or "{}")
    return call, row


def call_version(database, sid):
    """Return a call's row as stored (None if there is none): unchanged rows compare equal."""
    return database.execute("SELECT * FROM calls WHERE sid = ?", [sid]).fetchone()


def planned_call(database, sid, caller, to_number, language):
    """Return the row start_call would create for a new call, without writing it."""
    stamp = clock.stamp()
    columns = [column[0] for column in database.execute("SELECT * FROM calls WHERE 0").description]
    call = dict.fromkeys(columns)
    call.update(sid=sid, from_number=caller.number, from_raw=caller.raw, caller_withheld=int(caller.withheld),
                to_number=to_number, language=language, started_at=stamp, status="in-progress", state={},
                updated_at=stamp)
    return call


def insert_call(database, call):
    """Store a call planned by planned_call; a call already started is left as it is."""
    database.execute(
        "INSERT OR IGNORE INTO calls (sid, from_number, from_raw, caller_withheld, to_number, language,"
        " started_at, status, state, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '{}', ?)",
        [call[name] for name in ("sid", "from_number", "from_raw", "caller_withheld", "to_number", "language",
                                 "started_at", "status", "updated_at")],
    )


def start_call(database, sid, caller, to_number, language):
    """Create the call's row on its first webhook; a call already started is left as it is."""
    insert_call(database, planned_call(database, sid, caller, to_number, language))
    return get_call(database, sid)


def save_call(database, sid, state, **fields):
    """Store a call's flow state and any changed columns (node, language, verdict, merchant_id)."""
    fields = {key: _stored(value) for key, value in fields.items() if value is not None}
    fields["state"] = json.dumps(state, ensure_ascii=False)
    fields["updated_at"] = clock.stamp()
    assignments = ", ".join(f"{_column(key)} = ?" for key in fields)
    cursor = database.execute(f"UPDATE calls SET {assignments} WHERE sid = ?", [*fields.values(), sid])
    if cursor.rowcount == 0:
        raise sqlite_utils.db.NotFoundError(sid)


def _column(name):
    if not COLUMN_NAME.match(name):
        raise ValueError(f"not a column name: {name!r}")
    return f'"{name}"'


def _stored(value):
    # As sqlite-utils stored values: containers as JSON text.
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, default=repr, ensure_ascii=False)
    return value


EVENT_FIELDS = ("at", "node", "kind", "text", "digits", "speech", "confidence", "detail")
_INSERT_EVENT = f"INSERT INTO events (call_sid, {', '.join(EVENT_FIELDS)}) VALUES (?{', ?' * len(EVENT_FIELDS)})"


def record_events(database, sid, events):
    """Append events (dicts with node, kind, text, digits, speech, confidence, detail) to a call."""
    rows = []
    for event in events:
        unknown = event.keys() - EVENT_FIELDS
        if unknown:
            raise ValueError(f"events have no field {', '.join(sorted(unknown))}")
        detail = event.get("detail")
        if isinstance(detail, (dict, list, tuple)):
            detail = json.dumps(detail, default=repr, ensure_ascii=False)
        rows.append((sid, event.get("at") or clock.stamp(), event.get("node"), event["kind"], event.get("text"),
                     event.get("digits"), event.get("speech"), event.get("confidence"), detail))
    if rows:
        database.conn.executemany(_INSERT_EVENT, rows)


def record_event(database, sid, kind, **fields):
    """Append one event to a call."""
    record_events(database, sid, [dict(kind=kind, **fields)])


def call_events(database, sid):
    """Return a call's events in the order they happened."""
    return list(database.query("SELECT * FROM events WHERE call_sid = ? ORDER BY id", [sid]))


FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


def update_call_status(database, sid, status, duration=None, caller=None, to_number=None):
    """Record a status callback: the status, and on a final status the end time and duration."""
    stamp = clock.stamp()
    if caller is not None:
        database.execute(
            "INSERT OR IGNORE INTO calls (sid, from_number, from_raw, caller_withheld, to_number, started_at,"
            " state, updated_at) VALUES (?, ?, ?, ?, ?, ?, '{}', ?)",
            [sid, caller.number, caller.raw, int(caller.withheld), to_number, stamp, stamp],
        )
    fields = {"status": status, "updated_at": stamp}
    if status in FINAL_STATUSES:
        fields["ended_at"] = stamp
        if duration is not None:
            fields["duration"] = duration
    if status == "in-progress":
        fields["answered_at"] = stamp
    assignments = ", ".join(f"{name} = :{name}" for name in fields)
    if status == "in-progress":
        assignments = assignments.replace("answered_at = :answered_at", "answered_at = coalesce(answered_at, :answered_at)")
    database.execute(f"UPDATE calls SET {assignments} WHERE sid = :sid", dict(fields, sid=sid))


def recent_calls(database, limit=20):
    """Return the most recent calls, newest first."""
    return list(database.query("SELECT * FROM calls ORDER BY started_at DESC LIMIT ?", [limit]))


def add_callback(database, sid, from_number, language, recording):
    """Log a message left for a person as a call-back request and return its id."""
    table = database["callbacks"].insert(
        {
            "call_sid": sid,
            "from_number": from_number,
            "language": language,
            "recording_url": recording.get("url"),
            "recording_sid": recording.get("sid"),
            "recording_duration": recording.get("duration"),
            "created_at": clock.stamp(),
            "status": "waiting",
        }
    )
    return table.last_pk


def callbacks(database, status="waiting"):
    """Return call-back requests with the given status, oldest first."""
    return list(database.query("SELECT * FROM callbacks WHERE status = ? ORDER BY created_at", [status]))
