"""Twilio's signature on every voice webhook, checked against the URL exactly as Twilio requested it."""
import functools
import logging
import urllib.parse

from flask import abort, current_app, request
from twilio.request_validator import SIGNATURE_SETTINGS_HEADER, RequestValidator, compare, get_signature_algorithm

from .kept import Kept

log = logging.getLogger(__name__)


def public_url(this, base):
    """Return the URL Twilio requested for request `this`, as it signed it (IVR_PUBLIC_URL `base`, ProxyFix)."""
    # Twilio signs the URL exactly as it requested it; request.url is an IRI that decodes escapes
    # such as %2C or %C3%A9 in the query string, so the raw query string is used instead.
    query = "?" + this.query_string.decode("latin-1") if this.query_string else ""
    if base:
        return base.rstrip("/") + this.path + query
    return _root_url(this) + urllib.parse.quote(this.path) + query


# Werkzeug works out a request's root URL (host checks, IRI conversion) afresh for every request, though it
# depends only on the scheme, Host header, server address and script root.
_roots = Kept(256)


def _root_url(this):
    key = (this.scheme, this.environ.get("HTTP_HOST"), this.server, this.root_path,
           this.trusted_hosts and tuple(this.trusted_hosts))
    root = _roots.get(key)
    return root if root is not None else _roots.keep(key, this.root_url.rstrip("/"))


class SignedParameters(dict):
    """The posted form as {name: [values]}, with the getall() that RequestValidator looks for first."""

    # RequestValidator tries getall(), then getlist(): on Werkzeug's MultiDict every field of every signature
    # (two per validation, with and without the port) raised and caught an AttributeError first. Built from
    # the MultiDict's own {name: [values]} storage (dict.items), without copying each list.
    getall = dict.__getitem__


def _signed_as_requested(validator, url, params, signature, algorithm):
    # Twilio signs the URL exactly as it requested it, which is one of the two URLs validate() signs (with and
    # without the default port): checking that one first halves the HMAC work on every genuine webhook.
    try:
        return compare(validator.compute_signature(url, params, algorithm), signature)
    except ValueError:  # an algorithm this twilio does not know: validate() refuses it and says so
        return False


def signed_by_twilio(view):
    """Reject with 403 any request that does not carry a valid X-Twilio-Signature."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        # Each proxy is resolved once: an attribute read through one first fails and formats an AttributeError.
        config = current_app._get_current_object().config
        if not config["SKIP_SIGNATURE"]:
            this = request._get_current_object()
            token = config.get("TWILIO_AUTH_TOKEN")
            headers = this.headers
            signature = headers.get("X-Twilio-Signature", "")
            algorithm = get_signature_algorithm(headers.get(SIGNATURE_SETTINGS_HEADER))
            if not token:
                log.warning("voice: TWILIO_AUTH_TOKEN is not set, so %s was refused with 403", this.path)
                abort(403)
            if not signature:
                abort(403)
            validator = RequestValidator(token)
            base = config.get("PUBLIC_URL")
            url, params = public_url(this, base), SignedParameters(dict.items(this.form))
            valid = _signed_as_requested(validator, url, params, signature, algorithm)
            if not valid:  # with and without the default port, as twilio's validate() checks
                valid = validator.validate(url, params, signature, algorithm=algorithm)
            # The decoded form earlier versions checked against; built only when the exact URL fails,
            # since request.url re-decodes the whole URL on every webhook.
            if not valid and not base and this.url != url:
                valid = validator.validate(this.url, params, signature, algorithm=algorithm)
            if not valid:
                log.warning("voice: bad Twilio signature on %s", this.path)
                abort(403)
        return view(*args, **kwargs)

    return wrapper
