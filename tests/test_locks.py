"""Staff tools for the code-attempt locks (per merchant for strangers, per merchant for its registered phones, per
calling number), in the dashboard and the CLI; and the refusal to call one of our own numbers a scam, everywhere."""
import json
import re

import pytest
from markupsafe import escape

from conftest import MERCHANT, MERCHANT_PHONE, OFFICIAL, OTHER_MERCHANT, add_call, rows
from ivr import clock
from ivr.dashboard import localtime
from ivr.verification import merchants, reports

STRANGER = "+8613712345678"  # calls about several merchants, with wrong codes
STRANGER_MASKED = "+86 137****5678"
SECOND_PHONE = "+8613600136000"  # MERCHANT's second registered phone
THIRD_MERCHANT = "898440358120003"
LIMIT = 5


def wrong_codes(database, merchant_id, caller, count, registered=False):
    for _ in range(count):
        merchants.record_attempt(database, merchant_id, caller, "CAlock", success=False, registered=registered)


@pytest.fixture
def locked(verification):
    """Three locks in force, none sharing a wrong code with another: MERCHANT's strangers (withheld callers),
    MERCHANT's registered phones (3 + 2 from its two phones, so neither phone is locked as a calling number), and
    STRANGER as a calling number (3 + 2 about two other merchants, so neither merchant is locked)."""
    database = verification.database
    merchants.upsert_merchant(database, MERCHANT, "示例便利店", [MERCHANT_PHONE, SECOND_PHONE], actor="test")
    merchants.upsert_merchant(database, THIRD_MERCHANT, "第三家店", [], actor="test")
    wrong_codes(database, MERCHANT, None, LIMIT)
    wrong_codes(database, MERCHANT, MERCHANT_PHONE, 3, registered=True)
    wrong_codes(database, MERCHANT, SECOND_PHONE, 2, registered=True)
    wrong_codes(database, OTHER_MERCHANT, STRANGER, 3)
    wrong_codes(database, THIRD_MERCHANT, STRANGER, 2)
    return database


EXPECTED_LOCKS = {  # (scope, key) -> what the Merchants page shows in the "who" cell
    ("merchant_strangers", MERCHANT): MERCHANT,
    ("merchant_registered", MERCHANT): MERCHANT,
    ("number", STRANGER): STRANGER_MASKED,
}
SCOPE_WORDS = {
    "zh": {"merchant_strangers": "商户（非登记电话来电）", "merchant_registered": "商户（登记电话来电）",
           "number": "来电号码（所有商户）"},
    "en": {"merchant_strangers": "merchant, callers not on file", "merchant_registered": "merchant, its registered phones",
           "number": "calling number, all merchants"},
}


def switch_language(client, lang):
    with client.session_transaction() as session:
        token = session["csrf"]
    client.post("/dashboard/language", data={"lang": lang, "csrf_token": token})


def lock_rows(page):
    """The Merchants page's lock rows as {scope: [row html, ...]}."""
    section = page[page.index('id="locks"'):]
    section = section[:section.index("</section>")]
    found = {}
    for scope, body in re.findall(r'<tr class="lock lock-([a-z_]+)">(.*?)</tr>', section, re.S):
        found.setdefault(scope, []).append(body)
    return found


def lift_form(body):
    """The hidden fields of a row's Lift form."""
    form = body[body.index('action="/dashboard/locks/lift"'):]
    form = form[:form.index("</form>")]
    return {name: value for name, value in re.findall(r'name="([a-z_]+)" value="([^"]*)"', form)}


def until_shown(app, database, scope, key):
    [lock] = [lock for lock in merchants.active_locks(database, LIMIT, 24) if (lock["scope"], lock["key"]) == (scope, key)]
    with app.app_context():
        return localtime.show(lock["until"])


# -- the Merchants page: every lock in force -----------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_merchants_page_lists_every_lock_in_force_with_numbers_masked(client, login, app, locked, lang):
    login("admin")
    switch_language(client, lang)
    page = client.get("/dashboard/merchants").get_data(as_text=True)
    listed = lock_rows(page)
    assert sum(len(bodies) for bodies in listed.values()) == len(EXPECTED_LOCKS)
    for (scope, key), shown in EXPECTED_LOCKS.items():
        [body] = [body for body in listed[scope] if shown in body]
        assert SCOPE_WORDS[lang][scope] in body
        assert f"<td>{LIMIT}</td>" in body
        assert until_shown(app, locked, scope, key) in body
        if scope != "number":
            assert f'href="/dashboard/merchants/{key}"' in body
        assert lift_form(body)["scope"] == scope
    # Callers' numbers are masked: neither the page nor its Lift forms carry them.
    for number in (STRANGER, MERCHANT_PHONE, SECOND_PHONE):
        assert number[3:] not in page
    assert ("生效中的锁定" if lang == "zh" else "Locks in force") in page


