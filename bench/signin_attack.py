"""Sign-in attack benchmark: the voice webhooks' latency while login loops hammer /dashboard/login.

    python bench/signin_attack.py                      # 16 callers and 16 login loops, 4 workers, 12 s a phase
    python bench/signin_attack.py --loops 32 --duration 15

Our app runs under gunicorn exactly as the Procfile starts it (bench/servers.py), on a fresh database with the
demo data, behind IVR_PROXY_FIX=1 as behind a load balancer. Simulated callers follow bench/load.py's journeys,
pausing between answers. Three phases, each printing the webhooks' p50 and p99:
- calls alone;
- calls while every login loop posts wrong passwords for made-up names from one address;
- the same, but every attempt claims a new source address (X-Forwarded-For), as a botnet would, which
  per-address throttling cannot slow down.
Made-up names are what hurts most: each one is checked against a password hash. Only 127.0.0.1 is targeted.
"""
import argparse
import http.client
import os
import re
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import drive, our_server  # noqa: E402

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
# Callers listen this long (uniform, seconds) before each answer: busy, but not saturating the workers alone.
PAUSE = (0.2, 0.6)


class Attempts:
    """Sign-in attempts made by the login loops: how each was answered, and how long it took."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses = Counter()
        self.latencies = []

    def record(self, status, seconds):
        """Count one answered (or failed) attempt."""
        with self.lock:
            self.statuses[status] += 1
            self.latencies.append(seconds)


def login_loop(base_url, stop, attempts, index, spread):
    """Post wrong passwords for made-up names until `stop`, as fast as answers come back."""
    parsed = urllib.parse.urlsplit(base_url)
    assert parsed.hostname == "127.0.0.1", "benchmarks only target loopback"
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    connection.request("GET", "/dashboard/login")
    response = connection.getresponse()
    page = response.read().decode()
    cookie = "; ".join(value.split(";")[0] for name, value in response.getheaders() if name.lower() == "set-cookie")
    token = CSRF_FIELD.search(page).group(1)
    count = 0
    while time.monotonic() < stop:
        count += 1
        form = urllib.parse.urlencode({"name": f"probe{index}x{count}", "password": "wrong-password-123",
                                       "csrf_token": token})
        headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
        if spread:
            headers["X-Forwarded-For"] = f"10.{index}.{count // 250 % 250}.{count % 250 + 1}"
        started = time.perf_counter()
        try:
            connection.request("POST", "/dashboard/login", form, headers)
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            status = type(error).__name__
        attempts.record(status, time.perf_counter() - started)


def percentile(values, share):
    """The value below which `share` (0-1) of `values` lie, in ms."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000 if ordered else float("nan")


def phase(label, server, token, journeys, args, attack=None):
    """Run callers for args.duration seconds, with login loops beside them if `attack` is 'one' or 'many'; print."""
    attempts = Attempts()
    stop = time.monotonic() + args.duration
    loops = [threading.Thread(target=login_loop, args=(server.base_url, stop, attempts, index, attack == "many"),
                              daemon=True) for index in range(args.loops if attack else 0)]
    for loop in loops:
        loop.start()
    stats, elapsed = drive(server.base_url, token, args.callers, args.duration, journeys, pause=PAUSE)
    for loop in loops:
        loop.join(timeout=60)
    webhooks = stats.latencies
    errors = sum(stats.errors.values())
    print(f"{label}\n  webhooks: {len(webhooks)} in {elapsed:.1f} s; p50 {percentile(webhooks, .5):.1f} ms,"
          f" p99 {percentile(webhooks, .99):.1f} ms, max {percentile(webhooks, 1):.1f} ms; errors {errors}"
          + (f" {dict(stats.errors)}" if errors else ""))
    if attack:
        answered = sum(attempts.statuses.values())
        print(f"  sign-in attempts: {answered} ({answered / elapsed:.0f}/s), answers {dict(attempts.statuses)},"
              f" median {percentile(attempts.latencies, .5):.1f} ms")
    return percentile(webhooks, .5), percentile(webhooks, .99)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--callers", type=int, default=16, help="concurrent simulated callers")
    parser.add_argument("--loops", type=int, default=16, help="concurrent login-attempt loops")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (WEB_CONCURRENCY)")
    parser.add_argument("--duration", type=float, default=12, help="seconds per phase (three phases)")
    args = parser.parse_args(argv)
    if not 1 <= args.callers <= 256 or not 1 <= args.loops <= 256 or not 0 < args.duration <= 60:
        parser.error("--callers and --loops 1-256, --duration up to 60 s")
    print(f"tree: {ROOT}; cpus: {os.cpu_count()}; load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="hotline-signin-") as folder:
        server, token, journeys, _ = our_server(argparse.Namespace(workers=args.workers), Path(folder))
        server.env["IVR_PROXY_FIX"] = "1"  # as behind a load balancer, so X-Forwarded-For names the source
        settings = f"{args.callers} callers, {args.workers} workers, {args.duration:g} s"
        results = {}
        with server:
            server.wait_for_workers(args.workers)
            results["calls alone"] = phase(f"[calls alone] {settings}", server, token, journeys, args)
            results["one address"] = phase(f"[attack from one address] {settings}, {args.loops} login loops",
                                           server, token, journeys, args, attack="one")
            results["many addresses"] = phase(
                f"[attack from many addresses] {settings}, {args.loops} login loops, a new X-Forwarded-For each try",
                server, token, journeys, args, attack="many")
    print("summary: webhook p50 / p99 (ms): " + "; ".join(
        f"{name} {p50:.1f} / {p99:.1f}" for name, (p50, p99) in results.items()))
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
