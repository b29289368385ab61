"""Twilio's REST API through the official client, against Prism serving Twilio's own API description."""
import socket
from types import SimpleNamespace

import pytest
from twilio_mock import ACCOUNT_SID, EXAMPLE_NUMBER, EXAMPLE_NUMBER_SID

from ivr.errors import InvalidInput, TwilioUnavailable
from ivr.telephony import numbers, rest

PUBLIC = "https://hotline.example.com"
NUMBER_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/IncomingPhoneNumbers/{EXAMPLE_NUMBER_SID}.json"


@pytest.fixture
def api(twilio_api, app):
    """The mock, with the app pointed at it; any request that breaks Twilio's description fails the test."""
    app.config.update(TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_API_URL=twilio_api.url)
    mark = twilio_api.mark()
    twilio_api.since = mark
    yield twilio_api
    assert twilio_api.violations(mark) == []


def recording(client):
    """Keep every request `client` sends, as the keyword arguments its HTTP client was called with."""
    sent, send = [], client.http_client.request

    def request(method, url, **options):
        sent.append(dict(options, method=method, url=url))
        return send(method, url, **options)

    client.http_client.request = request
    return sent


def configure(runner, *arguments):
    return runner.invoke(args=["twilio", "configure-number", *arguments])


def test_configure_number_points_every_voice_webhook_at_the_hotline(api, runner):
    result = configure(runner, EXAMPLE_NUMBER, "--public-url", PUBLIC + "/")
    assert result.exit_code == 0, result.output
    assert f"{EXAMPLE_NUMBER} ({EXAMPLE_NUMBER_SID}" in result.output
    assert "Voice URL: (empty) -> https://hotline.example.com/voice/incoming" in result.output
    assert "Fallback URL: (empty) -> https://hotline.example.com/voice/fallback" in result.output
    assert "Status callback: (empty) -> https://hotline.example.com/voice/status" in result.output
    assert "Changed 3 settings." in result.output
    sent = api.requests(api.since)
    assert sent == [("GET", f"/2010-04-01/Accounts/{ACCOUNT_SID}/IncomingPhoneNumbers.json"), ("POST", NUMBER_PATH)]


def test_the_update_sends_each_url_with_post(api, app):
    client = rest.client(rest.RestSettings.from_config(dict(app.config, TWILIO_AUTH_TOKEN="secret")))
    sent = recording(client)
    found = numbers.find_number(client, EXAMPLE_NUMBER)
    assert sent[-1]["params"] == {"PhoneNumber": EXAMPLE_NUMBER, "PageSize": 20}
    record, changes, warnings = numbers.configure_number(client, EXAMPLE_NUMBER, PUBLIC)
    update = sent[-1]
    assert update["method"] == "POST" and update["url"] == "https://api.twilio.com" + NUMBER_PATH  # sent to the mock
    assert api.requests(api.since)[-1] == ("POST", NUMBER_PATH)
    assert update["data"] == {"VoiceUrl": PUBLIC + "/voice/incoming", "VoiceFallbackUrl": PUBLIC + "/voice/fallback",
                              "StatusCallback": PUBLIC + "/voice/status"}
    assert update["auth"] == (ACCOUNT_SID, "secret")
    assert [change.field for change in changes] == ["voice_url", "voice_fallback_url", "status_callback"]
    assert record.sid == found.sid == EXAMPLE_NUMBER_SID
    assert warnings == []


