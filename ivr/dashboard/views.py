"""The staff dashboard's own pages under /dashboard/: sign-in, language and the overview."""
from flask import Blueprint, abort, redirect, render_template, request, session, url_for

from ivr.dashboard import charts, stats, uitext
from ivr.dashboard.helpers import safe_next
from ivr.database import get_db
from ivr.staff import audit, users
from ivr.staff.auth import current_user, guard, sign_in
from ivr.storage import db

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
guard(bp, open_endpoints=("dashboard.login", "dashboard.language"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with a staff name and password."""
    error = None
    status = 200
    if request.method == "POST":
        name = request.form.get("name", "")
        database = get_db()
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
        database = get_db()
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
    figures = stats.overview(get_db())
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
