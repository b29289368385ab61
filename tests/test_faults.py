"""Faults: a locked, unwritable or missing database, a worker killed mid-call, and retried deliveries."""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pg
import pytest

from conftest import AGENT, TOKEN, CallHelper, as_nobody, break_database, press_in_background, rows
from ivr import create_app
from ivr.voice.simulator import Call, HttpTransport, Turn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.servers import Gunicorn  # noqa: E402 - bench/ is a folder beside tests/

APOLOGY_ZH = "很抱歉，系统暂时出现问题"


def make_app(path, **config):
    settings = {"TESTING": True, "DATABASE": str(path), "TWILIO_AUTH_TOKEN": TOKEN, "AGENT_NUMBER": AGENT,
                "BUSINESS_HOURS": "24/7", "SECRET_KEY": "x", "DATABASE_TIMEOUT": 0.2}
    return create_app(dict(settings, **config))


def assert_apology(turn):
    """The caller heard the apology and is being put through to a person, from valid TwiML."""
    url, status, body = turn.documents[-1]
    assert status == 200
    root = ElementTree.fromstring(body)
    assert root.tag == "Response"
    assert APOLOGY_ZH in turn.text
    dial = root.find("Dial")
    assert dial is not None and dial.text == AGENT


def apologises(call, step):
    """Take `step`, which must be answered by the apology, then leave the call where it was before it."""
    simulated = getattr(call, "current", None) or call
    before = simulated.turn
    turn = step(call)
    assert_apology(turn)
    # The next webhook of this call (a retry, or the caller's next key) comes from where it was.
    simulated.turn = before
    return turn


def follow(call, url, body):
    """Make the call follow a TwiML body it received outside the simulator (a redelivery)."""
    simulated = getattr(call, "current", None) or call
    return simulated._run(list(ElementTree.fromstring(body)), url, Turn())


def state_of(app, sid):
    row = rows(app, "SELECT node, state FROM calls WHERE sid = ?", [sid])[0]
    return row["node"], json.loads(row["state"])


