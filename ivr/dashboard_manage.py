"""Dashboard pages for the watchlist, merchants, outreach and call-backs; writes go through their domain modules."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from . import callbacklist, db, merchantview, merchants, outreach, reportlist, reports
from .errors import Conflict, InvalidInput, NotFound
from .phone import to_e164
from .staffauth import actor, admin_required, current_user, guard

bp = Blueprint("dash_manage", __name__, url_prefix="/dashboard")
guard(bp)


def _domain_error(error):
    """Turn a domain error into the HTTP status staff see with its message."""
    code = {NotFound: 404, Conflict: 409, InvalidInput: 400}[type(error)]
    abort(code, description=str(error))


# -- numbers --------------------------------------------------------------------------------


@bp.get("/numbers")
def numbers():
    """Reported numbers, most recently reported first, with distinct-merchant counts and status."""
    status = request.args.get("status", "")
    if status and status not in reportlist.NUMBER_STATUSES:
        abort(400, description=f"status: unknown value {status!r}")
    rows, more = reportlist.list_numbers(db.get_db(), status, request.args.get("q", "")[:20], request.args.get("before"))
    return render_template("dashboard/numbers.html", rows=rows, more=more, status=status,
                           statuses=reportlist.NUMBER_STATUSES, q=request.args.get("q", ""))


@bp.get("/numbers/<number>")
def number(number):
    """One reported number: its reports, categories, status history and the confirm/clear form."""
    found = reportlist.number_detail(db.get_db(), to_e164(number) or number)
    if found is None:
        abort(404)
    return render_template("dashboard/number.html", **found)


@bp.post("/numbers/<number>/status")
@admin_required
def number_status(number):
    """Confirm a number as a scam or clear it, with a reason (admins only)."""
    reason = request.form.get("reason", "").strip()
    if not reason:
        abort(400, description="a reason is required")
    try:
        reports.set_number_status(db.get_db(), number, request.form.get("status", ""), actor(), reason=reason)
    except (InvalidInput, NotFound, Conflict) as error:
        _domain_error(error)
    flash("Status saved.", "ok")
    return redirect(url_for("dash_manage.number", number=to_e164(number) or number))


# -- merchants ------------------------------------------------------------------------------


@bp.get("/merchants")
def merchant_list():
    """Merchants matching a number or name."""
    q = request.args.get("q", "").strip()[:100]
    return render_template("dashboard/merchants.html", rows=merchantview.search(db.get_db(), q), q=q)


@bp.get("/merchants/<merchant_id>")
def merchant(merchant_id):
    """A merchant: details, phones, outreach history, calls, reports, and whether it is locked."""
    database = db.get_db()
    try:
        found = merchantview.detail(database, merchant_id, current_app.config.get("LOCK_ATTEMPTS", 5),
                                    current_app.config.get("LOCK_HOURS", 24))
    except NotFound:
        abort(404)
    return render_template("dashboard/merchant.html", **found)


@bp.post("/merchants/<merchant_id>/unlock")
@admin_required
def unlock(merchant_id):
    """Lift a merchant's lock after too many wrong codes (admins only)."""
    try:
        merchants.unlock_merchant(db.get_db(), merchant_id, actor())
    except (InvalidInput, NotFound, Conflict) as error:
        _domain_error(error)
    flash("Merchant unlocked.", "ok")
    return redirect(url_for("dash_manage.merchant", merchant_id=merchant_id))


# -- outreach -------------------------------------------------------------------------------


@bp.get("/outreach")
def outreach_list():
    """Outreach newest first, filtered by state and merchant, with the form to register new outreach."""
    state = request.args.get("state", "")
    if state and state not in outreach.STATUSES + ("expired",):
        abort(400, description=f"state: unknown value {state!r}")
    merchant_id = request.args.get("merchant", "").strip()[:20]
    rows, more = merchantview.list_outreach(db.get_db(), state, merchant_id, request.args.get("before"))
    return render_template("dashboard/outreach.html", rows=rows, more=more, state=state, merchant=merchant_id,
                           states=outreach.STATUSES + ("expired",), reasons=outreach.REASONS,
                           channels=outreach.CHANNELS, created=None, form={})


@bp.post("/outreach")
def outreach_create():
    """Register outreach; the page shows its reference code this once, for the merchant."""
    form = request.form
    database = db.get_db()
    try:
        created = outreach.create_outreach(
            database, form.get("merchant_id", ""), form.get("reason", ""), form.get("channel", ""),
            form.get("from_number", ""), form.get("staff_name", "") or current_user()["name"],
            form.get("instructions", ""), valid_hours=form.get("valid_hours", "168") or "168", actor=actor(),
        )
    except (InvalidInput, NotFound) as error:
        flash(str(error), "error")
        rows, more = merchantview.list_outreach(database, "", "", None)
        return render_template("dashboard/outreach.html", rows=rows, more=more, state="", merchant="",
                               states=outreach.STATUSES + ("expired",), reasons=outreach.REASONS,
                               channels=outreach.CHANNELS, created=None, form=form), 400
    rows, more = merchantview.list_outreach(database, "", "", None)
    # Rendered, not redirected: the code must not sit in a URL, a flash cookie or the browser history.
    response = render_template("dashboard/outreach.html", rows=rows, more=more, state="", merchant="",
                               states=outreach.STATUSES + ("expired",), reasons=outreach.REASONS,
                               channels=outreach.CHANNELS, created=created, form={})
    return response, 201, {"Cache-Control": "no-store"}


@bp.post("/outreach/<int:outreach_id>/<any(cancel, complete):change>")
def outreach_change(outreach_id, change):
    """Cancel or complete open outreach."""
    verb = outreach.cancel_outreach if change == "cancel" else outreach.complete_outreach
    try:
        verb(db.get_db(), outreach_id, actor())
    except (InvalidInput, NotFound, Conflict) as error:
        _domain_error(error)
    flash(f"Outreach {outreach_id}: {change} done.", "ok")
    return redirect(request.referrer if _same_site(request.referrer) else url_for("dash_manage.outreach_list"))


def _same_site(url):
    return bool(url) and url.startswith(request.host_url)


# -- call-backs -----------------------------------------------------------------------------


@bp.get("/callbacks")
def callbacks():
    """Messages left for a person, waiting ones first."""
    status = request.args.get("status", "waiting")
    if status not in ("waiting", "done"):
        abort(400)
    return render_template("dashboard/callbacks.html", rows=callbacklist.listed(db.get_db(), status), status=status)


@bp.post("/callbacks/<int:callback_id>/done")
def callback_done(callback_id):
    """Mark a call-back request done."""
    try:
        callbacklist.mark_done(db.get_db(), callback_id, actor())
    except (NotFound, Conflict) as error:
        _domain_error(error)
    flash("Call-back marked done.", "ok")
    return redirect(url_for("dash_manage.callbacks"))
