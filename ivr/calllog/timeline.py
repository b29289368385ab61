"""Reading one call with its events and reports: as a record for the API, and as the dashboard's timeline."""
import json

from ivr import clock
from ivr.storage import calllog as store
from ivr.storage import db
from ivr.storage import merchants as merchants_store
from ivr.storage import recordings as recording_store
from ivr.verification import reports

# Event kinds that name a recording in their detail.
RECORDING_KINDS = ("record", "callback")
# Call SIDs are 34 characters; anything much longer is not worth a query.
LONGEST_SID = 64


def _decoded(text):
    # Details are written as JSON by db.record_events; a detail stored as plain text is read as that text.
    if not text:
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def read_call(database, sid):
    """Return {call, events, reports}: the call, its events in order (details decoded) and its reports; or None."""
    call = db.get_call(database, sid) if isinstance(sid, str) and 0 < len(sid) <= LONGEST_SID else None
    if call is None:
        return None
    events = [dict(event, detail=_decoded(event["detail"])) for event in db.call_events(database, sid)]
    return {"call": call, "events": events, "reports": reports.reports_for_call(database, sid)}


def _detail_data(detail):
    # The timeline shows a detail as fields: a JSON object as it is, plain text or any other value under one key.
    if detail is None or detail == "":
        return {}
    if isinstance(detail, dict):
        return detail
    return {"text": detail} if isinstance(detail, str) else {"value": detail}


def _recordings(database, sids):
    """Each recording the call made, in order: what the hotline holds of it (a row from before it kept copies: pending)."""
    known = recording_store.by_sids(database, sids)
    return [known.get(sid) or {"sid": sid, "status": "pending", "duration": None} for sid in dict.fromkeys(sids)]


def call_timeline(database, sid):
    """Return the call with its events (offset in seconds, detail as fields, whether the hotline ended it), reports and
    call-backs, or None."""
    found = read_call(database, sid)
    if found is None:
        return None
    call, events = found["call"], found["events"]
    started = clock.parse(call["started_at"])
    verdict_event = None
    recordings = []
    hung_up = False
    for event in events:
        event["detail_data"] = _detail_data(event["detail"])
        # A call that ends after the flow hung up was ended by the hotline; otherwise the caller hung up.
        hung_up = hung_up or event["kind"] == "hangup"
        if event["kind"] == "status":
            event["ended_by_hotline"] = hung_up
        try:
            event["offset"] = (clock.parse(event["at"]) - started).total_seconds()
        except ValueError:
            event["offset"] = None
        if event["kind"] == "verdict":
            verdict_event = event
        recording = event["detail_data"].get("sid") or event["detail_data"].get("recording_sid")
        if event["kind"] in RECORDING_KINDS and recording:
            recordings.append(recording)
    callbacks = store.call_callbacks(database, sid)
    for row in found["reports"] + callbacks:
        # A row from before recordings had SIDs here names only Twilio's address: shown as not yet copied.
        if row["recording_sid"] or row["recording_url"]:
            recordings.append(row["recording_sid"] or row["recording_url"])
    merchant = None
    if call["merchant_id"]:
        merchant = merchants_store.merchant_row(database, call["merchant_id"]) or {"id": call["merchant_id"], "name": None}
    return {
        "call": call,
        "events": events,
        "verdict_event": verdict_event,
        "reports": found["reports"],
        "callbacks": callbacks,
        "recordings": _recordings(database, recordings),
        "merchant": merchant,
    }
