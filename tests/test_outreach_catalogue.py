"""Caller safety: outreach asks only for what the operator's catalogue offers, and codes are kept as keyed hashes."""
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from conftest import STAFF_PASSWORD, csrf_of, insert, rows
from ivr import PROJECT_ROOT, clock, create_app
from ivr import database as databases
from ivr.staff import users
from ivr.storage import db, schema
from ivr.verification import catalogue, merchants, outreach
from ivr.verification.catalogue import CatalogueError, load_catalogue

SHIPPED = PROJECT_ROOT / "flows" / "catalogue" / "outreach_actions.yaml"
LANGUAGES = ("zh", "en")
SHIPPED_LANGUAGES = ("zh", "en", "yue")  # the shipped flow's
MERCHANT = "898440358120001"
GOOD_ZH, GOOD_EN, GOOD_YUE = "在终端上接受更新提示", "accept the update prompt on the terminal", "喺終端機接受更新提示"
OUTREACH = {"merchant_id": MERCHANT, "reason": "system_update", "channel": "phone", "from_number": "4008001234",
            "staff_name": "王敏", "action": "accept_terminal_update", "valid_hours": 48}


def write_catalogue(tmp_path, entries):
    """Write `entries` (key -> {language: text}, or anything YAML can hold) to a catalogue file; return its path."""
    path = tmp_path / "outreach_actions.yaml"
    path.write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")
    return path


# -- the catalogue -----------------------------------------------------------------------------------------


def test_the_shipped_catalogue_loads_and_every_entry_passes_the_rules():
    loaded = load_catalogue(SHIPPED, SHIPPED_LANGUAGES)
    assert len(loaded.keys()) >= 6 and loaded.keys()[0] == "accept_terminal_update"
    assert loaded.text("accept_terminal_update", "zh") == GOOD_ZH and loaded.text("accept_terminal_update", "en") == GOOD_EN
    assert loaded.text("an_old_free_text_row", "zh") is None and loaded.text(None, "zh") is None
    for entry in loaded.entries():
        assert set(entry) == {"key", *SHIPPED_LANGUAGES}
        for language in SHIPPED_LANGUAGES:
            assert catalogue.findings(entry[language]) == [], entry
            length, limit, _ = catalogue.spoken_length(entry[language])
            assert length <= limit, entry


def test_the_app_loads_it_once_for_the_flows_languages(app):
    loaded = app.extensions["ivr"]["outreach_actions"]
    assert loaded.languages == app.extensions["ivr"]["flow"].languages
    assert loaded.entries() == load_catalogue(SHIPPED, SHIPPED_LANGUAGES).entries()


# (key, zh text, en text, what the refusal names); the other language gets a good text.
BAD_TEXTS = [
    ("visit_site", "登录www.pos-help.cn更新资料", None, "a web address"),
    ("open_link", None, "open https://x.io/a to update your details", "a web address"),
    ("call_us", "请回拨4008001234", None, "a phone number"),
    ("call_dashed", None, "call us back on 400-800-1234", "a phone number"),
    ("call_wide", "请回拨４００８００１２３４", None, "a phone number"),
    ("call_spoken", "请回拨四零零八零零一二三四", None, "a phone number"),
    ("upgrade_fee", "请先交纳升级费", None, "a request for money"),
    ("deposit", None, "pay a 200 yuan deposit", "a request for money"),
    ("transfer", "把货款转账到新账户", None, "a request for money"),
    ("sms_code", "告诉我们收到的短信验证码", None, "a card number, code or password"),
    ("pin", None, "read out your PIN to confirm", "a card number, code or password"),
    ("card_number", None, "confirm your card number with our staff", "a card number, code or password"),
    ("password", "提供官方App的登录密码", None, "a card number, code or password"),
    ("remote_help", "下载远程协助软件", None, "screen sharing or remote control"),
    ("anydesk", None, "install AnyDesk", "screen sharing or remote control"),
    ("share_screen", None, "share your screen with our engineer", "screen sharing or remote control"),
    ("screen_zh", "打开屏幕共享", None, "screen sharing or remote control"),
    ("helper_app", "安装收款助手", None, "an app other than the official app"),
    ("helper_app_en", None, "download the POS helper", "an app other than the official app"),
    ("other_app", "打开商户宝App核对资料", None, "an app other than the official app"),
    ("traditional", "請先轉賬保證金", None, "a request for money"),
]


