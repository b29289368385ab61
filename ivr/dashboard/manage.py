"""Dashboard pages for the watchlist, merchants, outreach and call-backs; writes go through their domain modules."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for

from ivr.dashboard import callbacklist, merchantview, recordings, reportlist, uitext
from ivr.dashboard.helpers import safe_next
from ivr.database import get_db
from ivr.errors import Conflict, InvalidInput, NotFound
from ivr.phone import to_e164
from ivr.staff.auth import actor, admin_required, current_user, guard
from ivr.verification import merchants, outreach, reports

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
    rows, more = reportlist.list_numbers(get_db(), status, request.args.get("q", "")[:20], request.args.get("before"))
    return render_template("dashboard/numbers.html", rows=rows, more=more, status=status,
                           statuses=reportlist.NUMBER_STATUSES, q=request.args.get("q", ""))


@bp.get("/numbers/<number>")
def number(number):
    """One number: its reports (which count towards the watchlist), status history, the confirm/clear form, and a
    lock on it as a calling number."""
    found = _number_page(get_db(), number)
    if found is None:
        abort(404)
    return render_template("dashboard/number.html", **found)


def _official_numbers():
    return current_app.extensions["ivr"]["official_numbers"]


def _lock_settings():
    return current_app.config.get("LOCK_ATTEMPTS", 5), current_app.config.get("LOCK_HOURS", 24)


def _number_page(database, number):
    """What the number page shows, or None when the number was never reported and is not locked."""
    number = to_e164(number) or number
    found = reportlist.number_detail(database, number, current_app.config.get("REPORT_WINDOW_DAYS", 30))
    locks = [lock for lock in merchantview.locks_in_force(database, *_lock_settings(), number=number)
             if lock["scope"] == "number"]
    if found is None and not locks:
        return None
    if found is None:
        found = reportlist.empty_number(number, current_app.config.get("REPORT_WINDOW_DAYS", 30))
    return dict(found, locks=locks, ours=reports.is_ours(database, number, _official_numbers()))


def _say(text, **values):
    """`text` in the staff member's language, with its {placeholders} filled (for flash messages with values)."""
    return uitext.translate(text, session.get("lang", "zh"), **values)


OUR_NUMBER = "This is one of the operator's own numbers; it cannot be marked as a scam."


@bp.post("/numbers/<number>/status")
@admin_required
def number_status(number):
    """Confirm a number as a scam or clear it, with a reason (admins only); our own numbers are never confirmed."""
    reason = request.form.get("reason", "").strip()
    if not reason:
        abort(400, description="a reason is required")
    database = get_db()
    try:
        reports.set_number_status(database, number, request.form.get("status", ""), actor(), reason=reason,
                                  protected=_official_numbers())
    except Conflict:
        # The page again, with the refusal on it: one of the operator's own numbers is never called a scam.
        flash(OUR_NUMBER, "error")
        found = _number_page(database, number)
        if found is None:
            abort(409, description=_say(OUR_NUMBER))
        return render_template("dashboard/number.html", **found), 409
    except (InvalidInput, NotFound) as error:
        _domain_error(error)
    flash("Status saved.", "ok")
    return redirect(url_for("dash_manage.number", number=to_e164(number) or number))


# -- merchants and locks --------------------------------------------------------------------


@bp.get("/merchants")
def merchant_list():
    """Merchants matching a number or name, and every lock in force (wrong codes) with a Lift button for admins."""
    q = request.args.get("q", "").strip()[:100]
    database = get_db()
    return render_template("dashboard/merchants.html", rows=merchantview.search(database, q), q=q,
                           locks=merchantview.locks_in_force(database, *_lock_settings()))


@bp.get("/merchants/<merchant_id>")
def merchant(merchant_id):
    """A merchant: details, phones, outreach history, calls, reports, and its two lock counters."""
    database = get_db()
    try:
        found = merchantview.detail(database, merchant_id, *_lock_settings())
    except NotFound:
        abort(404)
    return render_template("dashboard/merchant.html", **found)


