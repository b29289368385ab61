"""Demo data: a few calls placed through the real webhooks, and (with verification) merchants and outreach."""
from ivr.database import close as close_database
from ivr.database import connect as connect_database
from ivr.devtools.terminal import play, signing_token
from ivr.storage import db
from ivr.voice.simulator import Call, FlaskTransport

DEMO_MARKER = "CA" + "d" * 30 + "01"

# (caller ID, steps) of demo calls placed once through the real webhooks.
DEMO_CALLS = [
    ("+8613800138000", ["2", "1", "1", "1", "1", "1", "1"]),
    ("+8613900139000", ["9", "2", "2", "0", "dial no-answer", "rec 12"]),
    ("Anonymous", ["", "", ""]),
]


def load(app):
    """Load the demo data once; return a sentence saying what was done."""
    database = connect_database(app.config)
    try:
        if db.get_call(database, DEMO_MARKER) is not None:
            return "Demo data: already loaded."
        extra = _load_extra(app, database)
        placed = 0

        # Without TWILIO_AUTH_TOKEN (a fresh checkout) the demo calls are signed with a throwaway token.
        token = signing_token(app)
        for index, (caller, steps) in enumerate(DEMO_CALLS, start=1):
            sid = DEMO_MARKER[:-2] + f"{index:02d}"
            if db.get_call(database, sid) is not None:
                continue
            _place(app, token, caller, steps, sid)
            placed += 1
        return f"Demo data: placed {placed} demo calls{extra}."
    finally:
        close_database(database)


def _place(app, token, caller, steps, sid):

    call = Call(FlaskTransport(app), token, from_=caller, sid=sid)
    play(call, steps, echo=lambda *args, **kwargs: None)


def _load_extra(app, database):
    """Hook for the verification data (merchants, outreach, reports); returns a summary phrase."""
    loader = app.extensions["ivr"].get("demo_loader")
    return loader(app, database) if loader else ""


# -- verification demo data: each verdict can be heard with the README's `flask call` lines ----------

# (merchant number, name, registered phones)
DEMO_MERCHANTS = [
    ("898440358120001", "示例便利店 Demo Mart", ["+8613800138000"]),
    ("898440358120002", "Sample Noodle House", ["+8613900139000"]),
    ("898440358120003", "Harbour Florist", ["+8613700137000"]),
    ("898440358120004", "Lakeside Pharmacy", ["+8613600136000"]),
]
# (merchant, reason, staff name, action (flows/catalogue/outreach_actions.yaml), fixed demo code, then: None=open,
# "completed" or "cancelled")
DEMO_OUTREACH = [
    ("898440358120001", "system_update", "王敏", "accept_terminal_update", "24681357", None),
    ("898440358120001", "data_verification", "李强", "reupload_business_licence", "13579246", "completed"),
    ("898440358120002", "business_change", "Chen Jing", "confirm_business_address", "11223344", None),
]
DEMO_OFFICIAL_NUMBER = "+864008001234"
# Reported by three demo merchants (so suspected), and one confirmed by staff.
DEMO_SUSPECTED = "+8617012345678"
DEMO_CONFIRMED = "+8613512345678"
DEMO_LOCKED_MERCHANT = "898440358120004"


def load_verification(app, database):
    """Add demo merchants, open and finished outreach, reported numbers and a locked merchant."""
    from ivr.verification import merchants, outreach, reports

    if merchants.find_merchant(database, DEMO_MERCHANTS[0][0]) is not None:
        return ""
    with db.transaction(database):
        for merchant_id, name, phones in DEMO_MERCHANTS:
            merchants.upsert_merchant(database, merchant_id, name, phones, actor="demo")
        for merchant_id, reason, staff, action, code, closed in DEMO_OUTREACH:
            created = outreach.create_outreach(
                database, merchant_id, reason, "phone", DEMO_OFFICIAL_NUMBER, staff, action, actor="demo",
                catalogue=app.extensions["ivr"]["outreach_actions"], code_key=app.config["CODE_SECRET"],
                reference_code=code,
            )
            if closed == "completed":
                outreach.complete_outreach(database, created["id"], "demo")
            elif closed == "cancelled":
                outreach.cancel_outreach(database, created["id"], "demo")
        for merchant_id, _, phones in DEMO_MERCHANTS[:3]:
            reports.file_report(database, "fee", number=DEMO_SUSPECTED, number_raw=DEMO_SUSPECTED[3:],
                                merchant_id=merchant_id, reporter_number=phones[0], signals=["virtual"],
                                threshold=app.config["REPORT_THRESHOLD"], window_days=app.config["REPORT_WINDOW_DAYS"],
                                reporter_registered=True)
        reports.file_report(database, "credentials", number=DEMO_CONFIRMED, number_raw=DEMO_CONFIRMED[3:],
                            merchant_id=DEMO_MERCHANTS[2][0], reporter_number=DEMO_MERCHANTS[2][2][0])
        reports.set_number_status(database, DEMO_CONFIRMED, "confirmed", "demo", "demo: confirmed by the fraud team")
        # Strangers' wrong codes lock strangers out; the merchant's own phone can still check its codes.
        for _ in range(app.config["LOCK_ATTEMPTS"]):
            merchants.record_attempt(database, DEMO_LOCKED_MERCHANT, "+8618912345678", None, success=False)
    return f", {len(DEMO_MERCHANTS)} merchants, {len(DEMO_OUTREACH)} outreach and 2 watchlisted numbers"
