"""Seconds of prompts a caller hears before each verdict: `python bench/prompt_seconds.py`.

Every journey is a whole signed call through the real webhooks (in process). Each <Say> from the welcome to the
verdict is counted, the verdict included (not the menu after it; a locked code's transfer says "please hold"
before its <Dial>, and that is counted), at 4.5 Han characters a second for Mandarin and Cantonese and 2.6 words
a second for English. Each of the flow's languages after the first is counted from its own welcome, which a caller
reaches by pressing 9 during the welcomes before it (English: 9; Cantonese: 9, 9); the seconds of those earlier
welcomes are printed below the table. The fast path (a merchant calling from a phone on file, with a code) must
stay within 30 seconds in every language.
"""
import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ivr import create_app  # noqa: E402
from ivr.storage import db  # noqa: E402
from ivr.verification import merchants, outreach, reports  # noqa: E402
from ivr.voice.simulator import Call, FlaskTransport  # noqa: E402

TOKEN = "prompt-seconds-token"
FAST_PATH_LIMIT = 30.0
REGISTERED = ("898440358120001", "+8613800138000")
LOCKED = ("898440358120003", "+8613700137000")
STRANGER = "+8613712345678"
SCAM_NUMBER = "13512345678"
CLEAN_NUMBER = "13612340000"


def build(directory):
    """An app on a fresh database with two merchants, open and expired outreach, a watchlisted number and a lock."""
    app = create_app({
        "TESTING": True, "DATABASE": str(Path(directory) / "hotline.db"), "TWILIO_AUTH_TOKEN": TOKEN,
        "AGENT_NUMBER": "+8675512345678", "BUSINESS_HOURS": "24/7", "SECRET_KEY": "prompt-seconds",
        "PUBLIC_URL": FlaskTransport.base_url,
    })
    database = db.connect(app.config["DATABASE"])
    try:
        for merchant_id, phone in (REGISTERED, LOCKED):
            merchants.upsert_merchant(database, merchant_id, "Demo", [phone], actor="bench")
        codes = {
            "open": new_outreach(app, database, REGISTERED[0]),
            "expired": new_outreach(app, database, REGISTERED[0]),
            "locked": new_outreach(app, database, LOCKED[0]),
        }
        outreach.cancel_outreach(database, codes["expired"]["id"], "bench")
        reports.set_number_status(database, "+86" + SCAM_NUMBER, "confirmed", "bench")
        for _ in range(app.config["LOCK_ATTEMPTS"]):
            merchants.record_attempt(database, LOCKED[0], LOCKED[1], None, success=False, registered=True)
    finally:
        database.conn.close()
    return app, {name: created["reference_code"] for name, created in codes.items()}


def new_outreach(app, database, merchant_id, action="accept_terminal_update", reason="system_update", staff="王敏"):
    """Register outreach the way the API does; returns {id, reference_code, expires_at}."""
    return outreach.create_outreach(
        database, merchant_id, reason, "phone", "+864008001234", staff, action, actor="bench",
        catalogue=app.extensions["ivr"]["outreach_actions"], code_key=app.config["CODE_SECRET"],
    )


def journeys(codes):
    """(name, caller, keys after pressing 1) for every verdict."""
    return [
        ("genuine: fast path (phone on file, code)", REGISTERED[1], [codes["open"] + "#"]),
        ("genuine: merchant number typed", STRANGER, [REGISTERED[0] + "#", codes["open"] + "#"]),
        ("expired", REGISTERED[1], [codes["expired"] + "#"]),
        ("no_record: wrong code", REGISTERED[1], ["00000000#"]),
        ("locked: code given", LOCKED[1], [codes["locked"] + "#"]),
        ("unconfirmed / no_record: no code", REGISTERED[1], ["#", CLEAN_NUMBER + "#"]),
        ("known_scam: no code", REGISTERED[1], ["#", SCAM_NUMBER + "#"]),
    ]


def seconds_to_verdict(app, caller, keys, language):
    """Return (seconds from the welcome in `language` to the verdict, seconds of the welcomes before it)."""
    call = Call(FlaskTransport(app), TOKEN, from_=caller)
    turns = [call.start()]
    before = 0.0
    # Each 9 moves to the next language in the flow's order.
    for _ in range(app.extensions["ivr"]["flow"].languages.index(language)):
        before += turns[0].seconds()
        turns = [call.press("9")]
    turns.append(call.press("1"))
    for key in keys:
        turns.append(call.press(key))
    heard = sum(turn.seconds() for turn in turns[:-1]) + turns[-1].seconds(until_waiting=True)
    return heard, before


def worst_genuine(app, language):
    """The longest fast path over every catalogue entry and outreach reason (staff name of three characters)."""
    catalogue = app.extensions["ivr"]["outreach_actions"]
    worst = (0.0, "")
    database = db.connect(app.config["DATABASE"])
    try:
        for action in catalogue.keys():
            for reason in outreach.REASONS:
                created = new_outreach(app, database, REGISTERED[0], action, reason, staff="欧阳敏")
                heard, _ = seconds_to_verdict(app, REGISTERED[1], [created["reference_code"] + "#"], language)
                worst = max(worst, (heard, f"{action}, {reason}"))
    finally:
        database.conn.close()
    return worst


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        app, codes = build(directory)
        languages = app.extensions["ivr"]["flow"].languages
        print(f"{'journey':44}" + "".join(f" {language + ' s':>6}" for language in languages) + f" {'worst':>6}")
        fast = {}
        before = {}
        for name, caller, keys in journeys(codes):
            heard = {}
            for language in languages:
                heard[language], before[language] = seconds_to_verdict(app, caller, keys, language)
            if name.startswith("genuine: fast path"):
                fast = heard
            print(f"{name:44}" + "".join(f" {heard[language]:6.1f}" for language in languages)
                  + f" {max(heard.values()):6.1f}")
        print()
        print("welcomes heard before pressing 9 to reach it: "
              + ", ".join(f"{language} {before[language]:.1f} s" for language in languages[1:]))
        worst = (0.0, "", "")
        for language in languages:
            heard, which = worst_genuine(app, language)
            print(f"fast path, longest catalogue entry and reason ({language}): {heard:.1f} s ({which})")
            worst = max(worst, (heard, language, which))
        print(f"fast path, worst case: {worst[0]:.1f} s ({worst[1]}: {worst[2]})")
        met = all(value <= FAST_PATH_LIMIT for value in fast.values())
        print(f"fast path target: at most {FAST_PATH_LIMIT:.0f} s in each language: {'met' if met else 'NOT met'}")
        return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