@bp.post("/merchants/<merchant_id>/unlock")
@admin_required
def unlock(merchant_id):
    """Lift both of a merchant's locks (callers not on file, its registered phones) after too many wrong codes."""
    try:
        merchants.unlock_merchant(get_db(), merchant_id, actor())
    except (InvalidInput, NotFound, Conflict) as error:
        _domain_error(error)
    flash("Merchant unlocked.", "ok")
    return redirect(url_for("dash_manage.merchant", merchant_id=merchant_id))


@bp.post("/locks/lift")
@admin_required
def lift_lock():
    """Lift one lock (form: scope of merchants.LOCK_SCOPES, and key: a merchant number, or for a calling number
    the number or `attempt:<id>` of one of its wrong codes); audited as lock.lift (admins only)."""
    scope, key = request.form.get("scope", ""), request.form.get("key", "").strip()[:64]
    if scope not in merchants.LOCK_SCOPES:
        abort(400, description=f"scope must be one of {', '.join(merchants.LOCK_SCOPES)}")
    if not key:
        abort(400, description="key is required")
    database = get_db()
    try:
        lifted = merchants.lift_lock(database, scope, merchantview.lock_key(database, scope, key), actor())
    except (InvalidInput, NotFound) as error:
        _domain_error(error)
    flash(_say("Lock lifted: {n} wrong codes no longer count.", n=lifted), "ok")
    return redirect(safe_next(request.form.get("next"), url_for("dash_manage.merchant_list")))


# -- outreach -------------------------------------------------------------------------------


def _outreach_page(database, state="", merchant_id="", before=None, created=None, form=None):
    """Render the outreach list with the register form; `created` shows a new code this once."""
    rows, more = merchantview.list_outreach(database, state, merchant_id, before)
    return render_template("dashboard/outreach.html", rows=rows, more=more, state=state, merchant=merchant_id,
                           states=outreach.STATUSES + ("expired",), reasons=outreach.REASONS,
                           channels=outreach.CHANNELS, actions=current_app.extensions["ivr"]["outreach_actions"],
                           created=created, form=form or {})


@bp.get("/outreach")
def outreach_list():
    """Outreach newest first, filtered by state and merchant, with the form to register new outreach."""
    state = request.args.get("state", "")
    if state and state not in outreach.STATUSES + ("expired",):
        abort(400, description=f"state: unknown value {state!r}")
    merchant_id = request.args.get("merchant", "").strip()[:20]
    return _outreach_page(get_db(), state, merchant_id, request.args.get("before"))


@bp.post("/outreach")
def outreach_create():
    """Register outreach; the page shows its reference code this once, for the merchant."""
    form = request.form
    database = get_db()
    try:
        created = outreach.create_outreach(
            database, form.get("merchant_id", ""), form.get("reason", ""), form.get("channel", ""),
            form.get("from_number", ""), form.get("staff_name", "") or current_user()["name"],
            form.get("action", ""), valid_hours=form.get("valid_hours", "168") or "168", actor=actor(),
            catalogue=current_app.extensions["ivr"]["outreach_actions"], code_key=current_app.config["CODE_SECRET"],
        )
    except (InvalidInput, NotFound) as error:
        flash(str(error), "error")
        return _outreach_page(database, form=form), 400
    # Rendered, not redirected: the code must not sit in a URL, a flash cookie or the browser history.
    return _outreach_page(database, created=created), 201, {"Cache-Control": "no-store"}


@bp.post("/outreach/<int:outreach_id>/<any(cancel, complete):change>")
def outreach_change(outreach_id, change):
    """Cancel or complete open outreach."""
    verb = outreach.cancel_outreach if change == "cancel" else outreach.complete_outreach
    try:
        verb(get_db(), outreach_id, actor())
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
    rows = callbacklist.listed(get_db(), status)
    return render_template("dashboard/callbacks.html", rows=rows, status=status,
                           recordings=recordings.infos(row["recording_sid"] for row in rows))


@bp.post("/callbacks/<int:callback_id>/done")
def callback_done(callback_id):
    """Mark a call-back request done."""
    try:
        callbacklist.mark_done(get_db(), callback_id, actor())
    except (NotFound, Conflict) as error:
        _domain_error(error)
    flash("Call-back marked done.", "ok")
    return redirect(url_for("dash_manage.callbacks"))
