"""Restart PostgreSQL under live calls: `python bench/pg_restart.py [--server-url URL] [--callers 16]`.

Two gunicorn hosts on a fresh PostgreSQL database (with the demo data) answer paced simulated callers whose
webhooks alternate between the hosts. A few seconds in, the machine's PostgreSQL cluster is restarted
(`pg_ctlcluster ... restart`, which needs the right to run it: root or the postgres user). The script prints
what callers got meanwhile (HTTP statuses, apologies), how long /healthz said 503, and whether every host
answers whole calls afterwards with no restart of the app. Exit status 1 on any HTTP 500 or a host that does
not recover.
"""
import argparse
import collections
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import load  # noqa: E402


def cluster():
    """The (version, name) of the machine's PostgreSQL cluster."""
    version = sorted((path.name for path in Path("/etc/postgresql").iterdir()), key=lambda v: float(v))[-1]
    return version, "main"


def watch_health(url, stop, seen):
    """Poll `url`/healthz every 0.1 s until `stop` is set, counting each status (None: no answer)."""
    while not stop.is_set():
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=5) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError:
            status = None
        seen.append((time.monotonic(), status))
        time.sleep(0.1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--callers", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=float, default=30, help="seconds of calls in all")
    parser.add_argument("--restart-after", type=float, default=8, help="seconds of calls before the restart")
    args = parser.parse_args(argv)
    args.database_url = args.server_url
    version, name = cluster()
    with tempfile.TemporaryDirectory(prefix="hotline-restart-") as folder:
        directory = Path(folder)
        database = load.BenchDatabase(directory, args.server_url)
        try:
            hosts, token, journeys = load.our_server(args, directory, database, hosts=2)
            with hosts:
                hosts.wait_for_workers(args.workers)
                stop, health = threading.Event(), []
                watcher = threading.Thread(target=watch_health, args=(hosts.base_url, stop, health), daemon=True)
                watcher.start()
                results = {}
                driver = threading.Thread(target=lambda: results.update(run=load.drive(
                    hosts.base_urls, token, args.callers, args.duration, journeys, pause=(0.3, 1.0))))
                driver.start()
                time.sleep(args.restart_after)
                restarted_at = time.monotonic()
                subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "restart"], check=True)
                back_at = time.monotonic()
                driver.join()
                stop.set()
                watcher.join()
                stats, elapsed = results["run"]
                after = []
                for _ in hosts.base_urls:
                    # Signed for the public URL (the first host's), its webhooks alternating between the hosts.
                    after_stats = load.Stats()
                    load.take_call(hosts.base_urls, token, "verify_genuine", after_stats, time.monotonic() + 30)
                    ok = sum(after_stats.errors.values()) == 0 and after_stats.journeys["verify_genuine"] == 1
                    after.append(ok if ok else dict(after_stats.errors, **after_stats.journeys))
        finally:
            database.drop()
    statuses = collections.Counter()
    for status in stats.errors:
        statuses[status] += stats.errors[status]
    unhealthy = [at for at, status in health if status != 200]
    print(f"PostgreSQL {version}/{name} restarted {args.restart_after:g} s into {args.duration:g} s of calls"
          f" ({args.callers} paced callers, 2 hosts x {args.workers} workers); the restart command took"
          f" {back_at - restarted_at:.1f} s")
    print(f"  {len(stats.latencies)} webhooks; not answered normally: {dict(statuses) or 'none'}")
    print(f"  HTTP 500 answers: {statuses.get('HTTP 500', 0)}; apologies (a person offered): {statuses.get('apology', 0)}")
    if unhealthy:
        print(f"  /healthz not 200 for {unhealthy[-1] - unhealthy[0]:.1f} s"
              f" ({len(unhealthy)} of {len(health)} polls, statuses {sorted(set(s for _, s in health if s != 200), key=str)})")
    else:
        print("  /healthz stayed 200 (the restart fell between polls)")
    print(f"  after the restart, whole genuine-code calls across both hosts, no app restart: "
          f"{', '.join('ok' if ok is True else f'FAILED {ok}' for ok in after)}")
    return 0 if not statuses.get("HTTP 500") and all(ok is True for ok in after) else 1


if __name__ == "__main__":
    sys.exit(main())
