"""Time the staff dashboard on a million calls: the calls list with each filter, a call detail, the overview.

    python bench/dashboard_bench.py [--calls 1000000] [--db bench/data/dashboard-1m.db] [--runs 7]
    python bench/dashboard_bench.py --database-url postgresql://postgres@127.0.0.1:5432/dashboard_1m

Generates the database once with `flask demo-data` (reused while it has enough calls), then times each page
through the Flask test client, signed in, and prints the median and p95 in milliseconds. With --database-url
the SQLite file is copied once into that PostgreSQL database (`flask copy-database`; created if missing) and the
pages are timed on PostgreSQL.
"""
import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET_MS = 300


def ensure_data(path, calls):
    """Generate the demo database unless it already holds `calls` calls."""
    if path.exists():
        with sqlite3.connect(path) as connection:
            have = connection.execute("SELECT count(*) FROM calls").fetchone()[0]
        if have >= calls * 0.99:
            print(f"reusing {path} ({have:,} calls)")
            return
        raise SystemExit(f"{path} has {have:,} calls, fewer than {calls:,}: delete it to regenerate")
    path.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, IVR_DATABASE=str(path))
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "demo-data", "--calls", str(calls)],
                   cwd=ROOT, env=env, check=True)
    print(f"generated {path} in {time.monotonic() - started:.0f} s")


def ensure_postgresql(path, url, calls):
    """Copy the SQLite file into the PostgreSQL database at `url` unless it already holds `calls` calls."""
    import psycopg

    server, name = url.rsplit("/", 1)
    with psycopg.connect(server + "/postgres", autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(url) as connection:
        exists = connection.execute("SELECT to_regclass('calls')").fetchone()[0]
        have = connection.execute("SELECT count(*) FROM calls").fetchone()[0] if exists else 0
    if have >= calls * 0.99:
        print(f"reusing {url} ({have:,} calls)")
        return
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "copy-database", "--to", url],
                   cwd=ROOT, env=dict(os.environ, IVR_DATABASE=str(path)), check=True)
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")  # fresh statistics, as autovacuum would have gathered by now
    print(f"copied {path} into {url} in {time.monotonic() - started:.0f} s")


def timed(client, url, runs):
    """Return (median ms, p95 ms) for GETting `url` `runs` times after one warm-up, or (None, why) if it fails."""
    response = client.get(url)
    if response.status_code != 200:
        return None, f"HTTP {response.status_code}"
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        response.get_data()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(round(0.95 * (len(samples) - 1))))]
    return statistics.median(samples), p95


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--db", default=str(ROOT / "bench" / "data" / "dashboard-1m.db"))
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--database-url", help="time the pages on this PostgreSQL database (filled from --db once)")
    args = parser.parse_args()
    path = Path(args.db)
    ensure_data(path, args.calls)
    if args.database_url:
        ensure_postgresql(path, args.database_url, args.calls)

    from ivr import create_app
    from ivr import database as databases
    from ivr.staff import users
    from ivr.storage import db

    app = create_app({"DATABASE": str(path), "DATABASE_URL": args.database_url, "SECRET_KEY": "bench",
                      "TESTING": True, "BUSINESS_HOURS": "24/7"})
    print(f"database: {'PostgreSQL ' + args.database_url if args.database_url else 'SQLite ' + str(path)}")
    database = databases.connect(app.config)
    if users.get_user(database, "bench") is None:
        with db.transaction(database):
            users.create_user(database, "bench", "admin", "bench-password-1")
    sample = database.execute(
        "SELECT sid, merchant_id, from_number FROM calls WHERE merchant_id IS NOT NULL AND from_number IS NOT NULL"
        " ORDER BY started_at DESC LIMIT 1 OFFSET 5000"
    ).fetchone()
    old = database.execute("SELECT sid FROM calls ORDER BY started_at LIMIT 1 OFFSET 1000").fetchone()[0]
    rare_merchant = database.execute("SELECT id FROM merchants ORDER BY id LIMIT 1").fetchone()[0]
    number = database.execute("SELECT number FROM numbers ORDER BY last_reported_at DESC LIMIT 1").fetchone()[0]
    databases.close(database)
    sid, merchant, caller = sample

    client = app.test_client()
    client.get("/dashboard/login")
    with client.session_transaction() as session:
        token = session["csrf"]
    response = client.post("/dashboard/login", data={"name": "bench", "password": "bench-password-1", "csrf_token": token})
    assert response.status_code == 302, response.status_code
    pages = [
        ("overview", "/dashboard/"),
        ("calls: no filter", "/dashboard/calls"),
        ("calls: date range (one month)", "/dashboard/calls?date_from=2026-06-01&date_to=2026-06-30"),
        ("calls: verdict=known_scam", "/dashboard/calls?verdict=known_scam"),
        ("calls: verdict=none", "/dashboard/calls?verdict=none"),
        ("calls: merchant", f"/dashboard/calls?merchant={merchant}"),
        ("calls: merchant (rare)", f"/dashboard/calls?merchant={rare_merchant}"),
        ("calls: caller number", f"/dashboard/calls?caller={quote(caller)}"),
        ("calls: language=en", "/dashboard/calls?language=en"),
        ("calls: status=failed", "/dashboard/calls?status=failed"),
        ("calls: text search (3+ chars)", "/dashboard/calls?q=" + quote("屏幕共享")),
        ("calls: text search (2 chars)", "/dashboard/calls?q=" + quote("押金")),
        ("calls: text search (rare)", "/dashboard/calls?q=" + quote("no such words at all")),
        ("calls: text search (rare, 2 chars)", "/dashboard/calls?q=" + quote("火星")),
        ("calls: verdict+language+dates", "/dashboard/calls?verdict=genuine&language=en&date_from=2026-03-01&date_to=2026-09-30"),
        ("calls: status+verdict", "/dashboard/calls?status=canceled&verdict=none"),
        ("calls: page 2 (keyset)", None),
        ("call detail (recent)", f"/dashboard/calls/{sid}"),
        ("call detail (a year old)", f"/dashboard/calls/{old}"),
        ("numbers", "/dashboard/numbers"),
        ("number detail", f"/dashboard/numbers/{quote(number)}"),
        ("reports", "/dashboard/reports"),
        ("merchant", f"/dashboard/merchants/{merchant}"),
        ("outreach", "/dashboard/outreach"),
        ("audit log", "/dashboard/audit"),
    ]
    first = client.get("/dashboard/calls").get_data(as_text=True)
    marker = 'href="/dashboard/calls?before='
    older = first[first.index(marker) + 6:].split('"', 1)[0].replace("&amp;", "&")
    print(f"\n{'page':36} {'median ms':>10} {'p95 ms':>8}")
    slow = []
    for name, url in pages:
        median, p95 = timed(client, url or older, args.runs)
        if median is None:
            slow.append(name)
            print(f"{name:36} {'failed: ' + p95:>19}  <-- over target")
            continue
        flag = "" if p95 < TARGET_MS else "  <-- over target"
        if p95 >= TARGET_MS:
            slow.append(name)
        print(f"{name:36} {median:10.1f} {p95:8.1f}{flag}")
    print(f"\ntarget: every page under {TARGET_MS} ms; {'all met' if not slow else 'over: ' + ', '.join(slow)}")


if __name__ == "__main__":
    main()
