"""Flow files: every shipped flow validates, and each kind of mistake stops the app with a useful message."""
from pathlib import Path

import pytest
import yaml

from ivr import create_app
from ivr.errors import FlowError
from ivr.flows import load_flow, load_flows

FLOWS = Path(__file__).resolve().parent.parent / "flows"


@pytest.fixture(autouse=True)
def registered_actions(app):
    """The app registers every action and validator that flows may name."""


@pytest.mark.parametrize("path", sorted(FLOWS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_flow_file_validates(path):
    flow = load_flow(path)
    assert flow.start in flow.nodes
    assert flow.languages == ("zh", "en")


def _minimal():
    return {
        "flow": "mini",
        "languages": ["zh", "en"],
        "start": "menu",
        "messages": {name: {"zh": "好", "en": "ok"} for name in ("no_input", "invalid", "too_many_tries", "apology")},
        "nodes": {
            "menu": {
                "kind": "menu",
                "prompt": {"zh": "请按1", "en": "Press 1"},
                "options": [{"key": "1", "goto": "bye"}],
                "no_input": "bye",
            },
            "bye": {"kind": "hangup", "prompt": {"zh": "再见", "en": "Bye"}},
        },
    }


def _break(mutate):
    data = _minimal()
    mutate(data)
    return data


BROKEN = [
    ("unknown key", lambda d: d["nodes"]["menu"].update(promt="x"), "unknown key 'promt'"),
    ("missing target", lambda d: d["nodes"]["menu"]["options"][0].update(goto="nowhere"), "target 'nowhere' does not exist"),
    ("unreachable node", lambda d: d["nodes"].update(orphan={"kind": "hangup"}), "node 'orphan' is unreachable"),
    ("menu without no-input path", lambda d: d["nodes"]["menu"].pop("no_input"), "needs 'no_input'"),
    ("prompt missing a language", lambda d: d["nodes"]["bye"]["prompt"].pop("en"), "missing the 'en' translation"),
    ("message missing a language", lambda d: d["messages"]["apology"].pop("zh"), "missing the 'zh' translation"),
    ("missing message", lambda d: d["messages"].pop("apology"), "missing 'apology'"),
    ("unknown kind", lambda d: d["nodes"]["bye"].update(kind="play"), "kind 'play' is not one of"),
    ("unknown action", lambda d: d["nodes"].update(
        act={"kind": "action", "run": "no_such_action", "outcomes": {}}) or d["nodes"]["menu"]["options"].append(
        {"key": "2", "goto": "act"}), "action 'no_such_action' is not registered"),
    ("duplicate key", lambda d: d["nodes"]["menu"]["options"].append({"key": "1", "goto": "bye"}), "already used"),
    ("bad key", lambda d: d["nodes"]["menu"]["options"].append({"key": "#", "goto": "bye"}), "must be one of 0-9 or *"),
    ("missing start", lambda d: d.update(start="nope"), "start node 'nope' does not exist"),
    ("loop without input", lambda d: d["nodes"].update(
        a={"kind": "say", "prompt": {"zh": "甲", "en": "a"}, "next": "b"},
        b={"kind": "say", "prompt": {"zh": "乙", "en": "b"}, "next": "a"},
    ) or d["nodes"]["menu"]["options"].append({"key": "2", "goto": "a"}), "loops without waiting for the caller"),
    ("action outcome without target", lambda d: d["nodes"].update(
        act={"kind": "action", "run": "file_callback", "outcomes": {"filed": "bye"}}) or d["nodes"]["menu"]["options"].append(
        {"key": "2", "goto": "act"}), "outcome 'nothing_recorded' of action 'file_callback' has no target"),
]


@pytest.mark.parametrize("name, mutate, message", BROKEN, ids=[case[0] for case in BROKEN])
def test_broken_flow_names_file_node_and_fix(tmp_path, name, mutate, message):
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(_break(mutate), allow_unicode=True), encoding="utf-8")
    with pytest.raises(FlowError) as error:
        load_flow(path)
    assert message in str(error.value)
    assert str(path) in str(error.value)


def test_minimal_flow_is_valid(tmp_path):
    path = tmp_path / "mini.yaml"
    path.write_text(yaml.safe_dump(_minimal(), allow_unicode=True), encoding="utf-8")
    assert set(load_flows(tmp_path)["mini"].nodes) == {"menu", "bye"}


def test_yaml_is_read_safely(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("flow: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(FlowError, match="cannot read the flow"):
        load_flow(path)


def test_a_bad_flow_stops_the_app(tmp_path):
    path = tmp_path / "hotline.yaml"
    path.write_text(yaml.safe_dump(_break(lambda d: d["nodes"]["menu"].pop("no_input")) | {"flow": "hotline"}))
    with pytest.raises(RuntimeError, match="cannot start.*no_input"):
        create_app({"FLOWS_DIR": str(tmp_path), "DATABASE": str(tmp_path / "x.db")})


def test_check_flows_command(runner, tmp_path):
    result = runner.invoke(args=["check-flows"])
    assert result.exit_code == 0, result.output
    assert "flow 'hotline'" in result.output
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(_break(lambda d: d["nodes"]["bye"]["prompt"].pop("en"))))
    result = runner.invoke(args=["check-flows", str(tmp_path)])
    assert result.exit_code != 0
    assert "missing the 'en' translation" in result.output
