"""Twilio Voice webhooks: idempotent delivery, and TwiML for every outcome (signatures: ivr/signature.py)."""
import logging
import re
from dataclasses import dataclass

from flask import Blueprint, current_app, g, request, url_for
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.exceptions import HTTPException

from ivr import clock
from ivr.database import get_db
from ivr.flow import engine
from ivr.notify import aftercall, alerts
from ivr.phone import parse_caller
from ivr.storage import db
from ivr.telephony import recordings, rest
from ivr.vocabulary import FINAL_STATUSES
from ivr.voice.signature import signed_by_twilio

bp = Blueprint("voice", __name__, url_prefix="/voice")
log = logging.getLogger(__name__)
CALL_SID = re.compile(r"^[A-Za-z0-9]{2,64}$")
FLAG_NAMES = ("noinput", "empty")
# The call columns a flow step may change.
CALL_COLUMNS = frozenset({"language", "verdict", "verdict_at", "merchant_id", "identified_by"})
MAX_SECONDS = 7 * 24 * 3600
# A step is worked out again when another delivery stored the call first; more than this is a fault.
MAX_TRIES = 3
# How a webhook was answered: its TwiML; an apology; nothing, to a request the call is not waiting for (a replay);
# the stored answer, to Twilio re-delivering; or 403/413 for a request not signed by Twilio (or too large).
ANSWERED, APOLOGY, REPLAY, RETRY, REJECTED = "answered", "apology", "replay", "retry", "rejected"
OUTCOMES = (ANSWERED, APOLOGY, REPLAY, RETRY, REJECTED)


@dataclass(frozen=True)
class Outcome:
    """How a webhook was answered (one of OUTCOMES), with the verdict it stored or the error it apologised for."""

    kind: str
    verdict: str | None = None
    error: BaseException | None = None


def _note(kind, verdict=None, error=None):
    """Note how this webhook was answered on flask.g (`webhook_outcome`), where ivr/ops counts it."""
    g.webhook_outcome = Outcome(kind, verdict, error)


def _hang_up():
    response = VoiceResponse()
    response.hangup()
    return str(response)


EMPTY = str(VoiceResponse())
HANG_UP = _hang_up()


def twiml(response, status=200):
    """Return a VoiceResponse (or its XML) as an HTTP response."""
    return str(response), status, {"Content-Type": "text/xml; charset=utf-8"}


def apology(language=None):
    """Return TwiML that apologises, offers a person, and never needs the database."""
    app = current_app
    flow = app.extensions["ivr"]["flow"]
    response = VoiceResponse()
    # In the call's language when it is known, else in every language the flow declares, each with its own voice.
    languages = [language] if language in flow.language_settings else flow.languages
    for code in languages:
        spoken = flow.language_settings[code]
        response.say(flow.message("apology", code), voice=spoken.voice, language=spoken.say)
    agent = app.config.get("AGENT_NUMBER")
    if agent:
        response.dial(agent, timeout=30)
    response.hangup()
    return response


def call_sid(form):
    """Return the webhook form's CallSid if it looks like one, else None."""
    sid = form.get("CallSid", "")
    return sid if CALL_SID.match(sid) else None


def step_url(node, **flags):
    """Return the relative URL of the step that takes the answer at `node`."""
    return url_for("voice.step", node=node, **{name: value for name, value in flags.items() if value is not None})


def _settings(app):
    return engine.Settings(
        numbers={"agent": app.config.get("AGENT_NUMBER")},
        business_hours=app.extensions["ivr"]["hours"],
        url=step_url,
        actions=app.extensions["ivr"]["action_settings"](app),
    )


