"""Property-based tests: whatever Twilio (or anyone) posts, a voice URL answers valid TwiML or 403, never 500."""
import io
import json
import secrets
import urllib.parse
import xml.etree.ElementTree as ElementTree

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from conftest import AGENT, TOKEN, sign
from ivr import create_app

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
VERBS = {"Say", "Play", "Pause", "Gather", "Record", "Dial", "Number", "Redirect", "Hangup", "Reject"}

# Twilio posts UTF-8; anything a phone network or a speech recogniser could hand it, control characters too.
any_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80)
long_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=500, max_size=4000)
control_text = st.text(st.characters(max_codepoint=0x1F) | st.sampled_from("\u0085\u2028\u2029\ufeff\ufffe"), max_size=40)
digits = st.one_of(
    st.text("0123456789*#", max_size=30),
    st.text("0123456789*#\u0660\u0661\u0662\u00b2\u2460\uff11 w", max_size=30),
    any_text,
)
speech = st.one_of(st.none(), any_text, long_text, control_text,
                   st.sampled_from(["report", "举报", "核实", "one two three", "一二三", "hidden", "隐藏"]))
confidence = st.one_of(st.none(), st.sampled_from(["0.9", "1", "-3", "nan", "inf", "1e309", "", "abc"]), any_text)
caller_id = st.one_of(
    st.sampled_from(["+8613800138000", "+8613900139000", "13800138000", "008613800138000", "Anonymous", "anonymous",
                     "+266696687", "client:alice", "sip:bob@example.com", "", "+", "+0", "++86", "unknown"]),
    any_text, long_text,
)
known_sid = "CA" + "f" * 32
call_sid = st.one_of(
    st.just(known_sid),
    st.from_regex(r"\ACA[0-9a-f]{32}\Z"),
    st.sampled_from(["", "CA", "X", "CA" + "0" * 200, "CA../../etc", "CA'; DROP TABLE calls;--", "ＣＡ１２３"]),
    any_text,
)
number_text = st.one_of(st.integers(-10**30, 10**30).map(str), any_text, st.just("9" * 5000))
flag = st.sampled_from([None, "1", "0", "", "true", "yes", "1,1"])


def node_names(app):
    return sorted(app.extensions["ivr"]["flow"].nodes)


@pytest.fixture(scope="module")
def fuzz_app(module_database):
    return create_app({
        "TESTING": True, **module_database,
        "TWILIO_AUTH_TOKEN": TOKEN, "AGENT_NUMBER": AGENT, "BUSINESS_HOURS": "24/7", "SECRET_KEY": "x",
        "API_TOKEN": "test-api-token",
    })


@pytest.fixture(scope="module")
def fuzz_client(fuzz_app):
    client = fuzz_app.test_client()
    # One call the fuzzed requests can land on, so "known" CallSids reach the flow's handlers.
    body = {"CallSid": known_sid, "From": "+8613800138000", "To": "+864009001234", "CallStatus": "ringing"}
    response = client.post("/voice/incoming", data=body,
                           headers={"X-Twilio-Signature": sign("http://localhost/voice/incoming", body)})
    assert response.status_code == 200
    return client


def assert_twiml(response, app):
    """A 200 TwiML document whose every URL leads back to a step of this flow."""
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/xml"
    root = ElementTree.fromstring(response.get_data())
    assert root.tag == "Response"
    nodes = app.extensions["ivr"]["flow"].nodes
    for element in root.iter():
        if element is not root:
            assert element.tag in VERBS | {"Number"}, element.tag
        url = element.get("action") or (element.text if element.tag == "Redirect" else None)
        if url:
            parsed = urllib.parse.urlparse(url.strip())
            assert parsed.path == "/voice/step"
            assert urllib.parse.parse_qs(parsed.query)["node"][0] in nodes
    return root


def assert_voice_answer(response, app, signed=True):
    if signed:
        return assert_twiml(response, app)
    assert response.status_code == 403


def post(client, path, pairs, signed=True, **kwargs):
    form = MultiDict(pairs)
    headers = kwargs.pop("headers", {})
    if signed:
        headers["X-Twilio-Signature"] = sign("http://localhost" + path, form)
    return client.post(path, data=form, headers=headers, **kwargs)


