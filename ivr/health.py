"""GET /healthz: 200 when the app and its database work, 503 when the database does not."""
import logging

from flask import Blueprint, current_app

from . import db

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz():
    """Report whether the app and its database work."""
    flow = current_app.extensions["ivr"]["flow"]
    try:
        db.check(db.get_db())
    except Exception as error:  # noqa: BLE001 - any database failure means "not healthy"
        log.warning("healthz: database unavailable: %s", error)
        return {"status": "unavailable", "database": "unavailable", "flow": flow.name}, 503
    return {"status": "ok", "database": "ok", "flow": flow.name}, 200