@pytest.mark.parametrize("lang, words", [("zh", "目前没有生效的锁定。"), ("en", "No locks in force.")])
def test_the_merchants_page_says_when_no_lock_is_in_force(client, login, verification, lang, words):
    login("agent")
    switch_language(client, lang)
    wrong_codes(verification.database, MERCHANT, STRANGER, LIMIT - 1)  # one short of the limit
    page = client.get("/dashboard/merchants").get_data(as_text=True)
    assert words in page and lock_rows(page) == {}


@pytest.mark.parametrize("scope, key", list(EXPECTED_LOCKS))
def test_lifting_one_lock_from_its_row_leaves_every_other_in_force(client, login, app, locked, scope, key):
    login("admin")
    page = client.get("/dashboard/merchants").get_data(as_text=True)
    [body] = [body for body in lock_rows(page)[scope] if EXPECTED_LOCKS[(scope, key)] in body]
    response = client.post("/dashboard/locks/lift", data=lift_form(body))
    assert response.status_code == 302 and response.headers["Location"].startswith("/dashboard/merchants")
    after = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "锁定已解除：5 次错误参考码不再计入。" in after
    remaining = {(lock["scope"], lock["key"]) for lock in merchants.active_locks(locked, LIMIT, 24)}
    assert remaining == set(EXPECTED_LOCKS) - {(scope, key)}
    assert sum(len(bodies) for bodies in lock_rows(after).values()) == len(EXPECTED_LOCKS) - 1
    assert [(row["user"], row["target"], json.loads(row["detail"])) for row in rows(
        app, "SELECT \"user\", target, detail FROM audit WHERE action = 'lock.lift'")] == [
        ("ada", key, {"scope": scope, "attempts": LIMIT})
    ]


def test_an_agent_sees_the_locks_but_no_lift_button_and_gets_403(client, login, app, locked):
    token = login("agent")
    page = client.get("/dashboard/merchants").get_data(as_text=True)
    assert sum(len(bodies) for bodies in lock_rows(page).values()) == len(EXPECTED_LOCKS)
    assert "/dashboard/locks/lift" not in page
    assert "/locks/lift" not in client.get(f"/dashboard/merchants/{MERCHANT}").get_data(as_text=True)
    for url, data in (("/dashboard/locks/lift", {"scope": "merchant_strangers", "key": MERCHANT}),
                      ("/dashboard/locks/lift", {"scope": "number", "key": STRANGER}),
                      (f"/dashboard/merchants/{MERCHANT}/unlock", {})):
        assert client.post(url, data=dict(data, csrf_token=token)).status_code == 403
    assert len(merchants.active_locks(locked, LIMIT, 24)) == len(EXPECTED_LOCKS)
    assert rows(app, "SELECT * FROM audit WHERE action = 'lock.lift'") == []


@pytest.mark.parametrize("data, code", [
    ({"scope": "everything", "key": MERCHANT}, 400),
    ({"scope": "merchant_strangers", "key": ""}, 400),
    ({"scope": "merchant_strangers", "key": "999999999999999"}, 404),
    ({"scope": "number", "key": "12"}, 400),
    ({"scope": "number", "key": "attempt:999999"}, 404),
    ({"scope": "number", "key": "attempt:x"}, 404),
    ({"scope": "number", "key": "attempt:" + "9" * 40}, 404),
])
def test_a_bad_lift_request_is_refused_and_lifts_nothing(client, login, app, locked, data, code):
    token = login("admin")
    assert client.post("/dashboard/locks/lift", data=dict(data, csrf_token=token)).status_code == code
    assert len(merchants.active_locks(locked, LIMIT, 24)) == len(EXPECTED_LOCKS)
    assert rows(app, "SELECT * FROM audit WHERE action = 'lock.lift'") == []


