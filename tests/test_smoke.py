from conftest import rows


def test_welcome_then_guide(call, app):
    turn = call.start()
    assert "官方商户核实热线" in turn.text
    turn = call.press("2")
    assert "第一段" in turn.text
    assert rows(app, "SELECT count(*) AS n FROM events")[0]["n"] > 0
