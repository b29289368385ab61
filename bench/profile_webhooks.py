"""Profile the hotline's webhook handling in one process: `python bench/profile_webhooks.py [--calls 60] [--sort tottime]`."""
import argparse
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
from ivr import create_app, demo  # noqa: E402
from ivr.simulator import FlaskTransport  # noqa: E402


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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=60)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--top", type=int, default=35)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hotline-profile-") as folder:
        app = create_app({"DATABASE": os.path.join(folder, "hotline.db"), "TWILIO_AUTH_TOKEN": "profile-token",
                          "AGENT_NUMBER": load.AGENT, "BUSINESS_HOURS": "24/7", "SECRET_KEY": "x"})
        demo.load(app)
        app.config["LOCK_ATTEMPTS"] = 10**6
        stats = load.Stats()
        load.KeepAliveTransport = lambda base_url, stats_: TimedFlaskTransport(app, stats_)  # in-process
        names = list(load.JOURNEYS)
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for index in range(args.calls):
            load.take_call("http://localhost", "profile-token", names[index % len(names)], stats,
                           time.monotonic() + 60)
        profiler.disable()
        elapsed = time.perf_counter() - started
        print(f"{len(stats.latencies)} requests in {elapsed:.2f} s: {elapsed / len(stats.latencies) * 1000:.2f} ms"
              f" each (profiled); errors {dict(stats.errors)}")
        pstats.Stats(profiler).strip_dirs().sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