def test_a_lift_without_the_csrf_token_is_rejected(client, login, locked):
    login("admin")
    response = client.post("/dashboard/locks/lift", data={"scope": "merchant_strangers", "key": MERCHANT})
    assert response.status_code in (400, 403)
    assert len(merchants.active_locks(locked, LIMIT, 24)) == len(EXPECTED_LOCKS)


def test_a_lift_never_redirects_off_site(client, login, locked):
    token = login("admin")
    response = client.post("/dashboard/locks/lift", data={"scope": "merchant_strangers", "key": MERCHANT,
                                                           "next": "https://evil.example/", "csrf_token": token})
    assert response.headers["Location"] == "/dashboard/merchants"


# -- the merchant page: its two counters -----------------------------------------------------------


@pytest.mark.parametrize("lang, strangers, registered, state", [
    ("zh", "非登记电话的错误参考码", "登记电话的错误参考码", ("已锁定", "未锁定", "24 小时内 5 次错误参考码", "24 小时内 2 次错误参考码")),
    ("en", "Wrong codes from callers not on file", "Wrong codes from its registered phones",
     ("locked", "not locked", "5 wrong codes in 24 h", "2 wrong codes in 24 h")),
])
def test_the_merchant_page_shows_both_counters_and_lifts_each(client, login, app, verification, lang, strangers,
                                                             registered, state):
    token = login("admin")
    switch_language(client, lang)
    database = verification.database
    wrong_codes(database, MERCHANT, None, LIMIT)
    wrong_codes(database, MERCHANT, MERCHANT_PHONE, 2, registered=True)
    page = client.get(f"/dashboard/merchants/{MERCHANT}").get_data(as_text=True)
    row_of = {scope: re.search(rf'<tr id="lock-{scope}">(.*?)</tr>', page, re.S).group(1)
              for scope in ("merchant_strangers", "merchant_registered")}
    locked_word, free_word, five, two = state
    assert strangers in row_of["merchant_strangers"] and five in row_of["merchant_strangers"]
    assert f'<span class="badge v-locked">{locked_word}</span>' in row_of["merchant_strangers"]
    assert until_shown(app, database, "merchant_strangers", MERCHANT) in row_of["merchant_strangers"]
    assert registered in row_of["merchant_registered"] and two in row_of["merchant_registered"]
    assert f"<td>{free_word}</td>" in row_of["merchant_registered"] and "v-locked" not in row_of["merchant_registered"]
    assert MERCHANT_PHONE[3:] not in page
    # Each counter has its own Lift button; lifting the strangers' lock leaves the registered phones' count.
    form = lift_form(row_of["merchant_strangers"])
    assert form["scope"] == "merchant_strangers" and form["key"] == MERCHANT
    assert lift_form(row_of["merchant_registered"])["scope"] == "merchant_registered"
    assert client.post("/dashboard/locks/lift", data=dict(form, csrf_token=token)).status_code == 302
    assert merchants.failed_attempts(database, "merchant_strangers", MERCHANT) == 0
    assert merchants.failed_attempts(database, "merchant_registered", MERCHANT) == 2
    after = client.get(f"/dashboard/merchants/{MERCHANT}").get_data(as_text=True)
    assert f"<td>{free_word}</td>" in re.search(r'<tr id="lock-merchant_strangers">(.*?)</tr>', after, re.S).group(1)


@pytest.mark.parametrize("lift, stays", [(("merchant_strangers", MERCHANT), ("number", STRANGER)),
                                         (("number", STRANGER), ("merchant_strangers", MERCHANT))])
def test_lifting_a_lock_leaves_the_other_lock_on_the_same_wrong_codes(client, login, verification, lift, stays):
    token = login("admin")
    wrong_codes(verification.database, MERCHANT, STRANGER, LIMIT)  # locks MERCHANT's strangers and STRANGER
    scope, key = lift
    assert client.post("/dashboard/locks/lift", data={"scope": scope, "key": key, "csrf_token": token}).status_code == 302
    assert {(lock["scope"], lock["key"]) for lock in merchants.active_locks(verification.database, LIMIT, 24)} == {stays}


# -- the number page: a lock on the number as a caller --------------------------------------------


