"""Dashboard pages for calls: the filtered list, one call's timeline, revealing a number, and CSV exports."""
import csv
import io
import re

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)

from ivr.calllog import timeline as calldetail
from ivr.dashboard import callsearch, localtime, paging, recordings, reportlist, uitext
from ivr.dashboard.helpers import identified_by_words, masked_number, raw_record_line, safe_next
from ivr.database import get_db
from ivr.errors import InvalidInput
from ivr.staff import audit, reveals, users
from ivr.staff.auth import actor, current_session, guard
from ivr.storage import db
from ivr.storage import reveal as reveal_store
from ivr.vocabulary import CASE_STATUSES

bp = Blueprint("dash_calls", __name__, url_prefix="/dashboard")
guard(bp)
# A cell starting with one of these is a formula to a spreadsheet; transcripts are attacker-controlled.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
E164 = re.compile(r"\+[0-9]{6,15}")


def _call_languages():
    """Return {code: name} of the languages the flow declares, in its order: what a call's language can be."""
    flow = current_app.extensions["ivr"]["flow"]
    return {code: language.name for code, language in flow.language_settings.items()}


def _call_filter(args):
    return callsearch.CallFilter.from_args(args, _call_languages())


@bp.get("/calls")
def calls():
    """Calls newest (or oldest) first, filtered, a keyset page at a time, with their count or its estimate."""
    filters = _call_filter(request.args)
    database = get_db()
    rows, has_older, has_newer, total = [], False, False, callsearch.Count(0)
    if not filters.errors:
        try:
            rows, has_older, has_newer = callsearch.list_calls(
                database, filters, before=request.args.get("before"), after=request.args.get("after")
            )
        except InvalidInput as error:
            abort(400, description=str(error))
        total = callsearch.count_calls(database, filters)
    said = callsearch.said_by_call(database, [row["sid"] for row in rows])
    older, newer = callsearch.page_cursors(rows, has_older, has_newer)
    return render_template(
        "dashboard/calls.html", rows=rows, filters=filters, said=said, total=total, rounded=callsearch.rounded,
        older=older, newer=newer, sorts=callsearch.SORTS, merchant_matches=callsearch.MERCHANT_MATCHES,
        verdicts=callsearch.VERDICTS, statuses=callsearch.STATUSES, call_languages=_call_languages(),
        search_cap=callsearch.SEARCH_CAP,
    ), (400 if filters.errors else 200)


@bp.get("/calls/<sid>")
def call(sid):
    """One call as a timeline: prompts heard, keys and phrases, verdict, report, recording."""
    found = calldetail.call_timeline(get_db(), sid)
    if found is None:
        abort(404)
    return render_template("dashboard/call.html", call_languages=_call_languages(),
                           raw_record=[raw_record_line(event) for event in found["events"]], **found)


@bp.post("/reveal")
def reveal():
    """Show the full phone number(s) of a call, merchant, report or call-back for a few minutes, and audit it."""
    # Kept on the server with this session (never in the cookie); each page that then shows a number in full
    # writes its own audit row (helpers.audit_numbers_shown).
    kind, ref = request.form.get("kind", ""), request.form.get("ref", "")[:64]
    if kind not in reveal_store.KINDS:
        abort(400)
    database = get_db()
    numbers = reveal_store.numbers_of(database, kind, ref)
    if not numbers:
        abort(404)
    reveals.reveal(database, current_session()["id"], actor(), f"{kind}:{ref}", numbers,
                   current_app.config["REVEAL_MINUTES"])
    return redirect(safe_next(request.form.get("next"), url_for("dash_calls.calls")))


def _cell(value):
    text = "" if value is None else str(value)
    if E164.fullmatch(text):
        return text
    return "'" + text if text.startswith(FORMULA_START) else text


def _audited_export_filters(read_filters, action):
    """Read an export's filters with `read_filters(args)` (400 if invalid) and record the export in the audit log."""
    filters = read_filters(request.args)
    if filters.errors:
        abort(400, description="; ".join(filters.errors))
    database = get_db()
    with db.transaction(database):
        audit.record(database, actor(), action, None, filters.args())
    return filters


