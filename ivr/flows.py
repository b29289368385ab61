"""Call flows as data: YAML files read with safe_load into frozen dataclasses, checked strictly."""
import string
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import yaml

from . import registry
from .errors import FlowError

DTMF_KEYS = set("0123456789*#")
TOP_LEVEL_KEYS = {"flow", "description", "languages", "start", "max_retries", "messages", "nodes"}
REQUIRED_MESSAGES = ("no_input", "invalid", "too_many_tries", "apology")
COMMON_KEYS = {"kind", "description"}
# kind: (required keys, optional keys)
KINDS = {
    "say": ({"prompt", "next"}, set()),
    "menu": ({"prompt", "options", "no_input"}, {"timeout", "reprompt"}),
    "collect": (
        {"prompt", "save_as", "next", "no_input"},
        {"min_digits", "max_digits", "speech", "validate", "empty", "star", "timeout", "invalid", "reprompt"},
    ),
    "record": ({"prompt", "save_as", "next"}, {"max_length", "empty"}),
    "transfer": ({"to", "next", "no_answer"}, {"prompt", "timeout", "hours", "closed"}),
    "hangup": (set(), {"prompt"}),
    "action": ({"run", "outcomes"}, {"prompt"}),
}
TARGET_KEYS = ("next", "no_input", "empty", "star", "no_answer", "closed")
# Edges taken without waiting for the caller; a cycle of these would loop inside one webhook.
IMMEDIATE_KEYS = {"say": ("next",), "transfer": ("closed", "no_answer"), "action": ()}
INPUT_KINDS = {"menu", "collect", "record", "transfer"}
OPTION_KEYS = {"key", "words", "goto", "language"}


@dataclass(frozen=True)
class Prompt:
    """Words in every language of the flow, with optional {placeholders} filled from call variables."""

    texts: MappingProxyType

    def text(self, language, variables=None):
        """Return the words for `language` with placeholders filled from `variables`."""
        template = self.texts[language]
        if variables is None:
            return template
        return template.format_map(_LanguageVariables(variables, language))

    @property
    def placeholders(self):
        """Return the names of every placeholder used in any language."""
        names = set()
        for template in self.texts.values():
            names.update(name for _, name, _, _ in string.Formatter().parse(template) if name)
        return names


class _LanguageVariables(dict):
    """Variables for str.format_map; a value may itself be a {language: text} mapping."""

    def __init__(self, variables, language):
        super().__init__(variables)
        self.language = language

    def __getitem__(self, name):
        value = super().__getitem__(name)
        if isinstance(value, dict):
            return value.get(self.language, "")
        return value

    def __missing__(self, name):
        raise FlowError(f"prompt needs variable {name!r}, which this call does not have")


@dataclass(frozen=True)
class Option:
    """One menu choice: a key, spoken words per language, where it leads, and an optional language switch."""

    key: str
    goto: str
    words: MappingProxyType
    language: str | None = None


@dataclass(frozen=True)
class Node:
    """One step of a call flow."""

    name: str
    kind: str
    prompt: Prompt | None = None
    next: str | None = None
    no_input: str | None = None
    empty: str | None = None
    star: str | None = None
    no_answer: str | None = None
    closed: str | None = None
    options: tuple = ()
    outcomes: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    run: str | None = None
    save_as: str | None = None
    validate: str | None = None
    invalid: Prompt | None = None
    reprompt: Prompt | None = None  # what a retry repeats (the choices), when shorter than the first prompt
    min_digits: int = 1
    max_digits: int = 20
    speech: bool = True
    timeout: int = 6
    max_length: int = 60
    to: str | None = None
    hours: bool = False
    description: str = ""

    def targets(self):
        """Return every node name this node can lead to."""
        found = [getattr(self, key) for key in TARGET_KEYS if getattr(self, key)]
        found.extend(option.goto for option in self.options)
        found.extend(self.outcomes.values())
        return found

    def immediate_targets(self):
        """Return the nodes this node moves to without waiting for the caller."""
        if self.kind == "action":
            return list(self.outcomes.values())
        return [getattr(self, key) for key in IMMEDIATE_KEYS.get(self.kind, ()) if getattr(self, key)]


