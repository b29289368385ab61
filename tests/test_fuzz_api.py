"""Property-based tests: whatever an API client sends, the JSON API answers < 500, errors are JSON, nothing half-written.

The contract checked on every response: bad input is a 400 whose JSON names the field; unknown ids 404; conflicts
409; a missing or wrong token 401; wrong methods 405 and oversized bodies 413, all as JSON; and a rejected write
leaves the merchants, phones, outreach, numbers and audit tables exactly as they were.
"""
import io
import json
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import AGENT, TOKEN, add_call
from ivr import PROJECT_ROOT, create_app
from ivr import database as databases
from ivr.verification import catalogue, merchants, outreach

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
API_TOKEN = "test-api-token"
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
MERCHANT = "898440358120001"
OFFICIAL = "+864008001234"
KNOWN_CALL = "CA" + "d" * 32
CATALOGUE = PROJECT_ROOT / "flows" / "catalogue" / "outreach_actions.yaml"
CATALOGUE_KEYS = catalogue.load_catalogue(CATALOGUE, ("zh", "en", "yue")).keys()
WRITTEN_TABLES = ("merchants", "merchant_phones", "outreach", "numbers", "number_status_changes", "audit")

MERCHANT_BODY = {"name": "Demo Mart", "phones": ["13800138000"]}
OUTREACH_BODY = {"merchant_id": MERCHANT, "reason": "system_update", "channel": "phone", "from_number": "4008001234",
                 "staff_name": "王敏", "action": "accept_terminal_update", "valid_hours": 48}
NUMBER_BODY = {"status": "confirmed", "reason": "reported to the police"}
WRITES = {
    "merchant": ("PUT", f"/api/merchants/{MERCHANT}", MERCHANT_BODY),
    "outreach": ("POST", "/api/outreach", OUTREACH_BODY),
    "number": ("PUT", "/api/numbers/+8617012345678", NUMBER_BODY),
}

# -- strategies -------------------------------------------------------------------------------------------

any_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
control_text = st.text(st.characters(max_codepoint=0x1F) | st.sampled_from("\x7f\x85\u2028\u2029\ufeff\ufffe"),
                       min_size=1, max_size=20)
surrogate_text = st.sampled_from(["\ud800", "a\udfff", "\udbff\udc00x\ud83d"])
huge_text = st.sampled_from(["x" * 5000, "举" * 4000, "9" * 5000, "\x00" * 2000])
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10 ** 30), 10 ** 30), st.just(2 ** 63), st.just(-(2 ** 63) - 1),
    st.floats(allow_nan=True, allow_infinity=True), any_text, control_text, surrogate_text, huge_text,
)
# Anything json.dumps can write: scalars, lists and nested objects.
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner,
                                                                                                 max_size=4),
                           max_leaves=12)
non_strings = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.lists(scalars, max_size=3),
                        st.dictionaries(any_text, scalars, max_size=3))
non_strings_but_none = non_strings.filter(lambda value: value is not None)


def with_control(draw_text):
    """Text that is fine except for one control character (never a tab or line break) or lone surrogate."""
    return st.tuples(draw_text, st.sampled_from(["\x00", "\x01", "\x07", "\x1b", "\x7f", "\x9f", "\ud800", "\udfff"]),
                     draw_text).map(lambda parts: parts[0] + parts[1] + parts[2])


plain_words = st.text(st.characters(whitelist_categories=("L", "N")), min_size=1, max_size=20)
bad_phone_text = st.sampled_from(["", "12", "abc", "+", "++86", "0" * 30, "\x00", "+8613800138000+8613800138000",
                                  "9" * 5000, "\ud800"])


def too_long(limit):
    return st.integers(limit + 1, limit + 2000).map(lambda size: "a" * size)


