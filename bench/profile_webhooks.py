"""Profile the hotline's webhook handling in one process: `python bench/profile_webhooks.py [--calls 60] [--sort tottime]`.

Only the server side is timed and profiled (the app's WSGI callable), not the simulated caller that signs
requests and parses the TwiML: first an unprofiled pass (wall and CPU milliseconds per webhook, SQL
statements per webhook), then a cProfile pass of the same journeys.
"""
import argparse
import contextlib
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import load  # noqa: E402
from ivr import create_app  # noqa: E402
from ivr.devtools import demo  # noqa: E402
from ivr.storage import connection  # noqa: E402
from ivr.voice.simulator import FlaskTransport  # noqa: E402


class TimedFlaskTransport(FlaskTransport):
    """FlaskTransport that records each request like the load driver's transport does."""

    def __init__(self, app, stats):
        super().__init__(app)
        self.stats = stats
        self.connection = self  # take_call closes the transport's connection when done

    def post(self, url, form, headers):
        """POST through the WSGI stack and time it."""
        started = time.perf_counter()
        status, body = super().post(url, form, headers)
        self.stats.record(time.perf_counter() - started, status, body)
        return status, body

    def close(self):
        """Nothing to close in-process."""


class ServerSide:
    """Wraps the app's WSGI callable to time (and optionally profile) only the server's work."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app
        self.profiler = None
        self.requests = 0
        self.wall = 0.0
        self.cpu = 0.0

    def __call__(self, environ, start_response):
        """Run one request through the app, timing the whole response including its body."""
        wall, cpu = time.perf_counter(), time.thread_time()
        if self.profiler:
            self.profiler.enable()
        try:
            return list(self.wsgi_app(environ, start_response))
        finally:
            if self.profiler:
                self.profiler.disable()
            self.requests += 1
            self.wall += time.perf_counter() - wall
            self.cpu += time.thread_time() - cpu


def run_calls(app, calls, stats):
    """Place `calls` whole calls through the app, cycling through the load benchmark's journeys."""
    names = list(load.JOURNEYS)
    for index in range(calls):
        load.take_call("http://localhost", "profile-token", names[index % len(names)], stats, time.monotonic() + 60)


@contextlib.contextmanager
def journeys_in_process(prefix):
    """Yield (app, its ServerSide) on a temporary demo database, with the load driver's calls sent in-process."""
    with tempfile.TemporaryDirectory(prefix=prefix) as folder:
        app = create_app({"DATABASE": os.path.join(folder, "hotline.db"), "TWILIO_AUTH_TOKEN": "profile-token",
                          "AGENT_NUMBER": load.AGENT, "BUSINESS_HOURS": "24/7", "SECRET_KEY": "x",
                          "PUBLIC_URL": FlaskTransport.base_url})
        demo.load(app)
        app.config["LOCK_ATTEMPTS"] = 10**6  # the journeys' wrong codes must not lock the demo merchant
        server = app.wsgi_app = ServerSide(app.wsgi_app)
        transport = load.KeepAliveTransport
        load.KeepAliveTransport = lambda base_url, stats: TimedFlaskTransport(app, stats)
        connection._thread.db = None  # a connection of this database, opened through connection.connect as it is
        try:
            yield app, server
        finally:
            load.KeepAliveTransport = transport
            connection._thread.db = None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=60)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--top", type=int, default=35)
    args = parser.parse_args(argv)
    statements = [0]
    connect = connection.connect

    def counting_connect(path, timeout=5.0, **options):
        database = connect(path, timeout, **options)
        database.conn.set_trace_callback(lambda sql: statements.__setitem__(0, statements[0] + 1))
        return database

    connection.connect = counting_connect
    with journeys_in_process("hotline-profile-") as (app, server):
        run_calls(app, 6, load.Stats())  # warm up: first connection, imports, caches
        server.requests, server.wall, server.cpu, statements[0] = 0, 0.0, 0.0, 0
        stats = load.Stats()
        run_calls(app, args.calls, stats)
        count = server.requests
        print(f"unprofiled, server side only: {count} webhooks; {server.wall / count * 1000:.2f} ms wall,"
              f" {server.cpu / count * 1000:.2f} ms CPU, {statements[0] / count:.1f} SQL statements per webhook;"
              f" errors {dict(stats.errors)}")
        server.profiler = profiler = cProfile.Profile()
        stats = load.Stats()
        run_calls(app, args.calls, stats)
        print(f"profiled: {server.requests - count} webhooks, {server.wall / server.requests * 1000:.2f} ms each on"
              f" average across both passes; errors {dict(stats.errors)}")
        pstats.Stats(profiler).strip_dirs().sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
