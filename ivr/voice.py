"""Twilio Voice webhooks: idempotent delivery, and TwiML for every outcome (signatures: ivr/signature.py)."""
import functools
import logging
import re
import urllib.parse
import xml.etree.ElementTree as ElementTree

from flask import Blueprint, current_app, request
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.exceptions import HTTPException

from . import clock, db, engine
from .engine import SAY_LANGUAGES
from .kept import Kept
from .phone import parse_caller
from .signature import signed_by_twilio

bp = Blueprint("voice", __name__, url_prefix="/voice")
log = logging.getLogger(__name__)
CALL_SID = re.compile(r"^[A-Za-z0-9]{2,64}$")
FLAG_NAMES = ("noinput", "empty")
# The call columns a flow step may change.
CALL_COLUMNS = frozenset({"language", "verdict", "verdict_at", "merchant_id", "identified_by"})
MAX_SECONDS = 7 * 24 * 3600
STEP_RULE = "/step"


XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
# urlencode's safe characters as Werkzeug's url_for uses them, so step URLs are the same text as before.
URL_SAFE = "!$'()*,/:;?@"


# Callers at the same step hear the same TwiML: documents are kept by their content (verbs, attributes, text),
# since ElementTree's pure-Python serialiser took a tenth of a webhook's time.
_documents = Kept(2048)


def _content(verb):
    # Types are part of the key: 1, 1.0 and True are equal keys but serialise as "1", "1.0" and "true".
    return (verb.name, tuple((name, value.__class__, value) for name, value in verb.attrs.items()),
            verb.value.__class__, verb.value,
            tuple(child if isinstance(child, str) else _content(child) for child in verb.verbs))


