"""Guards for the staff dashboard: server-side sessions, sign-in required, admin-only views, CSRF tokens and cookies."""
import functools
import hmac
import secrets
from datetime import timedelta

from flask import abort, current_app, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface

from ivr.database import get_db
from ivr.staff import sessions, signin, users

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
# The cookie that carries a staff session's random id, and nothing else.
STAFF_COOKIE = "staff_session"
# Where a user signed in with a temporary password may go before choosing a new one.
TEMPORARY_PASSWORD_ENDPOINTS = frozenset({"dashboard.password", "dashboard.logout", "dashboard.language"})


# Twilio's webhooks carry no staff cookie and never use the session.
SESSIONLESS_PREFIXES = ("/voice/",)


class StaffSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, holding only the language and the form token, Secure over HTTPS."""

    # Who is signed in is not in it: that is the server-side session whose id STAFF_COOKIE carries.

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


def timeouts():
    """The configured idle and absolute session timeouts."""
    config = current_app.config
    return sessions.Timeouts(idle=timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
                             absolute=timedelta(hours=config["SESSION_MAX_HOURS"]))


def check_slots():
    """The server-wide ceiling on password checks running at once."""
    return signin.CheckSlots(current_app.config["DATABASE"], current_app.config["SIGN_IN_SLOTS"])


def current_session():
    """Return this request's open server-side session (a staff_sessions row), or None."""
    if "staff_session" not in g:
        g.staff_session = None
        token = request.cookies.get(STAFF_COOKIE)
        if token:
            g.staff_session = sessions.resume(get_db(), token, timeouts())
            if g.staff_session is None:
                g.staff_cookie = ""  # an ended session's id: the browser may as well forget it
    return g.staff_session


def current_user():
    """Return the signed-in, enabled staff user for this request, or None."""
    if "staff_user" not in g:
        found = current_session()
        user = users.get_user_by_id(get_db(), found["user_id"]) if found else None
        g.staff_user = user if user and not user["disabled"] else None
    return g.staff_user


def _fresh_form_session():
    """Start the signed cookie afresh (language kept), so no form token outlives a change of who is signed in."""
    lang = session.get("lang")
    session.clear()
    session.permanent = True
    session["lang"] = lang or "zh"


def sign_in(user):
    """Start a new server-side session for `user` in this browser, with a new CSRF token."""
    g.staff_cookie = sessions.start(get_db(), user, timeouts(), request.remote_addr)
    _fresh_form_session()
    csrf_token()
    for name in ("staff_session", "staff_user"):
        g.pop(name, None)


def sign_out(reason="signed out"):
    """End this browser's session on the server, so its cookie never works again, even replayed."""
    found = current_session()
    if found is not None:
        sessions.end(get_db(), found["id"], reason)
    g.staff_cookie = ""
    _fresh_form_session()


def write_session_cookie(response):
    """Set the session cookie when this request started a session, or drop it when the session ended."""
    token = g.get("staff_cookie")
    if token is None:
        return response
    app = current_app
    secure = app.session_interface.get_cookie_secure(app)
    samesite = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    if token:
        response.set_cookie(STAFF_COOKIE, token, max_age=int(timeouts().absolute.total_seconds()), path="/",
                            secure=secure, httponly=True, samesite=samesite)
    else:
        response.delete_cookie(STAFF_COOKIE, path="/", secure=secure, httponly=True, samesite=samesite)
    return response


def guard(blueprint, open_endpoints=()):
    """Make every view of `blueprint` need a signed-in user, and every POST a CSRF token."""

    @blueprint.before_request
    def _guard():
        if request.method == "POST":
            check_csrf()
        if request.endpoint in open_endpoints:
            return None
        user = current_user()
        if user is None:
            return redirect(url_for("dashboard.login", next=request.full_path if request.method == "GET" else None))
        if users.password_is_temporary(user) and request.endpoint not in TEMPORARY_PASSWORD_ENDPOINTS:
            return redirect(url_for("dashboard.password"))
        return None


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