@dataclass(frozen=True)
class Flow:
    """A whole call flow: its nodes, start node, languages and shared messages."""

    name: str
    path: str
    start: str
    languages: tuple
    max_retries: int
    messages: MappingProxyType
    nodes: MappingProxyType

    def node(self, name):
        """Return the node called `name`, or raise FlowError."""
        try:
            return self.nodes[name]
        except KeyError:
            raise FlowError(f"{self.path}: no node named {name!r}") from None

    def message(self, name, language, variables=None):
        """Return a shared message in `language`."""
        return self.messages[name].text(language, variables)


def load_flow(path):
    """Read, build and validate one flow file, raising FlowError that names the file, node and fix."""
    path = Path(path)
    where = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise FlowError(f"{where}: cannot read the flow: {error}") from None
    if not isinstance(data, dict):
        raise FlowError(f"{where}: a flow file must be a mapping with keys {sorted(TOP_LEVEL_KEYS)}")
    _no_unknown(where, "the file", data, TOP_LEVEL_KEYS)
    for key in ("flow", "languages", "start", "messages", "nodes"):
        if key not in data:
            raise FlowError(f"{where}: missing top-level key {key!r}; add it")
    languages = data["languages"]
    if not isinstance(languages, list) or not languages or not all(isinstance(x, str) for x in languages):
        raise FlowError(f"{where}: 'languages' must be a list such as [zh, en]")
    languages = tuple(languages)
    messages = data["messages"] or {}
    if not isinstance(messages, dict):
        raise FlowError(f"{where}: 'messages' must be a mapping of message name to prompt")
    for name in REQUIRED_MESSAGES:
        if name not in messages:
            raise FlowError(f"{where}: messages: missing {name!r}; add it with a text for each of {list(languages)}")
    built_messages = {
        name: _prompt(where, f"message {name!r}", value, languages) for name, value in messages.items()
    }
    raw_nodes = data["nodes"]
    if not isinstance(raw_nodes, dict) or not raw_nodes:
        raise FlowError(f"{where}: 'nodes' must be a mapping of node name to node")
    nodes = {name: _node(where, str(name), raw, languages) for name, raw in raw_nodes.items()}
    max_retries = data.get("max_retries", 2)
    if not isinstance(max_retries, int) or not 0 <= max_retries <= 5:
        raise FlowError(f"{where}: 'max_retries' must be a whole number from 0 to 5")
    switches = [node.name for node in nodes.values() if any(option.language == "switch" for option in node.options)]
    if switches and "switch_to" not in built_messages:
        raise FlowError(
            f"{where}: node {switches[0]!r} switches language, so messages need 'switch_to': in each language,"
            " how to choose it (e.g. en: For English, press 9.)"
        )
    flow = Flow(
        name=str(data["flow"]),
        path=where,
        start=str(data["start"]),
        languages=languages,
        max_retries=max_retries,
        messages=MappingProxyType(built_messages),
        nodes=MappingProxyType(nodes),
    )
    _check_graph(flow)
    return flow


def load_flows(directory):
    """Load and validate every *.yaml flow in `directory`, keyed by flow name."""
    directory = Path(directory)
    paths = sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml"))
    if not paths:
        raise FlowError(f"{directory}: no flow files (*.yaml) found")
    flows = {}
    for path in paths:
        flow = load_flow(path)
        if flow.name in flows:
            raise FlowError(f"{path}: flow name {flow.name!r} is already used by {flows[flow.name].path}")
        flows[flow.name] = flow
    return flows


