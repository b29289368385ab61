"""Several hosts on one PostgreSQL database: two gunicorn instances, each call's webhooks alternating between them."""
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from pg import migrated_postgresql_url, postgresql_url, query  # noqa: F401 - fixtures

from conftest import AGENT, TOKEN
from ivr.voice.simulator import Call, HttpTransport

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.servers import Gunicorn  # noqa: E402 - bench/ is a folder beside tests/

# What Twilio calls: the load balancer's address, which both hosts check signatures against.
PUBLIC_URL = "https://hotline.example.com"
ROOT = Path(__file__).resolve().parent.parent
API_TOKEN = "hosts-api-token"
MERCHANT = "898440358120001"


class AlternatingTransport(HttpTransport):
    """Sends each webhook of a call to the next host in turn, as a load balancer may."""

    def __init__(self, hosts):
        super().__init__(PUBLIC_URL, timeout=30)
        self.hosts = hosts
        self.served_by = []

    def post(self, url, form, headers):
        """POST to the next host the request Twilio would send to the public URL."""
        host = self.hosts[len(self.served_by) % len(self.hosts)]
        self.served_by.append(host)
        return super().post(host + url[len(PUBLIC_URL):], form, headers)


def environment(url):
    """The settings both hosts run with."""
    return {"IVR_DATABASE_URL": url, "TWILIO_AUTH_TOKEN": TOKEN, "IVR_AGENT_NUMBER": AGENT,
            "IVR_BUSINESS_HOURS": "24/7", "IVR_SECRET_KEY": "x", "IVR_PUBLIC_URL": PUBLIC_URL,
            "IVR_API_TOKEN": API_TOKEN}


def api(host, method, path, body):
    """Call the operator's API on one host; return (status, JSON body)."""
    request = urllib.request.Request(host + path, data=json.dumps(body).encode(), method=method,
                                     headers={"Authorization": f"Bearer {API_TOKEN}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.load(response)


@pytest.fixture
def two_hosts(migrated_postgresql_url, tmp_path):  # noqa: F811 - the fixture imported above
    """Two gunicorn hosts with two workers each, on one freshly migrated PostgreSQL database."""
    env = environment(migrated_postgresql_url)
    with Gunicorn(workers=2, env=env, log_path=tmp_path / "first.log") as first, \
            Gunicorn(workers=2, env=env, log_path=tmp_path / "second.log") as second:
        yield migrated_postgresql_url, [first.base_url, second.base_url]


def test_a_call_alternating_between_two_hosts_goes_on_as_on_one(two_hosts):
    url, hosts = two_hosts
    transport = AlternatingTransport(hosts)
    call = Call(transport, TOKEN, from_="+8613800138000")
    assert "核实请按1" in call.start().text
    assert "第一段" in call.press("2").text
    assert "第二段" in call.press("1").text
    assert "第三段" in call.press("1").text
    assert "第二段" in call.press("*").text
    assert set(transport.served_by) == set(hosts)  # both hosts served this call
    [(node, status)] = query(url, "SELECT node, status FROM calls WHERE sid = %s", [call.sid])
    assert (node, status) == ("guide_before", "in-progress")
    inputs = query(url, "SELECT node, digits FROM events WHERE call_sid = %s AND kind = 'input' ORDER BY id",
                   [call.sid])
    assert inputs == [("welcome", "2"), ("guide_how", "1"), ("guide_before", "1"), ("guide_during", "*")]


def test_outreach_registered_on_one_host_is_confirmed_on_a_call_served_by_both(two_hosts):
    url, hosts = two_hosts
    assert api(hosts[0], "PUT", f"/api/merchants/{MERCHANT}", {"name": "Demo Mart", "phones": ["13800138000"]})[0] == 201
    status, created = api(hosts[1], "POST", "/api/outreach", {
        "merchant_id": MERCHANT, "reason": "system_update", "channel": "phone", "from_number": "4009001234",
        "staff_name": "王敏", "action": "accept_terminal_update"})
    assert status == 201
    call = Call(AlternatingTransport(hosts), TOKEN, from_="+8613800138000")
    call.start()
    assert "8位参考码" in call.press("1").text
    turn = call.press(created["reference_code"] + "#")
    assert "核实通过" in turn.text and "王敏" in turn.text
    [(verdict, merchant_id)] = query(url, "SELECT verdict, merchant_id FROM calls WHERE sid = %s", [call.sid])
    assert (verdict, merchant_id) == ("genuine", MERCHANT)


def test_a_host_refuses_to_start_on_a_database_never_migrated(postgresql_url, tmp_path):  # noqa: F811
    server = Gunicorn(workers=1, env=environment(postgresql_url))  # its env is os.environ with these settings
    result = subprocess.run(server.command, cwd=ROOT, env=server.env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "has no schema yet" in result.stderr and "flask --app app init-db" in result.stderr
