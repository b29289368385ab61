"""Dashboard pages for the audit log (all staff) and staff accounts (admins only)."""
import json

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from ivr.dashboard import paging
from ivr.dashboard.helpers import masked_numbers
from ivr.database import get_db
from ivr.errors import Conflict, InvalidInput, NotFound
from ivr.phone import mask
from ivr.staff import audit, users
from ivr.staff.auth import actor, admin_required, guard
from ivr.storage import auditlist

bp = Blueprint("dash_admin", __name__, url_prefix="/dashboard")
guard(bp)
USERS_PAGE = 50


@bp.get("/audit")
def audit_log():
    """Every staff action, newest first, filtered by who, what or which record, a page at a time both ways."""
    args = request.args
    before, after = args.get("before", ""), args.get("after", "")
    if any(cursor and not (cursor.isdigit() and len(cursor) <= 18) for cursor in (before, after)):
        abort(400)
    database = get_db()
    filters = {key: args.get(key, "").strip() for key in ("user", "action", "target")}
    if after:
        # Towards the newest: the rows just above `after`, shown newest first like every page.
        rows = [_decoded(row) for row in auditlist.audit_rows_after(
            database, filters["user"], filters["action"], filters["target"], int(after), audit.PAGE + 1)]
        newer = len(rows) > audit.PAGE
        rows = rows[:audit.PAGE][::-1]
        older = bool(rows)
    else:
        rows = audit.entries(database, user=filters["user"], action=filters["action"], target=filters["target"],
                             before=before or None, limit=audit.PAGE + 1)
        older, newer = len(rows) > audit.PAGE, bool(before)
        rows = rows[:audit.PAGE]
    for row in rows:
        detail = row["detail_data"]
        if row["action"] == "lock.lift" and isinstance(detail, dict) and detail.get("scope") == "number":
            row["target"] = mask(row["target"])  # a caller's number, masked here as everywhere else for staff
        else:
            row["target"] = masked_numbers(row["target"])
        row["detail_data"] = masked_numbers(detail)
    return render_template(
        "dashboard/audit.html", rows=rows, more=older, newer=newer and bool(rows), actions=audit.actions(database),
        filters={key: args.get(key, "") for key in ("user", "action", "target")},
    )


def _decoded(row):
    """An audit row with its JSON detail decoded into `detail_data`, as audit.entries gives it."""
    try:
        row["detail_data"] = json.loads(row["detail"]) if row["detail"] else {}
    except ValueError:
        row["detail_data"] = {"text": row["detail"]}
    return row


@bp.get("/users")
@admin_required
def user_list():
    """Staff accounts, with their last sign-in, and the form to add one."""
    return _user_page()


def _user_page(temporary=None, status=200):
    """The users page, a page of accounts at a time; `temporary` is {name, password} right after a reset, shown this
    once and never stored."""
    database = get_db()
    where = paging.numbered(users.count_users(database), paging.page_number(request.values.get("page")), USERS_PAGE)
    return render_template("dashboard/users.html", rows=users.list_users(database, USERS_PAGE, where.offset),
                           where=where, roles=users.ROLES, temporary=temporary), status


def _back_to_users():
    """Go back to the page of the users list the form was sent from."""
    page = paging.page_number(request.form.get("page"))
    return redirect(url_for("dash_admin.user_list", page=page if page > 1 else None))


@bp.post("/users")
@admin_required
def user_create():
    """Add a staff account."""
    form = request.form
    if form.get("password", "") != form.get("password2", ""):
        flash("The two passwords differ.", "error")
        return redirect(url_for("dash_admin.user_list"))
    try:
        # create_user hashes the password before it opens its short write transaction.
        users.create_user(get_db(), form.get("name", ""), form.get("role", ""), form.get("password", ""), actor())
    except InvalidInput as error:
        flash(str(error), "error")
    except Conflict:
        flash("That user name is taken.", "error")
    else:
        flash("User created.", "ok")
    return redirect(url_for("dash_admin.user_list"))


@bp.post("/users/<name>")
@admin_required
def user_update(name):
    """Change a staff account's role, or disable it (ending its sessions) or enable it."""
    form = request.form
    if name == actor() and (form.get("disabled") == "1" or form.get("role") == "agent"):
        flash("You cannot disable or demote yourself.", "error")
        return _back_to_users()
    try:
        users.update_user(
            get_db(), name, actor(), role=form.get("role") or None,
            disabled=None if form.get("disabled") in (None, "") else form.get("disabled") == "1",
        )
    except NotFound:
        abort(404)
    except InvalidInput as error:
        flash(str(error), "error")
    else:
        flash("User updated.", "ok")
    return _back_to_users()


@bp.post("/users/<name>/password")
@admin_required
def user_reset_password(name):
    """Reset another user's password: a temporary one, shown once on this page, that only lets them choose a new one."""
    if name == actor():
        flash("Change your own password on the password page.", "error")
        return _back_to_users()
    try:
        password = users.reset_password(get_db(), name, actor())
    except NotFound:
        abort(404)
    # Rendered, not redirected: a flashed message would travel in the (signed, not encrypted) cookie.
    return _user_page(temporary={"name": name, "password": password})
