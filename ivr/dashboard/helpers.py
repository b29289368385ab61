"""What every dashboard page shares: masked numbers, template helpers, security headers and safe redirects."""
import json
import re
from urllib.parse import urlsplit

from flask import current_app, g, request, session

from ivr.dashboard import uitext
from ivr.database import get_db
from ivr.phone import mask, to_e164
from ivr.staff import reveals
from ivr.telephony import rest
from ivr.staff.auth import SESSIONLESS_PREFIXES, actor, csrf_token, current_session, current_user

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
    return {
        "_": lambda text, **values: uitext.translate(text, lang, **values),
        "lang": lang,
        "csrf_token": csrf_token,
        "staff": current_user() if request.blueprint in uitext.DASHBOARD_BLUEPRINTS else None,
        "names": uitext.value_names(lang),
        "identified_by": lambda value, short=False: _identified_by(value, lang, short),
        "lock_scope": lambda scope: uitext.lock_scope_name(scope, lang),
        "twilio_waiting": lambda: rest.waiting_features(current_app.config),
    }


def _identified_by(value, lang, short=False):
    """How a call identified its merchant (calls.identified_by), in words; an unknown value is shown as stored."""
    words = (uitext.IDENTIFIED_BY_SHORT if short else uitext.IDENTIFIED_BY_WORDS).get(value or "none")
    return uitext.translate(words, lang) if words else str(value)


def safe_next(target, default):
    """Return `target` only when it is a path on this site (no open redirects)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target