class Answer:
    """A webhook's TwiML, and how to store what it changed: store(database) inside the write transaction."""

    def __init__(self, body, store, outcome=ANSWERED, verdict=None):
        self.body = body
        self.store = store
        self.outcome = outcome
        self.verdict = verdict


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
    """Answer a webhook once per Twilio delivery: `prepare(database, sid, call, version)` gives an Answer.

    The step is worked out reading only, then stored in one short write transaction whose UPDATE checks the
    call's version. A step that must write as it goes (a code attempt, a report) is worked out inside that
    transaction instead, and so is one whose call another delivery changed meanwhile. A delivery Twilio retries
    (same I-Twilio-Idempotency-Token) gets the answer stored on the call's row. Any failure is answered with
    an apology that offers a person.
    """
    sid = call_sid(request.form)
    if sid is None:
        log.warning("voice: request without a usable CallSid on %s", request.path)
        _note(APOLOGY)
        return twiml(apology())
    token = _delivery_token()

    def answer_on(database):
        call, version = db.read_call(database, sid)
        stored = _stored_answer(call, token, status)
        return Answer(stored, _nothing, RETRY) if stored is not None else prepare(database, sid, call, version)

    try:
        database = get_db()
        try:
            with db.read_only(database) as reader:
                answer = answer_on(reader)
        except db.WriteAttempted:
            answer = None
        for _ in range(MAX_TRIES):
            try:
                with db.transaction(database):
                    answer = answer or answer_on(database)
                    answer.store(database)
                _note(answer.outcome, answer.verdict)
                return twiml(answer.body)
            except db.StaleCall:
                answer = None  # worked out again, now inside the transaction
        raise db.StaleCall(sid)
    except Exception as error:  # noqa: BLE001 - a caller must never hear "an application error"
        log.exception("voice: error on call %s at %s", sid, request.full_path)
        language = _record_error(sid, error)
        _note(APOLOGY, error=error)
    return twiml(apology(language))


def _delivery_token():
    """This delivery's idempotency token (Twilio sends the same one again when it retries), or None."""
    return request.headers.get("I-Twilio-Idempotency-Token", "")[:128] or None


def _nothing(database):
    """Store nothing: the answer to a retried delivery was stored with the first one."""


def _record_error(sid, error):
    """Log an error on the call if the database still works; return the call's language if known."""
    try:
        database = get_db()
        with db.transaction(database):
            db.record_event(database, sid, "error", text=f"{type(error).__name__}: {error}"[:500],
                            detail={"path": request.full_path[:300]})
            call = db.get_call(database, sid)
        return call["language"] if call else None
    except Exception:  # noqa: BLE001 - the database may be the very thing that failed
        return None


def _answer(context, version):
    """The Answer for a webhook the engine has run: its TwiML, and the call's state and events to store."""
    call = context.call
    body = str(context.response)

    state = context.state
    changes = {key: value for key, value in context.changes.items() if key in CALL_COLUMNS}
    # Built now, so that the write lock is held only while SQLite writes.
    planned = db.planned_step(call["sid"], state, version or 0, context.events, token=_delivery_token(),
                              answer=body, at=context.stamp, node=state.get("node"), **changes)

    def store(database):
        if version is None:
            db.insert_call(database, call)
        db.save_step(database, planned)
        recordings.note_recordings(database, call["sid"], context.events)

    return Answer(body, store, verdict=changes.get("verdict"))


def _unchanged(call):
    """The Answer to a request the call is not waiting for (a replay): hang up, storing nothing."""
    # A signed request captured earlier and sent again (with a fresh idempotency token) must change nothing and
    # tell nothing: the call's last answer may hold a verdict, so the replayer hears only a hang-up. Twilio
    # itself never sends such a request, so the real call is not affected.
    log.warning("voice: ignored a request call %s is not waiting for (a replay?)", call["sid"])
    return Answer(HANG_UP, _nothing, REPLAY)


def _parties(form):
    """Return a webhook's caller (a Caller) and the called number (E.164 or None)."""
    return parse_caller(form.get("From")), parse_caller(form.get("To")).number


def _context(database, sid, call):
    """The engine's view of this webhook; a call first heard of here starts from its From and To."""
    app = current_app
    flow = app.extensions["ivr"]["flow"]
    if call is None:
        caller, to_number = _parties(request.form)
        call = db.planned_call(database, sid, caller, to_number, flow.languages[0])
    return engine.CallContext(flow=flow, settings=_settings(app), database=database, call=call,
                              form=request.form)


