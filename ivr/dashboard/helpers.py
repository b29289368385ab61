"""What every dashboard page shares: masked numbers, template helpers, security headers and safe redirects."""
import json
import re
from urllib.parse import urlsplit

from flask import current_app, g, render_template, request, session
from werkzeug.exceptions import HTTPException, default_exceptions

from ivr.dashboard import timelinetext, uitext
from ivr.database import get_db
from ivr.phone import mask, to_e164
from ivr.staff import reveals
from ivr.staff.auth import SESSIONLESS_PREFIXES, actor, csrf_token, current_session, current_user
from ivr.telephony import rest

# A number as the hotline stores it (E.164); merchant numbers (15 digits, no '+') are not phone numbers.
E164_NUMBER = re.compile(r"\+[0-9]{6,15}")
# Detail fields that hold a number as someone typed it, perhaps without the '+'.
NUMBER_FIELDS = frozenset({"caller", "phone", "phones", "number", "numbers", "from_number", "reporter", "to_number"})
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "font-src 'self'",
    "connect-src 'self'", "media-src 'self'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'",
])
HSTS = "max-age=31536000"


def revealed_numbers():
    """Return {number: record} this staff member revealed in this session and that has not yet expired."""
    if "revealed_numbers" not in g:
        found = current_session()
        g.revealed_numbers = reveals.revealed(get_db(), found["id"]) if found else {}
    return g.revealed_numbers


def shown_number(number):
    """Show a phone number masked, or in full while this staff member's reveal of it lasts (noted for the audit)."""
    revealed = revealed_numbers()
    if number and number in revealed:
        g.setdefault("numbers_shown", {})[number] = revealed[number]
        return number
    return masked_number(number)


def masked_number(number):
    """Show a phone number masked (+86 138****8000), or say in the staff member's language that it was withheld."""
    if not number:
        return uitext.translate("withheld", session.get("lang", "zh"))
    return mask(number)


def audit_numbers_shown(response):
    """Write an audit row for every revealed number this response shows in full (before it leaves the server)."""
    shown = g.pop("numbers_shown", None)
    if shown:
        reveals.record_views(get_db(), actor(), shown, masked_numbers(request.path))
    return response


def masked_numbers(value):
    """Return a value from the audit log (text, or decoded JSON) with every phone number in it masked."""
    if isinstance(value, str):
        return E164_NUMBER.sub(lambda match: mask(match.group(0)), value)
    if isinstance(value, list):
        return [masked_numbers(item) for item in value]
    if isinstance(value, dict):
        return {key: _masked_field(key, item) for key, item in value.items()}
    return value


def _masked_field(key, value):
    if key not in NUMBER_FIELDS:
        return masked_numbers(value)
    if isinstance(value, list):
        return [_masked_field(key, item) for item in value]
    if isinstance(value, str) and any(ch.isdigit() for ch in value):
        return mask(to_e164(value) or value)  # typed as "138..." it is still someone's number
    return masked_numbers(value)


def raw_record_line(event):
    """Return one stored event as the folded raw record shows it: kind, step and detail, numbers masked and the
    recording's address at Twilio left out."""
    parts = [event["kind"]]
    if event.get("node"):
        parts.append(event["node"])
    if event["kind"] in ("action", "error") and event.get("text"):
        parts.append(event["text"])
    detail = masked_numbers(event.get("detail_data") or {})
    parts += [f"{key}={value if isinstance(value, str) else pretty(value)}" for key, value in detail.items()
              if not key.endswith("url")]
    return " · ".join(str(part) for part in parts)


def security_headers(response):
    """Add the browser protections every page and API answer carries (Twilio's webhooks excepted: no browser)."""
    if request.path.startswith(SESSIONLESS_PREFIXES):
        return response
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    if (current_app.config.get("PUBLIC_URL") or "").lower().startswith("https://") or request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    # Pages and API answers show people's data: no browser or proxy may keep a copy. The stylesheet may be cached.
    if request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
    return response


def pretty(value):
    """Show a decoded JSON detail as compact text (escaped by the template, Chinese kept readable)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def template_globals():
    lang = session.get("lang", "zh")
    names = uitext.value_names(lang)
    return {
        "_": lambda text, **values: uitext.translate(text, lang, **values),
        "lang": lang,
        "csrf_token": csrf_token,
        # An unknown dashboard address has no blueprint, but its error page still shows the signed-in header.
        "staff": current_user() if request.blueprint in uitext.DASHBOARD_BLUEPRINTS or is_dashboard_path() else None,
        "names": names,
        "seconds": lambda value: timelinetext.seconds(value, lang),
        "event_kind": lambda kind: timelinetext.kind_name(kind, lang),
        "event_words": lambda event: timelinetext.sentence(event, lang, names, event.get("ended_by_hotline", False)),
        "code_typed": lambda digits: timelinetext.input_digits(digits, lang),
        "timeline_word": lambda key, **values: timelinetext.word(key, lang, **values),
        "verdict_reasons": lambda verdict, detail: timelinetext.verdict_reasons(verdict, detail, lang),
        "audit_action": lambda action: uitext.audit_action_name(action, lang),
        "audit_sentence": lambda row: uitext.audit_sentence(row["action"], row["target"], row["detail_data"], lang),
        "identified_by": lambda value, short=False: identified_by_words(value, lang, short),
        "lock_scope": lambda scope: uitext.lock_scope_name(scope, lang),
        "twilio_waiting": lambda: rest.waiting_features(current_app.config),
        "error_words": error_words,
    }


def identified_by_words(value, lang, short=False):
    """How a call identified its merchant (calls.identified_by), in words; an unknown value is shown as stored."""
    words = (uitext.IDENTIFIED_BY_SHORT if short else uitext.IDENTIFIED_BY_WORDS).get(value or "none")
    return uitext.translate(words, lang) if words else str(value)


def is_dashboard_path():
    """True when this request is for a dashboard page (whether or not such a page exists)."""
    return request.path == "/dashboard" or request.path.startswith("/dashboard/")


def error_page(error):
    """Answer an HTTP error on a dashboard path with the dashboard's page in the staff member's language."""
    if not isinstance(error, HTTPException):  # an unhandled exception, passed on as Flask's InternalServerError
        error = default_exceptions[500]()
    if not is_dashboard_path():
        return error  # the API and the voice webhooks answer their own way; the rest keeps Werkzeug's pages
    code = error.code or 500
    try:
        page = render_template("dashboard/error.html", code=code, message=error.description)
    except Exception:  # noqa: BLE001 - the database may be why this page is shown; then Werkzeug's plain page
        return error
    response = current_app.make_response((page, code))
    if code == 405 and getattr(error, "valid_methods", None):
        response.headers["Allow"] = ", ".join(error.valid_methods)
    if code == 429 and getattr(error, "retry_after", None):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def error_words(code, message):
    """Return (title, explanation, detail) of an error page in the staff member's language; detail may be None."""
    lang = session.get("lang", "zh")
    title, explanation = uitext.ERROR_PAGES.get(code, uitext.ERROR_PAGES[500 if code >= 500 else 400])
    # Werkzeug's own explanation of a status says nothing a staff member can act on; the page's own words do.
    default = default_exceptions.get(code)
    if default is not None and message == default.description:
        message = None
    detail = uitext.translate(message, lang) if message else None
    explanation = uitext.translate(explanation, lang)
    return uitext.translate(title, lang), explanation, (detail if detail != explanation else None)


def safe_next(target, default):
    """Return `target` only when it is a path on this site (no open redirects)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target
