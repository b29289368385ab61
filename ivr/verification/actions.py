"""The verify and report branches' actions and validators: who is calling, the code, the number, the verdict."""
from dataclasses import dataclass

from ivr import clock
from ivr.errors import InvalidInput
from ivr.flow.registry import hotline
from ivr.notify import alerts, sms, smstext
from ivr.phone import parse_reported, to_e164
from ivr.verification import merchants, outreach, reports
from ivr.vocabulary import IDENTIFIED_BY_NUMBER, IDENTIFIED_BY_PHONE

# When several risks apply, the caller hears only the first of these: one short warning.
SIGNAL_ORDER = ("hotline_number", "spoofed_official", "international", "virtual", "invalid")


def init_app(app):
    """Read the verification settings and wire the merchants/outreach/numbers CLI and the demo data."""
    config = app.config
    app.extensions["ivr"]["official_numbers"] = _official_numbers(config.get("OFFICIAL_NUMBERS"))
    app.extensions["ivr"]["virtual_prefixes"] = _prefixes(config["VIRTUAL_PREFIXES"])
    from ivr.cli import verification as verify_cli
    from ivr.devtools import demo

    try:
        # Every note needs a text in each of the flow's languages only once SMS is switched on.
        app.extensions["ivr"]["sms_notes"] = smstext.load_notes(
            config["SMS_NOTES"], app.extensions["ivr"]["flow"].languages, every_language=bool(config["SMS_FROM"]))
    except smstext.NoteError as error:
        raise RuntimeError(f"the hotline cannot start: {error}") from None
    verify_cli.init_app(app)
    app.extensions["ivr"]["demo_loader"] = demo.load_verification
    app.extensions["ivr"]["action_settings"] = rules_for


def _official_numbers(value):
    items = value if isinstance(value, (list, tuple, set)) else str(value or "").replace(";", ",").split(",")
    numbers = set()
    for item in (str(item).strip() for item in items):
        if not item:
            continue
        number = to_e164(item)
        if number is None:
            raise RuntimeError(f"the hotline cannot start: IVR_OFFICIAL_NUMBERS has {item!r}, which is not a valid number")
        numbers.add(number)
    return frozenset(numbers)


def _prefixes(value):
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    prefixes = tuple(item.strip() for item in items if str(item).strip())
    if not all(prefix.isdigit() for prefix in prefixes):
        raise RuntimeError(f"the hotline cannot start: IVR_VIRTUAL_PREFIXES={value!r} must be digits separated by commas")
    return prefixes


@dataclass(frozen=True)
class Rules:
    """What these actions need from configuration, handed to them on each call's context (settings.actions)."""

    lock_attempts: int
    lock_hours: int
    report_threshold: int
    report_window_days: int
    code_secret: str
    official_numbers: frozenset
    virtual_prefixes: tuple
    catalogue: object
    zone: object
    sms: object


def rules_for(app):
    """The Rules of `app`, as configured now (tests and operators may change a setting after start-up)."""
    config, extensions = app.config, app.extensions["ivr"]
    return Rules(
        lock_attempts=config["LOCK_ATTEMPTS"], lock_hours=config["LOCK_HOURS"],
        report_threshold=config["REPORT_THRESHOLD"], report_window_days=config["REPORT_WINDOW_DAYS"],
        code_secret=config["CODE_SECRET"], official_numbers=extensions["official_numbers"],
        virtual_prefixes=extensions["virtual_prefixes"], catalogue=extensions["outreach_actions"],
        zone=extensions["hours"].zone,
        sms=sms.SmsSettings(config["SMS_FROM"], config["SMS_PER_DAY"], extensions["sms_notes"],
                            _status_url(config.get("PUBLIC_URL"))),
    )


def _status_url(public_url):
    # Twilio reports each note's delivery here; without a public URL it cannot reach the app, so none is given.
    return public_url.rstrip("/") + "/sms/status" if public_url else None


def _spaced(digits):
    # Digits apart so text-to-speech reads them one by one, not as a large number.
    return " ".join(str(digits))


def _translated(context, message, **values):
    flow = context.flow
    return {language: flow.message(message, language, values) for language in flow.languages}


def _verdict(context, verdict, **detail):
    merchant_id = context.vars.get("merchant_id")
    context.set(verdict=verdict, verdict_at=context.stamp, merchant_id=merchant_id)
    context.vars["verdict"] = verdict
    context.log("verdict", text=verdict, detail=dict(detail, merchant_id=merchant_id))
    return verdict


def _rules(context):
    return context.settings.actions


def _registered(context, merchant_id):
    """True when the caller's own number is one of `merchant_id`'s registered phones."""
    return merchant_id is not None and merchant_id in merchants.merchants_for_phone(context.database, context.caller.number)


