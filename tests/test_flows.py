"""Flow files: every shipped flow validates, each kind of mistake stops the app with a useful message, and a
language, a variable or a registry is data the flow is given, not Python to change."""
import re
from pathlib import Path

import pytest
import yaml

from conftest import AGENT, STAFF_PASSWORD, TOKEN, CallHelper, csrf_of, database_settings, rows
from ivr import PROJECT_ROOT, create_app
from ivr import database as databases
from ivr.errors import FlowError
from ivr.flow import engine
from ivr.flow.loader import load_flow, load_flows
from ivr.flow.registry import Registry, hotline
from ivr.staff import users

FLOWS = Path(__file__).resolve().parent.parent / "flows"
CATALOGUE = PROJECT_ROOT / "flows" / "catalogue" / "outreach_actions.yaml"
ZH = {"code": "zh", "name": "普通话", "say": "cmn-CN", "voice": "Polly.Zhiyu", "speech": "cmn-Hans-CN"}
EN = {"code": "en", "name": "English", "say": "en-US", "voice": "Polly.Joanna", "speech": "en-US"}
# Written with traditional characters these differ; a Cantonese text with one of them is Mandarin in disguise.
SIMPLIFIED_ONLY = set("们这说请号码为发电选择时没会过对给还么话语应开关门见长车东乐书买卖让认识记试错钱页")


@pytest.fixture(autouse=True)
def registered_actions(app):
    """The app imports ivr/actions.py and ivr/verify.py, which register on the hotline's registry."""


def _registry():
    """A registry of the test's own: one action that sets a variable, one validator, one transfer target."""
    registry = Registry(transfer_targets=("agent",))

    @registry.action("look_up", outcomes=("found", "missing"), sets=("merchant_name",))
    def look_up(context):
        context.vars["merchant_name"] = "Noodle House"
        return "found"

    @registry.validator("digits")
    def digits(value, context):
        return value

    return registry