BAD_FIELDS = {
    "merchant": {
        "name": st.one_of(non_strings, st.sampled_from(["", "   ", "\t\n"]), too_long(200), with_control(plain_words)),
        "phones": st.one_of(non_strings_but_none.filter(lambda value: not isinstance(value, list)), any_text,
                            st.lists(st.just("13800138000"), min_size=11, max_size=15),
                            st.lists(non_strings | bad_phone_text, min_size=1, max_size=3)),
    },
    "outreach": {
        "merchant_id": st.one_of(
            st.none(), st.booleans(), st.floats(), st.lists(scalars, max_size=2), st.dictionaries(any_text, scalars,
                                                                                                 max_size=2),
            st.text("0123456789", max_size=5), st.text("0123456789", min_size=21, max_size=40),
            any_text.filter(lambda text: not text.replace(" ", "").replace("-", "").isdigit()),
        ),
        "reason": json_values.filter(lambda value: value not in outreach.REASONS),
        "channel": json_values.filter(lambda value: value not in outreach.CHANNELS),
        "from_number": st.one_of(non_strings_but_none, bad_phone_text.filter(bool)),
        # A name only: no digits (any script's), links or scam words, since the hotline speaks it to merchants.
        "staff_name": st.one_of(
            non_strings, st.sampled_from(["", "  ", "王敏 400800", "王敏４００", "www.x.cn", "Li_Qiang", "请转账", "Wang@bank"]),
            too_long(40), with_control(plain_words),
            st.tuples(plain_words, st.characters(whitelist_categories=("Nd",)), plain_words).map("".join),
        ),
        "action": json_values.filter(lambda value: value not in CATALOGUE_KEYS),
        "valid_hours": st.one_of(
            st.none(), st.booleans(), st.floats(), st.lists(scalars, max_size=2), st.integers(max_value=0),
            st.integers(min_value=outreach.MAX_VALID_HOURS + 1), st.just(10 ** 400),
            st.sampled_from(["", "soon", "²", "①", "١٢", "1.5", "-3", "0", "721", "9" * 5000, "1e3", "0x10"]),
        ),
    },
    "number": {
        "status": json_values.filter(lambda value: value not in ("confirmed", "cleared")),
        "reason": st.one_of(non_strings_but_none, too_long(500), with_control(plain_words)),
    },
}

segment = st.one_of(
    st.sampled_from(["-1", "0", "1", "99999999999999999999", "9" * 5000, "abc", "1e3", "١", "%", "%zz", "%FF%FE",
                     "%00", "%2F", "%2F0", "0%2F%2F1", "..", ".", "%2e%2e", "+8613800138000", "%2B8617012345678", "CA" + "0" * 300,
                     "a%0Ab", "' OR 1=1 --", MERCHANT, KNOWN_CALL]),
    any_text.map(lambda text: urllib.parse.quote(text, safe="")),
    st.text("0123456789", min_size=1, max_size=25),
)
auth_headers = st.one_of(
    st.sampled_from([None, "", "Bearer", "Bearer ", "Bearer  ", "bearer wrong", "Bearer test-api-tokenX",
                     "Bearer test-api-toke", "Basic dGVzdDp0ZXN0", "Basic test-api-token", "Token test-api-token",
                     "test-api-token", "Bearer: test-api-token", "Bearer\ttest-api-token", "Bearer test api token",
                     "Bearer " + "a" * 20000, "Bearer тест", "Bearer 🔑", "Bearer test-api-token\x00"]),
    st.tuples(st.sampled_from(["Bearer", "bearer", "BEARER", "Basic", "Digest", ""]), st.sampled_from([" ", "  ", ""]),
              st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=40)).map(
        "".join),
)

# -- fixtures and assertions ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fuzz_app(module_database):
    app = create_app({
        "TESTING": True, **module_database,
        "TWILIO_AUTH_TOKEN": TOKEN, "AGENT_NUMBER": AGENT, "BUSINESS_HOURS": "24/7", "SECRET_KEY": "x",
        "API_TOKEN": API_TOKEN,
    })
    with databases.opened(app.config) as connection:
        merchants.upsert_merchant(connection, MERCHANT, "示例便利店", ["+8613800138000"], actor="test")
        outreach.create_outreach(connection, MERCHANT, "system_update", "phone", OFFICIAL, "王敏",
                                 "accept_terminal_update", 48, actor="test",
                                 catalogue=app.extensions["ivr"]["outreach_actions"],
                                 code_key=app.config["CODE_SECRET"])
        add_call(connection, KNOWN_CALL, "2026-11-01T08:00:00.000+00:00", verdict="genuine", merchant_id=MERCHANT,
                 events=[{"kind": "incoming", "detail": "{not json"}])
    return app


@pytest.fixture(scope="module")
def fuzz_client(fuzz_app):
    return fuzz_app.test_client()


