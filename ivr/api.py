"""The JSON API for the operator's systems: merchants, outreach, calls, reports and the number watchlist."""
import hmac

from flask import Blueprint, current_app, jsonify, request

from ivr.calllog import calls
from ivr.database import get_db
from ivr.errors import Conflict, InvalidInput, NotFound
from ivr.verification import merchants, outreach, reports

bp = Blueprint("api", __name__, url_prefix="/api")
ACTOR = "api"


def init_app(app):
    """Register the API blueprint, and JSON answers for unknown /api URLs and wrong methods."""
    app.register_blueprint(bp)
    # Routing errors happen before any blueprint is chosen, so the blueprint's own handlers never see them.
    for code in (404, 405):
        app.register_error_handler(code, _routing_error)


def _is_api_path(path):
    return path == bp.url_prefix or path.startswith(bp.url_prefix + "/")


def _routing_error(error):
    if not _is_api_path(request.path):
        # Not the API's: the site's own error pages answer (the dashboard's, in the staff member's language).
        pages = current_app.extensions.get("page_errors")
        return pages(error) if pages else error
    response = http_error(error)
    if error.code == 405 and getattr(error, "valid_methods", None):
        response[0].headers["Allow"] = ", ".join(error.valid_methods)
    return response


@bp.before_request
def require_token():
    """Refuse with 401 unless the request carries `Authorization: Bearer $IVR_API_TOKEN`."""
    expected = current_app.config.get("API_TOKEN")
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    # With no token configured the API stays closed rather than open to everyone.
    if not expected or scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected.encode()):
        return _error(401, "a valid 'Authorization: Bearer <IVR_API_TOKEN>' header is required"), 401, {
            "WWW-Authenticate": 'Bearer realm="hotline"'
        }
    return None


def _error(status, message, field=None):
    body = {"error": message, "status": status}
    if field:
        body["field"] = field
    return jsonify(body)


@bp.errorhandler(InvalidInput)
def invalid(error):
    """400 naming the field."""
    return _error(400, str(error), error.field), 400


@bp.errorhandler(NotFound)
def not_found(error):
    """404 for unknown ids."""
    return _error(404, str(error)), 404


@bp.errorhandler(Conflict)
def conflict(error):
    """409 when the stored record does not allow the change."""
    return _error(409, str(error)), 409


@bp.errorhandler(404)
@bp.errorhandler(405)
@bp.errorhandler(413)
@bp.errorhandler(500)
def http_error(error):
    """Keep every API error JSON, including unknown URLs and wrong methods."""
    code = getattr(error, "code", 500) or 500
    message = getattr(error, "description", None) or "internal error"
    if code == 404:
        message = f"no API endpoint {request.path[:100]!r}; see the README for the API's URLs"
    elif code == 405:
        allowed = ", ".join(sorted(getattr(error, "valid_methods", None) or ()))
        message = f"{request.method} is not allowed on {request.path[:100]!r}" + (f"; use {allowed}" if allowed else "")
    elif code == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        message = "the request body is too large" + (f" (the limit is {limit // 1024} KiB)" if limit else "")
    return _error(code, message), code


def _body():
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # JSON nested thousands deep: not a request body anyone means to send
        data = None
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object (Content-Type: application/json)", field="body")
    return data


def _database():
    return get_db()


@bp.put("/merchants/<merchant_id>")
def put_merchant(merchant_id):
    """Create or update a merchant: {name, phones}."""
    data = _body()
    merchant, created = merchants.upsert_merchant(_database(), merchant_id, data.get("name"), data.get("phones"), ACTOR)
    return jsonify(merchant), 201 if created else 200


@bp.get("/merchants/<merchant_id>")
def get_merchant(merchant_id):
    """A merchant with its phones and outreach (without codes)."""
    database = _database()
    merchant = merchants.get_merchant(database, merchant_id)
    return jsonify(dict(merchant, outreach=outreach.for_merchant(database, merchant["id"])))


@bp.post("/outreach")
def post_outreach():
    """Record a genuine contact; 201 with id, reference_code and expires_at."""
    data = _body()
    if "merchant_id" not in data:
        raise InvalidInput("merchant_id is required", field="merchant_id")
    catalogue = current_app.extensions["ivr"]["outreach_actions"]
    if "action" not in data and "instructions" in data:
        # Free text could carry a scammer's script to the merchant in the hotline's own voice.
        raise InvalidInput("instructions are no longer accepted: send action, one of the keys GET /api/outreach/actions"
                           f" lists ({', '.join(catalogue.keys())})", field="action")
    created = outreach.create_outreach(
        _database(), data.get("merchant_id"), data.get("reason"), data.get("channel"), data.get("from_number"),
        data.get("staff_name"), data.get("action"), data.get("valid_hours", 168), ACTOR,
        catalogue=catalogue, code_key=current_app.config["CODE_SECRET"],
    )
    return jsonify(created), 201


@bp.get("/outreach/actions")
def outreach_actions():
    """What outreach may ask a merchant to do: {actions: [{key, <language>: text, ...}]}."""
    return jsonify({"actions": current_app.extensions["ivr"]["outreach_actions"].entries()})


@bp.post("/outreach/<outreach_id>/cancel")
def cancel_outreach(outreach_id):
    """Cancel open outreach."""
    return jsonify(outreach.public(outreach.cancel_outreach(_database(), outreach_id, ACTOR)))


@bp.post("/outreach/<outreach_id>/complete")
def complete_outreach(outreach_id):
    """Mark open outreach as completed."""
    return jsonify(outreach.public(outreach.complete_outreach(_database(), outreach_id, ACTOR)))


@bp.get("/calls/<sid>")
def get_call(sid):
    """One call with its verdict, its reports and its events in order."""
    return jsonify(calls.call_detail(_database(), sid))


@bp.get("/calls")
def list_calls():
    """Calls filtered by ?verdict=&since=&merchant_id= (and limit)."""
    args = request.args
    found = calls.find_calls(_database(), args.get("verdict"), args.get("since"), args.get("merchant_id"),
                             args.get("limit", 100))
    return jsonify({"calls": found})


@bp.get("/reports")
def list_reports():
    """Reports, newest first; with ?number= only that number's, plus its watchlist summary."""
    database = _database()
    number = request.args.get("number")
    if number is None:
        return jsonify({"reports": reports.list_reports(database)})
    summary = reports.number_summary(database, number)
    return jsonify({"number": summary, "reports": reports.list_reports(database, number)})


@bp.put("/numbers/<number>")
def put_number(number):
    """Set a number's watchlist status: {status: confirmed|cleared, reason}; 409 for one of the operator's own numbers."""
    data = _body()
    return jsonify(reports.set_number_status(_database(), number, data.get("status"), ACTOR, data.get("reason"),
                                             protected=current_app.extensions["ivr"]["official_numbers"]))
