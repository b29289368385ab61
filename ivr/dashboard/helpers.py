"""What every dashboard page shares: masked numbers, template helpers, and safe redirects."""
import json
from urllib.parse import urlsplit

from flask import request, session

from ivr.dashboard import uitext
from ivr.phone import mask
from ivr.staff.auth import csrf_token, current_user


def revealed_numbers():
    """Return the numbers this staff member has revealed in this session."""
    return set(session.get("revealed", ()))


def shown_number(number):
    """Show a phone number masked, or in full once this staff member has revealed it."""
    if number and number in revealed_numbers():
        return number
    return mask(number)


def pretty(value):
    """Show a decoded JSON detail as compact text (escaped by the template, Chinese kept readable)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def https_url(url):
    """Return a recording URL only when it is http(s), so no javascript: link can reach a page."""
    text = str(url or "")
    return text if text.lower().startswith(("https://", "http://")) else None


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
