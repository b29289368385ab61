"""bench/load.py: under gunicorn many callers lose nothing and never hear "database is locked"; what it counts is stored."""
import os
import secrets
import socket
import sys
import time
from pathlib import Path

import pg
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import load  # noqa: E402
from bench.servers import Gunicorn  # noqa: E402


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_concurrent_callers_lose_nothing(tmp_path):
    token = "load-" + secrets.token_hex(8)
    if pg.BACKEND == "postgresql":
        pg.reachable_or_skip()
    # The suite's database: a SQLite file, or a database of its own on the PostgreSQL server (dropped afterwards).
    database = load.BenchDatabase(tmp_path, pg.url_of("postgres") if pg.BACKEND == "postgresql" else None)
    try:
        env = {**database.env, "TWILIO_AUTH_TOKEN": token, "IVR_AGENT_NUMBER": load.AGENT,
               "IVR_BUSINESS_HOURS": "24/7", "IVR_SECRET_KEY": "x", "IVR_LOCK_ATTEMPTS": "1000000",
               # A short lock wait, so contention that is not handled shows up as apologies within this test.
               "IVR_DATABASE_TIMEOUT": "2"}
        verification = load.prepare_database(database, dict(os.environ, **env))
        journeys = [name for name in load.JOURNEYS if verification or not name.startswith(("verify", "report"))]
        before = load.database_counts(database)
        log = tmp_path / "gunicorn.log"
        with Gunicorn(workers=2, env=env, log_path=log) as server:
            server.wait_for_workers(2)
            stats, _ = load.drive(server.base_url, token, callers=12, duration=3, journeys=journeys)
        after = load.database_counts(database)
    finally:
        database.drop()
    assert stats.accepted["calls started"] >= 12
    assert not stats.errors, dict(stats.errors)
    for what in ("calls started", "inputs", "recordings", "status callbacks", "verdicts", "reports", "callbacks"):
        assert after[what] - before[what] == stats.accepted[what], what
    assert "database is locked" not in log.read_text(errors="replace")
    assert all(not name.endswith("(broken)") for name in stats.journeys), dict(stats.journeys)


def test_instruction_count_runs_the_journeys_with_only_the_server_inside_the_counted_call(monkeypatch):
    # bench/count_instructions.py counts what runs inside operator.call: every webhook, nothing else.
    from bench import count_instructions

    counted = []
    real_call = count_instructions.operator.call
    monkeypatch.setattr(count_instructions, "COUNTED", [])
    monkeypatch.setattr(count_instructions.operator, "call", lambda function, *args: counted.append(1) or real_call(function, *args))
    webhooks = count_instructions.run_journeys(6, [])
    assert webhooks >= 6 * 3 and len(counted) == webhooks  # 12 warm-up calls before were not counted


def test_the_load_journeys_count_what_the_hotline_stored():
    # One call of each journey, in-process: what bench/load.py prints as accepted is what the database holds.
    from bench.profile_webhooks import journeys_in_process, run_calls

    stats = load.Stats()
    with journeys_in_process("hotline-load-test-") as (app, _):
        database = load.BenchDatabase(Path(app.config["DATABASE"]).parent)  # its SQLite file, hotline.db
        before = load.database_counts(database)
        run_calls(app, len(load.JOURNEYS), stats)
        after = load.database_counts(database)
    assert dict(stats.journeys) == dict.fromkeys(load.JOURNEYS, 1) and not stats.errors, (stats.journeys, stats.errors)
    assert stats.accepted["calls started"] == stats.accepted["status callbacks"] == len(load.JOURNEYS)
    assert stats.accepted["verdicts"] == 3  # genuine, wrong code, no code
    assert stats.accepted["reports"] == stats.accepted["callbacks"] == 1 and stats.accepted["recordings"] == 2
    for what in ("calls started", "inputs", "recordings", "status callbacks", "verdicts", "reports", "callbacks"):
        assert after[what] - before[what] == stats.accepted[what], what
    # Afterwards the driver calls over HTTP again: where nothing listens, a call breaks instead of going in-process.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    load.take_call(url, "token", "guidance", stats, time.monotonic() + 5)
    assert stats.journeys["guidance (broken)"] == 1 and stats.errors["ConnectionRefusedError"] == 1