def snapshot(app):
    """Every row of every table the API writes, to compare before and after a rejected request."""
    with databases.opened(app.config) as connection:
        return {table: sorted(map(repr, connection.execute(f"SELECT * FROM {table}"))) for table in WRITTEN_TABLES}


def send(client, method, path, headers=None, auth=True, **kwargs):
    headers = dict(headers or {})
    if auth:
        headers.setdefault("Authorization", AUTH["Authorization"])
    return client.open(path, method=method, headers=headers, **kwargs)


def assert_api_answer(response, statuses=None, fields=None):
    """< 500; an error is a JSON object {error, status} (400s also name a field); returns the JSON body or None."""
    text = response.get_data()[:300]
    assert response.status_code < 500, text
    if statuses is not None:
        assert response.status_code in statuses, (response.status_code, text)
    if response.status_code < 400:
        return response.get_json(silent=True)
    assert response.is_json, (response.status_code, response.content_type, text)
    body = response.get_json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"].strip(), body
    assert body["status"] == response.status_code
    if response.status_code == 400:
        assert isinstance(body.get("field"), str) and body["field"], body
        if fields is not None:
            assert body["field"] in fields, (body, fields)
    if response.status_code == 401:
        assert "Bearer" in response.headers.get("WWW-Authenticate", "")
    if response.status_code == 405:
        assert response.headers.get("Allow")
    return body


def assert_write(app, client, method, path, unchanged_on_error=True, statuses=None, fields=None, **kwargs):
    """Send a write; on any error status the database must be exactly as before."""
    before = snapshot(app)
    response = send(client, method, path, **kwargs)
    body = assert_api_answer(response, statuses, fields)
    if response.status_code >= 400 and unchanged_on_error:
        assert snapshot(app) == before, f"{method} {path} answered {response.status_code} but wrote rows"
    return response, body


# -- JSON bodies ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", sorted(WRITES))
def test_one_wrong_field_is_a_400_naming_it_and_writes_nothing(fuzz_app, fuzz_client, endpoint):
    method, path, valid = WRITES[endpoint]

    @FUZZ
    @given(data=st.data())
    def check(data):
        field = data.draw(st.sampled_from(sorted(BAD_FIELDS[endpoint])), label="field")
        body = dict(valid, **{field: data.draw(BAD_FIELDS[endpoint][field], label="value")})
        if endpoint == "outreach" and field == "from_number":
            body["channel"] = "phone"
        assert_write(fuzz_app, fuzz_client, method, path, statuses={400}, fields={field}, json=body)

    check()


@pytest.mark.parametrize("endpoint", sorted(WRITES))
def test_any_json_body_never_500s_or_half_writes(fuzz_app, fuzz_client, endpoint):
    # Real field names with any values, plus random keys; whatever the mix, the answer keeps the contract.
    method, path, valid = WRITES[endpoint]
    known = sorted(set(valid) | {"merchant_id"})

    @FUZZ
    @given(body=st.dictionaries(st.sampled_from(known) | any_text, json_values, max_size=8)
           | st.fixed_dictionaries({key: json_values for key in valid}))
    def check(body):
        # 413 too: a few huge strings, escaped as JSON, can add up past the 256 KiB limit.
        assert_write(fuzz_app, fuzz_client, method, path, statuses={200, 201, 400, 404, 413}, json=body)

    check()


@pytest.mark.parametrize("endpoint", sorted(WRITES))
def test_missing_fields_are_named_and_extra_fields_ignored(fuzz_app, fuzz_client, endpoint):
    method, path, valid = WRITES[endpoint]

    @FEW
    @given(dropped=st.sets(st.sampled_from(sorted(valid))),
           extra=st.dictionaries(any_text.filter(lambda key: key not in valid and key != "merchant_id"), json_values,
                                 max_size=4))
    def check(dropped, extra):
        body = {key: value for key, value in valid.items() if key not in dropped}
        body.update(extra)
        response, answer = assert_write(fuzz_app, fuzz_client, method, path, statuses={200, 201, 400}, json=body)
        if response.status_code == 400:
            assert answer["field"] in dropped, (answer, dropped)
        else:
            # Only optional fields may be left out: phones, valid_hours, a status change's reason.
            assert dropped <= {"phones", "valid_hours", "reason"}

    check()


