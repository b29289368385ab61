"""Plays Twilio: signed webhook requests with Twilio's parameters, following the TwiML that comes back."""
import re
import secrets
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field

from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "0" * 32
WAITING_VERBS = ("Gather", "Record", "Dial")
# How fast prompts are spoken: Han characters (and digits, one syllable each) a second, and English words.
HAN_PER_SECOND = 4.5
WORDS_PER_SECOND = 2.6
_HAN_OR_DIGIT = re.compile(r"[\u3400-\u9fff\uf900-\ufaff0-9]")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'-]*")


def spoken_seconds(language, text):
    """Seconds a <Say> in TwiML `language` (cmn-CN, yue-HK, en-US, ...) takes to speak `text`."""
    if language.split("-")[0] in ("cmn", "yue", "zh"):
        return len(_HAN_OR_DIGIT.findall(text)) / HAN_PER_SECOND
    return len(_WORD.findall(text)) / WORDS_PER_SECOND


class FlaskTransport:
    """Sends requests to a Flask app in this process, through its full WSGI stack."""

    base_url = "http://localhost"

    def __init__(self, app):
        self.client = app.test_client()

    def post(self, url, form, headers):
        """POST a form and return (status, body text)."""
        response = self.client.post(url, data=form, headers=headers)
        return response.status_code, response.get_data(as_text=True)


class Unreachable(ConnectionError):
    """No answer from the hotline over HTTP: nothing listening, an unknown host, a timeout."""


class SignatureRefused(Exception):
    """The hotline over HTTP answered 403: it checks signatures with another auth token."""


class HttpTransport:
    """Sends requests over HTTP to a running hotline (flask run, gunicorn)."""

    def __init__(self, base_url, timeout=15):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def post(self, url, form, headers):
        """POST a form and return (status, body text); raise Unreachable or SignatureRefused."""
        data = urllib.parse.urlencode(form).encode()
        request = urllib.request.Request(url, data=data, headers=dict(headers), method="POST")
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, response.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            # The hotline answers 403 only to a signature it cannot check with its own token.
            if error.code == 403:
                raise SignatureRefused(f"the hotline at {self.base_url} answered 403: the signature was refused") from None
            return error.code, error.read().decode("utf-8", "replace")
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            said = reason.strerror if isinstance(reason, OSError) and reason.strerror else str(reason)
            raise Unreachable(f"cannot reach {self.base_url}: {said.lower()}") from error


@dataclass
class Turn:
    """One stretch of a call between inputs: what the caller heard and what TwiML waits for now."""

    heard: list = field(default_factory=list)
    spoken: list = field(default_factory=list)  # (TwiML language, text, inside the waiting Gather) per <Say>
    waiting: ElementTree.Element | None = None  # the Gather, Record or Dial waiting for the caller
    url: str = ""  # URL of the document that holds `waiting`
    rest: list = field(default_factory=list)  # verbs after `waiting`, run on fall-through
    ended: bool = False
    documents: list = field(default_factory=list)  # (url, status, TwiML text) fetched in this turn

    @property
    def text(self):
        """Everything heard in this turn, one line per <Say>."""
        return "\n".join(self.heard)

    def seconds(self, until_waiting=False):
        """Seconds of speech in this turn (`until_waiting`: only what comes before the Gather it waits at)."""
        return sum(spoken_seconds(language, text) for language, text, inside in self.spoken
                   if not (until_waiting and inside))

    @property
    def waiting_for(self):
        """'Gather', 'Record', 'Dial' or None."""
        return None if self.waiting is None else self.waiting.tag


