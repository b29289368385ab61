"""Small pieces with many cases: phone numbers, business hours, spoken digits, the order of migrations."""
from datetime import datetime, timezone

import pytest

from ivr import clock
from ivr.errors import InvalidInput
from ivr.flow.spoken import digits_from_speech
from ivr.hours import parse_hours
from ivr.phone import mask, parse_caller, to_e164
from ivr.storage import db
from ivr.storage.schema import MIGRATIONS


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


# -- migrations -------------------------------------------------------------------------------

# The order releases before the list was sorted applied them in (versions 1-21 then existed).
OLD_ORDER = [1, 2, 3, 10, 11, 4, 5, 6, 20, 21]


def _schema(database):
    return database.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()


def _migrated_fresh(path):
    database = db.connect(str(path))
    applied = db.migrate(database)
    return database, applied


def test_migrations_are_listed_once_each_in_version_order():
    versions = [version for version, _, _ in MIGRATIONS]
    assert versions == sorted(set(versions))


@pytest.mark.sqlite_only("migrates SQLite files with schema.py's migrations and compares sqlite_master")
def test_migrate_applies_migrations_by_version_whatever_the_list_order(tmp_path, monkeypatch):
    fresh, applied = _migrated_fresh(tmp_path / "fresh.db")
    monkeypatch.setattr(db, "MIGRATIONS", list(reversed(MIGRATIONS)))
    shuffled, applied_shuffled = _migrated_fresh(tmp_path / "shuffled.db")
    assert applied == applied_shuffled == sorted(version for version, _, _ in MIGRATIONS)
    assert _schema(shuffled) == _schema(fresh)


@pytest.mark.sqlite_only("migrates SQLite files with schema.py's migrations and compares sqlite_master")
@pytest.mark.parametrize("applied_before", [OLD_ORDER[:5], OLD_ORDER], ids=["dashboard release", "retention release"])
def test_a_database_migrated_in_the_old_order_ends_with_the_schema_of_a_fresh_one(tmp_path, applied_before):
    by_version = {version: sql for version, _, sql in MIGRATIONS}
    old = db.connect(str(tmp_path / "old.db"))
    with db.transaction(old):
        old.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)")
        for version in applied_before:
            for statement in db.statements(by_version[version]):
                old.execute(statement)
            old.execute("INSERT INTO schema_migrations VALUES (?, 'old', ?)", [version, clock.stamp()])
    db.migrate(old)
    fresh, _ = _migrated_fresh(tmp_path / "fresh.db")
    assert _schema(old) == _schema(fresh)
    versions = "SELECT version FROM schema_migrations ORDER BY version"
    assert old.execute(versions).fetchall() == fresh.execute(versions).fetchall()


def test_work_done_read_only_cannot_write_and_says_so(database):
    # A webhook works its step out reading only; a step that writes is refused, having written nothing.
    database.execute("CREATE TABLE notes (text TEXT)")
    with pytest.raises(db.WriteAttempted):
        with db.read_only(database) as reader:
            assert reader.execute("SELECT count(*) FROM notes").fetchone() == (0,)
            with db.transaction(reader):
                reader.execute("INSERT INTO notes VALUES ('refused')")
    assert database.execute("SELECT count(*) FROM notes").fetchone() == (0,)
    with db.transaction(database):  # writable again afterwards
        database.execute("INSERT INTO notes VALUES ('kept')")
    assert database.execute("SELECT text FROM notes").fetchall() == [("kept",)]


@pytest.mark.sqlite_only("SQLite's WAL checkpoint settings on its file")
def test_connections_keep_sqlite_s_own_checkpoints_with_a_journal_size_limit(tmp_path):
    database = db.connect(str(tmp_path / "h.db"))
    assert database.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert database.execute("PRAGMA wal_autocheckpoint").fetchone() == (1000,)
    assert database.execute("PRAGMA journal_size_limit").fetchone() == (4 * 1024 * 1024,)
