"""Operations: /metrics (what it counts, who may read it, across gunicorn's workers) and logs as JSON lines."""
import contextlib
import io
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import xml.etree.ElementTree as ElementTree
from datetime import datetime
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import AGENT, TOKEN, CallHelper, break_database
from ivr import create_app
from ivr.ops import logs
from ivr.voice.simulator import Call, HttpTransport

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.servers import Gunicorn  # noqa: E402 - bench/ is a folder beside tests/

APOLOGY_ZH = "很抱歉，系统暂时出现问题"


def scrape(client, **kwargs):
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def samples(text):
    """{(sample name, frozenset of labels): value} from Prometheus' text format."""
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(text, name, **labels):
    return samples(text)[(name, frozenset(labels.items()))]


def webhooks(text, **labels):
    """The sum of ivr_webhooks_total over the series that have `labels`."""
    return sum(number for (name, found), number in samples(text).items()
               if name == "ivr_webhooks_total" and set(labels.items()) <= found)


class Breakable:
    """An app whose database can be made unreachable, then restored: on SQLite a file where its folder was, on
    PostgreSQL (the suite's `app`) a server that does not answer."""

    def __init__(self, tmp_path, app):
        self.url = app.config.get("DATABASE_URL")
        if self.url:
            self.app = app
        else:
            self.folder, self.away = tmp_path / "data", tmp_path / "data-away"
            self.folder.mkdir()
            self.app = create_app({"TESTING": True, "DATABASE": str(self.folder / "hotline.db"),
                                   "TWILIO_AUTH_TOKEN": TOKEN, "AGENT_NUMBER": AGENT, "BUSINESS_HOURS": "24/7",
                                   "SECRET_KEY": "x"})
        self.client = self.app.test_client()

    def fail(self):
        if self.url:
            break_database(self.app)
            return
        self.folder.rename(self.away)
        self.folder.write_text("not a folder")

    def restore(self):
        if self.url:
            self.app.config["DATABASE_URL"] = self.url
            return
        self.folder.unlink()
        self.away.rename(self.folder)


@pytest.fixture
def breakable(tmp_path, app):
    return Breakable(tmp_path, app)


def connections_kept(text, app):
    """The connections the worker keeps between requests: SQLite's open ones; PostgreSQL's idle in the pool, with
    none left checked out."""
    if app.config.get("DATABASE_URL"):
        assert value(text, "ivr_database_pool_connections", state="in_use") == 0
        return value(text, "ivr_database_pool_connections", state="idle")
    return value(text, "ivr_database_connections")


# -- what /metrics counts ---------------------------------------------------------------------


def test_a_genuine_code_is_counted_once(app, client, call, verification):
    created = verification.add_outreach()
    assert "ivr_verdicts_total{verdict=\"genuine\"} 0.0" in scrape(client)
    call.start(from_=verification.phone)
    call.press("1")
    assert "核实通过" in call.press(created["reference_code"] + "#").text
    call.redeliver()  # Twilio retrying the verdict's webhook hears the stored answer: no second verdict
    text = scrape(client)
    assert 'ivr_verdicts_total{verdict="genuine"} 1.0' in text.splitlines()
    assert value(text, "ivr_verdicts_total", verdict="no_record") == 0
    assert value(text, "ivr_webhooks_total", route="incoming", outcome="answered") == 1
    assert value(text, "ivr_webhooks_total", route="step", outcome="answered") == 2
    assert value(text, "ivr_webhooks_total", route="step", outcome="retry") == 1
    # Every webhook is timed, in the bucket of a webhook that takes milliseconds, not seconds.
    assert value(text, "ivr_webhook_duration_seconds_count", route="step") == 3
    assert value(text, "ivr_webhook_duration_seconds_bucket", route="step", le="2.5") == 3


