"""Count the CPU instructions one webhook costs the server: `python bench/count_instructions.py [--section M:F]`.

Timings on this shared machine drift by a factor of two within minutes; instruction counts do not. The same
journeys as bench/profile_webhooks.py run in one process under valgrind's callgrind, which counts only inside
`operator.call`: around the app's WSGI callable (every webhook, whole), or around the functions named with
--section (for example `ivr.voice.webhooks:_deliver` or `ivr.flow.engine:render`). The simulated
caller, start-up and warm-up are not counted. Only user-space instructions count: system calls (SQLite's reads
and writes) are not in the figure. The same code and journeys give the same count to within a few hundredths
of a percent.
"""
import argparse
import functools
import importlib
import operator
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
COUNTED = []  # set to [True] once warm-up is over


def _counted(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if COUNTED:
            return operator.call(function, *args, **kwargs)
        return function(*args, **kwargs)

    return wrapper


def _wrap_section(spec):
    module_name, _, attribute = spec.partition(":")
    owner = importlib.import_module(module_name)
    *path, name = attribute.split(".")
    for part in path:
        owner = getattr(owner, part)
    setattr(owner, name, _counted(getattr(owner, name)))


def run_journeys(calls, sections):
    """Place `calls` whole calls in-process after a warm-up, counting only the server side; return webhooks."""
    from bench import load
    from bench.profile_webhooks import journeys_in_process, run_calls

    for spec in sections:
        _wrap_section(spec)
    with journeys_in_process("hotline-count-") as (app, server):
        if not sections:
            app.wsgi_app = _counted(lambda environ, start_response: server(environ, start_response))
        run_calls(app, 12, load.Stats())
        server.requests = 0
        COUNTED.append(True)
        run_calls(app, calls, load.Stats())
        return server.requests


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=60)
    parser.add_argument("--section", action="append", default=[], metavar="MODULE:FUNCTION")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)  # the run under valgrind
    args = parser.parse_args(argv)
    if args.inside:
        print(f"webhooks {run_journeys(args.calls, args.section)}", file=sys.stderr)
        return 0
    if not shutil.which("valgrind"):
        sys.exit("valgrind is needed: apt-get install valgrind")
    command = ["valgrind", "--tool=callgrind", "--collect-atstart=no", "--toggle-collect=_operator_call",
               "--callgrind-out-file=/dev/null", sys.executable, __file__, "--inside", "--calls", str(args.calls)]
    for spec in args.section:
        command += ["--section", spec]
    started = time.monotonic()
    # The same string hashes (and so the same dict probing) on every run.
    finished = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ, PYTHONHASHSEED="0"))
    collected = re.search(r"Collected : ([\d,]+)", finished.stderr)
    webhooks = re.search(r"^webhooks (\d+)$", finished.stderr, re.MULTILINE)
    if finished.returncode or not collected or not webhooks:
        sys.exit(f"the counted run failed:\n{finished.stderr[-3000:]}")
    count, webhooks = int(collected.group(1).replace(",", "")), int(webhooks.group(1))
    what = ", ".join(args.section) or "the whole server side"
    print(f"{webhooks} webhooks of {args.calls} calls; {what}: {count / webhooks:,.0f} instructions per webhook"
          f" (callgrind, {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