@pytest.mark.parametrize("key, zh, en, found", BAD_TEXTS, ids=[row[0] for row in BAD_TEXTS])
def test_a_catalogue_entry_asking_what_scammers_ask_is_refused(tmp_path, key, zh, en, found):
    path = write_catalogue(tmp_path, {"accept_terminal_update": {"zh": GOOD_ZH, "en": GOOD_EN},
                                      key: {"zh": zh or GOOD_ZH, "en": en or GOOD_EN}})
    with pytest.raises(CatalogueError) as refused:
        load_catalogue(path, LANGUAGES)
    message = str(refused.value)
    assert str(path) in message and repr(key) in message and found in message
    assert f"({'zh' if zh else 'en'})" in message


# (what is wrong, the file's content, words the refusal says)
BAD_FILES = [
    ("a missing language", {"reupload": {"zh": "在官方App里重新上传营业执照"}}, ["'reupload'", "missing the 'en' text"]),
    ("an empty text", {"reupload": {"zh": " ", "en": GOOD_EN}}, ["'reupload'", "missing the 'zh' text"]),
    ("a language the flow lacks", {"reupload": {"zh": GOOD_ZH, "en": GOOD_EN, "fr": "acceptez"}},
     ["'reupload'", "'fr'", "remove it"]),
    ("too long in zh", {"long_one": {"zh": "在终端上接受更新提示以后再在官方App里确认新的经营地址", "en": GOOD_EN}},
     ["'long_one'", "(zh)", "more than 20", "shorten"]),
    ("too long in en", {"long_one": {"zh": GOOD_ZH, "en": "accept the update prompt on the terminal and then restart it"}},
     ["'long_one'", "(en)", "11 words, more than 10"]),
    ("a sentence's full stop", {"dotted": {"zh": GOOD_ZH + "。", "en": GOOD_EN}}, ["'dotted'", "final punctuation"]),
    ("a hidden character", {"hidden": {"zh": GOOD_ZH, "en": "accept the up\u200bdate prompt"}}, ["'hidden'", "U+200B"]),
    ("a bad key", {"Accept Update": {"zh": GOOD_ZH, "en": GOOD_EN}}, ["'Accept Update'", "lower-case"]),
    ("a text, not a mapping", {"accept": GOOD_EN}, ["'accept'", "a text for each language"]),
    ("no actions at all", {}, ["add one"]),
    ("not a mapping", ["accept"], ["mapping of key"]),
]


@pytest.mark.parametrize("content, words", [row[1:] for row in BAD_FILES], ids=[row[0] for row in BAD_FILES])
def test_a_malformed_catalogue_is_refused_with_the_key_and_the_fix(tmp_path, content, words):
    path = write_catalogue(tmp_path, content)
    with pytest.raises(CatalogueError) as refused:
        load_catalogue(path, LANGUAGES)
    assert str(path) in str(refused.value)
    for word in words:
        assert word in str(refused.value)


@pytest.mark.parametrize("zh, en", [
    ("在官方App里重新上传营业执照", "re-upload the business licence in the official app"),
    ("下载并安装官方App", "install the official app"),
    ("在应用商店更新官方App", "update the official app from the app store"),
    ("用官方App扫描终端上的二维码", "scan the terminal's QR code with the official app"),
    ("在官方App里核对联系号码", "check the phone number in the official app"),
])
def test_entries_about_the_official_app_and_the_terminal_are_accepted(tmp_path, zh, en):
    loaded = load_catalogue(write_catalogue(tmp_path, {"official": {"zh": zh, "en": en}}), LANGUAGES)
    assert loaded.entries() == [{"key": "official", "zh": zh, "en": en}]


