"""Reading the call log for the API: one call with its verdict, reports and events, or calls filtered by verdict."""
from datetime import datetime, timezone

from ivr.calllog import timeline as calldetail
from ivr.errors import InvalidInput, NotFound
from ivr.storage import calllog as store
from ivr.vocabulary import VERDICTS

CALL_COLUMNS = (
    "sid", "from_number", "caller_withheld", "to_number", "language", "started_at", "answered_at", "ended_at",
    "status", "duration", "verdict", "verdict_at", "merchant_id", "identified_by", "node",
)
MAX_LIMIT = 500


def _public(call):
    # The flow state is left out: it is the engine's working memory, not part of the record.
    return {column: call.get(column) for column in CALL_COLUMNS}


def call_detail(database, sid):
    """Return a call with its verdict, the reports filed on it and its events in order; raise NotFound."""
    found = calldetail.read_call(database, sid)
    if found is None:
        raise NotFound(f"no call {str(sid)[:calldetail.LONGEST_SID]!r}")
    return dict(_public(found["call"]), reports=found["reports"], events=found["events"])


def parse_since(value):
    """Return an ISO date or datetime as a stored UTC stamp, or raise InvalidInput naming `since`."""
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        raise InvalidInput("since must be an ISO 8601 date or time, e.g. 2026-11-01 or 2026-11-01T08:00:00+08:00",
                           field="since") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")
    except OverflowError:  # e.g. 9999-12-31T23:59-12:00 is past the last representable UTC moment
        raise InvalidInput("since is out of range", field="since") from None


def find_calls(database, verdict=None, since=None, merchant_id=None, limit=100):
    """Return calls, newest first, filtered by verdict, start time and merchant."""
    if verdict and verdict not in VERDICTS:
        raise InvalidInput(f"verdict must be one of {', '.join(VERDICTS)}", field="verdict")
    since = parse_since(since) if since else None
    merchant_id = str(merchant_id) if merchant_id else None
    try:
        limit = int(limit)
    except (TypeError, ValueError):
        raise InvalidInput(f"limit must be a whole number from 1 to {MAX_LIMIT}", field="limit") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be a whole number from 1 to {MAX_LIMIT}", field="limit")
    return [_public(row) for row in store.calls_matching(database, verdict, since, merchant_id, limit)]