@bp.post("/incoming")
@signed_by_twilio
def incoming():
    """Answer a new call with the flow's welcome."""

    def prepare(database, sid, call, version):
        if call is not None:  # a call begins once: a new delivery of its first webhook is a replay
            return _unchanged(call)
        context = _context(database, sid, call)
        caller = context.caller
        context.log("incoming", node=None, detail={"from": caller.number, "withheld": caller.withheld})
        engine.begin(context)
        return _answer(context, version)

    return _deliver(prepare)


@bp.post("/step")
@signed_by_twilio
def step():
    """Take the caller's answer to one node (Gather, Record or Dial action) and say what comes next."""

    def prepare(database, sid, call, version):
        args = request.args
        node = args.get("node", "")
        if call is not None and not engine.awaits(call, node, args.get("turn")):
            return _unchanged(call)
        # A call we have no row for (database restored, or state lost) is logged from here on.
        context = _context(database, sid, call)
        flags = {name: args.get(name) == "1" for name in FLAG_NAMES}
        engine.resume(context, node, flags)
        return _answer(context, version)

    return _deliver(prepare)


@bp.post("/status")
@signed_by_twilio
def status():
    """Record a status callback: status, end time and duration."""
    form = request.form

    def prepare(database, sid, call, version):
        call_status = (form.get("CallStatus") or "").strip()[:32] or "unknown"
        try:
            duration = int(form.get("CallDuration")) if form.get("CallDuration") else None
        except ValueError:
            duration = None
        if duration is not None and not 0 <= duration <= MAX_SECONDS:
            duration = None  # SQLite cannot store a garbled 30-digit duration; keep the status
        if call is not None and call["ended_at"]:
            # The end of a call is recorded once; a new delivery of an old callback must not rewrite it.
            return Answer(EMPTY, _nothing, REPLAY)
        # A call first heard of in its status callback is stored with its numbers.
        caller, to_number = _parties(form) if call is None else (None, None)

        token, at = _delivery_token(), clock.stamp()

        def store(database):
            db.update_call_status(database, sid, call_status, version, duration, caller, to_number, token=token, at=at)
            db.record_event(database, sid, "status", at=at, text=call_status, detail={"duration": duration})

        return Answer(EMPTY, store)

    answer = _deliver(prepare, status=True)
    outcome = g.get("webhook_outcome")
    if outcome is not None and outcome.kind == ANSWERED and (form.get("CallStatus") or "").strip() in FINAL_STATUSES:
        # The call has ended and nobody waits on this answer: what waited for the end goes now (cron retries).
        _after_call(call_sid(form))
    return answer


def _after_call(sid):
    app = current_app
    aftercall.follow_up(get_db(), sid, rest.RestSettings.from_config(app.config),
                        app.extensions["ivr"]["action_settings"](app).sms, alerts.settings_from(app.config))


@bp.post("/fallback")
@signed_by_twilio
def fallback():
    """Twilio's fallback URL: apologise and offer a person without needing the database."""
    sid = call_sid(request.form)
    log.error(
        "voice: fallback for call %s: ErrorCode=%s ErrorUrl=%s",
        sid, request.form.get("ErrorCode"), request.form.get("ErrorUrl"),
    )
    language = _record_error(sid, RuntimeError(f"fallback: Twilio error {request.form.get('ErrorCode')}")) if sid else None
    _note(APOLOGY)
    return twiml(apology(language))


@bp.errorhandler(HTTPException)
def voice_http_error(error):
    """Answer 403 and 413 plainly (not from Twilio), and any other HTTP error with an apology in TwiML."""
    if error.code == 413:
        _note(REJECTED)
        return "Request Entity Too Large: voice webhooks are small forms.\n", 413, {"Content-Type": "text/plain"}
    if error.code == 403:
        _note(REJECTED)
        return "Forbidden: this URL only answers signed requests from Twilio.\n", 403, {"Content-Type": "text/plain"}
    _note(APOLOGY)
    return twiml(apology())
