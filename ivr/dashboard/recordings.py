"""GET /dashboard/recordings/<sid>: a caller's recording, from the hotline's own copy, to signed-in staff."""
import io
import re
from datetime import timedelta

from flask import Blueprint, abort, request, send_file

from ivr import clock
from ivr.database import get_db
from ivr.staff import audit
from ivr.staff.auth import actor, guard
from ivr.storage import db
from ivr.storage import recordings as store

bp = Blueprint("dash_recordings", __name__, url_prefix="/dashboard")
guard(bp)
RECORDING_SID = re.compile(r"^RE[0-9a-fA-F]{32}$")
SAME_PLAY = timedelta(minutes=1)


def infos(sids):
    """Return {sid: recording info} for the recordings a page names, to show a player or where each stands."""
    return store.by_sids(get_db(), sids)


@bp.get("/recordings/<sid>")
def play(sid):
    """Serve a recording with range requests (so the player can seek); each play is audited."""
    if not RECORDING_SID.match(sid):
        abort(404)
    database = get_db()
    found = store.audio(database, sid)
    if found is None:
        abort(404)
    content, content_type = found
    # A player asks for the start when it plays (a browser may ask twice), then for ranges as it seeks: a request
    # for the start, the first in a minute from this staff member for this recording, is a new play.
    if (request.range is None or request.range.ranges[0][0] == 0) and not _just_played(database, sid):
        with db.transaction(database):
            audit.record(database, actor(), "recording.play", sid)
    response = send_file(io.BytesIO(content), mimetype=content_type, conditional=True, download_name=f"{sid}.wav",
                         max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _just_played(database, sid):
    last = audit.entries(database, user=actor(), action="recording.play", target=sid, limit=1)
    return bool(last) and clock.parse(last[0]["at"]) > clock.now() - SAME_PLAY
