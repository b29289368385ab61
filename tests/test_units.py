"""Small pieces with many cases: phone numbers, business hours, spoken digits."""
from datetime import datetime, timezone

import pytest

from ivr.errors import InvalidInput
from ivr.hours import parse_hours
from ivr.phone import mask, parse_caller, to_e164
from ivr.spoken import digits_from_speech


@pytest.mark.parametrize("raw, expected", [
    ("+8613800138000", "+8613800138000"),
    ("13800138000", "+8613800138000"),
    ("008613800138000", "+8613800138000"),
    ("+86 138-0013-8000", "+8613800138000"),
    ("01088886666", "+861088886666"),
    ("+14155550123", "+14155550123"),
    ("12345", None),
    ("", None),
    ("Anonymous", None),
    ("not a number", None),
])
def test_to_e164(raw, expected):
    assert to_e164(raw) == expected


def test_parse_caller_keeps_the_raw_value():
    caller = parse_caller("sip:x@example.com")
    assert caller.withheld and caller.number is None and caller.raw == "sip:x@example.com"
    assert parse_caller("+8613800138000").callable


@pytest.mark.parametrize("number, shown", [("+8613800138000", "+86 138****8000"), (None, "withheld")])
def test_mask(number, shown):
    assert mask(number) == shown


SHANGHAI_WEDNESDAY_10 = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)
SHANGHAI_WEDNESDAY_20 = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
SHANGHAI_SATURDAY_11 = datetime(2026, 11, 28, 3, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("spec, moment, is_open", [
    ("Mon-Fri 09:00-18:00 Asia/Shanghai", SHANGHAI_WEDNESDAY_10, True),
    ("Mon-Fri 09:00-18:00 Asia/Shanghai", SHANGHAI_WEDNESDAY_20, False),
    ("Mon-Fri 09:00-18:00 Asia/Shanghai", SHANGHAI_SATURDAY_11, False),
    ("Mon-Fri 09:00-18:00; Sat 10:00-12:00 Asia/Shanghai", SHANGHAI_SATURDAY_11, True),
    ("Mon-Fri 09:00-18:00 UTC", SHANGHAI_WEDNESDAY_10, False),
    ("24/7", SHANGHAI_WEDNESDAY_20, True),
    ("", SHANGHAI_WEDNESDAY_20, True),
])
def test_business_hours(spec, moment, is_open):
    assert parse_hours(spec).is_open(moment) is is_open


@pytest.mark.parametrize("spec", ["Mon-Fri 9-18", "Funday 09:00-18:00", "Mon 18:00-09:00", "Mon 09:00-18:00 Mars/Base"])
def test_bad_business_hours_say_what_is_wrong(spec):
    with pytest.raises(InvalidInput, match="IVR_BUSINESS_HOURS"):
        parse_hours(spec)


@pytest.mark.parametrize("said, digits", [
    ("一二三四五六", "123456"),
    ("幺三八 零零幺三 八零零零", "13800138000"),
    ("洞洞七", "007"),
    ("one two three four five six", "123456"),
    ("one two double three", "1233"),
    ("1 2 3, 4 5 6.", "123456"),
    ("我不知道", None),
    ("", None),
])
def test_spoken_digits(said, digits):
    assert digits_from_speech(said) == digits


def test_a_snapshot_writes_only_while_it_is_current(tmp_path):
    import sqlite3

    from ivr import db

    path = str(tmp_path / "snapshot.db")
    database = db.connect(path)
    database.execute("CREATE TABLE notes (text TEXT)")
    database.execute("INSERT INTO notes VALUES ('kept')")
    # Nothing written since the snapshot: its write takes the lock and commits.
    with db.Snapshot(database) as snapshot:
        assert database.execute("SELECT text FROM notes").fetchall() == [("kept",)]
        database.execute("INSERT INTO notes VALUES ('current')")
        snapshot.commit()
    # Another connection wrote after the snapshot was taken: the write is refused, nothing of it is kept.
    other = sqlite3.connect(path, isolation_level=None)
    with pytest.raises(db.WriteNeeded):
        with db.Snapshot(database):
            database.execute("SELECT count(*) FROM notes").fetchone()
            other.execute("INSERT INTO notes VALUES ('other')")
            database.execute("INSERT INTO notes VALUES ('stale')")
    assert not database.conn.in_transaction
    # A snapshot left without committing keeps nothing; other errors pass through unchanged.
    with pytest.raises(ZeroDivisionError):
        with db.Snapshot(database):
            database.execute("INSERT INTO notes VALUES ('abandoned')")
            1 / 0
    assert [row[0] for row in database.execute("SELECT text FROM notes")] == ["kept", "current", "other"]
    other.close()
    database.conn.close()


def test_a_grown_write_ahead_log_is_started_again(tmp_path, monkeypatch):
    import os
    import sqlite3

    from ivr import connection, db

    monkeypatch.setattr(connection, "LOG_LIMIT_BYTES", 64 * 1024)
    monkeypatch.setattr(connection, "LOG_CHECK_SECONDS", 0)
    path = str(tmp_path / "log.db")
    database = db.connect(path)
    database.execute("CREATE TABLE notes (text TEXT)")
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM notes").fetchone() == (0,)
    # A reader holds the old log: the commits stand, the log cannot start again yet.
    for number in range(40):
        with db.transaction(database):
            database.execute("INSERT INTO notes VALUES (?)", ["x" * 4000 + str(number)])
    assert os.path.getsize(path + "-wal") > 64 * 1024
    reader.execute("COMMIT")
    # Once it has gone, the next commit checkpoints the log, and the one after writes it again from its start
    # (the file keeps three quarters of the limit, so that later commits overwrite rather than grow it).
    with db.transaction(database):
        database.execute("INSERT INTO notes VALUES ('last')")
    with db.transaction(database):
        database.execute("INSERT INTO notes VALUES ('first of the new log')")
    assert os.path.getsize(path + "-wal") <= 48 * 1024
    assert reader.execute("SELECT count(*) FROM notes").fetchone() == (42,)
    assert database.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    reader.close()
    database.conn.close()


def test_begin_immediate_waits_for_a_lock_held_briefly(tmp_path):
    import sqlite3
    import threading

    from ivr import db

    path = str(tmp_path / "lock.db")
    database = db.connect(path, timeout=5)
    database.execute("CREATE TABLE notes (text TEXT)")
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO notes VALUES ('first')")
    threading.Timer(0.2, lambda: holder.execute("COMMIT")).start()
    with db.transaction(database):  # waits for the holder, then writes after it
        database.execute("INSERT INTO notes VALUES ('second')")
    assert [row[0] for row in database.execute("SELECT text FROM notes")] == ["first", "second"]
    assert database.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    # Held for longer than the timeout: "database is locked", and nothing half-done.
    short = db.connect(path, timeout=0.1)
    holder.execute("BEGIN IMMEDIATE")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        with db.transaction(short):
            short.execute("INSERT INTO notes VALUES ('never')")
    holder.execute("ROLLBACK")
    assert not short.conn.in_transaction
    holder.close()
    short.conn.close()
    database.conn.close()


def test_a_serving_app_sets_what_it_loaded_apart_from_the_garbage_collector(tmp_path):
    # A worker's modules, flows and phone metadata live as long as it does; tests keep collecting as usual.
    import gc

    from ivr import create_app

    gc.unfreeze()
    create_app({"TESTING": True, "DATABASE": str(tmp_path / "t.db")})
    assert gc.get_freeze_count() == 0
    try:
        create_app({"DATABASE": str(tmp_path / "s.db")})
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
