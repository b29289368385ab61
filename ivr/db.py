"""The embedded SQLite database: connections, migrations and the call log's verbs."""
import contextlib
import json
import os
import sqlite3

import sqlite_utils
from flask import current_app, g

from . import clock
from .schema import MIGRATIONS


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
    database = sqlite_utils.Database(conn)
    if path != ":memory:" and database.journal_mode != "wal":
        database.enable_wal()
    return database


def get_db():
    """Return this request's database connection, opening it on first use."""
    if "db" not in g:
        g.db = connect(current_app.config["DATABASE"], current_app.config["DATABASE_TIMEOUT"])
    return g.db


def close_db(exception=None):
    """Close this request's connection, if one was opened."""
    database = g.pop("db", None)
    if database is not None:
        database.conn.close()


@contextlib.contextmanager
def transaction(database):
    """Run a block in one write transaction, taking the write lock up front to avoid deadlocks."""
    if database.conn.in_transaction:
        yield database
        return
    database.conn.execute("BEGIN IMMEDIATE")
    try:
        yield database
    except BaseException:
        if database.conn.in_transaction:
            database.conn.execute("ROLLBACK")
        raise
    else:
        database.conn.execute("COMMIT")


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
            for statement in sql.split(";"):
                if statement.strip():
                    database.execute(statement)
            database.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                [version, name, clock.stamp()],
            )
            applied.append(version)
    return applied


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


def save_delivery(database, token, call_sid, status_code, body):
    """Remember the response to a webhook delivery so a retried delivery is not handled twice."""
    database["deliveries"].insert(
        {"token": token, "call_sid": call_sid, "at": clock.stamp(), "status_code": status_code, "body": body}
    )


def get_call(database, sid):
    """Return a call row with its flow state decoded, or None."""
    rows = list(database.query("SELECT * FROM calls WHERE sid = ?", [sid]))
    if not rows:
        return None
    call = rows[0]
    call["state"] = json.loads(call["state"] or "{}")
    return call


def start_call(database, sid, caller, to_number, language):
    """Create the call's row on its first webhook; a call already started is left as it is."""
    stamp = clock.stamp()
    database.execute(
        "INSERT OR IGNORE INTO calls (sid, from_number, from_raw, caller_withheld, to_number, language,"
        " started_at, status, state, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'in-progress', '{}', ?)",
        [sid, caller.number, caller.raw, int(caller.withheld), to_number, language, stamp, stamp],
    )
    return get_call(database, sid)


def save_call(database, sid, state, **fields):
    """Store a call's flow state and any changed columns (node, language, verdict, merchant_id)."""
    fields = {key: value for key, value in fields.items() if value is not None}
    fields["state"] = json.dumps(state, ensure_ascii=False)
    fields["updated_at"] = clock.stamp()
    database["calls"].update(sid, fields)


def record_events(database, sid, events):
    """Append events (dicts with node, kind, text, digits, speech, confidence, detail) to a call."""
    rows = []
    for event in events:
        row = dict(event)
        row["call_sid"] = sid
        row.setdefault("at", clock.stamp())
        if isinstance(row.get("detail"), (dict, list)):
            row["detail"] = json.dumps(row["detail"], ensure_ascii=False)
        rows.append(row)
    if rows:
        database["events"].insert_all(
            rows,
            columns={
                "call_sid": str, "at": str, "node": str, "kind": str, "text": str,
                "digits": str, "speech": str, "confidence": float, "detail": str,
            },
            alter=False,
        )


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
