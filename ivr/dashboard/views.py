"""The staff dashboard's own pages under /dashboard/: sign-in, language and the overview."""
import math

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for

from ivr.dashboard import charts, numberview, stats, uitext
from ivr.dashboard.helpers import safe_next
from ivr.database import get_db
from ivr.staff import audit, signin, users
from ivr.staff.auth import check_slots, current_user, guard, sign_in, sign_out
from ivr.storage import db

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
guard(bp, open_endpoints=("dashboard.login", "dashboard.language"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with a staff name and password; wrong, unknown and throttled attempts are answered alike for any name."""
    if request.method == "GET":
        return render_template("dashboard/login.html", error=None)
    outcome = signin.check(get_db(), request.form.get("name", ""), request.form.get("password", ""),
                           request.remote_addr, check_slots())
    if outcome.user is None:
        return _refused(outcome, "dashboard/login.html")
    sign_in(outcome.user)
    if users.password_is_temporary(outcome.user):
        return redirect(url_for("dashboard.password"))
    return redirect(safe_next(request.args.get("next"), url_for("dashboard.overview")))


def _refused(outcome, template, **context):
    """Render `template` saying why a password was not accepted: 429 with Retry-After to wait, else 401."""
    lang = session.get("lang", "zh")
    if outcome.wait:
        seconds = math.ceil(outcome.wait)
        error = uitext.translate("Too many attempts. Try again in {n} seconds.", lang, n=seconds)
        return render_template(template, error=error, **context), 429, {"Retry-After": str(seconds)}
    return render_template(template, error=uitext.translate("Wrong name or password.", lang), **context), 401


@bp.post("/logout")
def logout():
    """Sign out: the session ends on the server, so its cookie never works again."""
    user = current_user()
    if user is not None:
        database = get_db()
        with db.transaction(database):
            audit.record(database, user["name"], "auth.sign_out", user["name"])
    sign_out()
    return redirect(url_for("dashboard.login"))


@bp.route("/password", methods=["GET", "POST"])
def password():
    """Change your own password: the current one, then the new one twice; every other session ends."""
    user = current_user()
    temporary = users.password_is_temporary(user)
    if request.method == "GET":
        return render_template("dashboard/password.html", error=None, temporary=temporary)
    form = request.form
    lang = session.get("lang", "zh")
    new = form.get("new_password", "")
    problem = None
    if new != form.get("new_password2", ""):
        problem = "The two passwords differ."
    elif len(new) < users.MIN_PASSWORD:
        problem = users.PASSWORD_TOO_SHORT
    elif new == form.get("password", ""):
        problem = "The new password must differ from the current one."
    if problem:
        return render_template("dashboard/password.html", error=uitext.translate(problem, lang), temporary=temporary), 400
    database = get_db()
    outcome = signin.check(database, user["name"], form.get("password", ""), request.remote_addr, check_slots(),
                           purpose="password_change")
    if outcome.user is None:
        if not outcome.wait:
            error = uitext.translate("The current password is wrong.", lang)
            return render_template("dashboard/password.html", error=error, temporary=temporary), 400
        return _refused(outcome, "dashboard/password.html", temporary=temporary)
    # Every session of this user ends, this one too; this browser alone carries on, under a new session id.
    sign_in(users.change_own_password(database, outcome.user, new))
    flash("Your password was changed. Any other session of yours has been signed out.", "ok")
    return redirect(url_for("dashboard.overview"))


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
    """Today, and a chosen period (today, 7 or 30 days, or chosen days) at a glance; each bar opens its list."""
    period = stats.period_from_args(request.args)
    lang = session.get("lang", "zh")
    database = get_db()
    figures = stats.overview(database, period)
    names = uitext.value_names(lang)
    series = [(verdict, figures["per_day"][verdict]) for verdict in stats.VERDICT_ORDER]
    calls_chart = charts.stacked_bars(
        figures["labels"], series, uitext.translate("Calls per day", lang), names,
        link=lambda day, verdict: url_for("dash_calls.calls", date_from=day, date_to=day, verdict=verdict or "none"),
    )
    # The reports chart shows all reports per day, or (by_category) the same bars split by what was asked for.
    by_category = request.args.get("reports") == "by_category"
    if by_category:
        categories = [category for category, values in figures["by_category"].items() if any(values)]
        reports_chart = charts.stacked_bars(
            figures["labels"], [(category, figures["by_category"][category]) for category in categories],
            uitext.translate("Reports by category over time", lang), names, colors=charts.CATEGORY_COLORS,
            link=lambda day, category: url_for("dash_calls.reports", date_from=day, date_to=day, category=category),
        )
        reports_legend = charts.legend(categories, names, colors=charts.CATEGORY_COLORS)
    else:
        reports_chart = charts.stacked_bars(
            figures["labels"], [("reports", figures["reports"])], uitext.translate("Reports per day", lang), names,
            link=lambda day, key: url_for("dash_calls.reports", date_from=day, date_to=day),
        )
        reports_legend = None
    return render_template(
        "dashboard/overview.html", figures=figures, calls_chart=calls_chart, reports_chart=reports_chart,
        reports_legend=reports_legend, by_category=by_category, period=period, max_days=stats.MAX_DAYS,
        calls_legend=charts.legend(stats.VERDICT_ORDER, names), top_numbers=stats.top_numbers(database, period, lang=lang),
    ), (400 if period.errors else 200)


@bp.app_context_processor
def suspected_banner():
    """Give every page `suspected_banner()`: the suspected numbers no staff member has opened yet (asked for by the
    banner only on signed-in pages, once per request)."""

    def unseen():
        if "suspected_banner" not in g:
            g.suspected_banner = numberview.banner(get_db())
        return g.suspected_banner

    return {"suspected_banner": unseen}
