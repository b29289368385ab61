"""Dashboard pages for the watchlist, merchants, outreach, reports as cases and call-backs; writes go through their
domain modules."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for

from ivr.dashboard import callbacklist, merchantview, numberview, paging, recordings, reportlist, uitext
from ivr.dashboard.helpers import safe_next
from ivr.database import get_db
from ivr.errors import Conflict, InvalidInput, NotFound
from ivr.phone import to_e164
from ivr.staff import users
from ivr.staff.auth import actor, admin_required, current_user, guard
from ivr.verification import cases, merchants, outreach, reports
from ivr.vocabulary import CALLBACK_OUTCOMES, CASE_STATUSES

bp = Blueprint("dash_manage", __name__, url_prefix="/dashboard")
guard(bp)


def _domain_error(error):
    """Turn a domain error into the HTTP status staff see with its message."""
    code = {NotFound: 404, Conflict: 409, InvalidInput: 400}[type(error)]
    abort(code, description=str(error))


# -- numbers --------------------------------------------------------------------------------


@bp.get("/numbers")
def numbers():
    """Reported numbers a page at a time, most recently reported first or sorted by reports, merchants or dates, with
    distinct-merchant counts, status, location and carrier."""
    status = request.args.get("status", "")
    if status and status not in reportlist.NUMBER_STATUSES:
        abort(400, description=f"status: unknown value {status!r}")
    q, sort, page = request.args.get("q", "")[:20], request.args.get("sort", "last_reported"), request.args.get("page", "1")
    try:
        found = numberview.list_numbers(get_db(), status, q, sort, int(page) if page.isdigit() and len(page) < 9 else 1,
                                        lang=session.get("lang", "zh"))
    except InvalidInput as error:
        abort(400, description=str(error))
    return render_template("dashboard/numbers.html", found=found, rows=found.rows, status=status, sort=sort,
                           sorts=numberview.SORTS, statuses=reportlist.NUMBER_STATUSES, q=q)


@bp.get("/numbers/<number>")
def number(number):
    """One number: its reports (which count towards the watchlist), status history, the confirm/clear form, and a
    lock on it as a calling number."""
    database = get_db()
    found = _number_page(database, number)
    if found is None:
        abort(404)
    return render_template("dashboard/number.html", **numberview.note_opened(database, found, actor()))


def _official_numbers():
    return current_app.extensions["ivr"]["official_numbers"]


def _lock_settings():
    return current_app.config.get("LOCK_ATTEMPTS", 5), current_app.config.get("LOCK_HOURS", 24)


def _number_page(database, number):
    """What the number page shows, or None when the number was never reported, is not locked and no merchant asked
    about it."""
    number = to_e164(number) or number
    found = reportlist.number_detail(database, number, current_app.config.get("REPORT_WINDOW_DAYS", 30))
    locks = [lock for lock in merchantview.locks_in_force(database, *_lock_settings(), number=number)
             if lock["scope"] == "number"]
    facts = numberview.number_facts(database, number, session.get("lang", "zh"),
                                    paging.page_number(request.args.get("asking_page")))
    if found is None and not locks and not facts["asking"]:
        return None
    if found is None:
        found = reportlist.empty_number(number, current_app.config.get("REPORT_WINDOW_DAYS", 30))
    return dict(found, locks=locks, ours=reports.is_ours(database, number, _official_numbers()), **facts)


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
    """Merchants a page at a time, found by partial number, name or phone and sorted, and every lock in force
    (wrong codes) with a Lift button for admins."""
    q = request.args.get("q", "").strip()[:100]
    sort = request.args.get("sort", "number")
    page = request.args.get("page", "1")
    database = get_db()
    try:
        found = merchantview.search(database, q, sort, int(page) if page.isdigit() and len(page) < 9 else 1)
    except InvalidInput as error:
        abort(400, description=str(error))
    return render_template("dashboard/merchants.html", found=found, rows=found.rows, q=q, sort=sort,
                           sorts=merchantview.SORTS, locks=merchantview.locks_in_force(database, *_lock_settings()))


@bp.get("/merchants/<merchant_id>")
def merchant(merchant_id):
    """A merchant: details, phones, outreach history, calls, reports, and its two lock counters."""
    database = get_db()
    try:
        found = merchantview.detail(database, merchant_id, *_lock_settings(),
                                    calls_before=request.args.get("calls_before"))
    except NotFound:
        abort(404)
    except InvalidInput as error:
        abort(400, description=str(error))
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


def _outreach_page(database, state="", merchant_id="", before=None, after=None, created=None, form=None):
    """Render the outreach list with the register form; `created` shows a new code this once."""
    try:
        rows, has_older, has_newer = merchantview.list_outreach(database, state, merchant_id, before, after)
    except InvalidInput as error:  # a cursor that is not one of ours
        abort(400, description=str(error))
    older, newer = paging.id_cursors(rows, has_older, has_newer)
    kept = {key: value for key, value in (("state", state), ("merchant", merchant_id)) if value}
    return render_template("dashboard/outreach.html", rows=rows, older=older, newer=newer, state=state,
                           merchant=merchant_id, filters=kept,
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
    return _outreach_page(get_db(), state, merchant_id, request.args.get("before"), request.args.get("after"))


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


@bp.post("/outreach/<int:outreach_id>/complete")
def outreach_complete(outreach_id):
    """Mark open outreach done (the merchant did what was asked)."""
    try:
        outreach.complete_outreach(get_db(), outreach_id, actor())
    except (InvalidInput, NotFound, Conflict) as error:
        _domain_error(error)
    flash(_say("Outreach {n} completed.", n=outreach_id), "ok")
    return redirect(request.referrer if _same_site(request.referrer) else url_for("dash_manage.outreach_list"))


def _cancel_page(outreach_id, status=200):
    """The confirmation page: the outreach, and the words a merchant calling with its code will hear afterwards."""
    try:
        row = outreach.public(outreach.get_outreach(get_db(), outreach_id))
    except NotFound:
        abort(404)
    flow = current_app.extensions["ivr"]["flow"]
    return render_template("dashboard/outreach_cancel.html", row=row, heard=cases.heard_once_cancelled(flow),
                           actions=current_app.extensions["ivr"]["outreach_actions"]), status


@bp.get("/outreach/<int:outreach_id>/cancel")
def outreach_cancel_confirm(outreach_id):
    """Ask before cancelling: what the merchant will hear if they call with this code afterwards."""
    return _cancel_page(outreach_id)


@bp.post("/outreach/<int:outreach_id>/cancel")
def outreach_cancel(outreach_id):
    """Cancel open outreach once the confirmation page's box is ticked (audited as outreach.cancel)."""
    if request.form.get("confirm") != "yes":
        # A bare POST (an old page, a script) cancels nothing: the page that explains the consequence comes back.
        flash("Nothing was cancelled: confirm on this page first.", "error")
        return _cancel_page(outreach_id, 400)
    try:
        outreach.cancel_outreach(get_db(), outreach_id, actor())
    except (InvalidInput, NotFound, Conflict) as error:
        _domain_error(error)
    flash(_say("Outreach {n} cancelled: its code is now answered as no longer valid.", n=outreach_id), "ok")
    return redirect(url_for("dash_manage.outreach_list"))