def _export_names():
    """Return {stored value: name} in the staff member's language, for an export's cells (verdicts, statuses...)."""
    return uitext.value_names(session.get("lang", "zh"))


def _export_yes_no(flag):
    """Return a yes/no cell in the staff member's language."""
    return uitext.translate("Yes" if flag else "No", session.get("lang", "zh"))


def _csv_response(name, header, make_rows):
    """Stream a CSV; `make_rows(database)` runs inside the stream, on a connection the stream opens and closes.

    `header` holds the columns' keys: the file has their labels in the staff member's language, and a time column
    (written with localtime.show) names the dashboard's time zone, as the pages do.
    """
    lang, zone_name = session.get("lang", "zh"), localtime.zone_label()
    labels = [uitext.csv_column(key, lang, zone_name) for key in header]

    def generate():
        rows = make_rows(get_db())
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")  # so spreadsheet programs read the Chinese text as UTF-8
        writer.writerow(labels)
        for count, row in enumerate(rows, start=1):
            writer.writerow(row)
            if count % 500 == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return Response(
        stream_with_context(generate()), mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@bp.get("/calls.csv")
def calls_csv():
    """The filtered calls list as CSV (numbers masked)."""
    filters = _audited_export_filters(_call_filter, "export.calls")
    header = ["sid", "started_at", "caller", "language", "status", "duration", "verdict", "merchant_id", "identified_by"]

    names, lang = _export_names(), session.get("lang", "zh")

    def make_rows(connection):
        calls = callsearch.iter_calls(connection, filters)
        for row in calls:
            yield [row["sid"], localtime.show(row["started_at"]), masked_number(row["from_number"]),
                   names.get(row["language"], row["language"]), names.get(row["status"], row["status"]),
                   row["duration"], names.get(row["verdict"], row["verdict"]), _cell(row["merchant_id"]),
                   identified_by_words(row["identified_by"], lang, short=True)]

    return _csv_response("calls.csv", header, make_rows)


def _report_filter(args):
    return reportlist.ReportFilter.from_args(args, me=actor())


@bp.get("/reports")
def reports():
    """Scam reports as cases, newest (or oldest) first, filtered by date, category, number, status or assignee."""
    filters = _report_filter(request.args)
    database = get_db()
    rows, has_older, has_newer = [], False, False
    if not filters.errors:
        try:
            rows, has_older, has_newer = reportlist.list_reports(
                database, filters, before=request.args.get("before"), after=request.args.get("after"))
        except InvalidInput as error:  # a cursor that is not one of ours
            abort(400, description=str(error))
    older, newer = paging.id_cursors(rows, has_older, has_newer)
    return render_template(
        "dashboard/reports.html", rows=rows, filters=filters, older=older, newer=newer, statuses=CASE_STATUSES,
        # Disabled accounts stay in the filter: reports may still be theirs.
        staff_names=users.user_names(database),
        unassigned=reportlist.UNASSIGNED, asked=reportlist.asked_counts(database, rows),
        categories=reportlist.categories(database), recordings=recordings.infos(row["recording_sid"] for row in rows),
    ), (400 if filters.errors else 200)


@bp.get("/reports.csv")
def reports_csv():
    """The filtered reports as CSV (reporters' numbers masked, reported numbers in full)."""
    filters = _audited_export_filters(_report_filter, "export.reports")
    header = ["report_number", "created_at", "category", "number", "reporter", "merchant_id", "call_sid", "recording_url",
              "counted", "case_status", "assignee"]

    names = _export_names()

    def make_rows(connection):
        for row in reportlist.iter_reports(connection, filters):
            yield [row["report_number"], localtime.show(row["created_at"]), _cell(names.get(row["category"], row["category"])),
                   _cell(row["number"] or row["number_raw"]), masked_number(row["reporter_number"]),
                   _cell(row["merchant_id"]), row["call_sid"], _cell(row["recording_url"]),
                   _export_yes_no(row.get("counted")), names.get(row["case_status"], row["case_status"]),
                   _cell(row["assignee"])]

    return _csv_response("reports.csv", header, make_rows)