def test_a_dry_run_changes_nothing(api, runner):
    result = configure(runner, EXAMPLE_NUMBER, "--public-url", PUBLIC, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Voice URL: (empty) -> https://hotline.example.com/voice/incoming" in result.output
    assert "Dry run: nothing was changed." in result.output
    assert [method for method, _ in api.requests(api.since)] == ["GET"]


def test_an_api_key_signs_in_instead_of_the_auth_token(api, app, runner):
    app.config.update(TWILIO_AUTH_TOKEN=None, TWILIO_API_KEY="SK" + "b" * 32, TWILIO_API_SECRET="key-secret")
    client = rest.client(rest.RestSettings.from_config(app.config))
    sent = recording(client)
    numbers.configure_number(client, EXAMPLE_NUMBER, PUBLIC, dry_run=True)
    assert [request["auth"] for request in sent] == [("SK" + "b" * 32, "key-secret")]
    assert api.requests(api.since) == [("GET", f"/2010-04-01/Accounts/{ACCOUNT_SID}/IncomingPhoneNumbers.json")]


def test_a_number_the_account_does_not_have_is_a_clear_error(api, runner):
    result = configure(runner, "+8613800138000", "--public-url", PUBLIC)
    assert result.exit_code == 1
    assert f"+8613800138000 is not a number of this Twilio account ({ACCOUNT_SID})" in result.output
    assert [method for method, _ in api.requests(api.since)] == ["GET"]


@pytest.mark.parametrize(
    "number, url, message",
    [
        ("12", PUBLIC, "is not a valid phone number"),
        (EXAMPLE_NUMBER, "http://hotline.example.com", "must be the https:// address"),
        (EXAMPLE_NUMBER, "hotline.example.com", "must be the https:// address"),
        (EXAMPLE_NUMBER, PUBLIC + "/?x=1", "must not carry a query"),
    ],
)
def test_bad_arguments_are_refused_before_any_request(api, runner, number, url, message):
    result = configure(runner, number, "--public-url", url)
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output
    assert api.requests(api.since) == []


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"TWILIO_ACCOUNT_SID": None}, "TWILIO_ACCOUNT_SID is not set"),
        ({"TWILIO_AUTH_TOKEN": None}, "TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET) is not set"),
        ({"TWILIO_API_KEY": "SK" + "c" * 32}, "TWILIO_API_KEY and TWILIO_API_SECRET go together"),
    ],
)
def test_missing_credentials_are_named(app, runner, settings, message):
    app.config.update(dict({"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_API_URL": "http://127.0.0.1:9"}, **settings))
    result = configure(runner, EXAMPLE_NUMBER, "--public-url", PUBLIC)
    assert result.exit_code == 1 and message in result.output


def test_an_unreachable_api_is_a_clear_error(app, runner):
    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    app.config.update(TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_API_URL=f"http://127.0.0.1:{closed}")
    result = configure(runner, EXAMPLE_NUMBER, "--public-url", PUBLIC)
    assert result.exit_code == 1 and "could not reach Twilio's REST API" in result.output
    assert "Traceback" not in result.output


def record(**fields):
    defaults = dict(voice_url="", voice_method="POST", voice_fallback_url="", voice_fallback_method="POST",
                    status_callback="", status_callback_method="POST", voice_application_sid="", trunk_sid=None)
    return SimpleNamespace(**dict(defaults, **fields))


def test_a_number_already_set_up_needs_no_change():
    done = record(voice_url=PUBLIC + "/voice/incoming", voice_fallback_url=PUBLIC + "/voice/fallback",
                  status_callback=PUBLIC + "/voice/status")
    assert numbers.changes_for(done, PUBLIC) == []
    assert [change.field for change in numbers.changes_for(record(voice_method="GET"), PUBLIC)][:2] == [
        "voice_url", "voice_method"]


def test_what_overrides_the_voice_url_is_said():
    app_sid = "AP" + "d" * 32
    said = numbers.overrides(record(voice_application_sid=app_sid, trunk_sid="TK" + "e" * 32))
    assert len(said) == 2 and app_sid in said[0] and "TK" in said[1]


@pytest.mark.parametrize("url", ["ftp://x", "https://", "", None])
def test_public_base_refuses_what_twilio_cannot_call(url):
    with pytest.raises(InvalidInput):
        numbers.public_base(url)


def test_the_mock_refuses_a_request_that_breaks_twilios_description(twilio_api):
    # The harness itself: without this, a test could pass while sending what Twilio would refuse.
    mark = twilio_api.mark()
    client = rest.client(rest.RestSettings(ACCOUNT_SID, "secret", api_url=twilio_api.url))
    with pytest.raises(TwilioUnavailable, match="HTTP 422"):
        rest.calling("update", lambda: client.incoming_phone_numbers(EXAMPLE_NUMBER_SID).update(voice_method="FETCH"))
    assert any("VoiceMethod" in violation for violation in twilio_api.violations(mark))


def test_healthz_and_the_dashboard_say_what_waits_for_twilio_credentials(app, client, login):
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok" and body["twilio_rest"] == "missing credentials"
    assert any("TWILIO_ACCOUNT_SID is not set: recordings are not copied" in warning for warning in body["warnings"])
    login("agent")
    assert 'id="twilio-waiting"' in client.get("/dashboard/reports").get_data(as_text=True)
    app.config.update(TWILIO_ACCOUNT_SID=ACCOUNT_SID)
    assert client.get("/healthz").get_json()["twilio_rest"] == "set"
    assert 'id="twilio-waiting"' not in client.get("/dashboard/reports").get_data(as_text=True)