def _same_site(url):
    return bool(url) and url.startswith(request.host_url)


# -- reports as cases -----------------------------------------------------------------------


@bp.get("/reports/<int:report_id>")
def report(report_id):
    """One report as a case: details, status, assignee, notes, and every call that asked about its number."""
    database = get_db()
    try:
        found = cases.report_case(database, report_id)
    except NotFound:
        abort(404)
    asked, has_older, has_newer = [], False, False
    if found["number"]:
        try:
            asked, has_older, has_newer = reportlist.asked_calls(
                database, found["number"], before=request.args.get("asked_before"),
                after=request.args.get("asked_after"))
        except InvalidInput as error:
            abort(400, description=str(error))
    older, newer = paging.id_cursors(asked, has_older, has_newer, key="event_id")
    return render_template(
        "dashboard/report.html", report=found, asked=asked, older=older, newer=newer, statuses=CASE_STATUSES,
        asked_total=reportlist.asked_counts(database, [found]).get(found["number"], 0),
        assignees=users.user_names(database, enabled_only=True),
        recordings=recordings.infos([found["recording_sid"]]),
    )


def _case_change(report_id, change, done):
    """Run `change(database, actor)` on a report's case; a refused one comes back as a message on the report page."""
    try:
        change(get_db(), actor())
    except NotFound:
        abort(404)
    except InvalidInput as error:
        flash(str(error), "error")
    else:
        flash(done, "ok")
    return redirect(url_for("dash_manage.report", report_id=report_id))


