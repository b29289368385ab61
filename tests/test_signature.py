"""X-Twilio-Signature checks on every voice URL: what Twilio signs passes, anything else is 403."""
import xml.etree.ElementTree as ElementTree

import pytest
from twilio.request_validator import HMAC_SHA256, RequestValidator
from werkzeug.datastructures import MultiDict

from conftest import AGENT, TOKEN, rows, sign
from ivr import create_app

VOICE_PATHS = ["/voice/incoming", "/voice/step?node=welcome", "/voice/status", "/voice/fallback"]
PUBLIC = "https://hotline.example.com"


def params(sid="CA" + "1" * 32, **extra):
    """A minimal set of Twilio voice parameters."""
    return dict({"CallSid": sid, "From": "+8613800138000", "To": "+864009001234", "CallStatus": "ringing",
                 "AccountSid": "AC" + "0" * 32}, **extra)


def is_twiml(response):
    return response.status_code == 200 and ElementTree.fromstring(response.get_data()).tag == "Response"


def calls_logged(app):
    return rows(app, "SELECT count(*) AS n FROM calls")[0]["n"]


@pytest.mark.parametrize("path", VOICE_PATHS)
def test_genuine_signature_is_accepted(voice_post, path):
    assert is_twiml(voice_post(path, params(Digits="2")))


@pytest.mark.parametrize("path", VOICE_PATHS)
def test_missing_header_is_refused(voice_post, app, path):
    response = voice_post(path, params(), signed=False)
    assert response.status_code == 403
    assert b"signed requests from Twilio" in response.data
    assert calls_logged(app) == 0


@pytest.mark.parametrize("path", VOICE_PATHS)
def test_wrong_token_is_refused(voice_post, path):
    assert voice_post(path, params(), token="not-the-" + TOKEN).status_code == 403


def test_empty_and_garbage_signatures_are_refused(voice_post):
    for signature in ("", "x", "=" * 28, "\u00e9" * 28, sign("http://localhost/voice/incoming", params()) + "A"):
        response = voice_post("/voice/incoming", params(), headers={"X-Twilio-Signature": signature})
        assert response.status_code == 403, signature


