"""Twilio's signature on every voice webhook, checked against the URL exactly as Twilio requested it."""
import functools
import logging
import urllib.parse

import flask
from flask import abort, current_app, request
from twilio.request_validator import SIGNATURE_SETTINGS_HEADER, RequestValidator, get_signature_algorithm
from werkzeug.datastructures import ImmutableMultiDict

log = logging.getLogger(__name__)


class TwilioParameters(ImmutableMultiDict):
    """A request's form or query string, with the getall() that RequestValidator asks a multi-valued form for."""

    # RequestValidator.get_values tries getall() before getlist(): on Werkzeug's own class each field of both
    # signatures validate() computes (with and without the port) first raised and caught an AttributeError,
    # 37 a webhook: about 6% of its instructions (bench/count_instructions.py).
    getall = ImmutableMultiDict.getlist


class Request(flask.Request):
    """Flask's request, keeping forms and query strings as TwilioParameters (Werkzeug's parameter_storage_class)."""

    parameter_storage_class = TwilioParameters


def public_url(this, base):
    """Return the URL Twilio requested for request `this`, as it signed it (IVR_PUBLIC_URL `base`, ProxyFix)."""
    # Twilio signs the URL exactly as it requested it; request.url is an IRI that decodes escapes
    # such as %2C or %C3%A9 in the query string, so the raw query string is used instead.
    query = "?" + this.query_string.decode("latin-1") if this.query_string else ""
    if base:
        return base.rstrip("/") + this.path + query
    return this.root_url.rstrip("/") + urllib.parse.quote(this.path) + query


def signed_by_twilio(view):
    """Reject with 403 any request that does not carry a valid X-Twilio-Signature."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        config = current_app.config
        if not config["SKIP_SIGNATURE"]:
            token = config.get("TWILIO_AUTH_TOKEN")
            signature = request.headers.get("X-Twilio-Signature", "")
            if not token:
                log.warning("voice: TWILIO_AUTH_TOKEN is not set, so %s was refused with 403", request.path)
                abort(403)
            if not signature:
                abort(403)
            validator = RequestValidator(token)
            algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
            base = config.get("PUBLIC_URL")
            # validate() checks the URL with and without its default port, as Twilio may sign either.
            valid = validator.validate(public_url(request, base), request.form, signature, algorithm=algorithm)
            # The decoded form earlier versions checked against, when no public URL fixes it.
            if not valid and not base:
                valid = validator.validate(request.url, request.form, signature, algorithm=algorithm)
            if not valid:
                log.warning("voice: bad Twilio signature on %s", request.path)
                abort(403)
        return view(*args, **kwargs)

    return wrapper
