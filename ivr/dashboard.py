"""The staff dashboard under /dashboard/: sign-in, language, the overview, and wiring for its other pages."""
import json
import os
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, abort, redirect, render_template, request, session, url_for

from . import audit, charts, db, localtime, stats, uitext, users
from .phone import mask
from .staffauth import StaffSessionInterface, csrf_token, current_user, guard, sign_in

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
guard(bp, open_endpoints=("dashboard.login", "dashboard.language"))


def init_app(app):
    """Register the dashboard's blueprints, template helpers, cookie settings and CLI commands."""
    from . import dashboard_admin, dashboard_calls, dashboard_manage, staffcli

    # Flask ships these keys with its own defaults, so only its defaults are replaced; a test or deploy may override.
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    if app.config.get("PERMANENT_SESSION_LIFETIME") == timedelta(days=31):
        app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=12)
    app.config.setdefault("DASHBOARD_TZ", os.environ.get("IVR_DASHBOARD_TZ") or localtime.DEFAULT_ZONE)
    app.session_interface = StaffSessionInterface()
    app.jinja_env.autoescape = True
    for blueprint in (bp, dashboard_calls.bp, dashboard_manage.bp, dashboard_admin.bp):
        app.register_blueprint(blueprint)
    app.jinja_env.filters["phone"] = shown_number
    app.jinja_env.filters["local"] = localtime.show
    app.jinja_env.filters["pretty"] = _pretty
    app.jinja_env.filters["https_url"] = _https_url
    app.context_processor(_template_globals)
    staffcli.init_app(app)


def revealed_numbers():
    """Return the numbers this staff member has revealed in this session."""
    return set(session.get("revealed", ()))


def shown_number(number):
    """Show a phone number masked, or in full once this staff member has revealed it."""
    if number and number in revealed_numbers():
        return number
    return mask(number)


def _pretty(value):
    """Show a decoded JSON detail as compact text (escaped by the template, Chinese kept readable)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _https_url(url):
    """Return a recording URL only when it is http(s), so no javascript: link can reach a page."""
    text = str(url or "")
    return text if text.lower().startswith(("https://", "http://")) else None


def _template_globals():
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


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with a staff name and password."""
    error = None
    status = 200
    if request.method == "POST":
        name = request.form.get("name", "")
        database = db.get_db()
        with db.transaction(database):
            result = users.authenticate(database, name, request.form.get("password", ""), remote=request.remote_addr)
        lang = session.get("lang", "zh")
        if result.wait:
            error = uitext.translate("Too many failed sign-ins. Try again in {n} seconds.", lang, n=int(result.wait) + 1)
            status = 429
        elif result.user is None:
            error, status = uitext.translate("Wrong name or password.", lang), 401
        else:
            sign_in(result.user)
            return redirect(safe_next(request.args.get("next"), url_for("dashboard.overview")))
    return render_template("dashboard/login.html", error=error), status


@bp.post("/logout")
def logout():
    """Sign out."""
    user = current_user()
    if user is not None:
        database = db.get_db()
        with db.transaction(database):
            audit.record(database, user["name"], "auth.sign_out", user["name"])
    lang = session.get("lang")
    session.clear()
    session["lang"] = lang or "zh"
    return redirect(url_for("dashboard.login"))


@bp.post("/language")
def language():
    """Switch the dashboard between Chinese and English for this staff member."""
    chosen = request.form.get("lang")
    if chosen not in uitext.LANGUAGES:
        abort(400)
    session["lang"] = chosen
    return redirect(safe_next(request.form.get("next"), url_for("dashboard.overview")))


@bp.get("/")
def overview():
    """Today and the last 30 days at a glance."""
    figures = stats.overview(db.get_db())
    names = uitext.value_names(session.get("lang", "zh"))
    series = [(verdict, figures["per_day"][verdict]) for verdict in stats.VERDICT_ORDER]
    calls_chart = charts.stacked_bars(figures["labels"], series, uitext.translate("Calls per day", session.get("lang")), names)
    reports_chart = charts.stacked_bars(
        figures["labels"], [("reports", figures["reports"])], uitext.translate("Reports per day", session.get("lang")), names
    )
    return render_template(
        "dashboard/overview.html", figures=figures, calls_chart=calls_chart, reports_chart=reports_chart,
        calls_legend=charts.legend(stats.VERDICT_ORDER, names),
    )
