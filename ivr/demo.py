"""Demo data: a few calls placed through the real webhooks, and (with verification) merchants and outreach."""
from . import db
from .simulator import Call, FlaskTransport

DEMO_MARKER = "CA" + "d" * 30 + "01"

# (caller ID, steps) of demo calls placed once through the real webhooks.
DEMO_CALLS = [
    ("+8613800138000", ["2", "1", "1", "1", "1", "1", "1"]),
    ("+8613900139000", ["9", "2", "2", "0", "dial no-answer", "rec 12"]),
    ("Anonymous", ["", "", ""]),
]


def load(app):
    """Load the demo data once; return a sentence saying what was done."""
    database = db.connect(app.config["DATABASE"], app.config["DATABASE_TIMEOUT"])
    try:
        if db.get_call(database, DEMO_MARKER) is not None:
            return "Demo data: already loaded."
        extra = _load_extra(app, database)
        placed = 0
        token = app.config.get("TWILIO_AUTH_TOKEN")
        for index, (caller, steps) in enumerate(DEMO_CALLS, start=1):
            sid = DEMO_MARKER[:-2] + f"{index:02d}"
            if db.get_call(database, sid) is not None:
                continue
            _place(app, token, caller, steps, sid)
            placed += 1
        return f"Demo data: placed {placed} demo calls{extra}."
    finally:
        database.conn.close()


def _place(app, token, caller, steps, sid):
    from .cli import play

    call = Call(FlaskTransport(app), token, from_=caller, sid=sid)
    play(call, steps, echo=lambda *args, **kwargs: None)


def _load_extra(app, database):
    """Hook for the verification data (merchants, outreach, reports); returns a summary phrase."""
    loader = app.extensions["ivr"].get("demo_loader")
    return loader(app, database) if loader else ""