def test_replays_status_callbacks_and_connections_are_counted(app, client, call):
    call.start()
    call.press("2")
    url, params, _ = call.last_request
    call.press("1")
    status, body = call.post(url, params)  # the same step again, with a fresh token: a replay
    assert status == 200 and ElementTree.fromstring(body).find("Hangup") is not None
    call.hangup()
    call.hangup()  # a new delivery of the call's end
    text = scrape(client)
    assert value(text, "ivr_webhooks_total", route="step", outcome="replay") == 1
    assert value(text, "ivr_webhooks_total", route="status", outcome="answered") == 1
    assert value(text, "ivr_webhooks_total", route="status", outcome="replay") == 1
    assert webhooks(text) == 6
    # The worker keeps its one connection between requests (on PostgreSQL, idle in the pool).
    assert connections_kept(text, app) == 1


def test_a_bad_signature_counts_as_rejected(client, voice_post):
    params = {"CallSid": "CA" + "1" * 32, "From": "+8613800138000", "To": "+864009001234"}
    assert voice_post("/voice/incoming", params, headers={"X-Twilio-Signature": "forged"}).status_code == 403
    assert voice_post("/voice/step?node=welcome&turn=1", params, signed=False).status_code == 403
    text = scrape(client)
    assert value(text, "ivr_webhooks_total", route="incoming", outcome="rejected") == 1
    assert value(text, "ivr_webhooks_total", route="step", outcome="rejected") == 1
    assert webhooks(text, outcome="answered") == 0


def test_an_apology_counts_with_its_database_error(breakable):
    call, client = CallHelper(breakable.app), breakable.client
    call.start()
    assert connections_kept(scrape(client), breakable.app) == 1
    breakable.fail()
    try:
        assert APOLOGY_ZH in call.press("2").text
        text = scrape(client)
    finally:
        breakable.restore()
    assert value(text, "ivr_webhooks_total", route="step", outcome="apology") == 1
    assert value(text, "ivr_apologies_total", reason="error") == 1
    assert value(text, "ivr_database_errors_total") == 1
    if breakable.url:
        # The request that failed left no connection checked out of the pool.
        assert value(text, "ivr_database_pool_connections", state="in_use") == 0
    else:
        # The broken connection was closed, and the gauge says so.
        assert value(text, "ivr_database_connections") == 0
    CallHelper(breakable.app).start()
    text = scrape(client)
    assert connections_kept(text, breakable.app) == 1
    assert value(text, "ivr_webhooks_total", route="incoming", outcome="answered") == 2


def test_twilio_fallback_and_a_request_without_callsid_count_as_apologies(client, voice_post):
    fallback = {"CallSid": "CA" + "5" * 32, "ErrorCode": "11200", "ErrorUrl": "https://example.com/voice/step"}
    assert APOLOGY_ZH in voice_post("/voice/fallback", fallback).get_data(as_text=True)
    assert APOLOGY_ZH in voice_post("/voice/incoming", {"CallSid": "not a sid!"}).get_data(as_text=True)
    text = scrape(client)
    assert value(text, "ivr_apologies_total", reason="fallback") == 1
    assert value(text, "ivr_apologies_total", reason="invalid") == 1
    assert value(text, "ivr_apologies_total", reason="error") == 0
    assert value(text, "ivr_webhooks_total", route="fallback", outcome="apology") == 1
    assert value(text, "ivr_database_errors_total") == 0


def test_metrics_name_no_caller_and_no_call(app, client, call, verification):
    created = verification.add_outreach()
    call.start(from_=verification.phone)
    call.press("1")
    call.press(created["reference_code"] + "#")
    call.hangup()
    text = scrape(client)
    assert call.sid not in text and call.sid[2:] not in text
    assert "13800138000" not in text and "4009001234" not in text
    assert created["reference_code"] not in text and verification.merchant not in text


# -- who may read /metrics ----------------------------------------------------------------------


def test_without_a_token_only_this_host_may_read_metrics(client):
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.0.0.7"}).status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 404
    # Through a reverse proxy on this host, the peer is loopback but the visitor is not.
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 404
    # A forwarded header never lets a remote peer in.
    forged = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}, headers={"X-Forwarded-For": "127.0.0.1"})
    assert forged.status_code == 404


