"""The embedded SQLite database: migrations and the call log's verbs (connections live in connection.py)."""
import json
import re
import sqlite3

from ivr import clock
from ivr.storage.connection import WriteAttempted, connect, read_only, transaction  # noqa: F401 - reached through db
from ivr.storage.postgres import is_postgresql
from ivr.storage.schema import MIGRATIONS
from ivr.vocabulary import FINAL_STATUSES

COLUMN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def migrate(database):
    """Apply every migration not yet applied; safe to run on every boot and from several workers."""
    applied = []
    with transaction(database):
        database.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)"
        )
        done = {row[0] for row in database.execute("SELECT version FROM schema_migrations").fetchall()}
        # By version, whatever the list's order: a migration placed out of order cannot run before one it needs.
        for version, name, sql in sorted(MIGRATIONS, key=lambda migration: migration[0]):
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
    if is_postgresql(database):
        # The schema's revision table answers, and the server is a primary that takes writes, not a standby.
        database.execute("SELECT count(*) FROM alembic_version").fetchone()
        if database.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
            raise RuntimeError("the PostgreSQL server is a read-only standby")
        return True
    database.execute("SELECT count(*) FROM schema_migrations").fetchone()
    with transaction(database):
        database.execute("CREATE TEMP TABLE IF NOT EXISTS health_probe (x)")
        # BEGIN IMMEDIATE and TEMP tables succeed on a read-only file; a (no-op) write to it does not.
        database.execute("UPDATE schema_migrations SET version = version WHERE 0")
    return True


# -- the call log ---------------------------------------------------------------------------


# The per-webhook verbs below use plain SQL: sqlite-utils' table helpers re-read the schema (about a dozen
# queries of sqlite_master and PRAGMA table_info) on every call, which cost more than the writes themselves.


def get_call(database, sid):
    """Return a call row with its flow state decoded, or None."""
    return read_call(database, sid)[0]


def read_call(database, sid):
    """Return (call with its flow state decoded, or None; its version, to be checked when it is saved)."""
    cursor = database.execute("SELECT * FROM calls WHERE sid = ?", [sid])
    row = cursor.fetchone()
    if row is None:
        return None, None
    call = dict(zip([column[0] for column in cursor.description], row))
    call["state"] = json.loads(call["state"] or "{}")
    return call, call["version"]


class StaleCall(Exception):
    """The call changed after it was read (another delivery was stored first): work its step out again."""


def planned_call(database, sid, caller, to_number, language):
    """Return the row a new call starts with, without writing it (insert_call stores it)."""
    stamp = clock.stamp()
    columns = [column[0] for column in database.execute("SELECT * FROM calls LIMIT 0").description]
    call = dict.fromkeys(columns)
    call.update(sid=sid, from_number=caller.number, from_raw=caller.raw, caller_withheld=int(caller.withheld),
                to_number=to_number, language=language, started_at=stamp, status="in-progress", state={},
                updated_at=stamp)
    return call


def insert_call(database, call):
    """Store a call planned by planned_call; raise StaleCall if another delivery stored it first."""
    cursor = database.execute(
        "INSERT INTO calls (sid, from_number, from_raw, caller_withheld, to_number, language,"
        " started_at, status, state, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '{}', ?) ON CONFLICT (sid) DO NOTHING",
        [call[name] for name in ("sid", "from_number", "from_raw", "caller_withheld", "to_number", "language",
                                 "started_at", "status", "updated_at")],
    )
    if cursor.rowcount == 0:
        raise StaleCall(call["sid"])


def save_call(database, sid, state, version, token=None, answer=None, at=None, **fields):
    """Store a call's flow state, the delivery it answered and changed columns, if it is still at `version`."""
    save_step(database, planned_step(sid, state, version, [], token=token, answer=answer, at=at, **fields))


class PlannedStep:
    """A step's writes, built before the write lock is taken so that the lock is held only while SQLite writes."""

    def __init__(self, sid, update, parameters, event_rows):
        self.sid, self.update, self.parameters, self.event_rows = sid, update, parameters, event_rows


def planned_step(sid, state, version, events, token=None, answer=None, at=None, **fields):
    """Plan save_call and record_events for one step; save_step stores the plan."""
    fields = {key: _stored(value) for key, value in fields.items() if value is not None}
    fields["state"] = _STATE_JSON.encode(state)
    fields["answer_token"], fields["answer"] = token, answer
    fields["updated_at"] = at or clock.stamp()
    assignments = ", ".join(f"{_column(key)} = ?" for key in fields)
    # Optimistic concurrency: the step was worked out from the call at `version`; if the row moved on since,
    # nothing is written and the caller works the step out again.
    update = f"UPDATE calls SET {assignments}, version = version + 1 WHERE sid = ? AND version = ?"
    return PlannedStep(sid, update, [*fields.values(), sid, version], _event_rows(sid, events))


def save_step(database, planned):
    """Store a planned step; raise StaleCall, having written nothing, if the call is no longer at its version."""
    if database.conn.execute(planned.update, planned.parameters).rowcount == 0:
        raise StaleCall(planned.sid)
    if planned.event_rows:
        database.conn.executemany(_INSERT_EVENT, planned.event_rows)