def test_every_language_of_the_flow_is_required_not_just_two(tmp_path):
    path = write_catalogue(tmp_path, {"accept_terminal_update": {"zh": GOOD_ZH, "en": GOOD_EN}})
    with pytest.raises(CatalogueError, match="'accept_terminal_update': missing the 'yue' text"):
        load_catalogue(path, ("zh", "en", "yue"))
    path = write_catalogue(tmp_path, {"restart": {"zh": "重启终端", "en": "restart the terminal", "yue": "重新開過部機"}})
    assert load_catalogue(path, ("zh", "en", "yue")).text("restart", "yue") == "重新開過部機"


def test_the_hotline_does_not_start_with_a_bad_catalogue(tmp_path, monkeypatch):
    path = write_catalogue(tmp_path, {"remote": {"zh": "下载远程协助软件", "en": "install AnyDesk"}})
    monkeypatch.setenv("IVR_OUTREACH_ACTIONS", str(path))
    with pytest.raises(RuntimeError) as refused:
        create_app({"TESTING": True, "DATABASE": str(tmp_path / "hotline.db"), "SECRET_KEY": "x"})
    assert str(refused.value).startswith("the hotline cannot start: ")
    assert str(path) in str(refused.value) and "'remote'" in str(refused.value)
    monkeypatch.setenv("IVR_OUTREACH_ACTIONS", str(tmp_path / "missing.yaml"))
    with pytest.raises(RuntimeError, match="missing.yaml: cannot read"):
        create_app({"TESTING": True, "DATABASE": str(tmp_path / "hotline.db"), "SECRET_KEY": "x"})


# -- the API -----------------------------------------------------------------------------------------------


def test_outreach_asks_for_a_catalogue_action_and_gets_an_eight_digit_code(api, app, verification):
    response = api("POST", "/api/outreach", json=OUTREACH)
    assert response.status_code == 201 and re.fullmatch(r"[0-9]{8}", response.json["reference_code"])
    [row] = rows(app, "SELECT action, instructions, reference_code FROM outreach")
    assert row == {"action": "accept_terminal_update", "instructions": "", "reference_code": ""}
    [shown] = api("GET", f"/api/merchants/{MERCHANT}").json["outreach"]
    assert shown["action"] == "accept_terminal_update"
    assert not {"reference_code", "code_hash"} & set(shown) and response.json["reference_code"] not in json.dumps(shown)


@pytest.mark.parametrize("change, words", [
    ({"action": None, "instructions": "install a remote-assist app and share your screen"}, "instructions are no longer"),
    ({"action": None}, "accept_terminal_update"),
    ({"action": "install_anydesk"}, "accept_terminal_update"),
    ({"action": ["accept_terminal_update"]}, "one of the outreach actions"),
])
def test_free_text_or_an_unknown_action_is_a_400_naming_action(api, app, verification, change, words):
    body = {key: value for key, value in dict(OUTREACH, **change).items() if value is not None}
    response = api("POST", "/api/outreach", json=body)
    assert response.status_code == 400 and response.json["field"] == "action" and words in response.json["error"]
    assert rows(app, "SELECT * FROM outreach") == []


@pytest.mark.parametrize("name", ["王敏 400800", "www.x.cn", "王敏４００", "Li_Qiang", "Wang@bank", "请转账", "下载远程软件",
                                  "x" * 41, "", "·"])
def test_a_staff_name_that_is_not_just_a_name_is_a_400(api, app, verification, name):
    response = api("POST", "/api/outreach", json=dict(OUTREACH, staff_name=name))
    assert response.status_code == 400 and response.json["field"] == "staff_name"
    assert rows(app, "SELECT * FROM outreach") == []


@pytest.mark.parametrize("name", ["王敏", "Chen Jing", "阿依古丽·买买提", "O'Neil", "Jean-Luc Picard", "J. Smith", "Zoë"])
def test_names_in_any_script_are_accepted(api, app, verification, name):
    assert api("POST", "/api/outreach", json=dict(OUTREACH, staff_name=name)).status_code == 201
    assert rows(app, "SELECT staff_name FROM outreach") == [{"staff_name": name}]


