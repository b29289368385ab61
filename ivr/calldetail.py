"""Read-side query for one call as a timeline: what was heard and pressed, the verdict, reports and messages."""
import json

from . import clock, db

# Event kinds that carry a recording link in their detail.
RECORDING_KINDS = ("record", "callback")


def _detail(text):
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {"text": text}
    return value if isinstance(value, dict) else {"value": value}


def call_timeline(database, sid):
    """Return the call with its events (offset in seconds, decoded detail), reports and call-backs, or None."""
    call = db.get_call(database, sid)
    if call is None:
        return None
    started = clock.parse(call["started_at"])
    events = db.call_events(database, sid)
    verdict_event = None
    recordings = []
    for event in events:
        event["detail_data"] = _detail(event["detail"])
        try:
            event["offset"] = (clock.parse(event["at"]) - started).total_seconds()
        except ValueError:
            event["offset"] = None
        if event["kind"] == "verdict":
            verdict_event = event
        url = event["detail_data"].get("url") or event["detail_data"].get("recording_url")
        if event["kind"] in RECORDING_KINDS and url:
            recordings.append(url)
    reports = list(database.query("SELECT * FROM reports WHERE call_sid = ? ORDER BY id", [sid]))
    for report in reports:
        if report["recording_url"]:
            recordings.append(report["recording_url"])
    callbacks = list(database.query("SELECT * FROM callbacks WHERE call_sid = ? ORDER BY id", [sid]))
    for callback in callbacks:
        if callback["recording_url"]:
            recordings.append(callback["recording_url"])
    merchant = None
    if call["merchant_id"]:
        rows = list(database.query("SELECT id, name FROM merchants WHERE id = ?", [call["merchant_id"]]))
        merchant = rows[0] if rows else {"id": call["merchant_id"], "name": None}
    return {
        "call": call,
        "events": events,
        "verdict_event": verdict_event,
        "reports": reports,
        "callbacks": callbacks,
        "recordings": list(dict.fromkeys(recordings)),
        "merchant": merchant,
    }