@st.composite
def voice_form(draw):
    """Twilio-like parameters with any of them missing, duplicated or garbled."""
    fields = {
        "CallSid": draw(call_sid), "From": draw(caller_id), "To": draw(caller_id),
        "Digits": draw(digits), "SpeechResult": draw(speech), "Confidence": draw(confidence),
        "CallStatus": draw(st.one_of(st.sampled_from(["ringing", "in-progress", "completed", "busy", "failed",
                                                      "no-answer", "canceled"]), any_text)),
        "CallDuration": draw(number_text), "RecordingUrl": draw(st.one_of(st.none(), any_text, long_text,
                                                                           st.just("https://api.twilio.com/r/RE1"))),
        "RecordingSid": draw(st.one_of(st.none(), any_text)), "RecordingDuration": draw(number_text),
        "DialCallStatus": draw(st.one_of(st.sampled_from(["completed", "answered", "busy", "no-answer", "failed"]),
                                         any_text)),
        "DialCallDuration": draw(number_text), "ErrorCode": draw(number_text), "ErrorUrl": draw(any_text),
    }
    keep = draw(st.sets(st.sampled_from(sorted(fields))))
    pairs = [(key, value) for key, value in fields.items() if key in keep and value is not None]
    for key in draw(st.lists(st.sampled_from(sorted(fields)), max_size=3)):
        pairs.append((key, draw(any_text)))
    return draw(st.permutations(pairs))


@st.composite
def step_path(draw, app):
    node = draw(st.one_of(st.sampled_from(node_names(app)), any_text, st.none()))
    query = {} if node is None else {"node": node}
    for name in ("noinput", "empty"):
        value = draw(flag)
        if value is not None:
            query[name] = value
    return "/voice/step" + ("?" + urllib.parse.urlencode(query) if query else "")


def test_every_voice_endpoint_answers_twiml_to_any_signed_form(fuzz_app, fuzz_client):
    @FUZZ
    @given(path=st.sampled_from(["/voice/incoming", "/voice/status", "/voice/fallback"]) | step_path(fuzz_app),
           pairs=voice_form(), signed=st.booleans())
    def check(path, pairs, signed):
        assert_voice_answer(post(fuzz_client, path, pairs, signed=signed), fuzz_app, signed)

    check()


def test_steps_posted_out_of_order_keep_answering(fuzz_app, fuzz_client):
    # One call, then any sequence of steps at any nodes with any input: every answer is a usable TwiML.
    @FUZZ
    @given(sid=st.from_regex(r"\ACA[0-9a-f]{32}\Z"), start=st.booleans(),
           steps=st.lists(st.tuples(step_path(fuzz_app), digits, speech), min_size=1, max_size=8))
    def check(sid, start, steps):
        base = [("CallSid", sid), ("From", "+8613800138000"), ("To", "+864009001234")]
        if start:
            assert_twiml(post(fuzz_client, "/voice/incoming", base), fuzz_app)
        for path, keys, words in steps:
            pairs = base + [("Digits", keys)] + ([("SpeechResult", words)] if words is not None else [])
            assert_twiml(post(fuzz_client, path, pairs), fuzz_app)
        assert_twiml(post(fuzz_client, "/voice/status", base + [("CallStatus", "completed")]), fuzz_app)

    check()


def test_wrong_content_types_answer_twiml_or_403(fuzz_app, fuzz_client):
    @FUZZ
    @given(path=st.sampled_from(["/voice/incoming", "/voice/status", "/voice/fallback", "/voice/step?node=welcome"]),
           content_type=st.sampled_from(["application/json", "text/plain", "application/xml",
                                         "application/x-www-form-urlencoded; charset=latin-1",
                                         "application/octet-stream", "", "multipart/form-data"]),
           body=st.one_of(st.binary(max_size=2000), any_text.map(str.encode),
                          st.dictionaries(st.text(max_size=10), any_text, max_size=5).map(
                              lambda d: json.dumps(d).encode())),
           signed=st.booleans())
    def check(path, content_type, body, signed):
        headers = {"Content-Type": content_type} if content_type else {}
        if signed:
            # Twilio signs only form parameters: a non-form body signs as the URL alone.
            headers["X-Twilio-Signature"] = sign("http://localhost" + path, {})
        response = fuzz_client.post(path, data=body, headers=headers)
        if signed:
            assert response.status_code in (200, 403)
            if response.status_code == 200:
                assert_twiml(response, fuzz_app)
        else:
            assert response.status_code == 403

    check()