class LockHolder:
    """Another process that holds the database's write lock until told to let go."""

    def __init__(self, path):
        code = (
            "import sqlite3, sys\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "c.execute('BEGIN EXCLUSIVE')\n"
            "print('locked', flush=True)\n"
            "sys.stdin.readline()\n"
            "c.execute('COMMIT')\n"
        )
        self.process = subprocess.Popen([sys.executable, "-c", code, str(path)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdout.readline().strip() == "locked"

    def release(self):
        self.process.communicate("go\n", timeout=10)
        assert self.process.returncode == 0


@pytest.fixture
def fault_app(tmp_path):
    return make_app(tmp_path / "hotline.db")


def two_calls(app):
    """Two calls left at different nodes: one at the guide's part two, one at the main menu."""
    first, second = CallHelper(app), CallHelper(app)
    first.start(sid="CA" + "1" * 32)
    first.press("2")
    first.press("1")
    second.start(from_="+8613900139000", sid="CA" + "2" * 32)
    second.press("2")
    second.press("*")
    assert state_of(app, first.sid)[0] == "guide_before"
    assert state_of(app, second.sid)[0] == "main_menu"
    return first, second


def recovered(app, first, second, token, events_before):
    """After a fault that made both calls' webhooks apologise: nothing of them was kept, Twilio's retry of the first
    one's delivery gets the real answer, and both calls go on from their own nodes."""
    assert state_of(app, first.sid)[0] == "guide_before"
    assert rows(app, "SELECT count(*) AS n FROM events")[0]["n"] == events_before
    status, body = first.redeliver()
    assert first.last_request[2]["I-Twilio-Idempotency-Token"] == token
    assert status == 200 and "第三段" in body and APOLOGY_ZH not in body
    assert state_of(app, first.sid)[0] == "guide_during"
    follow(first, first.last_request[0], body)
    assert "第四段" in first.press("1").text
    assert "第一段" in second.press("2").text
    assert state_of(app, second.sid)[0] == "guide_how"


def carries_on(app, first, second):
    """Both calls continue from where they were, each with its own state."""
    assert "第三段" in first.press("1").text
    assert state_of(app, first.sid)[0] == "guide_during"
    assert "第一段" in second.press("2").text
    assert state_of(app, second.sid)[0] == "guide_how"


@pytest.mark.sqlite_only("another process holds the SQLite file's write lock")
def test_locked_database_apologises_then_recovers(fault_app):
    client = fault_app.test_client()
    first, second = two_calls(fault_app)
    events_before = rows(fault_app, "SELECT count(*) AS n FROM events")[0]["n"]
    holder = LockHolder(fault_app.config["DATABASE"])
    try:
        apologises(first, lambda call: call.press("1"))
        token = first.last_request[2]["I-Twilio-Idempotency-Token"]
        apologises(second, lambda call: call.press("2"))
        fresh = CallHelper(fault_app)
        assert_apology(fresh.start(sid="CA" + "3" * 32))
        response = client.get("/healthz")
        assert response.status_code == 503 and response.json["database"] == "unavailable"
    finally:
        holder.release()
    assert client.get("/healthz").status_code == 200
    recovered(fault_app, first, second, token, events_before)


@pytest.mark.sqlite_only("another process holds the SQLite file's write lock")
def test_a_write_lock_held_briefly_elsewhere_is_waited_for_not_apologised_for(fault_app):
    first, _ = two_calls(fault_app)
    holder = LockHolder(fault_app.config["DATABASE"])
    # Let go well within the 0.2 s busy timeout: the step is stored once the lock is free.
    releaser = threading.Timer(0.05, holder.release)
    releaser.start()
    try:
        turn = first.press("1")
    finally:
        releaser.join()
    assert "第三段" in turn.text and APOLOGY_ZH not in turn.text
    assert state_of(fault_app, first.sid)[0] == "guide_during"


@pytest.mark.sqlite_only("moves the SQLite file and its -wal/-shm files away")
def test_missing_database_file_apologises_then_recovers(fault_app, tmp_path):
    client = fault_app.test_client()
    first, second = two_calls(fault_app)
    path = Path(fault_app.config["DATABASE"])
    away = tmp_path / "moved-away"
    away.mkdir()
    for name in os.listdir(tmp_path):
        if name.startswith(path.name):
            shutil.move(tmp_path / name, away / name)
    try:
        apologises(first, lambda call: call.press("1"))
        assert client.get("/healthz").status_code == 503
    finally:
        # Put the database back over whatever the failed requests may have left at its path.
        for name in os.listdir(tmp_path):
            if name.startswith(path.name):
                os.remove(tmp_path / name)
        for name in os.listdir(away):
            shutil.move(away / name, tmp_path / name)
    assert client.get("/healthz").status_code == 200
    carries_on(fault_app, first, second)


@pytest.mark.sqlite_only("puts a file where the SQLite file's folder was")
def test_missing_database_folder_apologises_then_recovers(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    app = make_app(folder / "hotline.db")
    first, second = two_calls(app)
    client = app.test_client()
    folder.rename(tmp_path / "data-away")
    # A file where the folder was: the path cannot even be opened.
    (tmp_path / "data").write_text("not a folder")
    try:
        apologises(first, lambda call: call.press("1"))
        assert_apology(CallHelper(app).start(sid="CA" + "4" * 32))
        assert client.get("/healthz").status_code == 503
    finally:
        (tmp_path / "data").unlink()
        (tmp_path / "data-away").rename(folder)
    assert client.get("/healthz").status_code == 200
    carries_on(app, first, second)


def _unwritable_scenario(app, path):
    """Run the unwritable-database scenario; return a list of (check, passed) for the parent to assert."""
    results = []
    first, second = two_calls(app)
    client = app.test_client()
    for name in os.listdir(path.parent):
        if name.startswith(path.name):
            os.chmod(path.parent / name, 0o444)
    try:
        before = first.current.turn
        turn = first.press("1")
        first.current.turn = before
        results.append(("apology", APOLOGY_ZH in turn.text))
        results.append(("dial", ElementTree.fromstring(turn.documents[-1][2]).find("Dial") is not None))
        results.append(("healthz 503", client.get("/healthz").status_code == 503))
        results.append(("state kept", state_of(app, first.sid)[0] == "guide_before"))
    finally:
        for name in os.listdir(path.parent):
            if name.startswith(path.name):
                os.chmod(path.parent / name, 0o644)
    results.append(("healthz 200", client.get("/healthz").status_code == 200))
    try:
        carries_on(app, first, second)
        results.append(("carries on", True))
    except AssertionError as error:
        results.append((f"carries on: {error}", False))
    return results


@pytest.mark.sqlite_only("makes the SQLite file and its -wal/-shm files read-only")
def test_unwritable_database_apologises_then_recovers():
    # chmod does not stop root, so as root the scenario runs in a child process that drops to `nobody`.
    folder = Path(tempfile.mkdtemp(prefix="hotline-unwritable-"))
    try:
        path = folder / "hotline.db"
        app = make_app(path)
        if os.geteuid() != 0:
            results = _unwritable_scenario(app, path)
        else:
            results = as_nobody(folder, lambda: _unwritable_scenario(app, path))
            if isinstance(results, dict):
                results = [[f"child failed: {results}", False]]
        assert results and all(passed for _, passed in results), results
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_unreachable_database_apologises_then_recovers(app, client):
    first, second = two_calls(app)
    events_before = rows(app, "SELECT count(*) AS n FROM events")[0]["n"]
    reachable = dict(app.config)
    break_database(app)
    try:
        apologises(first, lambda call: call.press("1"))
        token = first.last_request[2]["I-Twilio-Idempotency-Token"]
        apologises(second, lambda call: call.press("2"))
        assert_apology(CallHelper(app).start(sid="CA" + "3" * 32))
        response = client.get("/healthz")
        assert response.status_code == 503 and response.json["database"] == "unavailable"
    finally:
        app.config.update(DATABASE=reachable["DATABASE"], DATABASE_URL=reachable.get("DATABASE_URL"))
    assert client.get("/healthz").status_code == 200
    recovered(app, first, second, token, events_before)


def test_fallback_answers_without_the_database(app):
    break_database(app)
    client = app.test_client()
    from conftest import sign

    body = {"CallSid": "CA" + "5" * 32, "ErrorCode": "11200", "ErrorUrl": "https://example.com/voice/step"}
    response = client.post("/voice/fallback", data=body,
                           headers={"X-Twilio-Signature": sign("http://localhost/voice/fallback", body)})
    assert response.status_code == 200
    root = ElementTree.fromstring(response.data)
    assert root.find("Dial").text == AGENT
    assert [say.get("language") for say in root.findall("Say")] == ["cmn-CN", "en-US", "yue-HK"]


def test_retried_delivery_is_not_logged_twice(app, call):
    call.start()
    call.press("2")
    events = rows(app, "SELECT count(*) AS n FROM events")[0]["n"]
    node = state_of(app, call.sid)[0]
    first_body = call.turn.documents[-1][2]
    for _ in range(3):
        status, body = call.redeliver()
        assert status == 200 and body == first_body
    assert rows(app, "SELECT count(*) AS n FROM events")[0]["n"] == events
    assert state_of(app, call.sid)[0] == node
    # A retried status callback does not double-log either.
    call.hangup()
    call.redeliver()
    assert rows(app, "SELECT count(*) AS n FROM events WHERE kind = 'status'")[0]["n"] == 1


def test_racing_retries_are_handled_once(app):
    # Twilio may retry while the first delivery is still being handled: both answers match, one is logged.
    caller = CallHelper(app)
    caller.start()
    caller.press("2")
    url, params, _ = caller.last_request
    gather = caller.turn.waiting
    params = caller.base_params()
    params["Digits"] = "1"
    url = caller.absolute(gather.get("action"), caller.turn.url)
    headers = {"I-Twilio-Idempotency-Token": "race-token",
               "X-Twilio-Signature": caller.validator.compute_signature(url, params)}
    before = rows(app, "SELECT count(*) AS n FROM events")[0]["n"]
    answers = []

    def deliver():
        answers.append(app.test_client().post(url, data=params, headers=headers))

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(answers) == 4 and {answer.status_code for answer in answers} == {200}
    assert len({answer.data for answer in answers}) == 1 and "第二段".encode() in answers[0].data
    logged = rows(app, "SELECT count(*) AS n FROM events")[0]["n"] - before
    assert logged == len(rows(app, "SELECT id FROM events WHERE call_sid = ? AND id > ?", [caller.sid, before]))
    assert rows(app, "SELECT answer_token FROM calls WHERE sid = ?", [caller.sid])[0]["answer_token"] == "race-token"
    # Exactly one input event for that step, however many deliveries raced.
    inputs = rows(app, "SELECT count(*) AS n FROM events WHERE call_sid = ? AND kind = 'input' AND node = 'guide_how'",
                  [caller.sid])
    assert inputs[0]["n"] == 1


def _holding_db(pid, path):
    try:
        return any(os.path.realpath(f"/proc/{pid}/fd/{fd}") == str(path) for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return False


def _serving(pid, port):
    """Whether worker `pid` holds a connection it accepted on `port`, that is, is answering a request now."""
    # Every worker that has answered keeps the database open, so holding the file does not tell which one is busy.
    accepted = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":  # ESTABLISHED, on our side
                accepted.add(f"socket:[{fields[9]}]")
    try:
        return any(os.readlink(f"/proc/{pid}/fd/{fd}") in accepted for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return False


@pytest.mark.sqlite_only("stalls a worker on the SQLite file's write lock held by another process")
@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs Linux /proc")
def test_worker_killed_mid_call_another_worker_carries_on(tmp_path):
    path = tmp_path / "hotline.db"
    env = {"IVR_DATABASE": str(path), "TWILIO_AUTH_TOKEN": TOKEN, "IVR_AGENT_NUMBER": AGENT,
           "IVR_BUSINESS_HOURS": "24/7", "IVR_SECRET_KEY": "x", "IVR_DATABASE_TIMEOUT": "20"}
    with Gunicorn(workers=2, env=env, log_path=tmp_path / "gunicorn.log") as server:
        workers = server.wait_for_workers(2)
        call = Call(HttpTransport(server.base_url, timeout=30), TOKEN)
        call.start()
        call.press("2")
        assert "第二段" in call.press("1").text
        events_before = len(rows_at(path, "SELECT id FROM events"))
        # Hold the write lock so the next webhook stalls inside a worker, mid-transaction ...
        holder = LockHolder(path)
        thread, failures = press_in_background(call, "1")
        deadline = time.monotonic() + 10
        busy = []
        while not busy and time.monotonic() < deadline:
            busy = [pid for pid in workers if _serving(pid, server.port) and _holding_db(pid, path)]
            time.sleep(0.05)
        assert busy, "no worker picked up the webhook"
        # ... and kill that worker without warning.
        os.kill(busy[0], 9)
        thread.join(timeout=30)
        holder.release()
        assert failures, "the webhook should have died with its worker"
        assert len(rows_at(path, "SELECT id FROM events")) == events_before
        # Any worker but the killed one serves what comes next (the master also starts a replacement).
        server.wait_for_workers(1, avoid=busy)
        # Twilio retries the same delivery; another worker serves it, from the node the call was at.
        status, body = call.redeliver()
        assert status == 200 and "第三段" in body
        assert rows_at(path, "SELECT node FROM calls WHERE sid = ?", [call.sid]) == [("guide_during",)]
        # And the call goes on normally from there.
        follow(call, call.last_request[0], body)
        assert "第四段" in call.press("1").text
        inputs = rows_at(path, "SELECT count(*) FROM events WHERE call_sid = ? AND kind = 'input' AND node = ?",
                         [call.sid, "guide_before"])
        assert inputs == [(1,)]


def rows_at(path, sql, params=()):
    connection = sqlite3.connect(path)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


# -- the write lock is held only to store an answer -------------------------------------------


def _watch_resume(monkeypatch, during=None):
    """Count how often the engine works out a step, running `during(context)` on the first time."""
    from ivr.voice import webhooks as voice

    calls = []
    resume = voice.engine.resume

    def watched(context, name, flags):
        calls.append(name)
        if during and len(calls) == 1:
            during(context)
        return resume(context, name, flags)

    monkeypatch.setattr(voice.engine, "resume", watched)
    return calls


def _another_call_starts(app):
    """A hook in which another worker (here a thread, with its own connection) answers a new call."""
    other = CallHelper(app)

    def hook(context):
        thread = threading.Thread(target=other.start)
        thread.start()
        thread.join(timeout=30)
        assert other.turn is not None

    return hook


def test_a_step_is_worked_out_without_holding_the_write_lock(app, monkeypatch):
    # Other workers can store their callers' answers while this one works out its caller's next prompt.
    caller = CallHelper(app)
    caller.start()
    caller.press("2")
    writable = []

    def another_worker_writes(context):
        if app.config.get("DATABASE_URL"):
            # PostgreSQL locks rows, not the database: the call's own row is not locked while its step is worked out.
            pg.query(app.config["DATABASE_URL"], "SELECT sid FROM calls WHERE sid = %s FOR UPDATE NOWAIT",
                     [caller.sid])
            writable.append(True)
            return
        other = sqlite3.connect(app.config["DATABASE"], timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            writable.append(True)
        finally:
            other.close()

    watched = _watch_resume(monkeypatch, another_worker_writes)
    assert "第二段" in caller.press("1").text
    assert writable == [True] and watched == ["guide_how"]
    assert state_of(app, caller.sid)[0] == "guide_before"


def test_a_call_changed_meanwhile_is_worked_out_again_under_the_lock(app, monkeypatch):
    # A status callback stored by another worker while this step was worked out moves the call's version on: the
    # step is worked out again inside the write transaction, and both the callback and the step are kept.
    caller = CallHelper(app)
    caller.start()
    caller.press("2")
    call = caller.current

    def status_callback_lands(context):
        params = dict(call.base_params("in-progress"), CallDuration="")
        thread = threading.Thread(target=call.transport.post, args=(
            call.absolute("/voice/status"), params,
            {"X-Twilio-Signature": call.validator.compute_signature(call.absolute("/voice/status"), params),
             "I-Twilio-Idempotency-Token": "status-token"}))
        thread.start()
        thread.join(timeout=30)

    watched = _watch_resume(monkeypatch, status_callback_lands)
    assert "第二段" in caller.press("1").text
    assert watched == ["guide_how", "guide_how"]  # once reading only, once again inside the transaction
    row = rows(app, "SELECT status, answered_at, node, status_token FROM calls WHERE sid = ?", [caller.sid])[0]
    assert row["status"] == "in-progress" and row["answered_at"] and row["status_token"] == "status-token"
    assert row["node"] == "guide_before"
    inputs = rows(app, "SELECT count(*) AS n FROM events WHERE call_sid = ? AND kind = 'input' AND node = 'guide_how'",
                  [caller.sid])
    assert inputs[0]["n"] == 1


def test_an_answer_outdated_only_by_other_calls_is_stored_as_it_was(app, monkeypatch):
    # Another worker answered another call while this step was worked out: this call's answer still stands, so
    # it is stored under the lock without being worked out again.
    caller = CallHelper(app)
    caller.start()
    caller.press("2")
    watched = _watch_resume(monkeypatch, _another_call_starts(app))
    assert "第二段" in caller.press("1").text
    assert watched == ["guide_how"]
    assert state_of(app, caller.sid)[0] == "guide_before"
    assert rows(app, "SELECT count(*) AS n FROM calls")[0]["n"] == 2


@pytest.mark.parametrize("another_worker_wrote", [False, True])
def test_a_step_that_writes_as_it_goes_is_stored_once(app, verification, monkeypatch, another_worker_wrote):
    # Checking a code records the attempt (for the brute-force lock) before it can say the verdict: worked out
    # reading only, that write is refused, and the step runs again inside the write transaction, where the lock is
    # checked against what is stored. Whatever other workers wrote meanwhile: one attempt, one verdict, one input.
    created = verification.add_outreach()
    caller = CallHelper(app)
    caller.start(from_=verification.phone)
    caller.press("1")
    watched = _watch_resume(monkeypatch, _another_call_starts(app) if another_worker_wrote else None)
    assert "核实通过" in caller.press(created["reference_code"] + "#").text
    assert len(watched) == 2
    assert rows(app, "SELECT verdict FROM calls WHERE sid = ?", [caller.sid])[0]["verdict"] == "genuine"
    assert rows(app, "SELECT count(*) AS n, sum(success) AS ok FROM code_attempts") == [{"n": 1, "ok": 1}]
    assert rows(app, "SELECT count(*) AS n FROM events WHERE call_sid = ? AND kind = 'verdict'", [caller.sid]) == [{"n": 1}]
    inputs = rows(app, "SELECT count(*) AS n FROM events WHERE call_sid = ? AND kind = 'input' AND node = 'ask_code'",
                  [caller.sid])
    assert inputs == [{"n": 1}]