@pytest.mark.parametrize("endpoint", sorted(WRITES))
def test_non_json_bodies_and_wrong_content_types_are_400_body(fuzz_app, fuzz_client, endpoint):
    method, path, valid = WRITES[endpoint]
    valid_json = json.dumps(valid).encode()

    @FUZZ
    @given(
        content_type=st.sampled_from([None, "", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                      "multipart/form-data; boundary=xyz", "application/xml", "application/octet-stream",
                                      "application/json", "application/json; charset=utf-8", "application/problem+json",
                                      "text/json"]),
        payload=st.one_of(
            st.binary(max_size=300), st.just(b""), st.just(valid_json),
            st.sampled_from([b"\xff\xfe\xfd", b"{\"name\": \"\xff\"}", b"{bad json", b"[]", b"null", b"0", b"\"text\"",
                             b"true", b"[" * 50000, b"{\"a\":" * 40000, b"\x00" * 100, b"NaN", b"{}" + b"{}",
                             json.dumps(["not", "an", "object"]).encode(), "名字=王".encode()]),
            json_values.filter(lambda value: not isinstance(value, dict)).map(lambda value: json.dumps(value).encode()),
            st.dictionaries(st.text(max_size=8), st.text(max_size=20), max_size=4).map(
                lambda form: urllib.parse.urlencode(form).encode()),
        ),
    )
    def check(content_type, payload):
        headers = {} if content_type is None else {"Content-Type": content_type}
        response, answer = assert_write(fuzz_app, fuzz_client, method, path, headers=headers, data=payload)
        is_json_type = (content_type or "").split(";")[0] in ("application/json", "application/problem+json")
        if not is_json_type or payload[:1] != b"{":
            # Only a JSON object sent as JSON is read; everything else names the body as the problem.
            assert response.status_code == 400 and answer["field"] == "body", (response.status_code, answer)

    check()


def test_real_forms_and_multipart_uploads_are_400_body(fuzz_app, fuzz_client):
    for method, path, valid in WRITES.values():
        for kwargs in ({"data": {key: str(value) for key, value in valid.items()}},
                       {"data": {"file": (io.BytesIO(json.dumps(valid).encode()), "body.json")},
                        "content_type": "multipart/form-data"}):
            response, answer = assert_write(fuzz_app, fuzz_client, method, path, statuses={400}, **kwargs)
            assert answer["field"] == "body" and "JSON object" in answer["error"]


@pytest.mark.parametrize("size", [300_000, 2_000_000])
def test_bodies_over_the_limit_are_a_json_413(fuzz_app, fuzz_client, size):
    for method, path, valid in WRITES.values():
        body = json.dumps(dict(valid, padding="x" * size)).encode()
        response, answer = assert_write(fuzz_app, fuzz_client, method, path, statuses={413}, data=body,
                                        content_type="application/json")
        assert "256 KiB" in answer["error"]


def test_a_body_just_under_the_limit_is_read_and_checked(fuzz_app, fuzz_client):
    body = dict(MERCHANT_BODY, name="x" * 250_000)
    response, answer = assert_write(fuzz_app, fuzz_client, "PUT", f"/api/merchants/{MERCHANT}", statuses={400},
                                    json=body)
    assert answer["field"] == "name"


# -- paths, queries, methods and tokens -------------------------------------------------------------------


def test_any_path_segment_is_answered_by_the_contract(fuzz_app, fuzz_client):
    @FUZZ
    @given(part=segment, which=st.sampled_from(["get_merchant", "put_merchant", "cancel", "complete", "call",
                                                "number"]))
    def check(part, which):
        if which == "get_merchant":
            assert_api_answer(send(fuzz_client, "GET", f"/api/merchants/{part}"), {200, 404})
        elif which == "put_merchant":
            assert_write(fuzz_app, fuzz_client, "PUT", f"/api/merchants/{part}", statuses={200, 201, 400, 404},
                         fields={"merchant_id"}, json=MERCHANT_BODY)
        elif which in ("cancel", "complete"):
            assert_write(fuzz_app, fuzz_client, "POST", f"/api/outreach/{part}/{which}", statuses={200, 404, 409})
        elif which == "call":
            assert_api_answer(send(fuzz_client, "GET", f"/api/calls/{part}"), {200, 404})
        else:
            assert_write(fuzz_app, fuzz_client, "PUT", f"/api/numbers/{part}", statuses={200, 400, 404},
                         fields={"number"}, json={"status": "cleared"})

    check()


