"""The JSON API: auth, every endpoint, and every error (400 naming the field, 401, 404, 409), nothing half-written."""
import pytest

from conftest import add_call, insert, rows
from ivr import clock
from ivr.calllog import timeline as calldetail

MERCHANT = "898440358120001"


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer wrong"}, {"Authorization": "test-api-token"},
    {"Authorization": "Basic test-api-token"}, {"Authorization": "Bearer "},
])
def test_401_without_a_valid_token(api, headers):
    response = api("GET", "/api/calls", token=None, headers=headers)
    assert response.status_code == 401 and response.is_json and "Bearer" in response.json["error"]


def test_401_when_no_token_is_configured(api, app):
    app.config["API_TOKEN"] = None
    assert api("GET", "/api/calls").status_code == 401


def test_put_merchant_creates_then_updates(api, app):
    created = api("PUT", f"/api/merchants/{MERCHANT}", json={"name": "Demo Mart", "phones": ["13800138000", "+8613900139000"]})
    assert created.status_code == 201
    assert created.json["phones"] == ["+8613800138000", "+8613900139000"]
    updated = api("PUT", f"/api/merchants/{MERCHANT}", json={"name": "Demo Mart 2", "phones": ["0755 1234 5678"]})
    assert updated.status_code == 200 and updated.json["name"] == "Demo Mart 2" and updated.json["phones"] == ["+8675512345678"]
    assert rows(app, "SELECT phone FROM merchant_phones") == [{"phone": "+8675512345678"}]
    assert [row["action"] for row in rows(app, "SELECT action FROM audit ORDER BY id")] == ["merchant.create", "merchant.update"]
    assert api("GET", f"/api/merchants/{MERCHANT}").json["name"] == "Demo Mart 2"


@pytest.mark.parametrize("path, body, field", [
    (f"/api/merchants/{MERCHANT}", {"phones": []}, "name"),
    (f"/api/merchants/{MERCHANT}", {"name": "", "phones": []}, "name"),
    (f"/api/merchants/{MERCHANT}", {"name": "A", "phones": ["12"]}, "phones"),
    (f"/api/merchants/{MERCHANT}", {"name": "A", "phones": "13800138000"}, "phones"),
    ("/api/merchants/12ab", {"name": "A", "phones": []}, "merchant_id"),
    (f"/api/merchants/{MERCHANT}", ["not", "an", "object"], "body"),
])
def test_put_merchant_400_names_the_field_and_writes_nothing(api, app, path, body, field):
    response = api("PUT", path, json=body)
    assert response.status_code == 400 and response.json["field"] == field
    assert rows(app, "SELECT * FROM merchants") == [] and rows(app, "SELECT * FROM audit") == []


def test_put_merchant_with_broken_json_is_400(api):
    response = api("PUT", f"/api/merchants/{MERCHANT}", data="{bad json", content_type="application/json")
    assert response.status_code == 400 and response.json["field"] == "body"


OUTREACH = {"merchant_id": MERCHANT, "reason": "system_update", "channel": "phone", "from_number": "4008001234",
            "staff_name": "王敏", "action": "accept_terminal_update", "valid_hours": 48}