def test_the_number_page_shows_its_lock_and_an_admin_lifts_it(client, login, app, locked):
    token = login("admin")
    reports.file_report(locked, "fee", number=STRANGER, merchant_id=MERCHANT)
    page = client.get(f"/dashboard/numbers/{STRANGER}").get_data(as_text=True)
    section = page[page.index('id="locks"'):page.index("</section>", page.index('id="locks"'))]
    assert "来电号码已锁定" in section and "来电号码（所有商户）" in section
    assert until_shown(app, locked, "number", STRANGER) in section
    form = lift_form(section)
    assert form["scope"] == "number"
    response = client.post("/dashboard/locks/lift", data=dict(form, csrf_token=token))
    assert response.headers["Location"] == f"/dashboard/numbers/{STRANGER}"
    assert 'id="locks"' not in client.get(f"/dashboard/numbers/{STRANGER}").get_data(as_text=True)
    assert not merchants.is_locked(locked, OTHER_MERCHANT, STRANGER, registered=True)
    remaining = {(lock["scope"], lock["key"]) for lock in merchants.active_locks(locked, LIMIT, 24)}
    assert remaining == set(EXPECTED_LOCKS) - {("number", STRANGER)}  # the merchant's locks stand


def test_a_locked_number_never_reported_has_a_page_while_locked(client, login, locked):
    token = login("admin")
    page = client.get(f"/dashboard/numbers/{STRANGER}")
    assert page.status_code == 200 and "来电号码已锁定" in page.get_data(as_text=True)
    client.post("/dashboard/locks/lift", data={"scope": "number", "key": STRANGER, "csrf_token": token})
    assert client.get(f"/dashboard/numbers/{STRANGER}").status_code == 404


def test_an_agent_sees_the_numbers_lock_without_a_lift_button(client, login, locked):
    login("agent")
    page = client.get(f"/dashboard/numbers/{STRANGER}").get_data(as_text=True)
    assert "来电号码已锁定" in page and "/locks/lift" not in page


def test_the_audit_log_shows_a_lifted_callers_number_masked(client, login, locked):
    token = login("admin")
    client.post("/dashboard/locks/lift", data={"scope": "number", "key": STRANGER, "csrf_token": token})
    client.post("/dashboard/locks/lift", data={"scope": "merchant_strangers", "key": MERCHANT, "csrf_token": token})
    page = client.get("/dashboard/audit?action=lock.lift").get_data(as_text=True)
    assert STRANGER_MASKED in page and STRANGER[3:] not in page
    assert f"<td>{MERCHANT}</td>" in page


# -- the CLI ------------------------------------------------------------------------------------------


