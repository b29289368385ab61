"""Runs a call flow: renders nodes as TwiML and moves a call on from the caller's input."""
import functools
import re
from dataclasses import dataclass, field

from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr import clock
from ivr.errors import FlowError, InvalidInput
from ivr.flow.spoken import digits_from_speech
from ivr.phone import parse_caller

MAX_HOPS = 30
DIAL_ANSWERED = frozenset({"completed", "answered"})
PUNCTUATION = re.compile(r"[\s,，。．.、!！?？:：;；'\"]+")


@dataclass
class Settings:
    """What the engine needs from configuration."""

    numbers: dict
    business_hours: object
    url: object  # url(node, **flags) -> the relative URL of a step
    actions: object = None  # what the flow's actions need from configuration, as they define it


@dataclass
class CallContext:
    """One webhook's view of a call: its row, flow state, the TwiML being built and the events to log."""

    flow: object
    settings: Settings
    database: object
    call: dict
    form: dict
    response: VoiceResponse = field(default_factory=VoiceResponse)
    events: list = field(default_factory=list)
    changes: dict = field(default_factory=dict)

    @property
    def state(self):
        """The call's flow state (node, vars, tries), stored as JSON on the call row."""
        return self.call["state"]

    @property
    def vars(self):
        """Values the flow has collected (reference code, merchant, recording) and prompts may use."""
        return self.state.setdefault("vars", {})

    @property
    def language(self):
        """The code of the caller's language: one the flow declares, its first until the caller switches."""
        language = self.changes.get("language") or self.call.get("language")
        # A call begun before its language was taken out of the flow goes on in the first one.
        return language if language in self.flow.language_settings else self.flow.languages[0]

    @language.setter
    def language(self, value):
        self.changes["language"] = value

    # Cached for this webhook: the verify actions ask for it several times, and the call's number never changes.
    @functools.cached_property
    def caller(self):
        """The caller's number as a Caller (withheld IDs recognised)."""
        return parse_caller(self.call.get("from_raw") or self.call.get("from_number"))

    # One webhook is one moment for the call log: its events share a time (their ids keep their order).
    @functools.cached_property
    def stamp(self):
        """The time of this webhook, as stored."""
        return clock.stamp()

    def log(self, kind, **fields):
        """Queue an event for the call log; it is written with the rest of this webhook's changes."""
        self.events.append(dict(kind=kind, at=self.stamp, node=fields.pop("node", self.state.get("node")), **fields))

    def set(self, **fields):
        """Change columns of the call row (verdict, merchant_id, ...) when this webhook commits."""
        self.changes.update(fields)

    def say(self, text, into=None):
        """Speak `text` in the caller's language, inside a Gather when `into` is given."""
        self.say_in(self.language, text, into=into)

    def prompt(self, node, into=None, retry=False):
        """Speak a node's prompt (its shorter reprompt on a retry) with the call's variables filled in."""
        prompt = node.reprompt if retry and node.reprompt is not None else node.prompt
        if prompt is not None:
            self.say(prompt.text(self.language, self.vars), into=into)

    def say_in(self, language, text, into=None):
        """Speak `text` in one of the flow's languages, with that language's own voice."""
        spoken = self.flow.language_settings[language]
        (into or self.response).say(text, voice=spoken.voice, language=spoken.say)
        self.log("prompt", text=text)

    def url(self, node, **flags):
        """The URL of the step that takes the answer at `node`, for this turn of the call only."""
        # The turn number makes every answer's URLs unique: a replayed request of an earlier turn never
        # matches the turn the call is waiting at, so it changes nothing.
        return self.settings.url(node, turn=self.state.get("turn"), **flags)

    def message(self, name):
        """Speak one of the flow's shared messages."""
        self.say(self.flow.message(name, self.language, self.vars))


def begin(context):
    """Answer a new call: render the flow's start node."""
    context.state.setdefault("tries", {})
    context.state["turn"] = 1
    render(context, context.flow.start)


def awaits(call, node, turn):
    """True when the call is live and waiting for an answer at `node` in turn `turn` (a string from the URL)."""
    state = call["state"]
    if call.get("ended_at") or state.get("node") != node:
        return False
    # Calls begun before turns were numbered have none; they are matched by node alone until they end.
    return "turn" not in state or turn == str(state["turn"])


