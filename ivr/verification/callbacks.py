"""Actions the hotline's flow runs that are not verification: call-back requests."""
from ivr.flow.registry import hotline
from ivr.storage import db


@hotline.action("file_callback", outcomes=("filed", "nothing_recorded"))
def file_callback(context):
    """Log a message left for a person as a call-back request."""
    recording = context.vars.get("callback_message") or {}
    if not recording and not context.caller.callable:
        # No message and no number to ring back: there is nothing a person could act on.
        context.log("callback", detail={"filed": False})
        return "nothing_recorded"
    callback_id = db.add_callback(
        context.database, context.call["sid"], context.caller.number, context.language, recording
    )
    context.log("callback", detail={"filed": True, "callback_id": callback_id})
    return "filed"
