"""PostgreSQL's schema (tables.py, Alembic) matches SQLite's, and copy-database moves every row across, once."""
import threading

import pytest
import sqlalchemy as sa
import sqlite_utils
from pg import postgresql_url, query  # noqa: F401 - postgresql_url is a fixture

from conftest import rows
from ivr import clock
from ivr.storage import callbacklist, cases, db, merchants, outbox, pgschema, recordings, sessions, staff
from ivr.storage.tables import metadata

# Every byte value, and a NUL at the end, as a recording's audio.
AUDIO = bytes(range(256)) * 64 + b"\x00"


def sqlite_schema(path):
    """Return the SQLite file's tables (without FTS5's), as {table: sqlite-utils Table}, and its index names."""
    database = sqlite_utils.Database(path)
    virtual = [name for (name,) in database.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'")]
    names = [name for name in database.table_names()
             if name != "schema_migrations" and not any(name == v or name.startswith(v + "_") for v in virtual)]
    indexes = {(name, table) for name, table in database.execute(
        "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}
    return {name: database[name] for name in names}, indexes


def declared_indexes(dialect):
    return {(index.name, table.name) for table in metadata.tables.values() for index in table.indexes
            if index.info.get("dialect", dialect) == dialect}


@pytest.mark.sqlite_only("compares with, or copies from, the app's SQLite file")
def test_tables_py_describes_exactly_the_schema_the_app_creates_on_sqlite(app, runner):
    assert runner.invoke(args=["init-db"]).exit_code == 0
    found, indexes = sqlite_schema(app.config["DATABASE"])
    assert set(found) == set(metadata.tables)
    for name, table in found.items():
        declared = metadata.tables[name]
        assert [column.name for column in table.columns] == [column.name for column in declared.columns], name
        primary_key = {column.name for column in table.columns if column.is_pk}
        assert primary_key == set(declared.primary_key.columns.keys()), name
        # Primary keys are NOT NULL on PostgreSQL whatever SQLite says (an old SQLite quirk lets a TEXT one be NULL).
        assert ({column.name for column in table.columns if column.notnull and not column.is_pk}
                == {column.name for column in declared.columns if not column.nullable and not column.primary_key}), name
        assert ({(key.column, key.other_table, key.other_column) for key in table.foreign_keys}
                == {(key.parent.name, key.column.table.name, key.column.name) for key in declared.foreign_keys}), name
    assert indexes == declared_indexes("sqlite")
    # Every index SQLite has, PostgreSQL has under the same name; the trigram and bigram indexes stand in for FTS5,
    # and PostgreSQL has two more for the calls list's verdict filter with a language or a status.
    assert declared_indexes("postgresql") == indexes | {("events_speech_trigram", "events"),
                                                        ("events_speech_bigram", "events"),
                                                        ("calls_verdict_language_started", "calls"),
                                                        ("calls_status_verdict_started", "calls")}


def test_migrations_create_every_table_and_two_hosts_may_release_at_once(postgresql_url):
    head = pgschema.head_revision()
    assert pgschema.current_revision(postgresql_url) is None
    start, results, errors = threading.Barrier(2), [], []

    def release(url):
        start.wait()
        try:
            results.append(pgschema.upgrade(url))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    # Both spellings of the URL, at the same moment: one host migrates, the other waits and finds nothing to do.
    hosts = [threading.Thread(target=release, args=(url,))
             for url in (postgresql_url, postgresql_url.replace("postgresql://", "postgresql+psycopg://"))]
    for host in hosts:
        host.start()
    for host in hosts:
        host.join(60)
    assert errors == []
    assert len(results) == 2 and set(results) == {(None, head), (head, head)}
    assert pgschema.current_revision(postgresql_url) == head
    engine = pgschema.create_engine(postgresql_url)
    try:
        with engine.connect() as connection:
            assert set(metadata.tables) <= set(sa.inspect(connection).get_table_names())
            assert pgschema.schema_differences(connection) == []
    finally:
        engine.dispose()


def test_a_malformed_event_detail_is_stored_and_reads_as_no_number(postgresql_url):
    pgschema.upgrade(postgresql_url)
    query(postgresql_url, "INSERT INTO calls (sid, started_at, updated_at) VALUES ('CA1', 'x', 'x')")
    for detail in ['{"number": "+8613800138000"}', "{not json", "[1, 2]", None]:
        query(postgresql_url, "INSERT INTO events (call_sid, at, kind, detail) VALUES ('CA1', 'x', 'number', %s)",
              [detail])
    asked = query(postgresql_url, "SELECT json_field_or_null(detail, 'number') FROM events ORDER BY id")
    assert asked == [("+8613800138000",), (None,), (None,), (None,)]


def fill_every_table(app, runner):
    """Demo calls, bulk dashboard data, and a row for each table the demo leaves empty, through the storage verbs."""
    assert runner.invoke(args=["init-db", "--demo"]).exit_code == 0
    result = runner.invoke(args=["demo-data", "--calls", "120", "--days", "20"])
    assert result.exit_code == 0, result.output
    at, later = clock.stamp(), "2999-01-01T00:00:00.000+00:00"
    database = db.connect(app.config["DATABASE"])
    try:
        staff.add_user(database, "alice", "admin", "not-a-real-hash", at)
        user_id = staff.find_user(database, "alice")["id"]
        session = sessions.add_session(database, "f" * 64, user_id, at, later, "127.0.0.1")
        sessions.add_reveals(database, session, "call:CA1", ["+8613800138000"], at, later)
        staff.count_attempt(database, ["account:alice"], at, at)
        report_id = rows(app, "SELECT min(id) AS id FROM reports")[0]["id"]
        cases.add_note(database, report_id, "alice", at, "Rang the merchant back; 已核实。")
        callback_id = rows(app, "SELECT min(id) AS id FROM callbacks")[0]["id"]
        callbacklist.add_attempt(database, callback_id, "no_answer", "alice", at)
        call_sid = rows(app, "SELECT min(sid) AS sid FROM calls")[0]["sid"]
        outbox.queue_note(database, call_sid, "verdict", "+8613800138000", "zh", "官方热线提醒", "queued", at)
        merchants.insert_lock_lift(database, "merchant_strangers", "898440358120001", at, "alice")
        sid = rows(app, "SELECT sid FROM recordings")[0]["sid"]
        recordings.store_copy(database, sid, AUDIO, "audio/wav", 12.0, at)
    finally:
        database.conn.close()
    return sid


def table_rows(source, table):
    """Return a table's rows keyed by primary key, from SQLite (`source` a path) or PostgreSQL (a URL)."""
    names = [column.name for column in table.columns]
    keys = [names.index(column.name) for column in table.primary_key.columns]
    quoted = ", ".join(f'"{name}"' for name in names)
    if source.startswith("postgresql"):
        found = query(source, f'SELECT {quoted} FROM "{table.name}"')
    else:
        found = sqlite_utils.Database(source).execute(f'SELECT {quoted} FROM "{table.name}"').fetchall()
    return {tuple(row[key] for key in keys): tuple(row) for row in found}


@pytest.mark.sqlite_only("compares with, or copies from, the app's SQLite file")
def test_copy_database_copies_every_row_once_and_new_ids_follow_the_copied_ones(app, runner, postgresql_url):
    recording = fill_every_table(app, runner)
    path = app.config["DATABASE"]
    result = runner.invoke(args=["copy-database", "--to", postgresql_url, "--batch-size", "100"])
    assert result.exit_code == 0, result.output
    assert f"Schema: revision {pgschema.head_revision()} (created)" in result.output
    assert "every table's row count matches" in result.output
    copied = {table.name: table_rows(postgresql_url, table) for table in metadata.sorted_tables}
    for table in metadata.sorted_tables:
        assert copied[table.name] == table_rows(path, table), table.name
        assert f"  {table.name} " in result.output
    assert len(copied["events"]) > 300  # several batches of 100
    assert all(copied[name] for name in ("users", "staff_sessions", "revealed_numbers", "report_notes",
                                          "callback_attempts", "merchant_phones", "outreach", "sms_notes"))
    assert query(postgresql_url, "SELECT content FROM recordings WHERE sid = %s", [recording]) == [(AUDIO,)]

    again = runner.invoke(args=["copy-database", "--to", postgresql_url])
    assert again.exit_code == 0, again.output
    assert "Copied 0 new rows" in again.output and "(up to date)" in again.output
    assert {table.name: table_rows(postgresql_url, table) for table in metadata.sorted_tables} == copied

    # The next row PostgreSQL numbers itself comes after the largest id SQLite gave.
    largest = max(key[0] for key in copied["events"])
    new = query(postgresql_url, "INSERT INTO events (call_sid, at, kind) SELECT min(sid), 'x', 'note' FROM calls"
                                " RETURNING id")
    assert new == [(largest + 1,)]
    users = query(postgresql_url, "INSERT INTO users (name, role, password_hash, created_at)"
                                  " VALUES ('bob', 'agent', 'x', 'x') RETURNING id")
    assert users == [(max(key[0] for key in copied["users"]) + 1,)]


@pytest.mark.sqlite_only("compares with, or copies from, the app's SQLite file")
def test_a_database_migrated_by_a_newer_release_is_refused(app, runner, postgresql_url):
    pgschema.upgrade(postgresql_url)
    query(postgresql_url, "UPDATE alembic_version SET version_num = '9999_from_the_future'")
    result = runner.invoke(args=["copy-database", "--to", postgresql_url])
    assert result.exit_code != 0
    assert "'9999_from_the_future'" in result.output and "newer release" in result.output
    assert query(postgresql_url, "SELECT count(*) FROM calls") == [(0,)]


@pytest.mark.parametrize("url, words", [
    ("sqlite:///elsewhere.db", "not a PostgreSQL URL"),
    ("not a url", "not a database URL"),
])
def test_only_a_postgresql_url_is_accepted(runner, url, words):
    result = runner.invoke(args=["copy-database", "--to", url])
    assert result.exit_code != 0 and words in result.output


def test_either_spelling_of_a_postgresql_url_runs_on_psycopg_3_and_passwords_stay_hidden():
    for url in ("postgresql://u:secret@db.example:5432/ivr", "postgresql+psycopg://u:secret@db.example:5432/ivr"):
        assert pgschema.engine_url(url).drivername == "postgresql+psycopg"
        assert "secret" not in pgschema.display(url)


def test_copy_database_has_help(runner):
    result = runner.invoke(args=["copy-database", "--help"])
    assert result.exit_code == 0
    assert "--to URL" in result.output and "PostgreSQL" in result.output and "--batch-size" in result.output