def _no_unknown(where, what, data, allowed):
    unknown = sorted(set(map(str, data)) - allowed)
    if unknown:
        raise FlowError(f"{where}: {what}: unknown key {unknown[0]!r}; allowed keys are {sorted(allowed)}")


def _prompt(where, what, value, languages):
    if isinstance(value, str) or not isinstance(value, dict):
        raise FlowError(f"{where}: {what}: a prompt must give a text for each language {list(languages)}")
    unknown = sorted(set(value) - set(languages))
    if unknown:
        raise FlowError(f"{where}: {what}: language {unknown[0]!r} is not one of the flow's {list(languages)}")
    for language in languages:
        text = value.get(language)
        if not isinstance(text, str) or not text.strip():
            raise FlowError(f"{where}: {what}: missing the {language!r} translation; add '{language}: ...'")
    prompt = Prompt(MappingProxyType({language: value[language].strip() for language in languages}))
    try:
        prompt.placeholders
    except ValueError as error:
        raise FlowError(f"{where}: {what}: bad placeholder: {error}") from None
    return prompt


def _node(where, name, raw, languages):
    what = f"node {name!r}"
    if not isinstance(raw, dict):
        raise FlowError(f"{where}: {what}: a node must be a mapping with a 'kind'")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise FlowError(f"{where}: {what}: kind {kind!r} is not one of {sorted(KINDS)}")
    required, optional = KINDS[kind]
    _no_unknown(where, f"{what} ({kind})", raw, required | optional | COMMON_KEYS)
    for key in sorted(required):
        if key not in raw:
            hint = " (where the caller goes after the last retry)" if key == "no_input" else ""
            raise FlowError(f"{where}: {what}: a {kind} node needs {key!r}{hint}; add it")
    values = {"name": name, "kind": kind, "description": str(raw.get("description", ""))}
    for key in ("prompt", "invalid", "reprompt"):
        if key in raw:
            values[key] = _prompt(where, f"{what} {key}", raw[key], languages)
    for key in TARGET_KEYS + ("run", "save_as", "validate", "to"):
        if key in raw:
            if not isinstance(raw[key], str) or not raw[key]:
                raise FlowError(f"{where}: {what}: {key!r} must be a name")
            values[key] = raw[key]
    for key, low, high in (("min_digits", 1, 30), ("max_digits", 1, 30), ("timeout", 1, 60), ("max_length", 1, 600)):
        if key in raw:
            if not isinstance(raw[key], int) or isinstance(raw[key], bool) or not low <= raw[key] <= high:
                raise FlowError(f"{where}: {what}: {key!r} must be a whole number from {low} to {high}")
            values[key] = raw[key]
    for key in ("speech", "hours"):
        if key in raw:
            if not isinstance(raw[key], bool):
                raise FlowError(f"{where}: {what}: {key!r} must be true or false")
            values[key] = raw[key]
    if values.get("min_digits", 1) > values.get("max_digits", 20):
        raise FlowError(f"{where}: {what}: min_digits is larger than max_digits")
    if kind == "menu":
        values["options"] = _options(where, what, raw["options"], languages)
    if kind == "action":
        values["outcomes"] = _outcomes(where, what, raw)
    if kind == "collect" and "validate" in raw and raw["validate"] not in registry.VALIDATORS:
        raise FlowError(
            f"{where}: {what}: validator {raw['validate']!r} is not registered; known: {sorted(registry.VALIDATORS)}"
        )
    if kind in ("say",) and "prompt" not in values:
        raise FlowError(f"{where}: {what}: a say node needs a prompt")
    return Node(**values)


