"""GET /healthz: 200 when the app and its database work, 503 when the database does not."""
import logging

from flask import Blueprint, current_app

from ivr.database import get_db
from ivr.storage import db
from ivr.telephony import rest

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz():
    """Report whether the app and its database work, and which kind of database it is."""
    app = current_app
    flow = app.extensions["ivr"]["flow"]
    waiting = rest.waiting_features(app.config)
    # The hotline answers calls without Twilio's REST API; what needs it waits, and says so here.
    body = {"flow": flow.name, "public_url": "set" if app.config.get("PUBLIC_URL") else "missing",
            "warnings": list(app.extensions["ivr"]["warnings"]) + ([waiting] if waiting else []),
            "database_kind": "postgresql" if app.config["DATABASE_URL"] else "sqlite", "twilio_rest": "missing credentials" if waiting else "set"}
    try:
        db.check(get_db())
    except Exception as error:  # noqa: BLE001 - any database failure means "not healthy"
        log.warning("healthz: database unavailable: %s", error)
        return dict(body, status="unavailable", database="unavailable"), 503
    return dict(body, status="ok", database="ok"), 200