def test_the_catalogue_is_listed_for_api_clients(api, app):
    response = api("GET", "/api/outreach/actions")
    assert response.status_code == 200
    assert response.json == {"actions": app.extensions["ivr"]["outreach_actions"].entries()}
    assert response.json["actions"][0] == {"key": "accept_terminal_update", "zh": GOOD_ZH, "en": GOOD_EN, "yue": GOOD_YUE}
    assert api("GET", "/api/outreach/actions", token=None).status_code == 401


def test_the_audit_row_records_everything_asked_but_not_the_code(api, app, verification):
    created = api("POST", "/api/outreach", json=OUTREACH).json
    [entry] = rows(app, "SELECT \"user\", target, detail FROM audit WHERE action = 'outreach.create'")
    assert entry["user"] == "api" and entry["target"] == str(created["id"])
    assert json.loads(entry["detail"]) == {
        "merchant_id": MERCHANT, "reason": "system_update", "channel": "phone", "from_number": "+864008001234",
        "staff_name": "王敏", "action": "accept_terminal_update", "valid_hours": 48, "expires_at": created["expires_at"],
    }
    assert created["reference_code"] not in entry["detail"]


# -- storage: the code only as a keyed hash ----------------------------------------------------------------


def every_stored_text(app):
    """Every value of every table, as text, and on SQLite the database files' bytes (the log included)."""
    with databases.opened(app.config) as connection:
        if app.config.get("DATABASE_URL"):
            tables = [row["table_name"] for row in connection.query(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")]
        else:
            tables = [row["name"] for row in connection.query("SELECT name FROM sqlite_master WHERE type = 'table'")]
        values = " ".join(repr(row) for table in tables for row in connection.execute(f'SELECT * FROM "{table}"'))
    if app.config.get("DATABASE_URL"):
        return values
    path = app.config["DATABASE"]
    files = [Path(path), Path(f"{path}-wal")]
    return values + " ".join(file.read_bytes().decode("latin-1") for file in files if file.exists())


def test_the_code_is_nowhere_in_the_database_only_its_hash(app, verification):
    created = verification.add_outreach()
    code, key = created["reference_code"], app.config["CODE_SECRET"]
    assert code not in every_stored_text(app)
    [row] = rows(app, "SELECT code_hash FROM outreach")
    assert re.fullmatch(r"[0-9a-f]{64}", row["code_hash"]) and row["code_hash"] == outreach.code_hash(key, MERCHANT, code)
    found = outreach.match_code(verification.database, MERCHANT, code, key)
    assert found["id"] == created["id"] and found["state"] == "open"
    assert outreach.match_code(verification.database, MERCHANT, code, "another server's secret key") is None
    assert outreach.match_code(verification.database, verification.other, code, key) is None
    assert outreach.match_code(verification.database, MERCHANT, f"{(int(code) + 1) % 10**8:08d}", key) is None


def test_an_open_code_is_preferred_to_a_finished_one_with_the_same_code(app, verification):
    key = app.config["CODE_SECRET"]
    extension = app.extensions["ivr"]
    first = outreach.create_outreach(verification.database, MERCHANT, "system_update", "phone", "4008001234", "王敏",
                                     "accept_terminal_update", catalogue=extension["outreach_actions"], code_key=key,
                                     reference_code="24681357")
    outreach.complete_outreach(verification.database, first["id"], "test")
    second = outreach.create_outreach(verification.database, MERCHANT, "system_update", "phone", "4008001234", "王敏",
                                      "restart_terminal", catalogue=extension["outreach_actions"], code_key=key,
                                      reference_code="24681357")
    assert outreach.match_code(verification.database, MERCHANT, "24681357", key)["id"] == second["id"]


def test_the_code_key_is_shared_by_servers_with_one_secret_key_and_can_be_set(tmp_path, monkeypatch):
    def code_secret(**config):
        return create_app(dict({"TESTING": True, "DATABASE": str(tmp_path / "hotline.db")}, **config)).config["CODE_SECRET"]

    assert code_secret(SECRET_KEY="one") == code_secret(SECRET_KEY="one") != code_secret(SECRET_KEY="two")
    assert code_secret(SECRET_KEY="one") != "one"
    monkeypatch.setenv("IVR_CODE_SECRET", "a-long-random-code-secret")
    assert code_secret(SECRET_KEY="one") == code_secret(SECRET_KEY="two") == "a-long-random-code-secret"
    monkeypatch.setenv("IVR_CODE_SECRET", "short")
    with pytest.raises(RuntimeError, match="IVR_CODE_SECRET must be at least 16 characters"):
        code_secret(SECRET_KEY="one")


# -- migration 6: older plaintext codes ------------------------------------------------------------------


@pytest.fixture
def old_database(tmp_path, monkeypatch):
    """A database of the release before migration 6, with one open outreach and its plaintext six-digit code."""
    path = str(tmp_path / "hotline.db")
    monkeypatch.setattr(db, "MIGRATIONS", [migration for migration in schema.MIGRATIONS if migration[0] != 6])
    connection = db.connect(path)
    try:
        db.migrate(connection)
        merchants.upsert_merchant(connection, MERCHANT, "示例便利店", ["+8613800138000"], actor="test")
        now = clock.now()
        insert(connection, "outreach", {
            "merchant_id": MERCHANT, "reason": "system_update", "channel": "phone", "from_number": "+864008001234",
            "staff_name": "王敏", "instructions": "请安装远程协助软件", "reference_code": "135790",
            "created_at": clock.stamp(now), "expires_at": clock.stamp(now + timedelta(hours=48)), "status": "open",
        })
    finally:
        connection.conn.close()
    monkeypatch.undo()
    return path


@pytest.mark.sqlite_only("migrates a SQLite file written before migration 6")
def test_older_plaintext_codes_are_hashed_at_start_up_and_verify_until_they_expire(old_database, monkeypatch):
    app = create_app({"TESTING": True, "DATABASE": old_database, "SECRET_KEY": "x"})
    key = app.config["CODE_SECRET"]
    assert "135790" not in every_stored_text(app)
    [row] = rows(app, "SELECT action, instructions, reference_code, code_hash FROM outreach")
    assert row == {"action": None, "instructions": "请安装远程协助软件", "reference_code": "",
                   "code_hash": outreach.code_hash(key, MERCHANT, "135790")}
    connection = db.connect(old_database)
    try:
        assert outreach.match_code(connection, MERCHANT, "135790", key)["state"] == "open"
        assert outreach.hash_plaintext_codes(connection, key) == 0  # nothing left to hash
        later = clock.now() + timedelta(hours=49)
        monkeypatch.setattr(clock, "now", lambda: later)
        assert outreach.match_code(connection, MERCHANT, "135790", key)["state"] == "expired"
    finally:
        connection.conn.close()


@pytest.mark.sqlite_only("migrates a SQLite file written before migration 6")
@pytest.mark.parametrize("command", [["init-db"], ["outreach", "complete", "1"]])
def test_commands_that_migrate_also_hash_older_codes(old_database, command):
    app = create_app({"TESTING": True, "DATABASE": old_database, "SECRET_KEY": "x", "AUTO_MIGRATE": False})
    assert rows(app, "SELECT reference_code FROM outreach") == [{"reference_code": "135790"}]
    result = app.test_cli_runner().invoke(args=command)
    assert result.exit_code == 0, result.output
    assert rows(app, "SELECT reference_code, code_hash FROM outreach") == [
        {"reference_code": "", "code_hash": outreach.code_hash(app.config["CODE_SECRET"], MERCHANT, "135790")}]


@pytest.mark.sqlite_only("migrates a SQLite file written before migration 6")
def test_the_outreach_list_marks_older_free_text_as_not_read_out(old_database):
    app = create_app({"TESTING": True, "DATABASE": old_database, "SECRET_KEY": "x"})
    connection = db.connect(old_database)
    try:
        users.create_user(connection, "abe", "agent", STAFF_PASSWORD)
    finally:
        connection.conn.close()
    staff = app.test_client()
    staff.get("/dashboard/login")
    staff.post("/dashboard/login", data={"name": "abe", "password": STAFF_PASSWORD, "csrf_token": csrf_of(staff)})
    page = staff.get("/dashboard/outreach").get_data(as_text=True)
    assert "不在目录中，不会播报" in page and "请安装远程协助软件" not in page


# -- the CLI -----------------------------------------------------------------------------------------------


def test_flask_outreach_add_takes_an_action_and_prints_an_eight_digit_code(runner, app, verification):
    result = runner.invoke(args=["outreach", "add", "--merchant", MERCHANT, "--reason", "system_update", "--channel",
                                 "sms", "--from-number", "4008001234", "--staff", "Chen Jing", "--action",
                                 "reupload_business_licence"])
    assert result.exit_code == 0, result.output
    code = re.search(r"reference code ([0-9]{8}),", result.output).group(1)
    assert outreach.match_code(verification.database, MERCHANT, code, app.config["CODE_SECRET"])["action"] == (
        "reupload_business_licence")


@pytest.mark.parametrize("option, value, words", [
    ("--action", "install_anydesk", ["action:", "accept_terminal_update", "restart_terminal"]),
    ("--staff", "王敏 400800", ["staff_name:", "a name only"]),
])
def test_flask_outreach_add_refuses_a_bad_action_or_name_clearly(runner, app, verification, option, value, words):
    arguments = {"--merchant": MERCHANT, "--reason": "system_update", "--channel": "visit", "--staff": "王敏",
                 "--action": "accept_terminal_update", option: value}
    result = runner.invoke(args=["outreach", "add", *[part for pair in arguments.items() for part in pair]])
    assert result.exit_code == 1
    for word in words:
        assert word in result.output
    assert rows(app, "SELECT * FROM outreach") == []


def test_flask_outreach_add_no_longer_takes_instructions(runner, verification):
    result = runner.invoke(args=["outreach", "add", "--merchant", MERCHANT, "--reason", "system_update", "--channel",
                                 "visit", "--staff", "王敏", "--instructions", "install AnyDesk"])
    assert result.exit_code == 2 and "--instructions" in result.output


def test_flask_outreach_actions_lists_the_catalogue(runner, app):
    result = runner.invoke(args=["outreach", "actions"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "key\tzh\ten\tyue"
    assert [line.split("\t")[0] for line in lines[1:]] == list(app.extensions["ivr"]["outreach_actions"].keys())
    assert f"accept_terminal_update\t{GOOD_ZH}\t{GOOD_EN}\t{GOOD_YUE}" in lines


@pytest.mark.parametrize("command, words", [(["outreach", "actions"], "List what outreach may ask"),
                                            (["outreach", "add"], "--action"),
                                            (["outreach"], "actions")])
def test_the_outreach_commands_have_help(runner, command, words):
    result = runner.invoke(args=[*command, "--help"])
    assert result.exit_code == 0 and words in result.output


# -- the dashboard -----------------------------------------------------------------------------------------


def test_the_register_form_offers_the_catalogue_in_the_pages_language(client, login, verification):
    token = login("agent")
    page = client.get("/dashboard/outreach").get_data(as_text=True)
    assert '<select name="action" required>' in page and "<textarea" not in page
    assert re.search(rf'<option value="accept_terminal_update"\s*>{GOOD_ZH}</option>', page)
    client.post("/dashboard/language", data={"lang": "en", "csrf_token": token, "next": "/dashboard/outreach"})
    page = client.get("/dashboard/outreach").get_data(as_text=True)
    assert re.search(rf'<option value="accept_terminal_update"\s*>{GOOD_EN}</option>', page)


def test_registering_on_the_dashboard_shows_the_eight_digit_code_once(client, login, app, verification):
    token = login("agent")
    response = client.post("/dashboard/outreach", data={
        "merchant_id": MERCHANT, "reason": "business_change", "channel": "visit", "staff_name": "李娜",
        "action": "confirm_business_address", "valid_hours": "48", "csrf_token": token})
    assert response.status_code == 201
    code = re.search(r'id="reference-code">([0-9]{8})<', response.get_data(as_text=True)).group(1)
    listed = client.get("/dashboard/outreach").get_data(as_text=True)
    assert code not in listed and "在官方App里确认新的经营地址" in listed
    assert outreach.match_code(verification.database, MERCHANT, code, app.config["CODE_SECRET"])["staff_name"] == "李娜"
