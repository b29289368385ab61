"""`flask purge`: old calls lose events, numbers and recording links; the overview's counts stay the same."""
import glob
import hashlib
from datetime import datetime, timedelta, timezone

import pytest

from conftest import CallHelper, insert, rows
from ivr import clock
from ivr import database as databases
from ivr.storage import callsearch, db, retention
from ivr.storage.postgres import is_postgresql

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)
OLD_NUMBER = "+8613800138000"
NEW_NUMBER = "+8613900139000"


@pytest.fixture
def at(monkeypatch):
    """Move the hotline's clock: `at(days_ago)`."""

    def move(days_ago):
        monkeypatch.setattr(clock, "now", lambda: NOW - timedelta(days=days_ago))

    return move


def place(app, at, days_ago, number, steps, sid, hang_up=True):
    at(days_ago)
    call = CallHelper(app)
    call.start(from_=number, sid=sid)
    for step in steps:
        step(call)
    if hang_up:
        call.hangup()
    return call


def leave_message(call):
    call.press("0")
    call.dial_result("no-answer")
    call.record(15)


def speak_guide(call):
    call.say("请告诉我更新步骤")


@pytest.fixture
def history(app, at):
    """Old and recent calls with events, call-backs, reports, code attempts and verdicts."""
    place(app, at, 60, OLD_NUMBER, [leave_message], "CA" + "a" * 32)
    place(app, at, 45, OLD_NUMBER, [speak_guide, lambda call: call.press("1")], "CA" + "b" * 32)
    # A call whose status callback never came: it counts as old from when it started.
    place(app, at, 40, NEW_NUMBER, [speak_guide], "CA" + "c" * 32, hang_up=False)
    place(app, at, 2, NEW_NUMBER, [leave_message], "CA" + "d" * 32)
    place(app, at, 1, OLD_NUMBER, [speak_guide], "CA" + "e" * 32, hang_up=False)
    with databases.opened(app.config) as database, db.transaction(database):
        database.execute("UPDATE calls SET verdict = 'genuine', verdict_at = started_at WHERE sid LIKE 'CAa%'")
        database.execute("UPDATE calls SET verdict = 'known_scam', verdict_at = started_at WHERE sid LIKE 'CAd%'")
        for days_ago, sid, reporter in ((50, "CA" + "b" * 32, OLD_NUMBER), (3, "CA" + "d" * 32, NEW_NUMBER)):
            stamp = clock.stamp(NOW - timedelta(days=days_ago))
            insert(database, "reports", {
                "report_number": f"R{days_ago}", "call_sid": sid, "reporter_number": reporter,
                "number": "+8617000000001", "number_raw": "17000000001", "category": "fake_update",
                "recording_url": f"https://api.twilio.com/r/RE{days_ago}", "recording_sid": f"RE{days_ago}",
                "recording_duration": 9, "created_at": stamp})
            insert(database, "code_attempts", {"merchant_id": None, "caller_number": reporter, "call_sid": sid,
                                               "at": stamp, "success": 0})
            # A webhook answer stored by a release before answers moved onto the call's row.
            insert(database, "deliveries", {"token": f"T{days_ago}", "call_sid": sid, "at": stamp,
                                            "status_code": 200, "body": "<Response/>"})
    at(0)


def aggregates(app):
    """What the overview counts: calls per day by verdict and status, durations, reports, call-backs."""
    return {
        "calls": rows(app, "SELECT date(started_at) AS day, verdict, status, language, count(*) AS n,"
                           " sum(duration) AS seconds FROM calls GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"),
        "verdict_times": rows(app, "SELECT sid, verdict_at, answered_at, started_at, merchant_id FROM calls ORDER BY sid"),
        "reports": rows(app, "SELECT date(created_at) AS day, category, number, count(*) AS n FROM reports"
                             " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"),
        "callbacks": rows(app, "SELECT status, count(*) AS n FROM callbacks GROUP BY 1 ORDER BY 1"),
    }


