"""The staff CLI: flask merchants import|unlock, flask outreach add|cancel|complete, flask numbers confirm|clear."""
import re

import pytest

from conftest import rows
from ivr.verification import merchants, outreach

GOOD_CSV = """merchant_id,name,phones
898440358120001,示例便利店,13800138000;+8613900139000
898440358120002,"Noodle House, Ltd",0755-1234-5678
"""


def test_import_good_csv(runner, app, tmp_path):
    path = tmp_path / "merchants.csv"
    path.write_text("\ufeff" + GOOD_CSV, encoding="utf-8")
    result = runner.invoke(args=["merchants", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "Imported 2 merchants: 2 new, 0 updated" in result.output
    assert rows(app, "SELECT merchant_id, phone FROM merchant_phones ORDER BY phone") == [
        {"merchant_id": "898440358120001", "phone": "+8613800138000"},
        {"merchant_id": "898440358120001", "phone": "+8613900139000"},
        {"merchant_id": "898440358120002", "phone": "+8675512345678"},
    ]
    again = runner.invoke(args=["merchants", "import", str(path)])
    assert "0 new, 2 updated" in again.output


@pytest.mark.parametrize("text, messages", [
    (GOOD_CSV + "12ab,Bad,13800138000\n898440358120003,,13800138000\n898440358120004,Shop,12\n",
     ["line 4: merchant_id:", "line 5: name:", "line 6: phones:"]),
    (GOOD_CSV + "898440358120001,Again,13800138000\n", ["line 4: merchant_id: 898440358120001 is already on line 2"]),
    ("id,name\n1,2\n", ["line 1: missing column(s) merchant_id, phones"]),
])
def test_bad_csv_reports_every_line_and_imports_nothing(runner, app, tmp_path, text, messages):
    path = tmp_path / "merchants.csv"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(args=["merchants", "import", str(path)])
    assert result.exit_code == 1
    for message in messages:
        assert message in result.output
    assert "nothing was imported" in result.output
    assert rows(app, "SELECT * FROM merchants") == []


def test_not_utf8_csv(runner, tmp_path):
    path = tmp_path / "merchants.csv"
    path.write_bytes(GOOD_CSV.encode("gbk"))
    result = runner.invoke(args=["merchants", "import", str(path)])
    assert result.exit_code == 1 and "UTF-8" in result.output


def test_outreach_add_cancel_complete(runner, app, verification):
    result = runner.invoke(args=[
        "outreach", "add", "--merchant", verification.merchant, "--reason", "system_update", "--channel", "phone",
        "--from-number", "4008001234", "--staff", "王敏", "--action", "accept_terminal_update", "--by", "alice",
    ])
    assert result.exit_code == 0, result.output
    outreach_id, code = re.search(r"Outreach (\d+): reference code (\d{8}),", result.output).groups()
    assert rows(app, "SELECT action, reference_code, code_hash, status FROM outreach") == [{
        "action": "accept_terminal_update", "reference_code": "",
        "code_hash": outreach.code_hash(app.config["CODE_SECRET"], verification.merchant, code), "status": "open"}]
    assert runner.invoke(args=["outreach", "complete", outreach_id]).exit_code == 0
    again = runner.invoke(args=["outreach", "cancel", outreach_id])
    assert again.exit_code == 1 and "already completed" in again.output
    missing = runner.invoke(args=["outreach", "cancel", "999"])
    assert missing.exit_code == 1 and "no outreach 999" in missing.output
    assert rows(app, "SELECT \"user\" FROM audit WHERE action = 'outreach.create'") == [{"user": "alice"}]


def test_outreach_add_bad_input_names_the_field(runner, verification):
    result = runner.invoke(args=[
        "outreach", "add", "--merchant", verification.merchant, "--reason", "system_update", "--channel", "sms",
        "--staff", "王敏", "--action", "accept_terminal_update",
    ])
    assert result.exit_code == 1 and "from_number" in result.output


def test_numbers_confirm_and_clear(runner, app):
    result = runner.invoke(args=["numbers", "confirm", "17012345678", "--reason", "police", "--by", "alice"])
    assert result.exit_code == 0 and "+8617012345678: confirmed" in result.output
    assert runner.invoke(args=["numbers", "clear", "+8617012345678", "--by", "bob"]).exit_code == 0
    assert rows(app, "SELECT status, changed_by FROM number_status_changes ORDER BY id") == [
        {"status": "confirmed", "changed_by": "alice"}, {"status": "cleared", "changed_by": "bob"}]
    bad = runner.invoke(args=["numbers", "clear", "12"])
    assert bad.exit_code == 1 and "number" in bad.output


def test_merchants_unlock(runner, app, verification):
    database = verification.database
    for _ in range(5):
        merchants.record_attempt(database, verification.merchant, None, None, success=False)
    assert merchants.is_locked(database, verification.merchant, None, registered=False)
    result = runner.invoke(args=["merchants", "unlock", verification.merchant, "--by", "alice"])
    assert result.exit_code == 0 and "Unlocked merchant 898440358120001" in result.output
    assert "5 wrong code(s) lifted" in result.output
    assert not merchants.is_locked(database, verification.merchant, None, registered=False)
    assert rows(app, "SELECT \"user\", action, target FROM audit WHERE action = 'lock.lift' ORDER BY id") == [
        {"user": "alice", "action": "lock.lift", "target": verification.merchant}] * 2
    missing = runner.invoke(args=["merchants", "unlock", "999999999999999"])
    assert missing.exit_code == 1 and "no merchant" in missing.output