def test_cli_lists_every_lock_in_force(runner, app, locked):
    result = runner.invoke(args=["merchants", "locks"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"{len(EXPECTED_LOCKS)} lock(s) in force ({LIMIT} wrong codes within 24 h")
    words = {"merchant_strangers": "callers not on file", "merchant_registered": "its registered phones",
             "number": "calling number, all merchants"}
    for scope, key in EXPECTED_LOCKS:
        who = f"number {key}" if scope == "number" else f"merchant {key} ("
        [line] = [line for line in lines if who in line and words[scope] in line]
        assert f"{LIMIT} wrong codes, until {until_shown(app, locked, scope, key)}" in line
    assert "merchant 898440358120001 (示例便利店), callers not on file" in result.output


def test_cli_says_when_no_lock_is_in_force(runner, verification):
    wrong_codes(verification.database, MERCHANT, STRANGER, LIMIT - 1)
    result = runner.invoke(args=["merchants", "locks"])
    assert result.exit_code == 0 and result.output.startswith("No locks in force (5 wrong codes within 24 h")


def test_cli_uses_the_lock_settings(runner, app, verification):
    app.config.update(LOCK_ATTEMPTS=3, LOCK_HOURS=2)
    wrong_codes(verification.database, MERCHANT, None, 3)
    result = runner.invoke(args=["merchants", "locks"])
    assert "1 lock(s) in force (3 wrong codes within 2 h" in result.output
    assert "merchant 898440358120001 (示例便利店), callers not on file: 3 wrong codes" in result.output


@pytest.mark.parametrize("scope, lifted", [
    ("strangers", [("callers not on file", 5, "was locked")]),
    ("registered", [("its registered phones", 5, "was locked")]),
    ("both", [("callers not on file", 5, "was locked"), ("its registered phones", 5, "was locked")]),
    (None, [("callers not on file", 5, "was locked"), ("its registered phones", 5, "was locked")]),
])
def test_cli_unlocks_a_merchant_by_scope(runner, app, locked, scope, lifted):
    args = ["merchants", "unlock", MERCHANT, "--by", "alice"] + (["--scope", scope] if scope else [])
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    total = sum(count for _, count, _ in lifted)
    assert f"Unlocked merchant {MERCHANT} (示例便利店): {total} wrong code(s) lifted." in result.output
    for words, count, state in lifted:
        assert f"  {words}: {count} wrong code(s) lifted ({state})." in result.output
    scopes = [{"callers not on file": "merchant_strangers", "its registered phones": "merchant_registered"}[words]
              for words, _, _ in lifted]
    # The other lock of the merchant (if any) and the calling number's lock stay in force.
    remaining = {(lock["scope"], lock["key"]) for lock in merchants.active_locks(locked, LIMIT, 24)}
    assert remaining == set(EXPECTED_LOCKS) - {(name, MERCHANT) for name in scopes}
    assert [json.loads(row["detail"]) for row in rows(
        app, "SELECT detail FROM audit WHERE action = 'lock.lift' AND \"user\" = 'alice' ORDER BY id")] == [
        {"scope": name, "attempts": 5} for name in scopes]


def test_cli_says_when_a_merchant_was_not_locked(runner, verification):
    wrong_codes(verification.database, MERCHANT, None, 2)
    result = runner.invoke(args=["merchants", "unlock", MERCHANT, "--scope", "strangers"])
    assert result.exit_code == 0 and "callers not on file: 2 wrong code(s) lifted (was not locked)." in result.output


def test_cli_refuses_an_unknown_scope(runner, locked):
    result = runner.invoke(args=["merchants", "unlock", MERCHANT, "--scope", "everyone"])
    assert result.exit_code == 2 and "strangers" in result.output
    assert len(merchants.active_locks(locked, LIMIT, 24)) == len(EXPECTED_LOCKS)


@pytest.mark.parametrize("typed", [STRANGER, "13712345678", "0086 137 1234 5678"])
def test_cli_unlocks_a_calling_number_and_leaves_the_merchants_locks(runner, app, locked, typed):
    result = runner.invoke(args=["numbers", "unlock", typed, "--by", "alice"])
    assert result.exit_code == 0, result.output
    assert f"Unlocked calling number {STRANGER}: 5 wrong code(s) lifted (was locked)." in result.output
    remaining = {(lock["scope"], lock["key"]) for lock in merchants.active_locks(locked, LIMIT, 24)}
    assert remaining == set(EXPECTED_LOCKS) - {("number", STRANGER)}
    assert rows(app, "SELECT \"user\", target, detail FROM audit WHERE action = 'lock.lift'") == [
        {"user": "alice", "target": STRANGER, "detail": json.dumps({"attempts": 5, "scope": "number"})}
    ]


def test_cli_refuses_a_number_that_is_not_one(runner, locked):
    result = runner.invoke(args=["numbers", "unlock", "12"])
    assert result.exit_code == 1 and "number" in result.output
    assert len(merchants.active_locks(locked, LIMIT, 24)) == len(EXPECTED_LOCKS)


@pytest.mark.parametrize("args, words", [
    (["merchants", "--help"], ["locks", "unlock"]),
    (["merchants", "locks", "--help"], ["List every lock in force", "IVR_LOCK_ATTEMPTS"]),
    (["merchants", "unlock", "--help"], ["--scope [strangers|registered|both]", "default: both", "wrong codes"]),
    (["numbers", "--help"], ["unlock", "confirm", "clear"]),
    (["numbers", "unlock", "--help"], ["Lift a calling number's lock", "--by"]),
])
def test_every_lock_command_has_help(runner, args, words):
    result = runner.invoke(args=args)
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for word in words:
        assert word in text


# -- our own numbers are never confirmed as scams ------------------------------------------------------

HOTLINE = "+864009001234"  # a number the hotline answers calls on (a call's `To`)


@pytest.fixture
def ours(verification):
    """The official number and the hotline's own number, each reported once (by a stranger)."""
    add_call(verification.database, "CAours", clock.stamp(), to_number=HOTLINE)
    for number in (OFFICIAL, HOTLINE):
        reports.file_report(verification.database, "fee", number=number, merchant_id=OTHER_MERCHANT)
    return verification.database


@pytest.mark.parametrize("number", [OFFICIAL, HOTLINE])
@pytest.mark.parametrize("lang, refusal", [("zh", "这是本机构自己的号码，不能标记为诈骗号码。"),
                                           ("en", "This is one of the operator's own numbers; it cannot be marked as a scam.")])
def test_the_dashboard_refuses_to_confirm_our_own_number(client, login, app, ours, number, lang, refusal):
    token = login("admin")
    switch_language(client, lang)
    page = client.get(f"/dashboard/numbers/{number}").get_data(as_text=True)
    assert 'value="confirmed"' not in page and 'value="cleared"' in page  # no Confirm button for our numbers
    assert ("这是本机构自己的号码，不能确认为诈骗号码。" if lang == "zh"
            else "One of the operator&#39;s own numbers: it cannot be confirmed as a scam.") in page
    response = client.post(f"/dashboard/numbers/{number}/status",
                           data={"status": "confirmed", "reason": "looks odd", "csrf_token": token})
    assert response.status_code == 409
    assert f'<p class="flash error">{escape(refusal)}</p>' in response.get_data(as_text=True)
    assert rows(app, "SELECT status FROM numbers WHERE number = ?", [number]) == [{"status": "reported"}]
    assert rows(app, "SELECT * FROM audit WHERE action LIKE 'number.%'") == []
    # Clearing one of ours is still fine.
    cleared = client.post(f"/dashboard/numbers/{number}/status",
                          data={"status": "cleared", "reason": "ours", "csrf_token": token})
    assert cleared.status_code == 302
    assert rows(app, "SELECT status FROM numbers WHERE number = ?", [number]) == [{"status": "cleared"}]


def test_confirming_our_official_number_never_reported_is_refused_too(client, login, app, verification):
    token = login("admin")
    response = client.post(f"/dashboard/numbers/{OFFICIAL}/status",
                           data={"status": "confirmed", "reason": "looks odd", "csrf_token": token})
    assert response.status_code == 409 and "这是本机构自己的号码，不能标记为诈骗号码。" in response.get_data(as_text=True)
    assert rows(app, "SELECT * FROM numbers") == [] and rows(app, "SELECT * FROM number_status_changes") == []


@pytest.mark.parametrize("number", [OFFICIAL, HOTLINE])
def test_the_cli_refuses_to_confirm_our_own_number(runner, app, ours, number):
    result = runner.invoke(args=["numbers", "confirm", number, "--reason", "looks odd"])
    assert result.exit_code == 1
    assert f"Error: {number} is one of the operator's own numbers and cannot be marked as a scam" in result.output
    assert rows(app, "SELECT status FROM numbers WHERE number = ?", [number]) == [{"status": "reported"}]
    assert runner.invoke(args=["numbers", "clear", number]).exit_code == 0


@pytest.mark.parametrize("number", [OFFICIAL, HOTLINE])
def test_the_api_refuses_to_confirm_our_own_number_with_409(api, app, ours, number):
    response = api("PUT", f"/api/numbers/{number}", json={"status": "confirmed", "reason": "looks odd"})
    assert response.status_code == 409 and response.mimetype == "application/json"
    assert response.json == {"status": 409,
                             "error": f"{number} is one of the operator's own numbers and cannot be marked as a scam"}
    assert rows(app, "SELECT status FROM numbers WHERE number = ?", [number]) == [{"status": "reported"}]
    assert api("PUT", f"/api/numbers/{number}", json={"status": "cleared"}).status_code == 200


def test_another_number_is_still_confirmed_everywhere(client, login, api, runner, app, ours):
    token = login("admin")
    for number in ("+8613512345671", "+8613512345672", "+8613512345673"):
        reports.file_report(ours, "fee", number=number, merchant_id=OTHER_MERCHANT)  # not counted: still confirmable
    assert client.post("/dashboard/numbers/+8613512345671/status",
                       data={"status": "confirmed", "reason": "police", "csrf_token": token}).status_code == 302
    assert runner.invoke(args=["numbers", "confirm", "+8613512345672"]).exit_code == 0
    assert api("PUT", "/api/numbers/+8613512345673", json={"status": "confirmed"}).status_code == 200
    assert [row["status"] for row in rows(app, "SELECT status FROM numbers WHERE number LIKE '+86135123456%'")] == [
        "confirmed"] * 3