def test_behind_proxy_fix_a_forged_forwarded_address_does_not_pass(tmp_path):
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "hotline.db"), "SECRET_KEY": "x", "PROXY_FIX": 1})
    client = app.test_client()
    forged = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}, headers={"X-Forwarded-For": "127.0.0.1"})
    assert forged.status_code == 404
    assert client.get("/metrics").status_code == 200


def test_with_a_token_metrics_need_it_from_anywhere(tmp_path):
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "hotline.db"), "SECRET_KEY": "x",
                      "METRICS_TOKEN": "scrape-token-7f3a"})
    client = app.test_client()
    refused = client.get("/metrics")
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert "ivr_" not in refused.get_data(as_text=True)
    for header in ("Bearer wrong-token", "Basic c2NyYXBlLXRva2VuLTdmM2E=", "scrape-token-7f3a", "Bearer ",
                   "Bearer scrape-token-7f3a-and-more", "Bearer 令牌"):
        assert client.get("/metrics", headers={"Authorization": header}).status_code == 401, header
    remote = {"REMOTE_ADDR": "203.0.113.9"}
    response = client.get("/metrics", headers={"Authorization": "Bearer scrape-token-7f3a"}, environ_base=remote)
    assert response.status_code == 200 and "ivr_webhooks_total" in response.get_data(as_text=True)
    assert response.headers["Content-Type"].startswith("text/plain; version=")


# -- logs ----------------------------------------------------------------------------------------


@pytest.fixture
def log_lines():
    """What the app logs while the test runs, formatted as IVR_LOG_FORMAT=json would write it; a list of dicts."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


def test_a_webhook_error_is_one_json_line_with_its_callsid(breakable, log_lines, caplog):
    call = CallHelper(breakable.app)
    call.start()
    breakable.fail()
    try:
        call.press("2")
        breakable.client.get("/healthz")
    finally:
        breakable.restore()
    lines = log_lines()
    error = next(line for line in lines if line["message"].startswith("voice: error on call"))
    assert error["level"] == "ERROR" and error["logger"] == "ivr.voice.webhooks"
    assert error["call_sid"] == call.sid and error["path"] == "/voice/step"
    assert "OperationalError" in error["exception"] and "Traceback" in error["exception"]
    assert datetime.fromisoformat(error["time"].replace("Z", "+00:00")).utcoffset().total_seconds() == 0
    # Outside a voice webhook, an event has no call.
    health = next(line for line in lines if line["message"].startswith("healthz:"))
    assert health["call_sid"] is None and health["path"] == "/healthz"
    # pytest still sees the records.
    assert any(record.getMessage().startswith("voice: error on call") for record in caplog.records)


def test_text_logs_name_the_call_too(breakable):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.TextFormatter())
    logging.getLogger().addHandler(handler)
    call = CallHelper(breakable.app)
    call.start()
    breakable.fail()
    try:
        call.press("2")
    finally:
        breakable.restore()
        logging.getLogger().removeHandler(handler)
    first = stream.getvalue().splitlines()[0]
    assert f"ERROR ivr.voice.webhooks [{call.sid} /voice/step]: voice: error on call" in first


def test_an_unknown_log_format_stops_start_up(tmp_path):
    with pytest.raises(RuntimeError, match="IVR_LOG_FORMAT='xml' must be one of json, text"):
        create_app({"TESTING": True, "DATABASE": str(tmp_path / "hotline.db"), "SECRET_KEY": "x", "LOG_FORMAT": "xml"})


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_the_app_on_its_own_logs_in_the_chosen_format(tmp_path, log_format):
    # As under `flask run` or a plain gunicorn: nothing set up logging before the app.
    env = dict(os.environ, IVR_DATABASE=str(tmp_path / "hotline.db"), IVR_SECRET_KEY="x", IVR_LOG_FORMAT=log_format)
    env.pop("IVR_PUBLIC_URL", None)
    result = subprocess.run([sys.executable, "-c", "from ivr import create_app; create_app()"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    [line] = result.stderr.splitlines()
    if log_format == "json":
        entry = json.loads(line)
        assert entry["level"] == "WARNING" and entry["logger"] == "ivr" and entry["call_sid"] is None
        assert entry["message"].startswith("IVR_PUBLIC_URL is not set")
    else:
        assert " WARNING ivr: IVR_PUBLIC_URL is not set" in line


# -- several gunicorn workers -----------------------------------------------------------------


def place_calls(base_url, count):
    """Place `count` short calls at once over HTTP; return how many webhooks they sent."""
    sent = []

    def one_call():
        call = Call(HttpTransport(base_url, timeout=30), TOKEN, from_="+8613800138000")
        call.start()
        call.press("2")
        call.press("1")
        call.hangup()
        sent.append(len(call.turns) + 1)  # each turn's webhook, and the status callback

    threads = [threading.Thread(target=one_call) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(sent) == count
    return sum(sent)


def scrape_http(base_url):
    import urllib.request

    with urllib.request.urlopen(base_url + "/metrics", timeout=10) as response:
        return response.read().decode()


@contextlib.contextmanager
def half_sent_health_check(port):
    """Hold one gunicorn worker on a request whose headers are not finished; finish it and read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as held:
        held.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        yield
        held.sendall(b"Connection: close\r\n\r\n")
        answer = b""
        while chunk := held.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]


