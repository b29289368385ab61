"""The baseline: a bare Flask app that answers one fixed TwiML document to every POST."""
from flask import Flask

TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="/voice/step?node=welcome" input="dtmf speech"'
    ' method="POST" numDigits="1" timeout="6"><Say language="en-US" voice="Polly.Joanna">Welcome.</Say></Gather>'
    '<Redirect method="POST">/voice/step?node=welcome&amp;noinput=1</Redirect></Response>'
)

app = Flask(__name__)


@app.post("/<path:anything>")
def answer(anything):
    """Answer any POST with the same TwiML."""
    return TWIML, 200, {"Content-Type": "text/xml; charset=utf-8"}


@app.get("/healthz")
def healthz():
    """Say the bare app is up."""
    return {"status": "ok"}