@bp.post("/reports/<int:report_id>/assign")
def report_assign(report_id):
    """Give a report to a staff member, or to nobody."""
    assignee = request.form.get("assignee", "")[:64]
    return _case_change(report_id, lambda database, who: cases.assign(database, report_id, assignee, who),
                        "Assignee saved.")


@bp.post("/reports/<int:report_id>/status")
def report_status(report_id):
    """Move a report to new, in progress or closed."""
    status = request.form.get("status", "")
    return _case_change(report_id, lambda database, who: cases.set_status(database, report_id, status, who),
                        "Status saved.")


@bp.post("/reports/<int:report_id>/notes")
def report_note(report_id):
    """Add an internal note to a report (notes are kept as written, with who and when)."""
    text = request.form.get("note", "")
    return _case_change(report_id, lambda database, who: cases.add_note(database, report_id, text, who),
                        "Note added.")


# -- call-backs -----------------------------------------------------------------------------


@bp.get("/callbacks")
def callbacks():
    """Messages left for a person: waiting ones oldest first with their wait and attempts, or the closed ones."""
    status = request.args.get("status", "waiting")
    if status not in callbacklist.STATUSES:
        abort(400)
    try:
        rows, older, newer = callbacklist.listed(get_db(), status, before=request.args.get("before"),
                                                 after=request.args.get("after"))
    except InvalidInput as error:
        abort(400, description=str(error))
    for row in rows:
        row["waited_words"] = callbacklist.waited_words(row["waited"], _say)
    return render_template("dashboard/callbacks.html", rows=rows, status=status, older=older, newer=newer,
                           outcomes=CALLBACK_OUTCOMES,
                           recordings=recordings.infos(row["recording_sid"] for row in rows))


def _callback_change(change, done):
    """Run `change(database, actor)` on a call-back request and go back to the queue (409 when it is already closed);
    `done(closed)` is the message staff then see."""
    try:
        closed = change(get_db(), actor())
    except InvalidInput as error:
        abort(400, description=_say(str(error)))
    except NotFound as error:
        abort(404, description=str(error))
    except Conflict as error:
        abort(409, description=_say(str(error)))
    flash(done(closed), "ok")
    return redirect(url_for("dash_manage.callbacks"))


@bp.post("/callbacks/<int:callback_id>/attempts")
def callback_attempt(callback_id):
    """Log one attempt to ring a caller back: reached and wrong number close it, no answer keeps it waiting."""
    outcome = request.form.get("outcome", "")
    return _callback_change(
        lambda database, who: cases.log_attempt(database, callback_id, outcome, who),
        lambda closed: "Call-back closed." if closed else "No answer logged; the call-back keeps waiting.",
    )


@bp.post("/callbacks/<int:callback_id>/done")
def callback_done(callback_id):
    """Mark a call-back request done: logged as an attempt that reached the caller."""
    return _callback_change(lambda database, who: callbacklist.mark_done(database, callback_id, who),
                            lambda closed: "Call-back marked done.")


@bp.post("/callbacks/<int:callback_id>/close")
def callback_close(callback_id):
    """Close a request that leaves nothing to call back (withheld number, no recording)."""
    return _callback_change(lambda database, who: cases.close_without_call(database, callback_id, who),
                            lambda closed: "Call-back closed.")
