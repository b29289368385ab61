"""GET /healthz: 200 when the app and its database work, 503 when the database does not."""
import logging

from flask import Blueprint, current_app

from ivr.database import get_db
from ivr.storage import db

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz():
    """Report whether the app and its database work."""
    app = current_app
    flow = app.extensions["ivr"]["flow"]
    body = {"flow": flow.name, "public_url": "set" if app.config.get("PUBLIC_URL") else "missing",
            "warnings": list(app.extensions["ivr"]["warnings"])}
    try:
        db.check(get_db())
    except Exception as error:  # noqa: BLE001 - any database failure means "not healthy"
        log.warning("healthz: database unavailable: %s", error)
        return dict(body, status="unavailable", database="unavailable"), 503
    return dict(body, status="ok", database="ok"), 200
