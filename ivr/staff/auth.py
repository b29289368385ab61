"""Guards for the staff dashboard: sign-in required, admin-only views, CSRF tokens and cookie settings."""
import functools
import hmac
import secrets

from flask import abort, current_app, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface

from ivr.database import get_db
from ivr.staff import users

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


# Twilio's webhooks carry no staff cookie and never use the session.
SESSIONLESS_PREFIXES = ("/voice/",)


class StaffSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, marked Secure whenever the request itself came over HTTPS."""

    def open_session(self, app, request):
        """Load the signed session cookie, except on Twilio's webhooks, which get an empty session."""
        # Loading builds a signing serializer and parses cookies on every request: a measurable share of a
        # webhook's time, for a session the voice views never read.
        if request.path.startswith(SESSIONLESS_PREFIXES):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app, session, response):
        """Save the session cookie; an empty session nothing touched needs no work at all."""
        # Flask's own save_session works out every cookie attribute before finding it has nothing to do.
        if not session and not session.modified and not session.accessed:
            return
        super().save_session(app, session, response)

    def get_cookie_secure(self, app):
        """Secure when configured so, or when this request is HTTPS (ProxyFix makes that visible behind a proxy)."""
        if app.config.get("SESSION_COOKIE_SECURE"):
            return True
        try:
            return request.is_secure
        except RuntimeError:  # pragma: no cover - outside a request
            return False


def csrf_token():
    """Return this session's CSRF token, creating it on first use."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf():
    """Abort with 400 unless a POST carries this session's CSRF token (form field or header)."""
    expected = session.get("csrf")
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if not expected or not hmac.compare_digest(expected.encode(), sent.encode()):
        current_app.logger.warning("dashboard: CSRF check failed on %s", request.path)
        abort(400, description="CSRF token missing or wrong; reload the page and try again.")


def sign_in(user):
    """Start a fresh session for `user` (a new session, so a planted one cannot be reused)."""
    lang = session.get("lang")
    session.clear()
    session.permanent = True
    session["user"] = user["name"]
    session["lang"] = lang or "zh"
    csrf_token()


def current_user():
    """Return the signed-in, enabled staff user for this request, or None."""
    if "staff_user" not in g:
        name = session.get("user")
        user = users.get_user(get_db(), name) if name else None
        g.staff_user = user if user and not user["disabled"] else None
    return g.staff_user


def guard(blueprint, open_endpoints=()):
    """Make every view of `blueprint` need a signed-in user, and every POST a CSRF token."""

    @blueprint.before_request
    def _guard():
        if request.method == "POST":
            check_csrf()
        if request.endpoint in open_endpoints:
            return None
        if current_user() is None:
            session.pop("user", None)
            return redirect(url_for("dashboard.login", next=request.full_path if request.method == "GET" else None))
        return None

    for code in (400, 403, 404, 409, 503):
        blueprint.register_error_handler(code, _error_page)


def _error_page(error):
    from flask import render_template

    return render_template("dashboard/error.html", code=error.code, message=error.description), error.code


def admin_required(view):
    """Let only admins in; an agent gets 403."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        user = current_user()
        if user is None or user["role"] != "admin":
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def actor():
    """Return the signed-in user's name, for audit rows."""
    user = current_user()
    return user["name"] if user else None