def test_any_query_string_is_answered_by_the_contract(fuzz_app, fuzz_client):
    junk = st.one_of(any_text, control_text, huge_text, st.sampled_from(
        ["2026-11-01", "2026-11-01T08:00:00+08:00", "2026-11-01T08:00:00Z", "9999-12-31T23:59:59-12:00",
         "0001-01-01T00:00:00+14:00", "2026-02-30", "yesterday", "20261101", "2026-W44", "+002026-11-01", "",
         "genuine", "GENUINE", "no_record", "known_scam ", "0", "-1", "501", "1.0", "１", "١", "1e2", "9" * 30,
         "17012345678", "+8617012345678", "%FF"]))

    @FUZZ
    @given(endpoint=st.sampled_from(["/api/calls", "/api/reports"]),
           params=st.lists(st.tuples(st.sampled_from(["verdict", "since", "merchant_id", "limit", "number", "x"]),
                                     junk), max_size=5),
           raw=st.sampled_from(["", "&", "%", "%zz", "verdict", "since=%ED%A0%80", "number=%00", "limit=%FF",
                                "=&=&"]))
    def check(endpoint, params, raw):
        query = "&".join(filter(None, [urllib.parse.urlencode(params), raw]))
        fields = {"verdict", "since", "limit", "merchant_id"} if endpoint == "/api/calls" else {"number"}
        body = assert_api_answer(send(fuzz_client, "GET", f"{endpoint}?{query}"), {200, 400}, fields)
        if body is not None and "error" not in body:
            assert isinstance(body.get("calls" if endpoint == "/api/calls" else "reports"), list)

    check()


ROUTES = {
    f"/api/merchants/{MERCHANT}": {"GET", "HEAD", "OPTIONS", "PUT"},
    "/api/outreach": {"OPTIONS", "POST"},
    "/api/outreach/actions": {"GET", "HEAD", "OPTIONS"},
    "/api/outreach/1/cancel": {"OPTIONS", "POST"},
    "/api/outreach/1/complete": {"OPTIONS", "POST"},
    f"/api/calls/{KNOWN_CALL}": {"GET", "HEAD", "OPTIONS"},
    "/api/calls": {"GET", "HEAD", "OPTIONS"},
    "/api/reports": {"GET", "HEAD", "OPTIONS"},
    "/api/numbers/+8617012345678": {"OPTIONS", "PUT"},
}
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND", "BREW"]


def test_wrong_methods_and_unknown_urls_are_json(fuzz_app, fuzz_client):
    @FEW
    @given(path=st.sampled_from(sorted(ROUTES)) | st.sampled_from(
        ["/api", "/api/", "/api/nope", "/api/merchants", "/api/outreach/1", "/api/outreach/1/reopen", "/api/numbers",
         "/api/calls/", "/api/reports/1", "/api/numbers/+86/1", "/api/%FF", "/api/" + "x" * 5000]),
        method=st.sampled_from(METHODS), auth=st.booleans())
    def check(path, method, auth):
        response = send(fuzz_client, method, path, auth=auth)
        if path not in ROUTES:
            assert response.status_code == 404
        elif method not in ROUTES[path]:
            assert response.status_code == 405
            assert method not in response.headers["Allow"].replace(" ", "").split(",")
        if method != "HEAD" and response.status_code >= 400:
            assert_api_answer(response)
        assert response.status_code < 500

    check()


def test_every_authorization_header_but_the_token_is_a_json_401(fuzz_app, fuzz_client):
    @FUZZ
    @given(header=auth_headers, route=st.sampled_from(["GET /api/calls", "GET /api/reports",
                                                       f"GET /api/merchants/{MERCHANT}"]) | st.sampled_from(
        [f"WRITE {name}" for name in sorted(WRITES)]))
    def check(header, route):
        # A real server hands Flask the header's bytes as latin-1, whatever the client encoded.
        headers = {} if header is None else {"Authorization": header.encode("utf-8").decode("latin-1")}
        scheme, _, given_token = (header or "").partition(" ")
        accepted = scheme.lower() == "bearer" and given_token.strip() == API_TOKEN
        kind, target = route.split(" ")
        if kind == "GET":
            response = send(fuzz_client, "GET", target, headers=headers, auth=False)
            assert_api_answer(response, {200} if accepted else {401})
        else:
            method, path, valid = WRITES[target]
            assert_write(fuzz_app, fuzz_client, method, path, headers=headers, auth=False,
                         statuses={200, 201} if accepted else {401}, json=valid)

    check()