def _identified(context, merchant_id, by):
    """Remember the merchant this call is about and how it was identified (stored on the call for staff)."""
    context.vars["merchant_id"] = merchant_id
    context.vars["identified_by"] = by
    context.set(merchant_id=merchant_id, identified_by=by)
    context.log("identified", detail={"merchant_id": merchant_id, "by": by})


# -- 1. who is calling ----------------------------------------------------------------------


@hotline.action("identify_caller", outcomes=("registered", "other"))
def identify_caller(context):
    """A caller whose number is registered to exactly one merchant goes straight to the code; others type theirs."""
    for name in ("merchant_id", "identified_by", "called", "verdict", "merchant_misses"):
        context.vars.pop(name, None)
    found = merchants.merchants_for_phone(context.database, context.caller.number)
    if len(found) != 1:
        return "other"
    # Nothing said from here on names the merchant: a caller ID can be faked, so it earns no account detail.
    _identified(context, found[0], IDENTIFIED_BY_PHONE)
    return "registered"


@hotline.action("find_merchant", outcomes=("found", "retry", "give_up"))
def find_merchant(context):
    """Look up the merchant number typed; an unknown one gets one more try, then a person."""
    merchant = merchants.find_merchant(context.database, context.vars.pop("merchant_input", ""))
    if merchant is not None:
        by = IDENTIFIED_BY_PHONE if _registered(context, merchant["id"]) else IDENTIFIED_BY_NUMBER
        _identified(context, merchant["id"], by)
        return "found"
    misses = context.vars.get("merchant_misses", 0) + 1
    context.vars["merchant_misses"] = misses
    return "retry" if misses < 2 else "give_up"


# -- 2. the reference code -------------------------------------------------------------------


@hotline.action("check_code", outcomes=("locked", "genuine", "expired", "no_record"),
                sets=("outreach_date", "reason", "staff_name", "instructions"))
def check_code(context):
    """Check the reference code against this merchant's outreach, after the brute-force locks."""
    code = str(context.vars.pop("reference_code", ""))  # never kept in the call's stored state
    merchant_id = context.vars["merchant_id"]
    caller = context.caller.number
    registered = context.vars.get("identified_by") == IDENTIFIED_BY_PHONE
    rules = _rules(context)
    limit, hours = rules.lock_attempts, rules.lock_hours
    if merchants.is_locked(context.database, merchant_id, caller, registered, limit, hours):
        # Locked callers learn nothing, not even whether this code was right.
        return _verdict(context, "locked", code_given=True)
    found = outreach.match_code(context.database, merchant_id, code, rules.code_secret)
    merchants.record_attempt(context.database, merchant_id, caller, context.call["sid"],
                             success=found is not None, registered=registered)
    if found is None:
        if merchants.is_locked(context.database, merchant_id, caller, registered, limit, hours):
            context.log("lock", detail={"merchant_id": merchant_id, "registered": registered})
            alerts.queue(context.database, "merchant_locked", merchant_id, {"merchant_id": merchant_id})
        # A code of another merchant lands here too: its existence is never revealed.
        return _verdict(context, "no_record", code_given=True)
    _describe(context, found)
    if found["state"] != "open":
        return _verdict(context, "expired", outreach_id=found["id"], state=found["state"])
    context.vars["staff_name"] = found["staff_name"]
    context.vars["instructions"] = _instructions(context, found.get("action"))
    if registered:
        # Sent to the phone on file, never to a number the caller typed: a faked caller ID gains nothing by it.
        _note(context, "genuine", date=context.vars["outreach_date"], reason=context.vars["reason"],
              instructions=context.vars["instructions"])
    return _verdict(context, "genuine", outreach_id=found["id"])


def _note(context, note, **values):
    """Queue an SMS note to the caller's registered phone, in the call's language (off without IVR_SMS_FROM)."""
    language = context.call.get("language") or context.flow.languages[0]
    spoken = {name: value.get(language) if isinstance(value, dict) else value for name, value in values.items()}
    sms.queue(context.database, _rules(context).sms, note, context.call["sid"], context.caller.number, language,
              dict(spoken, hotline=context.call.get("to_number")))


def _instructions(context, key):
    # Only the operator's catalogue is ever spoken; outreach from before it (free text) gets a general step.
    catalogue = _rules(context).catalogue
    texts = {language: catalogue.text(key, language) for language in context.flow.languages} if key else {}
    if not texts or not all(texts.values()):
        return _translated(context, "instructions_in_app")
    return texts