@pytest.mark.parametrize("path", sorted(FLOWS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_flow_file_validates(path):
    flow = load_flow(path, hotline)
    assert flow.start in flow.nodes
    for code in flow.languages:
        language = flow.language_settings[code]
        assert language.name and language.say and language.voice and language.speech


def test_cantonese_prompts_are_cantonese_in_traditional_characters():
    data = yaml.safe_load((FLOWS / "hotline.yaml").read_text(encoding="utf-8"))
    texts = [value["yue"] for value in data["messages"].values()]
    texts += [node[key]["yue"] for node in data["nodes"].values()
              for key in ("prompt", "reprompt", "invalid") if key in node]
    for text in texts:
        assert not SIMPLIFIED_ONLY & set(text), text
    welcome = data["nodes"]["welcome"]["prompt"]["yue"]
    # Said as a Cantonese speaker says it: 撳 (press), 係 (is), 我哋 (we), 唔 (not).
    assert all(word in welcome for word in ("撳", "係", "我哋", "唔"))


def _minimal():
    return {
        "flow": "mini",
        "languages": [dict(ZH), dict(EN)],
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


def _lead_to(data, name, node):
    """Add `node` as `name`, reached from the menu's key 2."""
    data["nodes"][name] = node
    data["nodes"]["menu"]["options"].append({"key": "2", "goto": name})


def _ask(save_as, **extra):
    return dict({"kind": "collect", "prompt": {"zh": "请输入", "en": "Enter it"}, "save_as": save_as, "next": "bye",
                 "no_input": "bye"}, **extra)


def _say(zh, en, next_node="bye"):
    return {"kind": "say", "prompt": {"zh": zh, "en": en}, "next": next_node}


# (name, mutation, fragments the message must hold: what is wrong, where, and the fix)
BROKEN = [
    ("unknown key", lambda d: d["nodes"]["menu"].update(promt="x"), ["unknown key 'promt'"]),
    ("missing target", lambda d: d["nodes"]["menu"]["options"][0].update(goto="nowhere"),
     ["target 'nowhere' does not exist"]),
    ("unreachable node", lambda d: d["nodes"].update(orphan={"kind": "hangup"}), ["node 'orphan' is unreachable"]),
    ("menu without no-input path", lambda d: d["nodes"]["menu"].pop("no_input"), ["needs 'no_input'"]),
    ("prompt missing a language", lambda d: d["nodes"]["bye"]["prompt"].pop("en"), ["missing the 'en' translation"]),
    ("message missing a language", lambda d: d["messages"]["apology"].pop("zh"), ["missing the 'zh' translation"]),
    ("missing message", lambda d: d["messages"].pop("apology"), ["missing 'apology'"]),
    ("unknown kind", lambda d: d["nodes"]["bye"].update(kind="play"), ["kind 'play' is not one of"]),
    ("unknown action", lambda d: _lead_to(d, "act", {"kind": "action", "run": "no_such_action", "outcomes": {}}),
     ["node 'act'", "action 'no_such_action' is not registered; known: ['look_up']"]),
    ("duplicate key", lambda d: d["nodes"]["menu"]["options"].append({"key": "1", "goto": "bye"}), ["already used"]),
    ("bad key", lambda d: d["nodes"]["menu"]["options"].append({"key": "#", "goto": "bye"}), ["must be one of 0-9 or *"]),
    ("missing start", lambda d: d.update(start="nope"), ["start node 'nope' does not exist"]),
    ("loop without input", lambda d: d["nodes"].update(a=_say("甲", "a", "b"), b=_say("乙", "b", "a"))
     or d["nodes"]["menu"]["options"].append({"key": "2", "goto": "a"}), ["loops without waiting for the caller"]),
    ("action outcome without target", lambda d: _lead_to(d, "act", {"kind": "action", "run": "look_up",
                                                                     "outcomes": {"found": "bye"}}),
     ["node 'act'", "outcome 'missing' of action 'look_up' has no target; add it"]),
    ("unknown validator", lambda d: _lead_to(d, "ask", _ask("amount", validate="money")),
     ["node 'ask'", "validator 'money' is not registered; known: ['digits']"]),
    # The four the flow checks for a language, a transfer, a secret and a placeholder.
    ("placeholder no earlier node sets", lambda d: _lead_to(d, "thanks", _say("谢谢{name}", "Thanks {name}")),
     ["node 'thanks' prompt", "no earlier node sets {name}", "set it before this node"]),
    ("placeholder set only after it", lambda d: _lead_to(d, "thanks", _say("谢谢{amount}", "Thanks {amount}", "ask"))
     or d["nodes"].update(ask=_ask("amount")), ["node 'thanks' prompt", "no earlier node sets {amount}"]),
    ("placeholder in a message spoken anywhere", lambda d: d["messages"]["invalid"].update(en="Not {name}"),
     ["message 'invalid'", "{name} cannot be filled", "remove it"]),
    ("transfer to an unknown target", lambda d: _lead_to(d, "dial", {"kind": "transfer", "to": "manager", "next": "bye",
                                                                     "no_answer": "bye"}),
     ["node 'dial'", "transfer target 'manager' is unknown", "set 'to' to one of ['agent']"]),
    ("secret not marked", lambda d: _lead_to(d, "ask", _ask("pin_code")),
     ["node 'ask'", "'pin_code' is a secret", "add 'secret: true'"]),
    ("secret spoken back", lambda d: _lead_to(d, "ask", _ask("pin_code", secret=True, next="echo"))
     or d["nodes"].update(echo=_say("您输入了{pin_code}", "You said {pin_code}")),
     ["node 'echo' prompt", "{pin_code} is a secret", "never speak it back"]),
    ("language without voice settings", lambda d: d.update(languages=["zh", EN]),
     ["language 'zh' has no voice settings", "declare it as {code: zh, name: 普通话, say: cmn-CN, voice: Polly.Zhiyu"]),
    ("language without a voice", lambda d: d["languages"][1].pop("voice"),
     ["language 'en'", "missing 'voice'", "add e.g. 'voice: Polly.Zhiyu"]),
    ("language without speech recognition", lambda d: d["languages"][0].pop("speech"),
     ["language 'zh'", "missing 'speech'", "add e.g. 'speech: cmn-Hans-CN"]),
    ("language tag that is not one", lambda d: d["languages"][1].update(say="English (US)"),
     ["language 'en'", "say 'English (US)' is not a language tag", "use e.g. 'say: cmn-CN"]),
    ("language declared twice", lambda d: d["languages"].append(dict(EN)), ["language 'en'", "declared twice"]),
    ("set without a mapping", lambda d: _lead_to(d, "note", {"kind": "set", "set": "fee", "next": "bye"}),
     ["node 'note'", "'set' maps variable names to values, e.g. set: {report_category: fee}"]),
    ("set of a name that is no variable",
     lambda d: _lead_to(d, "note", {"kind": "set", "set": {"Fee!": 1}, "next": "bye"}),
     ["node 'note'", "set: 'Fee!' is not a variable name"]),
    ("star words without a star", lambda d: _lead_to(d, "ask", _ask("amount", star_words={"en": ["hidden"]})),
     ["node 'ask'", "add 'star: <node name>'"]),
]


@pytest.mark.parametrize("name, mutate, fragments", BROKEN, ids=[case[0] for case in BROKEN])
def test_broken_flow_names_file_node_and_fix(tmp_path, name, mutate, fragments):
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(_break(mutate), allow_unicode=True), encoding="utf-8")
    with pytest.raises(FlowError) as error:
        load_flow(path, _registry())
    assert str(error.value).startswith(f"{path}: ")
    for fragment in fragments:
        assert fragment in str(error.value)


def test_minimal_flow_is_valid(tmp_path):
    path = tmp_path / "mini.yaml"
    path.write_text(yaml.safe_dump(_minimal(), allow_unicode=True), encoding="utf-8")
    assert set(load_flows(tmp_path, _registry())["mini"].nodes) == {"menu", "bye"}


def test_yaml_is_read_safely(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("flow: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(FlowError, match="cannot read the flow"):
        load_flow(path, _registry())


def test_a_bad_flow_stops_the_app(tmp_path):
    path = tmp_path / "hotline.yaml"
    path.write_text(yaml.safe_dump(_break(lambda d: d["nodes"]["menu"].pop("no_input")) | {"flow": "hotline"}))
    with pytest.raises(RuntimeError, match="cannot start.*no_input"):
        create_app({"FLOWS_DIR": str(tmp_path), "DATABASE": str(tmp_path / "x.db")})


def test_check_flows_command(runner, tmp_path):
    result = runner.invoke(args=["check-flows"])
    assert result.exit_code == 0, result.output
    assert "flow 'hotline'" in result.output
    # Each language, in the order 9 moves through them, with how Twilio speaks and hears it.
    assert re.search(r"zh +普通话: <Say language='cmn-CN' voice='Polly.Zhiyu'>, speech recognition 'cmn-Hans-CN'\n"
                     r".*en +English: .*\n.*yue +廣東話: <Say language='yue-HK' voice='Google.yue-HK-Standard-A'>,"
                     r" speech recognition 'yue-Hant-HK'", result.output)
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(_break(lambda d: d["nodes"]["bye"]["prompt"].pop("en"))))
    result = runner.invoke(args=["check-flows", str(tmp_path)])
    assert result.exit_code != 0
    assert "missing the 'en' translation" in result.output


# -- variables and registries are the flow's, not globals ------------------------------------------------


def _flow_with(tmp_path, registry, nodes, start):
    """Load the minimal flow with `nodes` added, `start` reached from the menu's key 2."""
    data = _minimal()
    data["nodes"].update(nodes)
    data["nodes"]["menu"]["options"].append({"key": "2", "goto": start})
    path = tmp_path / "mini.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_flow(path, registry)


def _run(flow, start):
    """Render `start` for a new call of `flow`; return the context (its TwiML, variables and events)."""
    settings = engine.Settings(numbers={}, business_hours=None, url=lambda node, **flags: f"/voice/step?node={node}")
    context = engine.CallContext(flow=flow, settings=settings, database=None, call={"state": {}}, form={})
    engine.render(context, start)
    return context


def test_a_set_node_sets_what_a_later_prompt_speaks(tmp_path):
    flow = _flow_with(tmp_path, _registry(), {
        "note": {"kind": "set", "set": {"category": "fee", "count": 2}, "next": "told"},
        "told": _say("类别{category}，{count}次", "Category {category}, {count} times"),
    }, "note")
    context = _run(flow, "note")
    assert context.vars == {"category": "fee", "count": 2}
    assert "类别fee，2次" in str(context.response)


def test_the_engine_runs_the_actions_of_the_registry_its_flow_was_loaded_with(tmp_path):
    registry = _registry()
    flow = _flow_with(tmp_path, registry, {
        "find": {"kind": "action", "run": "look_up", "outcomes": {"found": "found", "missing": "bye"}},
        "found": _say("找到{merchant_name}", "Found {merchant_name}"),
    }, "find")
    assert "找到Noodle House" in str(_run(flow, "find").response)
    # Another registry knows nothing of look_up: registries are objects handed to the loader, not globals.
    with pytest.raises(FlowError, match="action 'look_up' is not registered"):
        load_flow(tmp_path / "mini.yaml", Registry(transfer_targets=("agent",)))


# -- a language is YAML alone --------------------------------------------------------------------------


def _with_french(value, mark="(fr) "):
    """A French text for every English one (a prompt, a message or a list of words), made from the English."""
    if isinstance(value, dict):
        if "en" in value:
            english = value["en"]
            value["fr"] = list(english) if isinstance(english, list) else mark + english
        for item in value.values():
            _with_french(item, mark)
    elif isinstance(value, list):
        for item in value:
            _with_french(item, mark)
    return value


@pytest.fixture
def french_app(tmp_path, request):
    """An app on a copy of the shipped flow with a fourth language added, and nothing else changed."""
    flows = tmp_path / "flows"
    flows.mkdir()
    data = yaml.safe_load((FLOWS / "hotline.yaml").read_text(encoding="utf-8"))
    languages = data.pop("languages")
    data = _with_french(data)
    data["languages"] = languages + [
        {"code": "fr", "name": "Français", "say": "fr-FR", "voice": "Polly.Lea", "speech": "fr-FR"}]
    (flows / "hotline.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    catalogue = tmp_path / "outreach_actions.yaml"
    catalogue.write_text(yaml.safe_dump(_with_french(yaml.safe_load(CATALOGUE.read_text(encoding="utf-8")), mark=""),
                                        allow_unicode=True), encoding="utf-8")
    return create_app({"TESTING": True, **database_settings(tmp_path, request), "TWILIO_AUTH_TOKEN": TOKEN,
                       "AGENT_NUMBER": AGENT, "BUSINESS_HOURS": "24/7", "SECRET_KEY": "x",
                       "FLOWS_DIR": str(flows), "OUTREACH_ACTIONS": str(catalogue)})


def test_a_fourth_language_needs_no_python_change(french_app):
    call = CallHelper(french_app)
    call.start()
    for _ in range(3):
        turn = call.press("9")
    gather = turn.waiting
    assert gather.get("language") == "fr-FR"
    welcome, offer = gather.findall("Say")
    assert (welcome.get("language"), welcome.get("voice")) == ("fr-FR", "Polly.Lea")
    assert welcome.text.startswith("(fr) Official merchant verification hotline.")
    # From the last language, 9 offers the first again, in its own voice.
    assert (offer.get("language"), offer.get("voice"), offer.text) == ("cmn-CN", "Polly.Zhiyu", "说普通话，请按9。")
    turn = call.press("2")
    assert turn.text.startswith("(fr) Part one, how genuine updates arrive")
    turn = call.say("next please")
    assert turn.text.startswith("(fr) Part two, before an update")
    assert rows(french_app, "SELECT language FROM calls") == [{"language": "fr"}]
    call.press("*")
    assert call.press("*").text.startswith("(fr) To check a request, press 1.")
    # A fourth 9 goes back to the first language.
    assert call.press("9").text.startswith("核实请按1")
    assert rows(french_app, "SELECT language FROM calls") == [{"language": "zh"}]


def test_the_dashboard_offers_the_languages_the_flow_declares(french_app):
    with databases.opened(french_app.config) as connection:
        users.create_user(connection, "abe", "agent", STAFF_PASSWORD)
    client = french_app.test_client()
    client.get("/dashboard/login")
    client.post("/dashboard/login", data={"name": "abe", "password": STAFF_PASSWORD, "csrf_token": csrf_of(client)})
    page = client.get("/dashboard/calls?language=fr").get_data(as_text=True)
    options = re.findall(r'<option value="(\w+)" (?:selected)?>([^<]+)</option>', page)
    assert [(code, name) for code, name in options if code in ("zh", "en", "yue", "fr")] == [
        ("zh", "普通话"), ("en", "English"), ("yue", "廣東話"), ("fr", "Français")]
    assert 'value="fr" selected' in page