class Call:
    """A simulated inbound call: start it, press keys, speak, record, and hang up."""

    def __init__(self, transport, auth_token, from_="+8613800138000", to="+864009001234", sid=None):
        self.transport = transport
        self.validator = RequestValidator(auth_token or "")
        self.from_ = from_
        self.to = to
        self.sid = sid or "CA" + secrets.token_hex(16)
        self.turn = None
        self.turns = []
        self.last_request = None
        self.sign = True

    def base_params(self, status="in-progress"):
        """Twilio's standard parameters for a voice webhook on this call."""
        return {
            "AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "CallSid": self.sid, "CallStatus": status,
            "Direction": "inbound", "From": self.from_, "Caller": self.from_, "To": self.to, "Called": self.to,
            "FromCountry": "CN", "ToCountry": "CN", "FromCity": "", "FromState": "", "FromZip": "",
            "CallerCountry": "CN", "CalledCountry": "CN", "CallToken": "",
        }

    def absolute(self, url, base=None):
        """Resolve a (possibly relative) TwiML URL the way Twilio does, against the current document."""
        return urllib.parse.urljoin(base or (self.transport.base_url + "/"), url)

    def post(self, url, params, token=None):
        """Send one signed webhook and return (status, body)."""
        headers = {"I-Twilio-Idempotency-Token": token or secrets.token_hex(16)}
        if self.sign:
            headers["X-Twilio-Signature"] = self.validator.compute_signature(url, params)
        self.last_request = (url, dict(params), headers)
        return self.transport.post(url, params, headers)

    def redeliver(self):
        """Send the last webhook again with the same idempotency token, as Twilio's retries do."""
        url, params, headers = self.last_request
        return self.transport.post(url, params, headers)

    # -- the caller's actions -----------------------------------------------------------------

    def start(self):
        """Dial in: POST the Voice URL and follow the TwiML."""
        params = self.base_params("ringing")
        return self._fetch(self.absolute("/voice/incoming"), params, Turn())

    def press(self, keys):
        """Press keys at a Gather; Twilio drops the finish key and sends at most numDigits digits."""
        gather = self._expect("Gather")
        finish = gather.get("finishOnKey", "#")
        digits = keys
        if finish and finish in digits:
            digits = digits[: digits.index(finish)]
        if gather.get("numDigits"):
            digits = digits[: int(gather.get("numDigits"))]
        if not digits:
            if gather.get("actionOnEmptyResult") == "true":
                return self._act(gather, {"Digits": ""})
            return self.silence()
        return self._act(gather, {"Digits": digits})

    def say(self, words, confidence=0.92):
        """Speak at a Gather that listens for speech."""
        gather = self._expect("Gather")
        if "speech" not in gather.get("input", "dtmf"):
            return self.silence()
        return self._act(gather, {"SpeechResult": words, "Confidence": str(confidence)})

    def silence(self):
        """Give no input: Twilio runs the verbs after the Gather (or posts empty if actionOnEmptyResult)."""
        waiting = self._expect("Gather", "Record")
        if waiting.tag == "Gather" and waiting.get("actionOnEmptyResult") == "true":
            return self._act(waiting, {"Digits": ""})
        return self._run(self.turn.rest, self.turn.url, Turn())

    def record(self, seconds=8, url=None):
        """Leave a recording at a Record; zero seconds means nothing was recorded."""
        record = self._expect("Record")
        if seconds <= 0:
            return self._run(self.turn.rest, self.turn.url, Turn())
        recording_sid = "RE" + secrets.token_hex(16)
        recording_url = url or f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{recording_sid}"
        return self._act(
            record, {"RecordingUrl": recording_url, "RecordingSid": recording_sid,
                     "RecordingDuration": str(seconds), "Digits": "hangup"},
        )

    def dial_result(self, status="completed", duration=30):
        """End a <Dial>: completed, busy, no-answer, failed or canceled."""
        dial = self._expect("Dial")
        if not dial.get("action"):
            return self._run(self.turn.rest, self.turn.url, Turn())
        params = {"DialCallStatus": status, "DialCallSid": "CA" + secrets.token_hex(16),
                  "DialCallDuration": str(duration if status == "completed" else 0)}
        return self._act(dial, params)

    def hangup(self, status="completed", duration=42):
        """The call ends: Twilio posts the status callback."""
        params = self.base_params(status)
        params.update({"CallDuration": str(duration), "Timestamp": "Wed, 25 Nov 2026 10:00:00 +0000",
                       "CallbackSource": "call-progress-events", "SequenceNumber": "0"})
        return self.post(self.absolute("/voice/status"), params)

    # -- following TwiML ----------------------------------------------------------------------

    def _expect(self, *tags):
        if self.turn is None or self.turn.waiting is None or self.turn.waiting.tag not in tags:
            found = None if self.turn is None else self.turn.waiting_for
            raise AssertionError(f"the call is not waiting at {'/'.join(tags)} (it is at {found})")
        return self.turn.waiting

    def _act(self, verb, extra):
        params = self.base_params()
        params.update(extra)
        url = self.absolute(verb.get("action") or self.turn.url, self.turn.url)
        return self._fetch(url, params, Turn())

    def _fetch(self, url, params, turn):
        status, body = self.post(url, params)
        turn.documents.append((url, status, body))
        if status != 200:
            raise AssertionError(f"POST {url} answered {status}: {body[:300]}")
        root = ElementTree.fromstring(body)
        if root.tag != "Response":
            raise AssertionError(f"POST {url} did not answer TwiML: {body[:300]}")
        return self._run(list(root), url, turn)

    def _run(self, verbs, url, turn):
        for index, verb in enumerate(verbs):
            if verb.tag == "Say":
                turn.heard.append((verb.text or "").strip())
                turn.spoken.append((verb.get("language", "en-US"), turn.heard[-1], False))
            elif verb.tag == "Gather":
                for child in verb:
                    if child.tag == "Say":
                        turn.heard.append((child.text or "").strip())
                        turn.spoken.append((child.get("language", "en-US"), turn.heard[-1], True))
                return self._wait(turn, verb, url, verbs[index + 1:])
            elif verb.tag in ("Record", "Dial"):
                return self._wait(turn, verb, url, verbs[index + 1:])
            elif verb.tag == "Redirect":
                return self._fetch(self.absolute(verb.text.strip(), url), self.base_params(), turn)
            elif verb.tag == "Hangup":
                break
        turn.ended = True
        return self._finish(turn)

    def _wait(self, turn, verb, url, rest):
        turn.waiting, turn.url, turn.rest = verb, url, rest
        return self._finish(turn)

    def _finish(self, turn):
        self.turn = turn
        self.turns.append(turn)
        return turn

    @property
    def heard(self):
        """Everything heard in the whole call so far."""
        return [line for turn in self.turns for line in turn.heard]
