"""Call flows as data: YAML files read safely into frozen dataclasses, checked strictly."""
import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import yaml

from ivr.errors import FlowError

# libyaml's loader when it is installed (several times faster: create_app reads the flows), safe either way.
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
DTMF_KEYS = set("0123456789*#")
TOP_LEVEL_KEYS = {"flow", "description", "languages", "start", "max_retries", "messages", "nodes"}
REQUIRED_MESSAGES = ("no_input", "invalid", "too_many_tries", "apology")
# Spoken by the engine at any point of a call (or with no call at all), so no call variable is sure to be set.
ANYWHERE_MESSAGES = REQUIRED_MESSAGES + ("switch_to",)
# What each language declares, with an example for the messages that ask for it.
LANGUAGE_KEYS = {
    "code": "zh",
    "name": "普通话",
    "say": "cmn-CN (the TwiML <Say> language)",
    "voice": "Polly.Zhiyu (the text-to-speech voice)",
    "speech": "cmn-Hans-CN (the speech recognition language of <Gather>)",
}
LANGUAGE_CODE = re.compile(r"^[a-z][a-z0-9_]{1,15}$")
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
COMMON_KEYS = {"kind", "description"}
# kind: (required keys, optional keys)
KINDS = {
    "say": ({"prompt", "next"}, set()),
    "set": ({"set", "next"}, set()),
    "menu": ({"prompt", "options", "no_input"}, {"timeout", "reprompt"}),
    "collect": (
        {"prompt", "save_as", "next", "no_input"},
        {"min_digits", "max_digits", "speech", "validate", "empty", "star", "star_words", "secret", "timeout",
         "invalid", "reprompt"},
    ),
    "record": ({"prompt", "save_as", "next"}, {"max_length", "empty"}),
    "transfer": ({"to", "next", "no_answer"}, {"prompt", "timeout", "hours", "closed"}),
    "hangup": (set(), {"prompt"}),
    "action": ({"run", "outcomes"}, {"prompt"}),
}
TARGET_KEYS = ("next", "no_input", "empty", "star", "no_answer", "closed")
# Edges taken without waiting for the caller; a cycle of these would loop inside one webhook.
IMMEDIATE_KEYS = {"say": ("next",), "set": ("next",), "transfer": ("closed", "no_answer"), "action": ()}
OPTION_KEYS = {"key", "words", "goto", "language"}
VARIABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
# A collected value named with one of these words is a secret: the call log must keep only its length.
SECRET_WORDS = {"code", "pin", "password", "passcode", "otp", "secret", "cvv"}


@dataclass(frozen=True)
class Language:
    """One language of a flow: its code in prompts, its name for staff, and how Twilio speaks and hears it."""

    code: str
    name: str
    say: str  # the language attribute of <Say>
    voice: str
    speech: str  # the language attribute of a <Gather> that listens for speech


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
    assigns: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))  # a set node's `set:`
    run: str | None = None
    save_as: str | None = None
    validate: str | None = None
    secret: bool = False  # the call log keeps only the length of what the caller keyed or said
    star_words: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))  # spoken instead of *
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

    def prompts(self):
        """Return (key, prompt) for each prompt the node can speak."""
        return [(key, getattr(self, key)) for key in ("prompt", "reprompt", "invalid") if getattr(self, key)]

    def variables_set(self, registry):
        """Return the call variables this node sets for the nodes after it."""
        if self.kind == "set":
            return set(self.assigns)
        if self.kind == "action":
            return set(registry.actions[self.run].sets)
        return {self.save_as} if self.save_as else set()


@dataclass(frozen=True)
class Flow:
    """A whole call flow: its nodes, start node, languages, shared messages and the registry its nodes name."""

    name: str
    path: str
    start: str
    languages: tuple  # language codes in the declared order, which `9` moves through
    language_settings: MappingProxyType  # code -> Language
    max_retries: int
    messages: MappingProxyType
    nodes: MappingProxyType
    registry: object = field(compare=False, repr=False)

    def node(self, name):
        """Return the node called `name`, or raise FlowError."""
        try:
            return self.nodes[name]
        except KeyError:
            raise FlowError(f"{self.path}: no node named {name!r}") from None

    def message(self, name, language, variables=None):
        """Return a shared message in `language`."""
        return self.messages[name].text(language, variables)


