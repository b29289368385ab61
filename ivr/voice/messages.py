"""POST /sms/status: Twilio's delivery status for an SMS note (its statusCallback), signed like every webhook."""
import logging
import re

from flask import Blueprint, request

from ivr import clock
from ivr.database import get_db
from ivr.storage import db, outbox
from ivr.voice.signature import signed_by_twilio

bp = Blueprint("messages", __name__, url_prefix="/sms")
log = logging.getLogger(__name__)
MESSAGE_SID = re.compile(r"^(SM|MM)[0-9a-fA-F]{32}$")
# Twilio's statuses after it took the message. Its "failed" is stored as undelivered: a retry could send the
# note twice. Earlier ones (queued, sending) never move a note back from sent.
DELIVERY = {"sent": "sent", "delivered": "delivered", "undelivered": "undelivered", "failed": "undelivered"}


@bp.post("/status")
@signed_by_twilio
def status():
    """Store what Twilio says became of a note (sent, delivered, undelivered, failed)."""
    form = request.form
    sid = form.get("MessageSid", "")
    delivery = DELIVERY.get((form.get("MessageStatus") or "").strip().lower())
    if not MESSAGE_SID.match(sid) or delivery is None:
        return "", 204
    error = form.get("ErrorCode")
    database = get_db()
    with db.transaction(database):
        known = outbox.delivery_status(database, sid, delivery, f"Twilio error {error}"[:100] if error else None,
                                       clock.stamp())
    if not known:
        log.warning("sms: status for a message the hotline did not send: %s", sid)
    return "", 204
