"""Twilio's REST API played by Prism from Twilio's own OpenAPI description (npm ci --prefix tests/prism)."""
import os
import re
import socket
import subprocess
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent / "prism"
PRISM = HERE / "node_modules" / ".bin" / "prism"
SPEC = HERE / "node_modules" / "@twilio-alpha" / "mcp" / "twilio-oai" / "spec" / "json" / "twilio_api_v2010.json"
# Twilio's own example account and number in that description: what Prism answers for every account.
ACCOUNT_SID = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
EXAMPLE_NUMBER = "+18089255327"
EXAMPLE_NUMBER_SID = "PNaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
REQUEST_LINE = re.compile(r"\[HTTP SERVER\] (get|post|delete|put|patch) (\S+)")
# Prism logs each way a request breaks the description as a validator error (and answers 422 or 401); the
# description's own examples break it too ("Violation: response..."), which is Twilio's matter, not ours.
REQUEST_VIOLATION = re.compile(r"\[VALIDATOR\] \S+\s+(?:error|warning)\s++(?!Violation: response).*|Request terminated with error.*")
STARTUP_SECONDS = 90


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class TwilioMock:
    """A running `prism mock` of Twilio's 2010 API; its log tells which requests came and which broke the spec."""

    def __init__(self, log_path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.process = subprocess.Popen(
            [str(PRISM), "mock", str(SPEC), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=self.log, stderr=subprocess.STDOUT, cwd=HERE,
        )
        deadline = time.monotonic() + STARTUP_SECONDS
        while "Prism is listening" not in self.text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"prism did not start: {self.text()[-2000:]}")
            time.sleep(0.2)

    def text(self):
        """Everything Prism has logged so far."""
        self.log.flush()
        return Path(self.log_path).read_text(errors="replace")

    def mark(self):
        """A point in the log; requests() and violations() read from there on."""
        return len(self.text())

    def requests(self, since=0):
        """(METHOD, path without query) of every request Prism received since `since`."""
        return [(method.upper(), path) for method, path in REQUEST_LINE.findall(self.text()[since:])]

    def violations(self, since=0):
        """Every way a request since `since` broke Twilio's API description."""
        return REQUEST_VIOLATION.findall(self.text()[since:])

    def stop(self):
        """Stop Prism."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


def start_or_skip(log_path):
    """Start the mock; skip on a machine without it, but fail on CI, where .ci/run installs it."""
    if not PRISM.exists() or not SPEC.exists():
        message = "the Twilio REST tests need the mock of Twilio's API: npm ci --prefix tests/prism"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return TwilioMock(log_path)


class TwilioWithMedia:
    """Twilio's API as Prism plays it, plus recordings' audio (not in Twilio's description) served from memory."""

    def __init__(self, mock):
        import http.client
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.mock, self.audio, self.downloads = mock, {}, []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _relay(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                sid = re.search(r"/Recordings/(RE[0-9a-fA-F]{32})\.wav$", self.path.split("?")[0])
                if self.command == "GET" and sid:
                    outer.downloads.append(sid.group(1))
                    content = outer.audio.get(sid.group(1))
                    self.send_response(200 if content is not None else 404)
                    self.send_header("Content-Type", "audio/x-wav")
                    self.send_header("Content-Length", str(len(content or b"")))
                    self.end_headers()
                    self.wfile.write(content or b"")
                    return
                upstream = http.client.HTTPConnection("127.0.0.1", outer.mock.port, timeout=30)
                headers = {name: value for name, value in self.headers.items() if name.lower() != "host"}
                upstream.request(self.command, self.path, body, headers)
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream.close()

            do_GET = do_POST = do_DELETE = _relay

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add_recording(self, sid, seconds, rate=8000):
        """Serve `seconds` of silent 8 kHz mono WAV audio as recording `sid`; return its bytes."""
        import io
        import wave

        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as audio:
            audio.setnchannels(1)
            audio.setsampwidth(2)
            audio.setframerate(rate)
            audio.writeframes(b"\0\0" * int(seconds * rate))
        self.audio[sid] = buffer.getvalue()
        return self.audio[sid]

    def stop(self):
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


# -- fixtures, imported by the test modules that talk to Twilio's API ----------------------------------


@pytest.fixture(scope="module")
def twilio_api(tmp_path_factory):
    """Prism playing Twilio's 2010 API for this module's tests."""
    mock = start_or_skip(tmp_path_factory.mktemp("prism") / "prism.log")
    yield mock
    mock.stop()


@pytest.fixture(scope="module")
def twilio_media(twilio_api):
    """Prism, with recordings' audio served beside it."""
    media = TwilioWithMedia(twilio_api)
    yield media
    media.stop()


@pytest.fixture
def twilio(app, twilio_media):
    """The app pointed at Twilio's API and recordings; no request may break Twilio's API description."""
    app.config.update(TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_API_URL=twilio_media.url)
    mark = twilio_media.mock.mark()
    twilio_media.since = mark
    yield twilio_media
    assert twilio_media.mock.violations(mark) == []