def load_flow(path, registry, voices=None):
    """Read, build and validate one flow file against `registry`, raising FlowError that names the file, node and fix.

    `voices` ({code: voice}) replaces the voices the file declares, for a deployment whose account lacks them.
    """
    path = Path(path)
    where = str(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise FlowError(f"{where}: cannot read the flow: {error}") from None
    if not isinstance(data, dict):
        raise FlowError(f"{where}: a flow file must be a mapping with keys {sorted(TOP_LEVEL_KEYS)}")
    _no_unknown(where, "the file", data, TOP_LEVEL_KEYS)
    for key in ("flow", "languages", "start", "messages", "nodes"):
        if key not in data:
            raise FlowError(f"{where}: missing top-level key {key!r}; add it")
    settings = _languages(where, data["languages"], voices or {})
    languages = tuple(settings)
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
    nodes = {name: _node(where, str(name), raw, languages, registry) for name, raw in raw_nodes.items()}
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
        language_settings=MappingProxyType(settings),
        max_retries=max_retries,
        messages=MappingProxyType(built_messages),
        nodes=MappingProxyType(nodes),
        registry=registry,
    )
    _check_graph(flow)
    _check_placeholders(flow)
    return flow


def load_flows(directory, registry, voices=None):
    """Load and validate every *.yaml flow in `directory` against `registry`, keyed by flow name."""
    directory = Path(directory)
    paths = sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml"))
    if not paths:
        raise FlowError(f"{directory}: no flow files (*.yaml) found")
    flows = {}
    for path in paths:
        flow = load_flow(path, registry, voices)
        if flow.name in flows:
            raise FlowError(f"{path}: flow name {flow.name!r} is already used by {flows[flow.name].path}")
        flows[flow.name] = flow
    return flows


def _languages(where, raw, voices):
    example = "{" + ", ".join(f"{key}: {value.split(' ')[0]}" for key, value in LANGUAGE_KEYS.items()) + "}"
    if not isinstance(raw, list) or not raw:
        raise FlowError(f"{where}: 'languages' must be a list of languages such as {example}")
    settings = {}
    for entry in raw:
        if not isinstance(entry, dict):
            raise FlowError(f"{where}: language {entry!r} has no voice settings; declare it as {example}")
        code = entry.get("code")
        if not isinstance(code, str) or not LANGUAGE_CODE.match(code) or code == "switch":
            raise FlowError(
                f"{where}: languages: code {code!r} must be 2-16 lower-case letters, digits or '_' (e.g. zh, en, yue)"
            )
        what = f"{where}: language {code!r}"
        _no_unknown(where, f"language {code!r}", entry, set(LANGUAGE_KEYS))
        for key, meaning in LANGUAGE_KEYS.items():
            value = entry.get(key)
            if not isinstance(value, str) or not value.strip():
                raise FlowError(f"{what}: missing {key!r}; add e.g. '{key}: {meaning}'")
        for key in ("say", "speech"):
            if not LANGUAGE_TAG.match(entry[key]):
                raise FlowError(
                    f"{what}: {key} {entry[key]!r} is not a language tag; use e.g. '{key}: {LANGUAGE_KEYS[key]}'"
                )
        if code in settings:
            raise FlowError(f"{what}: declared twice; keep one")
        settings[code] = Language(
            code=code, name=entry["name"].strip(), say=entry["say"], speech=entry["speech"],
            voice=voices.get(code, entry["voice"].strip()),
        )
    return settings


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


