"""Start gunicorn exactly as the Procfile's web process does, on loopback, and watch its workers."""
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV_REFERENCE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)")


def free_port():
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def procfile_web_command(env, app="app:app"):
    """The Procfile's web command with its ${VAR:-default}s expanded, bound to loopback, serving `app`."""
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))

    def expand(match):
        name = match.group(1) or match.group(3)
        return env.get(name) or match.group(2) or ""

    words = shlex.split(ENV_REFERENCE.sub(expand, line.split(":", 1)[1]))
    if words[0] == "gunicorn":
        # The venv's gunicorn, whatever PATH says.
        words[0:1] = [sys.executable, "-m", "gunicorn"]
    # Load tests only ever target loopback.
    words = [word.replace("0.0.0.0:", "127.0.0.1:") for word in words]
    return [app if word == "app:app" else word for word in words]


class Gunicorn:
    """A gunicorn master started from the Procfile's web line, with its own environment and port."""

    def __init__(self, workers=4, env=None, app="app:app", log_path=None):
        self.port = free_port()
        self.env = dict(os.environ, WEB_CONCURRENCY=str(workers), PORT=str(self.port), **(env or {}))
        self.command = procfile_web_command(self.env, app)
        self.log_path = log_path
        self.process = None
        self.base_url = f"http://127.0.0.1:{self.port}"

    def start(self, ready_path="/healthz", timeout=30):
        """Start the master and wait until a worker answers `ready_path` (any HTTP status)."""
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}: {' '.join(self.command)}")
            try:
                urllib.request.urlopen(self.base_url + ready_path, timeout=2).close()
                return self
            except urllib.error.HTTPError:
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer on {self.base_url} within {timeout} s")

    def worker_pids(self):
        """PIDs of the master's current worker processes."""
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == self.process.pid:
                    pids.append(int(entry.name))
        return sorted(pids)

    def wait_for_workers(self, count, avoid=(), timeout=30):
        """Wait until `count` workers run, none of them in `avoid` (killed ones); return their PIDs."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = [pid for pid in self.worker_pids() if pid not in avoid]
            if len(pids) >= count:
                return pids
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not bring up {count} workers within {timeout} s")

    def peak_rss_kib(self):
        """Peak resident memory (VmHWM, KiB) of each current worker, by PID."""
        peaks = {}
        for pid in self.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
            if match:
                peaks[pid] = int(match.group(1))
        return peaks

    def cpu_seconds(self):
        """CPU time (user + system, seconds) used so far by the master and its current workers."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in [self.process.pid, *self.worker_pids()]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / ticks

    def stop(self):
        """Stop the master (and so its workers) gracefully, then for certain."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def kill(self):
        """Kill the master and its workers at once, as when the host itself dies."""
        if self.process is None or self.process.poll() is not None:
            return
        for pid in [*self.worker_pids(), self.process.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(timeout=10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class Hosts:
    """Several gunicorn hosts of one app on one database, behind an imagined load balancer: the first one's URL."""

    def __init__(self, servers):
        self.servers = servers
        self.base_url = servers[0].base_url
        self.base_urls = [server.base_url for server in servers]
        self.env = servers[0].env

    def start(self):
        """Start every host."""
        for server in self.servers:
            server.start()
        return self

    def stop(self):
        """Stop every host."""
        for server in self.servers:
            server.stop()

    def wait_for_workers(self, count):
        """Wait until every host runs `count` workers."""
        return [pid for server in self.servers for pid in server.wait_for_workers(count)]

    def cpu_seconds(self):
        """CPU seconds used so far by every host."""
        return sum(server.cpu_seconds() for server in self.servers)

    def peak_rss_kib(self):
        """Peak resident memory of every host's workers, by PID."""
        return {pid: kib for server in self.servers for pid, kib in server.peak_rss_kib().items()}

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
