"""The flask CLI: every command has help; the terminal caller and the demo work end to end."""
import re
import shlex
import socket
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from conftest import break_database, rows
from ivr import create_app


def test_every_cli_command_has_help(app, runner):
    commands = dict(app.cli.commands)
    assert {"init-db", "check-flows", "call", "demo"} <= set(commands)
    for name, command in commands.items():
        assert command.help or command.short_help, f"flask {name} has no help text"
        groups = getattr(command, "commands", {})
        result = runner.invoke(args=[name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        for sub in groups:
            result = runner.invoke(args=[name, sub, "--help"])
            assert result.exit_code == 0 and "Usage" in result.output, (name, sub, result.output)


def test_init_db_is_safe_to_repeat(runner):
    first = runner.invoke(args=["init-db"])
    second = runner.invoke(args=["init-db"])
    assert first.exit_code == 0 and second.exit_code == 0
    assert "up to date" in second.output


def test_init_db_reports_an_unusable_path(app, runner):
    break_database(app)
    result = runner.invoke(args=["init-db"])
    assert result.exit_code != 0 and "cannot migrate" in result.output


def test_scripted_terminal_call_in_english(runner, app):
    result = runner.invoke(args=["call", "--from", "+8613800138000", "--keys", "9,2,1"])
    assert result.exit_code == 0, result.output
    assert "Part one, how genuine updates arrive" in result.output
    assert "Part two, before an update" in result.output
    assert "status callback sent" in result.output
    assert rows(app, "SELECT status FROM calls")[0]["status"] == "completed"


def test_interactive_terminal_call_reads_keys_from_the_user(runner):
    result = runner.invoke(args=["call"], input="2\nq\n")
    assert result.exit_code == 0, result.output
    assert "第一段" in result.output


@pytest.mark.parametrize("steps, expected", [
    ("0,dial no-answer,rec 9", "已收到，我们会在工作时间尽快回电"),
    ("0,dial completed", "感谢来电，再见"),
    (",,", "现在为您转接人工客服"),
])
def test_scripted_steps_cover_dial_record_and_silence(runner, steps, expected):
    result = runner.invoke(args=["call", "--keys", steps])
    assert result.exit_code == 0, result.output
    assert expected in result.output


def test_two_commas_are_three_silences_and_the_third_reaches_a_person(runner):
    # As the README's example says: every step, empty ones included, is one turn of the call.
    result = runner.invoke(args=["call", "--from", "Anonymous", "--keys", ",,"])
    assert result.output.count("(silence)") == 3 and "现在为您转接人工客服" in result.output


def test_demo_serves_over_http_and_places_a_call(runner, app):
    result = runner.invoke(args=["demo", "--port", "0", "--no-serve", "--keys", "9,2"])
    assert result.exit_code == 0, result.output
    assert "The hotline is answering at http://127.0.0.1:" in result.output
    assert "Part one, how genuine updates arrive" in result.output
    assert "Demo data: placed" in result.output
    again = runner.invoke(args=["demo", "--port", "0", "--no-serve", "--keys", "q"])
    assert "Demo data: already loaded." in again.output
    assert len(rows(app, "SELECT sid FROM calls")) >= 4


def test_calling_a_url_where_nothing_listens_says_so_in_one_line(runner):
    with socket.socket() as probe:  # a port that was free a moment ago, and now is closed
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    result = runner.invoke(args=["call", "--url", url, "--keys", "1"])
    assert result.exit_code == 1
    assert result.output == f"Error: cannot reach {url}: connection refused; start it with `flask --app app run`\n"


def test_calling_a_hotline_with_another_token_says_which_token_to_set(runner, tmp_path):
    other = create_app({"DATABASE": str(tmp_path / "other.db"), "TWILIO_AUTH_TOKEN": "another-token",
                        "SECRET_KEY": "x", "BUSINESS_HOURS": "24/7"})
    server = make_server("127.0.0.1", 0, other, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        result = runner.invoke(args=["call", "--url", url, "--keys", "1"])
    finally:
        server.shutdown()
        thread.join()
    assert result.exit_code == 1
    assert result.output == (f"Error: the hotline at {url} answered 403: the signature was refused;"
                             " set TWILIO_AUTH_TOKEN to the server's token\n")
    assert rows(other, "SELECT sid FROM calls") == []


def test_the_readmes_account_example_creates_the_account(runner, app):
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    typed, command = re.search(r"`printf '([^']*)' \|\s*flask --app app (users create [^`]*)`", readme).groups()
    result = runner.invoke(args=shlex.split(command), input=typed.replace("\\n", "\n"))
    assert result.exit_code == 0, result.output
    assert rows(app, "SELECT name, role FROM users") == [{"name": "bob", "role": "agent"}]