def _options(where, what, raw_options, languages):
    if not isinstance(raw_options, list) or not raw_options:
        raise FlowError(f"{where}: {what}: 'options' must be a non-empty list of {{key, goto, words}}")
    seen = {}
    options = []
    for index, raw in enumerate(raw_options):
        label = f"{what} option {index + 1}"
        if not isinstance(raw, dict):
            raise FlowError(f"{where}: {label}: an option must be a mapping with key and goto")
        _no_unknown(where, label, raw, OPTION_KEYS)
        key = str(raw.get("key", ""))
        if len(key) != 1 or key not in DTMF_KEYS or key == "#":
            raise FlowError(f"{where}: {label}: key {key!r} must be one of 0-9 or *")
        if key in seen:
            raise FlowError(f"{where}: {label}: key {key!r} is already used by option {seen[key]}")
        seen[key] = index + 1
        if not isinstance(raw.get("goto"), str):
            raise FlowError(f"{where}: {label}: needs 'goto: <node name>'")
        words = raw.get("words", {}) or {}
        if not isinstance(words, dict) or set(words) - set(languages):
            raise FlowError(f"{where}: {label}: 'words' maps each language {list(languages)} to a list of words")
        built_words = {}
        for language in languages:
            listed = words.get(language, [])
            if not isinstance(listed, list) or not all(isinstance(word, str) and word for word in listed):
                raise FlowError(f"{where}: {label}: words for {language!r} must be a list of words")
            built_words[language] = tuple(word.lower() for word in listed)
        language = raw.get("language")
        if language is not None and language not in set(languages) | {"switch"}:
            raise FlowError(f"{where}: {label}: language must be one of {list(languages)} or 'switch'")
        options.append(Option(key=key, goto=raw["goto"], words=MappingProxyType(built_words), language=language))
    return tuple(options)


def _outcomes(where, what, raw):
    action = registry.ACTIONS.get(raw["run"])
    if action is None:
        raise FlowError(f"{where}: {what}: action {raw['run']!r} is not registered; known: {sorted(registry.ACTIONS)}")
    outcomes = raw["outcomes"]
    if not isinstance(outcomes, dict) or not all(isinstance(v, str) for v in outcomes.values()):
        raise FlowError(f"{where}: {what}: 'outcomes' maps each outcome of {raw['run']!r} to a node name")
    missing = sorted(set(action.outcomes) - set(outcomes))
    if missing:
        raise FlowError(f"{where}: {what}: outcome {missing[0]!r} of action {raw['run']!r} has no target; add it")
    extra = sorted(set(outcomes) - set(action.outcomes))
    if extra:
        raise FlowError(
            f"{where}: {what}: action {raw['run']!r} never returns {extra[0]!r}; its outcomes are {list(action.outcomes)}"
        )
    return MappingProxyType(dict(outcomes))


def _check_graph(flow):
    where = flow.path
    if flow.start not in flow.nodes:
        raise FlowError(f"{where}: start node {flow.start!r} does not exist; set 'start' to one of the nodes")
    for node in flow.nodes.values():
        for target in node.targets():
            if target not in flow.nodes:
                raise FlowError(f"{where}: node {node.name!r}: target {target!r} does not exist; add it or fix the name")
    reachable = set()
    waiting = [flow.start]
    while waiting:
        name = waiting.pop()
        if name not in reachable:
            reachable.add(name)
            waiting.extend(flow.nodes[name].targets())
    unreachable = sorted(set(flow.nodes) - reachable)
    if unreachable:
        raise FlowError(
            f"{where}: node {unreachable[0]!r} is unreachable from {flow.start!r}; link to it or delete it"
        )
    # A cycle of immediate edges would never wait for the caller and loop inside one webhook.
    state = {}

    def visit(name, trail):
        state[name] = "visiting"
        for target in flow.nodes[name].immediate_targets():
            if state.get(target) == "visiting":
                raise FlowError(
                    f"{where}: node {name!r}: {' -> '.join(trail + [target])} loops without waiting for the caller;"
                    " put a menu, collect or record node in the loop"
                )
            if target not in state:
                visit(target, trail + [target])
        state[name] = "done"

    for name in flow.nodes:
        if name not in state:
            visit(name, [name])