# -- regressions for the bugs these tests found -----------------------------------------------------------


def test_regression_unknown_api_url_and_wrong_method_are_json_not_html(api):
    unknown = api("GET", "/api/nope")
    assert unknown.status_code == 404 and unknown.is_json and "/api/nope" in unknown.json["error"]
    wrong = api("DELETE", "/api/calls")
    assert wrong.status_code == 405 and wrong.is_json and "GET" in wrong.json["error"]
    assert "GET" in wrong.headers["Allow"]
    assert api("GET", "/api/outreach").json["status"] == 405


def test_regression_the_rest_of_the_site_keeps_html_error_pages(client):
    assert client.get("/no-such-page").mimetype == "text/html"
    assert client.get("/voice/incoming").status_code == 405


def test_regression_413_says_the_limit(api):
    response = api("PUT", f"/api/merchants/{MERCHANT}", data=b"x" * 300_000, content_type="application/json")
    assert response.status_code == 413 and "256 KiB" in response.json["error"]


@pytest.mark.parametrize("payload", [b"[" * 100_000, b'{"name":' * 30_000])
def test_regression_deeply_nested_json_is_400_body_not_500(api, payload):
    response = api("PUT", f"/api/merchants/{MERCHANT}", data=payload, content_type="application/json")
    assert response.status_code == 400 and response.json["field"] == "body"


@pytest.mark.parametrize("outreach_id", ["99999999999999999999", str(2 ** 63), "-1", "0"])
def test_regression_out_of_range_outreach_ids_are_404(api, outreach_id):
    for action in ("cancel", "complete"):
        response = api("POST", f"/api/outreach/{outreach_id}/{action}")
        assert response.status_code == 404 and "no outreach" in response.json["error"]


@pytest.mark.parametrize("hours", ["²", "①", "9" * 5000, 10 ** 400])
def test_regression_odd_valid_hours_are_400(api, app, verification, hours):
    body = dict(OUTREACH_BODY, valid_hours=hours)
    response = api("POST", "/api/outreach", json=body)
    assert response.status_code == 400 and response.json["field"] == "valid_hours"


@pytest.mark.parametrize("since", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"])
def test_regression_since_beyond_the_calendar_is_400(api, since):
    response = api("GET", "/api/calls?" + urllib.parse.urlencode({"since": since}))
    assert response.status_code == 400 and response.json["field"] == "since"


@pytest.mark.parametrize("method, path, body, field", [
    ("PUT", f"/api/merchants/{MERCHANT}", dict(MERCHANT_BODY, name="Demo\ud800"), "name"),
    ("PUT", f"/api/merchants/{MERCHANT}", dict(MERCHANT_BODY, name="Demo\x00Mart"), "name"),
    ("PUT", f"/api/merchants/{MERCHANT}", dict(MERCHANT_BODY, name="Demo\nMart"), "name"),
    ("POST", "/api/outreach", dict(OUTREACH_BODY, staff_name="王\x1b敏"), "staff_name"),
    ("POST", "/api/outreach", dict(OUTREACH_BODY, staff_name="王敏\ud800"), "staff_name"),
    ("POST", "/api/outreach", dict(OUTREACH_BODY, action="accept_terminal_update\x00"), "action"),
    ("POST", "/api/outreach", dict(OUTREACH_BODY, action="\udfffaccept_terminal_update"), "action"),
    ("PUT", "/api/numbers/+8617012345678", dict(NUMBER_BODY, reason="police\ud800"), "reason"),
    ("PUT", "/api/numbers/+8617012345678", dict(NUMBER_BODY, reason="police\x00"), "reason"),
])
def test_regression_control_characters_and_lone_surrogates_are_400(api, app, verification, method, path, body, field):
    # A lone surrogate could not be stored (UnicodeEncodeError, a 500); a NUL was stored and broke exports.
    before = snapshot(app)
    response = api(method, path, json=body)
    assert response.status_code == 400 and response.json["field"] == field
    assert snapshot(app) == before


def test_regression_line_breaks_stay_allowed_in_reasons(api, verification):
    number = api("PUT", "/api/numbers/+8617012345678", json=dict(NUMBER_BODY, reason="line 1\nline 2"))
    assert number.status_code == 200 and number.json["reason"] == "line 1\nline 2"