def render(context, name, retry=False):
    """Render nodes from `name` on until one waits for the caller or ends the call."""
    flow = context.flow
    for _ in range(MAX_HOPS):
        node = flow.node(name)
        context.state["node"] = name
        kind = node.kind
        if kind == "say":
            context.prompt(node)
            name = node.next
        elif kind == "set":
            context.vars.update(node.assigns)
            name = node.next
        elif kind == "action":
            context.prompt(node)
            name = node.outcomes[_run_action(context, node)]
        elif kind == "hangup":
            context.prompt(node)
            context.response.hangup()
            context.log("hangup")
            return
        elif kind in ("menu", "collect"):
            _gather(context, node, retry and name == node.name)
            return
        elif kind == "record":
            context.prompt(node)
            context.response.record(
                action=context.url(name), method="POST", max_length=node.max_length,
                finish_on_key="#", play_beep=True, timeout=5, trim="trim-silence",
            )
            # Twilio skips the action URL when nothing was recorded and goes on to the next verb.
            context.response.redirect(context.url(name, empty="1"), method="POST")
            return
        elif kind == "transfer":
            number = context.settings.numbers.get(node.to)
            if not number:
                context.log("transfer", detail={"result": "no number configured", "to": node.to})
                name = node.no_answer
                continue
            if node.hours and not context.settings.business_hours.is_open(clock.now()):
                context.log("transfer", detail={"result": "closed"})
                name = node.closed or node.no_answer
                continue
            context.prompt(node)
            dial = context.response.dial(action=context.url(name), method="POST", timeout=node.timeout)
            dial.number(number)
            context.log("transfer", detail={"result": "dialling"})
            return
        else:  # pragma: no cover - flows are validated at start-up
            raise FlowError(f"node {name!r} has unknown kind {kind!r}")
    raise FlowError(f"{flow.path}: more than {MAX_HOPS} steps without waiting for the caller at {name!r}")


def _gather(context, node, retry=False):
    language = context.language
    options = {"action": context.url(node.name), "method": "POST", "timeout": node.timeout}
    if node.kind == "menu":
        options["num_digits"] = 1
        hints = [word for option in node.options for word in option.words.get(language, ())]
        speech = True
    else:
        options["finish_on_key"] = "#"
        hints = []
        speech = node.speech
        if node.empty:
            # '#' alone is an answer here ("they gave me none"), so Twilio must post even when empty.
            options["action_on_empty_result"] = True
    if speech:
        options["input"] = "dtmf speech"
        options["language"] = context.flow.language_settings[language].speech
        options["speech_timeout"] = "auto"
        if hints:
            options["hints"] = ", ".join(hints)
    else:
        options["input"] = "dtmf"
    gather = Gather(**options)
    context.prompt(node, into=gather, retry=retry)
    _offer_next_language(context, node, gather)
    context.response.append(gather)
    if not options.get("action_on_empty_result"):
        # Twilio falls through to the next verb when the caller gives no input.
        context.response.redirect(context.url(node.name, noinput="1"), method="POST")


def _offer_next_language(context, node, gather):
    # "For English, press 9" is said in English with an English voice, never read by the Mandarin one.
    if any(option.language == "switch" for option in node.options):
        following = _next_language(context)
        if following != context.language:
            context.say_in(following, context.flow.message("switch_to", following), into=gather)


def _next_language(context):
    languages = context.flow.languages
    return languages[(languages.index(context.language) + 1) % len(languages)]


def resume(context, name, flags):
    """Handle the caller's answer to node `name` (from a Gather, Record or Dial) and render what follows."""
    node = context.flow.node(name)
    if node.kind not in ("menu", "collect", "record", "transfer"):
        raise FlowError(f"node {name!r} does not take input")
    context.state["node"] = name
    context.state.setdefault("tries", {})
    context.state["turn"] = context.state.get("turn", 0) + 1
    handler = {"menu": _menu_input, "collect": _collect_input, "record": _record_input, "transfer": _dial_result}
    handler[node.kind](context, node, flags)


def _speech(form):
    text = (form.get("SpeechResult") or "").strip()[:500]
    try:
        confidence = float(form.get("Confidence")) if form.get("Confidence") not in (None, "") else None
    except ValueError:
        confidence = None
    return text, confidence


def _digits(form):
    # Twilio leaves the finish key out of Digits; strip it anyway in case a proxy or test adds it.
    return (form.get("Digits") or "").strip()[:64]


def _menu_input(context, node, flags):
    if flags.get("noinput"):
        context.log("no_input")
        return _retry(context, node, "no_input")
    digits = _digits(context.form)
    speech, confidence = _speech(context.form)
    context.log("input", digits=digits or None, speech=speech or None, confidence=confidence)
    choice = _choose(node, digits, speech, context.language)
    if choice is None:
        return _retry(context, node, "invalid" if digits or speech else "no_input")
    context.state["tries"].pop(node.name, None)
    if choice.language:
        new = _next_language(context) if choice.language == "switch" else choice.language
        context.language = new
        context.log("language", detail={"language": new})
    render(context, choice.goto)