def test_tampered_parameter_is_refused(voice_post, app):
    good = params(Digits="1")
    signature = sign("http://localhost/voice/step?node=welcome", good)
    for key, value in (("Digits", "3"), ("CallSid", "CA" + "2" * 32), ("From", "+8613900139000")):
        tampered = dict(good, **{key: value})
        response = voice_post("/voice/step?node=welcome", tampered, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 403, key
    # An extra parameter, or a duplicated one, changes what was signed too.
    for extra in (dict(good, SpeechResult="report"), list(good.items()) + [("Digits", "3")]):
        response = voice_post("/voice/step?node=welcome", extra, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 403
    assert calls_logged(app) == 0


def test_every_value_of_a_repeated_parameter_is_signed(voice_post):
    # Twilio signs each value of a repeated parameter, sorted: all of them must reach the check, in any order.
    body = list(params(Digits="1").items()) + [("Digits", "3"), ("Digits", "2")]
    signature = RequestValidator(TOKEN).compute_signature("http://localhost/voice/step?node=welcome", MultiDict(body))
    for order in (body, body[::-1]):
        response = voice_post("/voice/step?node=welcome", order, headers={"X-Twilio-Signature": signature})
        assert is_twiml(response)
    dropped = body[:-1]  # one of the values missing is a different request
    assert voice_post("/voice/step?node=welcome", dropped, headers={"X-Twilio-Signature": signature}).status_code == 403


def test_tampered_query_string_is_refused(voice_post):
    body = params(Digits="1")
    signature = sign("http://localhost/voice/step?node=welcome", body)
    for path in ("/voice/step?node=guide_how", "/voice/step?node=welcome&noinput=1", "/voice/step"):
        assert voice_post(path, body, headers={"X-Twilio-Signature": signature}).status_code == 403, path


def test_query_parameters_are_signed_in_the_url_not_merged_into_the_body(voice_post):
    body = params(Digits="2")
    # Twilio signs the full URL (query included) plus the POST body only.
    assert is_twiml(voice_post("/voice/step?node=welcome", body))
    # A signature over the body with the query parameters merged in must not pass ...
    merged = dict(body, node="welcome")
    signature = sign("http://localhost/voice/step", merged)
    assert voice_post("/voice/step?node=welcome", body, headers={"X-Twilio-Signature": signature}).status_code == 403
    # ... nor may a query parameter moved into the body stand in for the signed URL.
    signature = sign("http://localhost/voice/step?node=welcome", body)
    response = voice_post("/voice/step", merged, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403


def test_sha256_settings_header_is_accepted(voice_post):
    body = params()
    url = "http://localhost/voice/incoming"
    settings = {"X-Twilio-Webhooks-Signature-Settings": f"key=webhooks_sharedkey_1,algorithm={HMAC_SHA256}"}
    good = dict(settings, **{"X-Twilio-Signature": sign(url, body, algorithm=HMAC_SHA256)})
    assert is_twiml(voice_post("/voice/incoming", body, headers=good))
    # A SHA-1 signature does not pass when the header says SHA-256, nor does an unknown algorithm.
    sha1 = dict(settings, **{"X-Twilio-Signature": sign(url, body)})
    assert voice_post("/voice/incoming", body, headers=sha1).status_code == 403
    unknown = {"X-Twilio-Webhooks-Signature-Settings": "algorithm=HMAC_MD5", "X-Twilio-Signature": sign(url, body)}
    assert voice_post("/voice/incoming", body, headers=unknown).status_code == 403


def test_port_in_the_signed_url_is_tolerated(voice_post):
    # Twilio sometimes signs https://host:443/...; the validator tries both forms.
    body = params()
    signature = sign("http://localhost:80/voice/incoming", body)
    assert is_twiml(voice_post("/voice/incoming", body, headers={"X-Twilio-Signature": signature}))


def _behind_proxy(tmp_path, **config):
    settings = {"TESTING": True, "DATABASE": str(tmp_path / "proxy.db"), "TWILIO_AUTH_TOKEN": TOKEN,
                "AGENT_NUMBER": AGENT, "BUSINESS_HOURS": "24/7", "SECRET_KEY": "x"}
    return create_app(dict(settings, **config)).test_client()


def _post_via_proxy(client, body, signed_url, forwarded=True):
    # The proxy talks plain HTTP to the app; Twilio signed the public https URL.
    headers = {"X-Twilio-Signature": sign(signed_url, body)}
    if forwarded:
        headers.update({"X-Forwarded-Proto": "https", "X-Forwarded-Host": "hotline.example.com",
                        "X-Forwarded-For": "54.172.60.1"})
    return client.post("/voice/incoming", data=body, headers=headers, base_url="http://10.0.0.5:8000")


def test_https_behind_a_proxy_needs_proxy_fix(tmp_path):
    body = params()
    # Without IVR_PROXY_FIX the app sees http://10.0.0.5:8000 and cannot match Twilio's https signature.
    plain = _behind_proxy(tmp_path)
    assert _post_via_proxy(plain, body, PUBLIC + "/voice/incoming").status_code == 403
    # With one trusted proxy, X-Forwarded-Proto/Host rebuild the URL Twilio signed.
    fixed = _behind_proxy(tmp_path, PROXY_FIX=1)
    assert is_twiml(_post_via_proxy(fixed, body, PUBLIC + "/voice/incoming"))
    # http vs https matters: a signature over the http form of the public URL is refused.
    assert _post_via_proxy(fixed, body, "http://hotline.example.com/voice/incoming").status_code == 403


def test_forged_forwarded_headers_are_ignored_without_proxy_fix(tmp_path):
    # Without a trusted proxy, a client cannot pick the URL the signature is checked against.
    plain = _behind_proxy(tmp_path)
    body = params()
    signed_for_internal = sign("http://10.0.0.5:8000/voice/incoming", body)
    response = plain.post("/voice/incoming", data=body, base_url="http://10.0.0.5:8000",
                          headers={"X-Twilio-Signature": signed_for_internal, "X-Forwarded-Proto": "https",
                                   "X-Forwarded-Host": "elsewhere.example"})
    assert is_twiml(response)
    signed_for_forged = sign("https://elsewhere.example/voice/incoming", body)
    response = plain.post("/voice/incoming", data=body, base_url="http://10.0.0.5:8000",
                          headers={"X-Twilio-Signature": signed_for_forged, "X-Forwarded-Proto": "https",
                                   "X-Forwarded-Host": "elsewhere.example"})
    assert response.status_code == 403


def test_public_url_setting_rebuilds_the_signed_url(tmp_path):
    body = params(Digits="2")
    client = _behind_proxy(tmp_path, PUBLIC_URL=PUBLIC + "/")
    for path in ("/voice/incoming", "/voice/step?node=welcome"):
        headers = {"X-Twilio-Signature": sign(PUBLIC + path, body)}
        response = client.post(path, data=body, headers=headers, base_url="http://10.0.0.5:8000")
        assert is_twiml(response), path
        # The internal URL the request really arrived on is not what Twilio signed.
        headers = {"X-Twilio-Signature": sign("http://10.0.0.5:8000" + path, body)}
        assert client.post(path, data=body, headers=headers, base_url="http://10.0.0.5:8000").status_code == 403


def test_each_request_is_checked_against_its_own_host_and_root(tmp_path):
    # One worker serves every host and script root it is reached by: each request's signature must be
    # checked against the URL that request came in on, however many others came before it.
    client = _behind_proxy(tmp_path)
    body = params()
    # As a WSGI server sees them: one server address, and the Host header, scheme and script root varying.
    arrivals = {
        "http://a.example": {},
        "http://b.example:8080": {"HTTP_HOST": "b.example:8080"},
        "https://a.example": {"wsgi.url_scheme": "https"},
        "http://a.example/hotline": {"SCRIPT_NAME": "/hotline"},
    }
    for _ in range(2):
        for base, environ in arrivals.items():
            for signed_for in arrivals:
                headers = {"X-Twilio-Signature": sign(signed_for + "/voice/incoming", body)}
                response = client.post("/voice/incoming", data=body, headers=headers, base_url="http://10.0.0.5:8000",
                                       environ_overrides={"HTTP_HOST": "a.example", **environ})
                assert (response.status_code == 200) == (signed_for == base), (base, signed_for)


def test_unset_token_refuses_everything(tmp_path):
    client = _behind_proxy(tmp_path, TWILIO_AUTH_TOKEN=None)
    body = params()
    response = client.post("/voice/incoming", data=body,
                           headers={"X-Twilio-Signature": sign("http://localhost/voice/incoming", body)})
    assert response.status_code == 403


def test_skip_signature_flag_lets_unsigned_requests_through(tmp_path):
    client = _behind_proxy(tmp_path, SKIP_SIGNATURE=True)
    assert is_twiml(client.post("/voice/incoming", data=params()))


def test_signature_is_checked_before_anything_is_logged(voice_post, app):
    voice_post("/voice/incoming", params(), token="wrong")
    voice_post("/voice/status", params(CallStatus="completed"), token="wrong")
    voice_post("/voice/fallback", params(ErrorCode="11200"), token="wrong")
    assert rows(app, "SELECT count(*) AS n FROM events")[0]["n"] == 0
    assert calls_logged(app) == 0