def twiml_document(response):
    """Return a VoiceResponse's TwiML document, the same text as str(response)."""
    try:
        key = _content(response)
        return _documents[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable value (a dict, say): serialised each time
        key = None
    # str(response) serialises to UTF-8 bytes through a codec writer and decodes them again;
    # serialising straight to text is a third faster and gives the same document.
    document = XML_DECLARATION + ElementTree.tostring(response.xml(), encoding="unicode")
    return document if key is None else _documents.keep(key, document)


EMPTY = twiml_document(VoiceResponse())


def _hang_up():
    response = VoiceResponse()
    response.hangup()
    return twiml_document(response)


HANG_UP = _hang_up()


def twiml(response, status=200):
    """Return a VoiceResponse (or its XML) as an HTTP response."""
    body = response if isinstance(response, str) else twiml_document(response)
    return body, status, {"Content-Type": "text/xml; charset=utf-8"}


def apology(language=None):
    """Return TwiML that apologises, offers a person, and never needs the database."""
    app = current_app
    flow = app.extensions["ivr"]["flow"]
    response = VoiceResponse()
    languages = [language] if language in flow.languages else list(flow.languages)
    for lang in languages:
        response.say(flow.message("apology", lang), voice=app.config["VOICES"][lang], language=SAY_LANGUAGES[lang])
    agent = app.config.get("AGENT_NUMBER")
    if agent:
        response.dial(agent, timeout=30)
    response.hangup()
    return response


def _call_sid(form):
    sid = form.get("CallSid", "")
    return sid if CALL_SID.match(sid) else None


_step_queries = Kept(4096)


def step_urls(this):
    """Return url(node, **flags), the relative URL of the step that takes the answer at `node`, as url_for gives it."""
    # A webhook renders a few step URLs (Gather, Record, Dial, Redirect); url_for runs Werkzeug's URL builder
    # for each, while only the script root (SCRIPT_NAME, ProxyFix's prefix) can differ between requests. The
    # query depends only on the node and flags, of which a flow has a few dozen: each is encoded once.
    return functools.partial(_step_url, f"{this.script_root}{bp.url_prefix}{STEP_RULE}?")


def _step_url(start, node, **flags):
    key = (node, *flags.items())
    query = _step_queries.get(key)
    if query is None:
        pairs = [("node", node), *((name, value) for name, value in flags.items() if value is not None)]
        query = _step_queries.keep(key, urllib.parse.urlencode(pairs, safe=URL_SAFE))
    return start + query


def _settings(app, this):
    return engine.Settings(
        voices=app.config["VOICES"],
        numbers={"agent": app.config.get("AGENT_NUMBER")},
        business_hours=app.extensions["ivr"]["hours"],
        url=step_urls(this),
    )


class Answer:
    """A webhook's TwiML, worked out before taking the write lock, and how to store what it changed."""

    def __init__(self, body, store, sid, expected):
        self.body = body
        self.store = store  # store(database, token): the writes, run under the write lock
        self.sid = sid
        self.expected = expected  # the call's row as the answer saw it (None: no row yet)

    def still_current(self, database):
        """True when the call's row is as this answer found it, so its writes may be stored as they are."""
        return db.call_version(database, self.sid) == self.expected


def _stored_answer(call, token, status):
    """The TwiML already given to the delivery `token` of this call, or None if it is a new delivery."""
    # Each call keeps the token and answer of its last webhook, and the token of its last status callback:
    # Twilio sends a call's next webhook only once it has the answer to the one before, so a retry is always
    # of the last one. A status callback's answer is always the empty document.
    if token is None or call is None:
        return None
    if status:
        return EMPTY if call["status_token"] == token else None
    if call["answer_token"] != token:
        return None
    return call["answer"] or EMPTY  # the answer itself is kept until the call ends


def _deliver(prepare, status=False):
    """Answer a webhook once per Twilio delivery: `prepare(database, sid, call, row)` gives an Answer.

    The answer is worked out on a read snapshot and stored by upgrading that snapshot to a write transaction,
    which SQLite allows only while nothing else has been written since. Otherwise it is stored under the write
    lock: as it was if the call's row is unchanged, or worked out again if not (or if the work itself wrote).
    A delivery Twilio retries (same I-Twilio-Idempotency-Token) gets the answer stored on the call's row. Any
    failure is answered with an apology that offers a person.
    """
    this = request._get_current_object()  # resolved once, as in signed_by_twilio
    sid = _call_sid(this.form)
    language = None
    if sid is None:
        log.warning("voice: request without a usable CallSid on %s", this.path)
        return twiml(apology())
    token = this.headers.get("I-Twilio-Idempotency-Token", "")[:128] or None

    def answer_on(database):
        # Another delivery of this webhook may have been stored by now (a retry racing the first one).
        call, row = db.read_call(database, sid)
        stored = _stored_answer(call, token, status)
        return prepare(database, sid, call, row) if stored is None else Answer(stored, _nothing, sid, row)

    try:
        database = db.get_db()
        answer = None
        try:
            with db.Snapshot(database) as snapshot:
                answer = answer_on(database)  # WriteNeeded here: it wrote, and the snapshot was stale
                answer.store(database, token)  # WriteNeeded here: the answer still stands if current
                snapshot.commit()
                return twiml(answer.body)
        except db.WriteNeeded:
            pass
        with db.transaction(database):
            if answer is None or not answer.still_current(database):
                answer = answer_on(database)
            answer.store(database, token)
        return twiml(answer.body)
    except Exception as error:  # noqa: BLE001 - a caller must never hear "an application error"
        log.exception("voice: error on call %s at %s", sid, this.full_path)
        language = _record_error(sid, error)
    return twiml(apology(language))


def _nothing(database, token):
    """Store nothing: the answer to a retried delivery was stored with the first one."""


def _record_error(sid, error):
    """Log an error on the call if the database still works; return the call's language if known."""
    try:
        database = db.get_db()
        with db.transaction(database):
            db.record_event(database, sid, "error", text=f"{type(error).__name__}: {error}"[:500],
                            detail={"path": request.full_path[:300]})
            call = db.get_call(database, sid)
        return call["language"] if call else None
    except Exception:  # noqa: BLE001 - the database may be the very thing that failed
        return None


def _answer(context, expected):
    """The Answer for a webhook the engine has run: its TwiML, and the call's state and events to store."""
    call = context.call
    body = twiml_document(context.response)

    def store(database, token):
        if expected is None:
            db.insert_call(database, call)
        state = context.state
        db.save_call(
            database, call["sid"], state, token=token, answer=body, at=context.stamp, node=state.get("node"),
            **{key: value for key, value in context.changes.items() if key in CALL_COLUMNS},
        )
        db.record_events(database, call["sid"], context.events)

    return Answer(body, store, call["sid"], expected)


def _unchanged(call, row):
    """The Answer to a request the call is not waiting for (a replay): the call's last answer, storing nothing."""
    # A signed request captured earlier and sent again (with a fresh idempotency token) must change nothing:
    # an ended call only ever hangs up; a live one hears again what it is waiting at.
    body = HANG_UP if call.get("ended_at") else (call.get("answer") or HANG_UP)
    log.warning("voice: ignored a request call %s is not waiting for (a replay?)", call["sid"])
    return Answer(body, _nothing, call["sid"], row)


def _parties(form):
    """Return a webhook's caller (a Caller) and the called number (E.164 or None)."""
    return parse_caller(form.get("From")), parse_caller(form.get("To")).number


def _context(database, sid, call, this):
    """The engine's view of this webhook; a call first heard of here starts from its From and To."""
    app = current_app._get_current_object()
    flow = app.extensions["ivr"]["flow"]
    if call is None:
        caller, to_number = _parties(this.form)
        call = db.planned_call(database, sid, caller, to_number, flow.languages[0])
    return engine.CallContext(flow=flow, settings=_settings(app, this), database=database, call=call, form=this.form)


@bp.post("/incoming")
@signed_by_twilio
def incoming():
    """Answer a new call with the flow's welcome."""

    this = request._get_current_object()

    def prepare(database, sid, call, row):
        if call is not None:  # a call begins once: a new delivery of its first webhook is a replay
            return _unchanged(call, row)
        context = _context(database, sid, call, this)
        caller = context.caller
        context.log("incoming", node=None, detail={"from": caller.number, "withheld": caller.withheld})
        engine.begin(context)
        return _answer(context, row)

    return _deliver(prepare)


@bp.post(STEP_RULE)
@signed_by_twilio
def step():
    """Take the caller's answer to one node (Gather, Record or Dial action) and say what comes next."""

    this = request._get_current_object()

    def prepare(database, sid, call, row):
        args = this.args
        node = args.get("node", "")
        if call is not None and not engine.awaits(call, node, args.get("turn")):
            return _unchanged(call, row)
        # A call we have no row for (database restored, or state lost) is logged from here on.
        context = _context(database, sid, call, this)
        flags = {name: args.get(name) == "1" for name in FLAG_NAMES}
        engine.resume(context, node, flags)
        return _answer(context, row)

    return _deliver(prepare)


@bp.post("/status")
@signed_by_twilio
def status():
    """Record a status callback: status, end time and duration."""

    form = request.form

    def prepare(database, sid, call, row):
        call_status = (form.get("CallStatus") or "").strip()[:32] or "unknown"
        try:
            duration = int(form.get("CallDuration")) if form.get("CallDuration") else None
        except ValueError:
            duration = None
        if duration is not None and not 0 <= duration <= MAX_SECONDS:
            duration = None  # SQLite cannot store a garbled 30-digit duration; keep the status
        if call is not None and call["ended_at"]:
            # The end of a call is recorded once; a new delivery of an old callback must not rewrite it.
            return Answer(EMPTY, _nothing, sid, row)
        # A call first heard of in its status callback is stored with its numbers.
        caller, to_number = _parties(form) if call is None else (None, None)

        def store(database, token):
            at = clock.stamp()
            db.update_call_status(database, sid, call_status, duration, caller, to_number, token=token, at=at)
            db.record_event(database, sid, "status", at=at, text=call_status, detail={"duration": duration})

        return Answer(EMPTY, store, sid, row)

    return _deliver(prepare, status=True)


@bp.post("/fallback")
@signed_by_twilio
def fallback():
    """Twilio's fallback URL: apologise and offer a person without needing the database."""
    sid = _call_sid(request.form)
    log.error(
        "voice: fallback for call %s: ErrorCode=%s ErrorUrl=%s",
        sid, request.form.get("ErrorCode"), request.form.get("ErrorUrl"),
    )
    language = _record_error(sid, RuntimeError(f"fallback: Twilio error {request.form.get('ErrorCode')}")) if sid else None
    return twiml(apology(language))


@bp.errorhandler(HTTPException)
def voice_http_error(error):
    """Answer 403 plainly (not from Twilio) and any other HTTP error with an apology in TwiML."""
    if error.code in (403, 413):
        return "Forbidden: this URL only answers signed requests from Twilio.\n", 403, {"Content-Type": "text/plain"}
    return twiml(apology())