def _describe(context, row):
    created = clock.parse(row["created_at"]).astimezone(_rules(context).zone)
    context.vars["outreach_date"] = _translated(context, "outreach_date", month=created.month, day=created.day)
    context.vars["reason"] = _translated(context, f"reason_{row['reason']}")


# -- 3. the number that called ----------------------------------------------------------------


@hotline.validator("called_number")
def called_number(digits, context):
    """Accept a number that called in any common format; risks are noted, not refused."""
    if not 3 <= len(digits) <= 20:
        raise InvalidInput("a phone number has 3-20 digits", field="number")
    called = parse_reported(digits, _rules(context).virtual_prefixes)
    number = called.get("number")
    if number is not None and (number == context.call.get("to_number") or reports.is_hotline_number(context.database, number)):
        # This hotline only answers: a call that showed its number was faked.
        called["signals"] = ["hotline_number"] + list(called["signals"])
    elif number in _rules(context).official_numbers:
        # No code was given, so our own number on their screen proves nothing: caller ID can be faked.
        called["signals"] = ["spoofed_official"] + list(called["signals"])
    return called


@hotline.action("number_hidden", outcomes=("done",))
def number_hidden(context):
    """The caller pressed * : the number that called them was hidden."""
    context.vars["called"] = {"number": None, "raw": None, "signals": [], "hidden": True}
    return "done"


@hotline.action("check_number", outcomes=("hotline_number", "spoofed_official", "international", "virtual", "invalid", "none"))
def check_number(context):
    """Note the risks of the number that called and pick the one warning to speak (no lock applies here)."""
    called = context.vars["called"]
    context.log("number", detail=called)
    return next((signal for signal in SIGNAL_ORDER if signal in called["signals"]), "none")


@hotline.action("verdict_without_code", outcomes=("known_scam", "no_code"))
def verdict_without_code(context):
    """No code: a watchlisted number is named as such; otherwise the same advice whatever we have on file."""
    called = context.vars["called"]
    detail = {"code_given": False, "number": called.get("number"), "hidden": bool(called.get("hidden")),
              "signals": called.get("signals", [])}
    if reports.is_known_scam(context.database, called.get("number"), _rules(context).report_threshold,
                             _rules(context).report_window_days, protected=_rules(context).official_numbers):
        _verdict(context, "known_scam", **detail)
        return "known_scam"
    # Staff may see whether we had contacted this merchant; the caller, who gave no code, hears the same
    # words either way, so the hotline cannot be used to learn who has open requests.
    found = outreach.latest_open(context.database, context.vars["merchant_id"])
    if found is not None:
        _verdict(context, "unconfirmed", outreach_id=found["id"], **detail)
    else:
        _verdict(context, "no_record", **detail)
    return "no_code"


# -- the report branch ------------------------------------------------------------------------


@hotline.action("report_prefilled", outcomes=("have_number", "ask_number"))
def report_prefilled(context):
    """Skip asking for the number when the verify branch already has it."""
    return "have_number" if context.vars.get("called") else "ask_number"


@hotline.action("check_reported_number", outcomes=("hotline_number", "other"))
def check_reported_number(context):
    """A report of the hotline's own number hears that the hotline never calls anyone."""
    signals = (context.vars.get("called") or {}).get("signals", ())
    return "hotline_number" if "hotline_number" in signals else "other"


@hotline.action("file_report", outcomes=("filed",), sets=("report_number",))
def file_report(context):
    """File the report (a missing recording still files it) and read its number back."""
    called = context.vars.get("called") or {}
    merchant_id = context.vars.get("merchant_id")
    if merchant_id is None:
        found = merchants.merchants_for_phone(context.database, context.caller.number)
        if len(found) == 1:
            _identified(context, found[0], IDENTIFIED_BY_PHONE)
            merchant_id = found[0]
    report = reports.file_report(
        context.database, context.vars.get("report_category", "other"), number=called.get("number"),
        number_raw="hidden" if called.get("hidden") else called.get("raw"), call_sid=context.call["sid"],
        merchant_id=merchant_id, reporter_number=context.caller.number,
        recording=context.vars.get("report_recording"), signals=called.get("signals", ()),
        threshold=_rules(context).report_threshold, window_days=_rules(context).report_window_days,
        reporter_registered=_registered(context, merchant_id), protected=_rules(context).official_numbers,
    )
    context.vars["report_number"] = _spaced(report["report_number"])
    if _registered(context, merchant_id):
        _note(context, "report", report_number=report["report_number"])
    context.log("report", detail={"report_id": report["id"], "report_number": report["report_number"],
                                  "number": report["number"], "category": report["category"],
                                  "recorded": bool(report["recording_url"]), "counted": bool(report["counted"])})
    return "filed"