def test_post_outreach_returns_a_code_and_cancel_complete(api, app, verification):
    response = api("POST", "/api/outreach", json=OUTREACH)
    assert response.status_code == 201
    body = response.json
    assert set(body) == {"id", "reference_code", "expires_at"}
    assert len(body["reference_code"]) == 8 and body["reference_code"].isdigit()
    assert body["reference_code"] not in str(rows(app, "SELECT * FROM audit"))
    cancelled = api("POST", f"/api/outreach/{body['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert "reference_code" not in cancelled.json
    again = api("POST", f"/api/outreach/{body['id']}/complete")
    assert again.status_code == 409 and "already cancelled" in again.json["error"]
    second = api("POST", "/api/outreach", json=dict(OUTREACH, valid_hours=1)).json
    assert api("POST", f"/api/outreach/{second['id']}/complete").json["status"] == "completed"
    row = rows(app, "SELECT status_changed_by, status_changed_at FROM outreach WHERE id = ?", [second["id"]])[0]
    assert row["status_changed_by"] == "api" and row["status_changed_at"]


def test_outreach_valid_hours_defaults_to_seven_days(api, verification):
    from ivr import clock

    body = dict(OUTREACH)
    del body["valid_hours"]
    created = api("POST", "/api/outreach", json=body).json
    assert (clock.parse(created["expires_at"]) - clock.now()).days == 6  # 7 days less the moments since


@pytest.mark.parametrize("change, field", [
    ({"reason": "refund"}, "reason"),
    ({"channel": "fax"}, "channel"),
    ({"from_number": "12"}, "from_number"),
    ({"from_number": None}, "from_number"),
    ({"staff_name": ""}, "staff_name"),
    ({"action": "  "}, "action"),
    ({"action": "install_anydesk"}, "action"),
    ({"staff_name": "王敏 400800"}, "staff_name"),
    ({"valid_hours": 0}, "valid_hours"),
    ({"valid_hours": "soon"}, "valid_hours"),
    ({"valid_hours": 10000}, "valid_hours"),
    ({"merchant_id": "abc"}, "merchant_id"),
])
def test_post_outreach_400_names_the_field(api, app, verification, change, field):
    response = api("POST", "/api/outreach", json=dict(OUTREACH, **change))
    assert response.status_code == 400 and response.json["field"] == field
    assert rows(app, "SELECT * FROM outreach") == []


def test_post_outreach_without_merchant_id_is_400(api, verification):
    body = dict(OUTREACH)
    del body["merchant_id"]
    assert api("POST", "/api/outreach", json=body).json["field"] == "merchant_id"


def test_visit_needs_no_number(api, verification):
    assert api("POST", "/api/outreach", json=dict(OUTREACH, channel="visit", from_number=None)).status_code == 201


@pytest.mark.parametrize("method, path, body", [
    ("POST", "/api/outreach", dict(OUTREACH, merchant_id="999999999999999")),
    ("POST", "/api/outreach/999/cancel", None),
    ("POST", "/api/outreach/abc/complete", None),
    ("GET", "/api/calls/CA0000", None),
    ("GET", "/api/merchants/999999999999999", None),
])
def test_404_for_unknown_ids(api, verification, method, path, body):
    response = api(method, path, json=body)
    assert response.status_code == 404 and response.is_json and "no " in response.json["error"]


def test_get_call_with_its_verdict_reports_and_events(api, call, verification):
    call.start(from_=verification.phone)
    call.press("1")
    call.press("1")
    call.press("#")
    call.press("17012345678#")
    call.press("1")
    call.press("3")
    call.record(9)
    body = api("GET", f"/api/calls/{call.sid}").json
    assert body["verdict"] == "no_record" and body["merchant_id"] == verification.merchant
    assert "state" not in body
    [report] = body["reports"]
    assert report["number"] == "+8617012345678" and report["category"] == "fee" and report["recording_duration"] == 9
    kinds = [event["kind"] for event in body["events"]]
    assert kinds[0] == "incoming" and kinds.index("verdict") < kinds.index("report")
    assert [event["id"] for event in body["events"]] == sorted(event["id"] for event in body["events"])


def test_the_api_and_the_dashboard_show_a_call_read_by_the_same_reader(api, client, login, database):
    stamp = clock.stamp()
    add_call(database, "CAboth", stamp, verdict="known_scam", events=[
        {"kind": "incoming", "detail": '{"from": "+8613800138000", "withheld": false}'},
        {"kind": "prompt", "node": "welcome", "text": "您好，这里是官方商户核实热线。"},
        {"kind": "input", "node": "welcome", "digits": "1"},
        {"kind": "action", "node": "check_code", "detail": "plain words, not JSON"},
        {"kind": "verdict", "node": "check_code", "text": "known_scam", "detail": '{"number": "+8617012345678"}'},
    ])
    insert(database, "reports", {"report_number": "R1", "call_sid": "CAboth", "category": "fee",
                                 "number": "+8617012345678", "recording_url": "https://api.twilio.com/r/RE1",
                                 "signals": '["virtual"]', "created_at": stamp})
    found = calldetail.read_call(database, "CAboth")

    body = api("GET", "/api/calls/CAboth").json
    assert body["events"] == found["events"] and body["reports"] == found["reports"]
    assert [event["detail"] for event in body["events"]] == [
        {"from": "+8613800138000", "withheld": False}, None, None, "plain words, not JSON", {"number": "+8617012345678"}]
    assert body["reports"][0]["signals"] == ["virtual"]

    login("agent")
    page = client.get("/dashboard/calls/CAboth").get_data(as_text=True)
    assert page.count('<li class="ev ') == len(found["events"])
    assert "您好，这里是官方商户核实热线。" in page and "<kbd>1</kbd>" in page and "plain words, not JSON" in page
    assert 'href="/dashboard/numbers/+8617012345678">+8617012345678</a></li>' in page  # the verdict's reason
    assert "#R1" in page and "尚未从 Twilio 复制" in page and 'href="https://api.twilio.com' not in page
    assert api("GET", "/api/calls/" + "C" * 65).status_code == client.get("/dashboard/calls/" + "C" * 65).status_code == 404


def test_list_calls_by_verdict_since_and_merchant(api, call, verification):
    created = verification.add_outreach()
    call.start(from_=verification.phone)
    call.press("1")
    call.press("1")
    call.press(created["reference_code"] + "#")
    genuine = call.sid
    call.start(from_=verification.other_phone)
    call.press("1")
    call.press("1")
    call.press("00000000#" if created["reference_code"] != "00000000" else "11111111#")
    assert [c["sid"] for c in api("GET", "/api/calls?verdict=genuine").json["calls"]] == [genuine]
    assert [c["sid"] for c in api("GET", f"/api/calls?merchant_id={verification.other}").json["calls"]] == [call.sid]
    assert len(api("GET", "/api/calls?since=2000-01-01").json["calls"]) == 2
    assert api("GET", "/api/calls?since=2999-01-01T00:00:00Z").json["calls"] == []


@pytest.mark.parametrize("query, field", [("verdict=maybe", "verdict"), ("since=yesterday", "since"), ("limit=0", "limit")])
def test_list_calls_400(api, query, field):
    response = api("GET", f"/api/calls?{query}")
    assert response.status_code == 400 and response.json["field"] == field


def test_reports_by_number_and_number_status(api, app, verification):
    from ivr.verification import reports

    for merchant in ("1111111", "2222222"):
        reports.file_report(verification.database, "fee", number="+8617012345678", merchant_id=merchant)
    body = api("GET", "/api/reports?number=17012345678").json
    assert body["number"]["status"] == "reported" and len(body["reports"]) == 2
    assert len(api("GET", "/api/reports").json["reports"]) == 2
    confirmed = api("PUT", "/api/numbers/+8617012345678", json={"status": "confirmed", "reason": "police"})
    assert confirmed.status_code == 200 and confirmed.json["status"] == "confirmed"
    cleared = api("PUT", "/api/numbers/+8617012345678", json={"status": "cleared"}).json
    assert cleared["status"] == "cleared" and cleared["status_changed_by"] == "api"
    assert [h["status"] for h in cleared["history"]] == ["confirmed", "cleared"]
    assert [r["action"] for r in rows(app, "SELECT action FROM audit WHERE target = '+8617012345678' ORDER BY id")] == [
        "number.confirm", "number.clear"]


@pytest.mark.parametrize("method, path, body, field", [
    ("GET", "/api/reports?number=12", None, "number"),
    ("PUT", "/api/numbers/12", {"status": "confirmed"}, "number"),
    ("PUT", "/api/numbers/+8617012345678", {"status": "suspected"}, "status"),
    ("PUT", "/api/numbers/+8617012345678", {}, "status"),
    ("PUT", "/api/numbers/+8617012345678", {"status": "cleared", "reason": 5}, "reason"),
    ("PUT", "/api/numbers/+8617012345678", None, "body"),
])
def test_reports_and_numbers_400(api, app, method, path, body, field):
    response = api(method, path, json=body) if body is not None else api(method, path)
    assert response.status_code == 400 and response.json["field"] == field
    assert rows(app, "SELECT * FROM numbers") == []