# json.dumps with any option builds a new encoder each time; these are the same encoders, built once.
_STATE_JSON = json.JSONEncoder(ensure_ascii=False)
_VALUE_JSON = json.JSONEncoder(ensure_ascii=False, default=repr)  # as sqlite-utils stored values


def _column(name):
    if not COLUMN_NAME.match(name):
        raise ValueError(f"not a column name: {name!r}")
    return f'"{name}"'


def _stored(value):
    # As sqlite-utils stored values: containers as JSON text.
    if isinstance(value, (dict, list, tuple)):
        return _VALUE_JSON.encode(value)
    return value


EVENT_FIELDS = ("at", "node", "kind", "text", "digits", "speech", "confidence", "detail")
_INSERT_EVENT = f"INSERT INTO events (call_sid, {', '.join(EVENT_FIELDS)}) VALUES (?{', ?' * len(EVENT_FIELDS)})"


def record_events(database, sid, events):
    """Append events (dicts with node, kind, text, digits, speech, confidence, detail) to a call."""
    rows = _event_rows(sid, events)
    if rows:
        database.conn.executemany(_INSERT_EVENT, rows)


def _event_rows(sid, events):
    rows = []
    for event in events:
        unknown = event.keys() - EVENT_FIELDS
        if unknown:
            raise ValueError(f"events have no field {', '.join(sorted(unknown))}")
        detail = event.get("detail")
        if isinstance(detail, (dict, list, tuple)):
            detail = _VALUE_JSON.encode(detail)
        rows.append((sid, event.get("at") or clock.stamp(), event.get("node"), event["kind"], event.get("text"),
                     event.get("digits"), event.get("speech"), event.get("confidence"), detail))
    return rows


def record_event(database, sid, kind, **fields):
    """Append one event to a call."""
    record_events(database, sid, [dict(kind=kind, **fields)])


def call_events(database, sid):
    """Return a call's events in the order they happened."""
    return list(database.query("SELECT * FROM events WHERE call_sid = ? ORDER BY id", [sid]))




def update_call_status(database, sid, status, version, duration=None, caller=None, to_number=None, token=None, at=None):
    """Record a status callback on the call at `version` (None: a call first heard of here): the status, and on a
    final status the end time and duration; raise StaleCall if the call changed meanwhile."""
    stamp = at or clock.stamp()
    if version is None:
        cursor = database.execute(
            "INSERT INTO calls (sid, from_number, from_raw, caller_withheld, to_number, started_at,"
            " state, updated_at) VALUES (?, ?, ?, ?, ?, ?, '{}', ?) ON CONFLICT (sid) DO NOTHING",
            [sid, caller.number, caller.raw, int(caller.withheld), to_number, stamp, stamp],
        )
        if cursor.rowcount == 0:
            raise StaleCall(sid)
        version = 0
    fields = {"status": status, "updated_at": stamp, "status_token": token}
    if status in FINAL_STATUSES:
        fields["answer"] = None  # no retry of a step can come once the call has ended
        fields["ended_at"] = stamp
        if duration is not None:
            fields["duration"] = duration
    if status == "in-progress":
        fields["answered_at"] = stamp
    assignments = ", ".join(f"{name} = :{name}" for name in fields)
    if status == "in-progress":
        assignments = assignments.replace("answered_at = :answered_at", "answered_at = coalesce(answered_at, :answered_at)")
    cursor = database.execute(
        f"UPDATE calls SET {assignments}, version = version + 1 WHERE sid = :sid AND version = :version",
        dict(fields, sid=sid, version=version),
    )
    if cursor.rowcount == 0:
        raise StaleCall(sid)


def add_callback(database, sid, from_number, language, recording):
    """Log a message left for a person as a call-back request and return its id."""
    return insert_row(database, "callbacks", {
        "call_sid": sid,
        "from_number": from_number,
        "language": language,
        "recording_url": recording.get("url"),
        "recording_sid": recording.get("sid"),
        "recording_duration": recording.get("duration"),
        "created_at": clock.stamp(),
        "status": "waiting",
    })


# -- plain-SQL stand-ins for sqlite-utils' table helpers, for any table with an `id` key ------------------------


def insert_row(database, table, row):
    """Insert `row` (a dict of its columns; containers stored as JSON text) into `table` and return its new id."""
    columns = ", ".join(_column(name) for name in row)
    # fetchall, not fetchone: an INSERT ... RETURNING is finished (and, outside a transaction, committed) only
    # once its cursor has been read to the end.
    return database.execute(
        f"INSERT INTO {_column(table)} ({columns}) VALUES ({', '.join('?' * len(row))}) RETURNING id",
        [_stored(value) for value in row.values()],
    ).fetchall()[0][0]


def update_row(database, table, row_id, fields):
    """Set `fields` (a dict of columns; containers stored as JSON text) on the `table` row with this id."""
    if fields:
        database.execute(
            f"UPDATE {_column(table)} SET {', '.join(f'{_column(name)} = ?' for name in fields)} WHERE id = ?",
            [*(_stored(value) for value in fields.values()), row_id],
        )