def fingerprint(app):
    """A digest of every row of the database, to prove a dry run changes nothing."""
    with databases.opened(app.config) as database:
        digest = hashlib.sha256()
        if not is_postgresql(database):
            for line in database.conn.iterdump():
                digest.update(line.encode())
            return digest.hexdigest()
        # PostgreSQL has no dump from a connection: every row of every table, in a fixed order.
        tables = [row["table_name"] for row in database.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name")]
        for table in tables:
            digest.update(table.encode())
            for line in sorted(repr(tuple(row)) for row in database.execute(f'SELECT * FROM "{table}"')):
                digest.update(line.encode())
        return digest.hexdigest()


def old_and_new(app, sql):
    return {row["sid"][:3]: row for row in rows(app, sql)}


def test_purge_removes_personal_data_of_old_calls_only(app, history):
    before = aggregates(app)
    assert rows(app, "SELECT count(*) AS n FROM callbacks WHERE from_number IS NOT NULL")[0]["n"] == 2
    old_events = rows(app, "SELECT count(*) AS n FROM events WHERE call_sid < 'CAd'")[0]["n"]
    new_events = rows(app, "SELECT count(*) AS n FROM events WHERE call_sid >= 'CAd'")[0]["n"]
    assert old_events > 0 and new_events > 0

    with databases.opened(app.config) as database:
        planned = retention.purge(database, 30, dry_run=True, now=NOW)
        summary = retention.purge(database, 30, batch_size=2, now=NOW)
        again = retention.purge(database, 30, now=NOW)

    assert {key: summary[key] for key in planned} == planned
    assert summary["calls"] == 3 and summary["events"] == old_events
    assert (summary["callbacks"], summary["reports"], summary["code_attempts"]) == (1, 1, 1)
    assert summary["deliveries"] == 1
    assert [row["token"] for row in rows(app, "SELECT token FROM deliveries")] == ["T3"]
    # The answer a call that never ended last heard is cleared with the rest of an old call.
    answers = old_and_new(app, "SELECT sid, answer FROM calls WHERE sid LIKE 'CAc%' OR sid LIKE 'CAe%'")
    assert answers["CAc"]["answer"] is None and "<Response>" in answers["CAe"]["answer"]
    assert again["calls"] == again["events"] == again["callbacks"] == again["reports"] == 0

    # Old calls: no events, no numbers, no flow state; recent ones untouched.
    assert rows(app, "SELECT count(*) AS n FROM events WHERE call_sid < 'CAd'")[0]["n"] == 0
    assert rows(app, "SELECT count(*) AS n FROM events WHERE call_sid >= 'CAd'")[0]["n"] == new_events
    calls = old_and_new(app, "SELECT sid, from_number, from_raw, state, purged_at FROM calls")
    for prefix in ("CAa", "CAb", "CAc"):
        assert calls[prefix]["from_number"] is None and calls[prefix]["from_raw"] is None
        assert calls[prefix]["state"] == "{}" and calls[prefix]["purged_at"]
    for prefix in ("CAd", "CAe"):
        assert calls[prefix]["from_number"] and calls[prefix]["state"] != "{}" and calls[prefix]["purged_at"] is None
    callbacks = old_and_new(app, "SELECT call_sid AS sid, from_number, recording_url, recording_sid FROM callbacks")
    assert (callbacks["CAa"]["from_number"], callbacks["CAa"]["recording_url"], callbacks["CAa"]["recording_sid"]) == (
        None, None, None)
    assert callbacks["CAd"]["from_number"] == NEW_NUMBER and callbacks["CAd"]["recording_url"]
    reports = old_and_new(app, "SELECT call_sid AS sid, reporter_number, number, recording_url FROM reports")
    assert reports["CAb"]["reporter_number"] is None and reports["CAb"]["recording_url"] is None
    # The scammer's number stays: the watchlist needs it.
    assert reports["CAb"]["number"] == "+8617000000001"
    assert reports["CAd"]["reporter_number"] == NEW_NUMBER
    attempts = old_and_new(app, "SELECT call_sid AS sid, caller_number FROM code_attempts")
    assert attempts["CAb"]["caller_number"] is None and attempts["CAd"]["caller_number"] == NEW_NUMBER
    # Nothing the overview counts has changed.
    assert aggregates(app) == before


def test_purged_speech_leaves_the_search_index(app, history):
    def callers_found():
        with databases.opened(app.config) as database:
            return sorted(sid[:3] for sid in callsearch.speech_hits(database, "更新步骤", 1000))

    assert callers_found() == ["CAb", "CAc", "CAe"]  # what the three callers said is found before the purge
    with databases.opened(app.config) as database:
        retention.purge(database, 30, now=NOW)
        if not is_postgresql(database):  # SQLite's full-text index is a table of its own: still consistent
            database.execute("INSERT INTO speech_fts (speech_fts) VALUES ('integrity-check')")
    assert callers_found() == ["CAe"]  # only the recent call's words are left


def test_dry_run_changes_nothing(app, history, runner):
    before = fingerprint(app)
    result = runner.invoke(args=["purge", "--older-than", "30", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Would purge" in result.output and "3 calls" in result.output
    assert fingerprint(app) == before


def test_purge_command_reports_what_it_did(app, history, runner):
    result = runner.invoke(args=["purge", "--older-than", "30"])
    assert result.exit_code == 0, result.output
    assert "Purged" in result.output and "3 calls" in result.output
    assert "1 call-back requests and 1 reports" in result.output
    result = runner.invoke(args=["purge", "--older-than", "30"])
    assert "0 calls" in result.output


def test_purge_with_a_long_window_keeps_everything(app, history, runner):
    before = fingerprint(app)
    result = runner.invoke(args=["purge", "--older-than", "365"])
    assert result.exit_code == 0 and "0 calls" in result.output
    assert fingerprint(app) == before


@pytest.mark.parametrize("days", ["-5", "abc", "1.5", ""])
def test_days_must_be_a_whole_number(app, runner, days):
    result = runner.invoke(args=["purge", "--older-than", days])
    assert result.exit_code == 2
    assert "--older-than" in result.output


def test_days_are_required(app, runner):
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 2 and "--older-than" in result.output


NOTE_OLD = "回拨举报人 13800138000，对方说骗子自称银联客服"
NOTE_NEW = "今天又有商户来电询问同一个号码"


def _note(app, report_number, text):
    """A staff note written on the report numbered `report_number`, as the dashboard writes one."""
    from ivr.verification import cases

    with databases.opened(app.config) as database:
        [report] = database.query("SELECT id FROM reports WHERE report_number = ?", [report_number])
        cases.add_note(database, report["id"], text, "ada")
        return report["id"]


def test_purge_empties_the_notes_of_old_reports_and_keeps_who_wrote_them(app, history, client, login):
    old_report, new_report = _note(app, "R50", NOTE_OLD), _note(app, "R3", NOTE_NEW)
    with databases.opened(app.config) as database:
        planned = retention.purge(database, 30, dry_run=True, now=NOW)
        summary = retention.purge(database, 30, now=NOW)
        again = retention.purge(database, 30, now=NOW)

    assert planned["report_notes"] == summary["report_notes"] == 1 and again["report_notes"] == 0
    assert rows(app, "SELECT report_id, author, body FROM report_notes ORDER BY id") == [
        {"report_id": old_report, "author": "ada", "body": ""},
        {"report_id": new_report, "author": "ada", "body": NOTE_NEW}]
    # The case still shows that a note was written, by whom and when, and says why its text is gone.
    login("agent")
    notes = client.get(f"/dashboard/reports/{old_report}").get_data(as_text=True).split('id="notes"')[1]
    assert "ada" in notes and "已按保留期限删除" in notes and "银联" not in notes
    assert NOTE_NEW in client.get(f"/dashboard/reports/{new_report}").get_data(as_text=True)


@pytest.mark.sqlite_only("reads the bytes of the SQLite file and its write-ahead log")
def test_purged_notes_are_gone_from_the_sqlite_file_and_its_log(app, history):
    _note(app, "R50", NOTE_OLD)
    _note(app, "R3", NOTE_NEW)
    with databases.opened(app.config) as database:
        retention.purge(database, 30, now=NOW)
    # Gone from the files too, write-ahead log included, not merely from the rows.
    files = glob.glob(app.config["DATABASE"] + "*")
    assert files
    for path in files:
        with open(path, "rb") as handle:
            assert "骗子自称银联客服".encode() not in handle.read(), path


def test_erasing_a_merchant_empties_its_reports_notes_and_its_numbers_in_other_notes(app, history, verification):
    with databases.opened(app.config) as database:
        with db.transaction(database):
            database.execute("UPDATE reports SET merchant_id = ? WHERE report_number = 'R3'", [verification.merchant])
    theirs = _note(app, "R3", "商户说对方要求刷卡激活")
    local = verification.phone.removeprefix("+86")
    other = _note(app, "R50", f"示例便利店（{local}）也接到过这个号码的电话")

    with databases.opened(app.config) as database:
        summary = retention.purge_merchant(database, verification.merchant)
    assert summary["report_notes"] == 2
    bodies = {row["report_id"]: row["body"] for row in rows(app, "SELECT report_id, body FROM report_notes")}
    assert bodies == {theirs: "", other: "[redacted]（[redacted]）也接到过这个号码的电话"}


def test_the_purge_command_says_how_many_report_notes_it_emptied(app, history, runner, verification):
    _note(app, "R50", NOTE_OLD)
    _note(app, "R3", NOTE_NEW)
    planned = runner.invoke(args=["purge", "--older-than", "30", "--dry-run"])
    assert planned.exit_code == 0, planned.output
    assert "; 1 report notes emptied (author and time kept);" in planned.output
    done = runner.invoke(args=["purge", "--older-than", "30"])
    assert "; 1 report notes emptied (author and time kept);" in done.output
    assert "; 0 report notes emptied" in runner.invoke(args=["purge", "--older-than", "30"]).output

    # Erasing a merchant counts the notes it emptied and those it struck the merchant's name and phones from.
    _note(app, "R3", f"示例便利店（{verification.phone}）也接到过这个号码的电话")
    erased = runner.invoke(args=["purge", "--merchant", verification.merchant])
    assert erased.exit_code == 0, erased.output
    assert "; 1 report notes emptied or redacted (author and time kept);" in erased.output