def test_multipart_form_is_read_like_a_urlencoded_one(fuzz_app, fuzz_client):
    form = {"CallSid": "CA" + "a" * 32, "From": "+8613800138000", "To": "+864009001234"}
    headers = {"X-Twilio-Signature": sign("http://localhost/voice/incoming", form)}
    response = fuzz_client.post("/voice/incoming", data=dict(form, upload=(io.BytesIO(b"x" * 100), "a.wav")),
                                headers=headers, content_type="multipart/form-data")
    # The file part is not a form field, so the signature still matches; the call is answered.
    root = assert_twiml(response, fuzz_app)
    assert root.find("Gather") is not None


@pytest.mark.parametrize("size", [200_000, 300_000, 2_000_000])
def test_huge_bodies_answer_twiml_or_413(fuzz_app, fuzz_client, size):
    pairs = [("CallSid", "CA" + "b" * 32), ("From", "+8613800138000"), ("SpeechResult", "举" * (size // 9))]
    response = post(fuzz_client, "/voice/step?node=welcome", pairs)
    if size > fuzz_app.config["MAX_CONTENT_LENGTH"]:
        # Too large to read, so it cannot be verified as Twilio's: refused before any work, and said so.
        assert response.status_code == 413 and "Too Large" in response.get_data(as_text=True)
    else:
        root = assert_twiml(response, fuzz_app)
        assert root.find("Gather") is not None


def test_many_parameters_answer_twiml(fuzz_app, fuzz_client):
    pairs = [("CallSid", "CA" + "c" * 32)] + [(f"p{index}", "x") for index in range(3000)]
    response = post(fuzz_client, "/voice/incoming", pairs)
    assert response.status_code == 200  # correctly signed, however many parameters
    assert_twiml(response, fuzz_app)


def test_odd_hosts_and_methods_never_500(fuzz_app, fuzz_client):
    for host in ("localhost:99999", "localhost:abc", "[::1", "xn--80ak6aa92e.com", "a" * 300):
        response = fuzz_client.post("/voice/incoming", data={"CallSid": "CA1"},
                                    headers={"Host": host, "X-Twilio-Signature": "x"})
        # Werkzeug answers 400 to a Host that is not a hostname before any route runs; never a 500.
        assert response.status_code in (400, 403), host
    for method in ("get", "put", "delete"):
        assert getattr(fuzz_client, method)("/voice/incoming").status_code == 405


def test_status_callbacks_are_recorded_whatever_their_numbers(fuzz_app, fuzz_client):
    # A status callback must never be lost to a garbled CallDuration (an apology would drop it).
    from conftest import rows

    @FUZZ
    @given(duration=number_text, status=st.sampled_from(["completed", "busy", "no-answer", "in-progress"]))
    def check(duration, status):
        sid = "CA" + secrets.token_hex(16)  # a new call each time: a call's end is recorded once
        pairs = [("CallSid", sid), ("From", "+8613800138000"), ("CallStatus", status), ("CallDuration", duration)]
        root = assert_twiml(post(fuzz_client, "/voice/status", pairs), fuzz_app)
        assert list(root) == []  # an empty <Response/>, not an apology
        assert rows(fuzz_app, "SELECT status FROM calls WHERE sid = ?", [sid])[0]["status"] == status

    check()


def test_a_message_is_filed_whatever_its_recording_fields(fuzz_app):
    # A message left for a person is filed (and thanked for) however odd Twilio's recording fields are.
    from conftest import CallHelper

    @FUZZ
    @given(duration=number_text, recording_sid=st.one_of(any_text, long_text))
    def check(duration, recording_sid):
        caller = CallHelper(fuzz_app)
        caller.start()
        caller.press("0")
        caller.dial_result("no-answer")
        record = caller.turn.waiting
        assert record.tag == "Record"
        params = caller.base_params()
        params.update({"RecordingUrl": "https://api.twilio.com/r/RE1", "RecordingSid": recording_sid,
                       "RecordingDuration": duration})
        turn = caller._fetch(caller.absolute(record.get("action")), params, type(caller.turn)())
        assert turn.ended and "再见" in turn.text and "抱歉，系统" not in turn.text

    check()


def test_a_body_beyond_the_size_limit_is_refused_with_413(voice_post):
    # Beyond MAX_CONTENT_LENGTH the body is not read: 413 (not 403: it was not found unsigned), never a 500.
    response = voice_post("/voice/incoming", {"CallSid": "CA" + "1" * 32, "From": "+8613800138000",
                                              "Filler": "x" * 300_000})
    assert response.status_code == 413