def connection_pids(text):
    """The worker PIDs with an open connection, from the per-worker gauge."""
    return {dict(labels)["pid"] for (name, labels), number in samples(text).items()
            if name == "ivr_database_connections" and number == 1}


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_gunicorn_workers_are_summed_and_a_dead_worker_keeps_its_counts(tmp_path):
    metrics_directory = tmp_path / "metrics"
    env = {"IVR_DATABASE": str(tmp_path / "hotline.db"), "TWILIO_AUTH_TOKEN": TOKEN, "IVR_AGENT_NUMBER": AGENT,
           "IVR_BUSINESS_HOURS": "24/7", "IVR_SECRET_KEY": "x", "IVR_DATABASE_TIMEOUT": "10",
           "PROMETHEUS_MULTIPROC_DIR": str(metrics_directory), "IVR_LOG_FORMAT": "json"}
    log = tmp_path / "gunicorn.log"
    with Gunicorn(workers=2, env=env, log_path=log) as server:
        workers = server.wait_for_workers(2)
        # A sync worker reading a half-sent request answers nothing else, so the calls go to the other worker;
        # then the held request (a health check, which opens that worker's connection too) is finished.
        with half_sent_health_check(server.port):
            sent = place_calls(server.base_url, 4)
        # Each worker keeps its connection open once it has answered.
        assert connection_pids(scrape_http(server.base_url)) == {str(pid) for pid in workers}
        # Whichever worker answers the scrape, it reports what both answered.
        for _ in range(4):
            text = scrape_http(server.base_url)
            assert webhooks(text) == sent
            assert webhooks(text, outcome="answered") == sent
        # A worker that dies takes its open connection with it, but what it counted stays counted.
        os.kill(workers[0], 9)
        replacement = server.wait_for_workers(2, avoid=[workers[0]])
        text = scrape_http(server.base_url)
        assert str(workers[0]) not in connection_pids(text)
        assert webhooks(text) == sent
        sent += place_calls(server.base_url, 2)
        assert webhooks(scrape_http(server.base_url)) == sent
        assert set(replacement) - set(workers)
    # gunicorn's own log and the app's are JSON lines too.
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert any(line["logger"] == "gunicorn.error" and line["message"].startswith("Booting worker") for line in lines)
    assert any(line["logger"] == "ivr" and "IVR_PUBLIC_URL" in line["message"] for line in lines)
    # A new run on the same directory starts from zero: the files of the last one were removed.
    with Gunicorn(workers=2, env=env, log_path=log) as server:
        server.wait_for_workers(2)
        assert webhooks(scrape_http(server.base_url)) == 0