def _choose(node, digits, speech, language):
    if digits:
        key = digits[0]
        return next((option for option in node.options if option.key == key), None)
    if not speech:
        return None
    said = PUNCTUATION.sub(" ", speech.lower()).strip()
    for languages in ((language,), tuple(node.options[0].words)):
        for option in node.options:
            for lang in languages:
                for word in option.words.get(lang, ()):
                    if _contains_word(said, word):
                        return option
    spoken = digits_from_speech(speech)
    if spoken and len(spoken) == 1:
        return next((option for option in node.options if option.key == spoken), None)
    return None


def _says_any(speech, words):
    said = PUNCTUATION.sub(" ", speech.lower()).strip()
    return any(_contains_word(said, word) for listed in words.values() for word in listed)


def _contains_word(said, word):
    if word.isascii():
        return re.search(rf"\b{re.escape(word)}\b", said) is not None
    return word in said.replace(" ", "")


def _collect_input(context, node, flags):
    if flags.get("noinput"):
        context.log("no_input")
        return _retry(context, node, "no_input")
    digits = _digits(context.form).rstrip("#")
    speech, confidence = _speech(context.form)
    if not digits and speech:
        digits = digits_from_speech(speech) or ""
        if not digits and node.star and _says_any(speech, node.star_words):
            digits = "*"
    context.log("input", digits=_shown_digits(node, digits), speech=_shown_speech(node, speech), confidence=confidence)
    if not digits and not speech:
        if node.empty:
            context.state["tries"].pop(node.name, None)
            return render(context, node.empty)
        return _retry(context, node, "no_input")
    if digits == "*" and node.star:
        context.state["tries"].pop(node.name, None)
        return render(context, node.star)
    if not digits.isdigit() or not node.min_digits <= len(digits) <= node.max_digits:
        return _retry(context, node, "invalid")
    value = digits
    if node.validate:
        try:
            value = context.flow.registry.validators[node.validate](digits, context)
        except InvalidInput as error:
            context.log("invalid", text=str(error))
            return _retry(context, node, "invalid")
    context.vars[node.save_as] = value
    context.state["tries"].pop(node.name, None)
    render(context, node.next)


def _shown_digits(node, digits):
    # Secrets (a reference code) are kept out of the log: it keeps only their length.
    if node.secret and digits and digits.isdigit():
        return "•" * len(digits)
    return digits or None


def _shown_speech(node, speech):
    # A spoken secret is as secret as a typed one.
    if node.secret and speech:
        return "•" * len(speech)
    return speech or None


def _record_input(context, node, flags):
    form = context.form
    url = (form.get("RecordingUrl") or "").strip()
    try:
        duration = int(form.get("RecordingDuration") or 0)
    except ValueError:
        duration = 0
    if not 0 <= duration <= 24 * 3600:
        duration = 0  # a garbled value would not fit SQLite's INTEGER and lose the message
    if flags.get("empty") or not url:
        context.vars[node.save_as] = None
        context.log("record", detail={"recorded": False})
        return render(context, node.empty or node.next)
    recording = {"url": url[:500], "sid": (form.get("RecordingSid") or "")[:64] or None, "duration": duration}
    context.vars[node.save_as] = recording
    context.log("record", detail=dict(recording, recorded=True))
    render(context, node.next)


def _dial_result(context, node, flags):
    status = (context.form.get("DialCallStatus") or "").strip()
    context.log("transfer", detail={"result": status or "unknown", "duration": context.form.get("DialCallDuration")})
    if status in DIAL_ANSWERED:
        return render(context, node.next)
    render(context, node.no_answer)


def _retry(context, node, reason):
    tries = context.state["tries"]
    tries[node.name] = tries.get(node.name, 0) + 1
    if tries[node.name] > context.flow.max_retries:
        tries.pop(node.name, None)
        context.message("too_many_tries")
        return render(context, node.no_input)
    if reason == "invalid" and node.invalid is not None:
        context.say(node.invalid.text(context.language, context.vars))
    else:
        context.message(reason)
    render(context, node.name, retry=True)


def _run_action(context, node):
    action = context.flow.registry.actions[node.run]
    outcome = action.function(context)
    if outcome not in node.outcomes:
        raise FlowError(f"action {node.run!r} returned {outcome!r}, which node {node.name!r} does not handle")
    context.log("action", text=node.run, detail={"outcome": outcome})
    return outcome
