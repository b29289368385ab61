"""`flask backup PATH`: a checked, self-contained copy of the live database while calls go on; restoring it; /healthz."""
import os
import re
import shutil
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

import pg
import pytest

from conftest import AGENT, MERCHANT_PHONE, TOKEN, CallHelper, add_call, as_nobody, rows
from ivr import create_app
from ivr.storage import backup

APOLOGY_ZH = "很抱歉，系统暂时出现问题"
GENUINE_ZH = "核实通过"


def genuine_call(app, code):
    """Place a whole call from the merchant's phone that checks `code` and hangs up; return the simulated call."""
    caller = CallHelper(app)
    caller.start(from_=MERCHANT_PHONE)
    caller.press("1")
    assert GENUINE_ZH in caller.press(code + "#").text
    caller.hangup()
    return caller.current


def answered_well(simulated):
    """Every webhook of the call was answered 200 with TwiML that is not the apology."""
    return all(status == 200 and APOLOGY_ZH not in body
               for turn in simulated.turns for _, status, body in turn.documents)


def open_read_only(path):
    return sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)


@pytest.mark.sqlite_only("flask backup copies the SQLite file with its online backup API")
def test_backup_while_calls_are_placed_holds_every_finished_call(app, runner, verification, database, tmp_path,
                                                                  monkeypatch):
    code = verification.add_outreach()["reference_code"]
    # A few thousand older calls, and small steps, so the copy takes many steps while the calls below go on.
    for number in range(3000):
        add_call(database, f"CA{number:032d}", "2026-01-01T00:00:00Z",
                 events=[{"kind": "prompt", "text": "您好，这里是官方商户核实热线。" * 4}])
    monkeypatch.setattr(backup, "PAGES_PER_STEP", 16)
    finished, answered_at, failures = [], [], []
    stop = threading.Event()
    # Callers give up after a while: a copy that could only finish once the calls stop then fails the test.
    deadline = time.monotonic() + 30

    def place_calls():
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                simulated = genuine_call(app, code)
            except Exception as error:  # noqa: BLE001 - reported by the test below
                failures.append(repr(error))
                return
            if not answered_well(simulated):
                failures.append(simulated.sid)
            answered_at.append(time.monotonic())
            finished.append(simulated.sid)

    threads = [threading.Thread(target=place_calls) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        while len(finished) < 6 and not failures:
            time.sleep(0.01)
        finished_before = list(finished)
        started = time.monotonic()
        result = runner.invoke(args=["backup", str(tmp_path / "copy.db")])
        ended = time.monotonic()
        # The callers go on a moment after the copy too, to show the webhooks were never stuck.
        time.sleep(0.2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert result.exit_code == 0, result.output
    assert failures == []
    steps = int(re.search(r"\(([\d,]+) steps?\)", result.output).group(1).replace(",", ""))
    assert steps > 10, result.output
    assert any(started < moment < ended for moment in answered_at), "no call finished while the backup ran"
    assert any(moment > ended for moment in answered_at), "the backup finished only once the calls stopped"
    copy = open_read_only(tmp_path / "copy.db")
    try:
        assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        stored = dict(copy.execute("SELECT sid, verdict FROM calls WHERE status = 'completed'"))
        total = copy.execute("SELECT count(*) FROM calls").fetchone()[0]
    finally:
        copy.close()
    assert {sid: stored.get(sid) for sid in finished_before} == {sid: "genuine" for sid in finished_before}
    assert f"{total:,} calls" in result.output


@pytest.mark.sqlite_only("flask backup copies the SQLite file with its online backup API")
def test_the_copy_is_one_private_file_that_opens_read_only_elsewhere(app, runner, call, tmp_path):
    call.start()
    call.press("2")
    folder = tmp_path / "backups"
    folder.mkdir()
    path = folder / "hotline.db"
    path.write_text("an older backup")
    path.chmod(0o644)
    result = runner.invoke(args=["backup", str(path), "--force"])
    assert result.exit_code == 0, result.output
    assert (path.stat().st_mode & 0o777) == 0o600
    # No -wal, -shm, journal or half-written file beside it: the file alone is the backup.
    assert os.listdir(folder) == ["hotline.db"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(path, elsewhere / "hotline.db")
    copy = open_read_only(elsewhere / "hotline.db")
    try:
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert copy.execute("SELECT sid FROM calls").fetchall() == [(call.sid,)]
    finally:
        copy.close()
    assert os.listdir(elsewhere) == ["hotline.db"]
    assert "1 calls" in result.output and "integrity ok" in result.output


@pytest.mark.sqlite_only("flask backup copies the SQLite file with its online backup API")
def test_an_app_started_on_a_restored_copy_is_healthy_and_shows_the_verdicts(app, runner, verification, tmp_path):
    code = verification.add_outreach()["reference_code"]
    before = genuine_call(app, code)
    path = tmp_path / "backup.db"
    assert runner.invoke(args=["backup", str(path)]).exit_code == 0
    after = genuine_call(app, code)
    # Restored as the README says, on another host: the backup file becomes that host's IVR_DATABASE.
    restored = tmp_path / "restored" / "hotline.db"
    restored.parent.mkdir()
    shutil.move(path, restored)
    again = create_app({"TESTING": True, "DATABASE": str(restored), "TWILIO_AUTH_TOKEN": TOKEN,
                        "AGENT_NUMBER": AGENT, "SECRET_KEY": "test-secret", "API_TOKEN": "test-api-token"})
    client = again.test_client()
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json["database"] == "ok", health.json
    headers = {"Authorization": "Bearer test-api-token"}
    response = client.get(f"/api/calls/{before.sid}", headers=headers)
    assert response.status_code == 200 and response.json["verdict"] == "genuine", response.json
    assert client.get(f"/api/calls/{after.sid}", headers=headers).status_code == 404


def leftovers(folder):
    """Names in `folder` that a failed or refused backup might have left behind."""
    return sorted(name for name in os.listdir(folder) if name.endswith((".partial", "-journal")))


@pytest.mark.sqlite_only("flask backup copies the SQLite file with its online backup API")
def test_an_existing_path_is_kept_unless_forced(runner, tmp_path):
    path = tmp_path / "yesterday.db"
    path.write_text("yesterday's backup")
    result = runner.invoke(args=["backup", str(path)])
    assert result.exit_code == 1
    assert result.output.endswith(f"Error: {path} already exists; use --force to replace it\n")
    assert path.read_text() == "yesterday's backup"
    assert leftovers(tmp_path) == []
    assert runner.invoke(args=["backup", str(path), "--force"]).exit_code == 0
    assert rows_of(path, "SELECT count(*) FROM schema_migrations")[0][0] > 0


def rows_of(path, sql):
    connection = open_read_only(path)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


@pytest.mark.sqlite_only("flask backup copies the SQLite file with its online backup API")
def test_the_live_database_is_never_the_destination(app, runner, call, tmp_path):
    call.start()
    call.hangup()
    live = Path(app.config["DATABASE"])
    link = tmp_path / "link-to-live.db"
    link.symlink_to(live)
    for path in (live, link, Path(f"{live}-wal")):
        result = runner.invoke(args=["backup", str(path), "--force"])
        assert result.exit_code == 1, result.output
        assert f"Error: {path} is the live database (or one of its files); back up to another path\n" in result.output
    assert rows(app, "SELECT sid, status FROM calls") == [{"sid": call.sid, "status": "completed"}]
    assert rows(app, "PRAGMA integrity_check") == [{"integrity_check": "ok"}]
    assert leftovers(tmp_path) == []


@pytest.mark.sqlite_only("flask backup copies the SQLite file with its online backup API")
def test_a_missing_folder_is_a_clear_error(runner, tmp_path):
    path = tmp_path / "no-such-folder" / "hotline.db"
    result = runner.invoke(args=["backup", str(path)])
    assert result.exit_code == 1
    assert result.output.endswith(
        f"Error: the folder {path.parent} does not exist; create it first or choose another PATH\n")
    assert not path.parent.exists()


def test_backup_has_help(runner):
    result = runner.invoke(args=["backup", "--help"])
    assert result.exit_code == 0
    assert "backup [OPTIONS] PATH" in result.output and "--force" in result.output


# -- /healthz names the database --------------------------------------------------------------


def test_healthz_names_the_database_kind(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["database"] == "ok" and response.json["database_kind"] == pg.BACKEND


@pytest.mark.postgresql_only("on SQLite flask backup copies the file (the tests above)")
def test_backup_on_postgresql_points_to_pg_dump_and_writes_nothing(runner, tmp_path):
    path = tmp_path / "hotline.db"
    result = runner.invoke(args=["backup", str(path)])
    assert result.exit_code == 1
    assert result.output.endswith("Error: flask backup copies the SQLite file only; back up PostgreSQL with pg_dump.\n")
    assert not path.exists() and leftovers(tmp_path) == []


def _healthz_while_unreadable(app, path):
    """Ask /healthz with the database file unreadable, then readable again; return (status, body) of each."""
    client = app.test_client()
    path.chmod(0)
    try:
        unreadable = client.get("/healthz")
    finally:
        path.chmod(0o644)
    readable = client.get("/healthz")
    return [[unreadable.status_code, unreadable.json], [readable.status_code, readable.json]]


@pytest.mark.sqlite_only("makes the SQLite file unreadable")
def test_healthz_is_503_while_the_database_file_is_unreadable():
    # chmod does not stop root, so as root /healthz is asked from a child process that drops to `nobody`.
    folder = Path(tempfile.mkdtemp(prefix="hotline-unreadable-"))
    try:
        path = folder / "hotline.db"
        app = create_app({"TESTING": True, "DATABASE": str(path), "TWILIO_AUTH_TOKEN": TOKEN, "SECRET_KEY": "x",
                          "DATABASE_TIMEOUT": 0.2})
        if os.geteuid() != 0:
            answers = _healthz_while_unreadable(app, path)
        else:
            answers = _as_nobody(folder, lambda: _healthz_while_unreadable(app, path))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    (unreadable_status, unreadable), (readable_status, readable) = answers
    assert unreadable_status == 503
    assert unreadable["status"] == "unavailable" and unreadable["database"] == "unavailable"
    assert unreadable["database_kind"] == "sqlite"
    assert readable_status == 200 and readable["database"] == "ok"


def _as_nobody(folder, work):
    """Run `work` as the user `nobody`, owner of `folder`; return its result, a list."""
    answer = as_nobody(folder, work)
    assert isinstance(answer, list), answer
    return answer