def _node(where, name, raw, languages, registry):
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
    for key in ("speech", "hours", "secret"):
        if key in raw:
            if not isinstance(raw[key], bool):
                raise FlowError(f"{where}: {what}: {key!r} must be true or false")
            values[key] = raw[key]
    if values.get("min_digits", 1) > values.get("max_digits", 20):
        raise FlowError(f"{where}: {what}: min_digits is larger than max_digits")
    if kind == "menu":
        values["options"] = _options(where, what, raw["options"], languages)
    if kind == "action":
        values["outcomes"] = _outcomes(where, what, raw, registry)
    if kind == "set":
        values["assigns"] = _assigns(where, what, raw["set"])
    if "star_words" in raw:
        if "star" not in raw:
            raise FlowError(f"{where}: {what}: 'star_words' are said instead of pressing *; add 'star: <node name>'")
        values["star_words"] = _words(where, f"{what} star_words", raw["star_words"], languages)
    if kind == "collect" and "validate" in raw and raw["validate"] not in registry.validators:
        raise FlowError(
            f"{where}: {what}: validator {raw['validate']!r} is not registered; known: {sorted(registry.validators)}"
        )
    if kind == "collect" and SECRET_WORDS & set(raw["save_as"].split("_")) and not raw.get("secret"):
        raise FlowError(
            f"{where}: {what}: {raw['save_as']!r} is a secret; add 'secret: true' so the call log keeps only its length"
        )
    if kind == "transfer" and raw["to"] not in registry.transfer_targets:
        raise FlowError(
            f"{where}: {what}: transfer target {raw['to']!r} is unknown;"
            f" set 'to' to one of {sorted(registry.transfer_targets)}"
        )
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
        words = _words(where, f"{label} words", raw.get("words", {}) or {}, languages)
        language = raw.get("language")
        if language is not None and language not in set(languages) | {"switch"}:
            raise FlowError(f"{where}: {label}: language must be one of {list(languages)} or 'switch'")
        options.append(Option(key=key, goto=raw["goto"], words=words, language=language))
    return tuple(options)


def _words(where, what, words, languages):
    """Check words a caller may say, {language: [word, ...]}, and return them lower-cased per language."""
    if not isinstance(words, dict) or set(words) - set(languages):
        raise FlowError(f"{where}: {what}: map each language {list(languages)} to a list of words")
    built = {}
    for language in languages:
        listed = words.get(language, [])
        if not isinstance(listed, list) or not all(isinstance(word, str) and word for word in listed):
            raise FlowError(f"{where}: {what}: words for {language!r} must be a list of words")
        built[language] = tuple(word.lower() for word in listed)
    return MappingProxyType(built)


def _assigns(where, what, raw):
    if not isinstance(raw, dict) or not raw:
        raise FlowError(f"{where}: {what}: 'set' maps variable names to values, e.g. set: {{report_category: fee}}")
    for name, value in raw.items():
        if not isinstance(name, str) or not VARIABLE_NAME.match(name):
            raise FlowError(
                f"{where}: {what}: set: {name!r} is not a variable name; use lower-case letters, digits and '_'"
            )
        if not isinstance(value, (str, int, float, bool)):
            raise FlowError(f"{where}: {what}: set: {name!r} must be a text, a number or true/false, not {value!r}")
    return MappingProxyType(dict(raw))


def _outcomes(where, what, raw, registry):
    action = registry.actions.get(raw["run"])
    if action is None:
        raise FlowError(f"{where}: {what}: action {raw['run']!r} is not registered; known: {sorted(registry.actions)}")
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


def _check_placeholders(flow):
    """Every {placeholder} a node speaks must be set by a node before it; shared messages spoken anywhere use none."""
    where = flow.path
    for name in ANYWHERE_MESSAGES:
        if name in flow.messages and flow.messages[name].placeholders:
            placeholder = sorted(flow.messages[name].placeholders)[0]
            raise FlowError(
                f"{where}: message {name!r}: {{{placeholder}}} cannot be filled, since this message is spoken at any"
                " point of a call; remove it"
            )
    # What each node may have set by the time the caller reaches a node: every node that can lead to it.
    available = {name: set() for name in flow.nodes}
    for node in flow.nodes.values():
        variables = node.variables_set(flow.registry)
        if not variables:
            continue
        seen = set()
        waiting = list(node.targets())
        while waiting:
            name = waiting.pop()
            if name not in seen:
                seen.add(name)
                available[name] |= variables
                waiting.extend(flow.nodes[name].targets())
    secrets = {node.save_as for node in flow.nodes.values() if node.secret}
    for node in flow.nodes.values():
        for key, prompt in node.prompts():
            spoken_secrets = sorted(prompt.placeholders & secrets)
            if spoken_secrets:
                raise FlowError(
                    f"{where}: node {node.name!r} {key}: {{{spoken_secrets[0]}}} is a secret the caller gave;"
                    " never speak it back; remove it"
                )
            missing = sorted(prompt.placeholders - available[node.name])
            if missing:
                raise FlowError(
                    f"{where}: node {node.name!r} {key}: no earlier node sets {{{missing[0]}}}; set it before this"
                    " node (save_as, a set node, or an action registered with sets=...) or remove it"
                )
