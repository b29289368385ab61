"""SMS notes: queued by the step that decides them, sent afterwards through Twilio, never while a caller waits."""
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from ivr import clock
from ivr.errors import TwilioUnavailable
from ivr.notify.smstext import NoteError
from ivr.storage import db, outbox
from ivr.telephony.rest import calling

# A note claimed by a sender that then died is sent again after this long (Twilio's client times out well before).
STUCK_AFTER = timedelta(minutes=15)


@dataclass(frozen=True)
class SmsSettings:
    """Who notes come from (IVR_SMS_FROM: a number or a Messaging Service SID), the daily cap, texts, status URL."""

    sender: str | None
    per_day: int
    texts: object
    status_url: str | None = None

    @property
    def enabled(self):
        """True when the operator set IVR_SMS_FROM."""
        return bool(self.sender)


def queue(database, settings, note, call_sid, to_number, language, values):
    """Queue one `note` for this call unless SMS is off; over the cap it is kept as limited, a bad text as refused."""
    if not settings.enabled or not to_number:
        return None
    try:
        body, status = settings.texts.render(note, language, values), "queued"
    except NoteError as error:
        body, status = str(error), "refused"
    now = clock.now()
    if status == "queued" and outbox.notes_to_since(database, to_number, clock.stamp(now - timedelta(days=1))) >= settings.per_day:
        status = "limited"  # a faked caller ID must not turn the hotline into a way to flood a merchant's phone
    return outbox.queue_note(database, call_sid, note, to_number, language, body, status, clock.stamp(now))


def send_due(database, client, settings, limit=50, call_sid=None):
    """Send the notes that are due (only `call_sid`'s if given); return {status: count}. Failures are stored."""
    counts = Counter()
    stuck_before = clock.stamp(clock.now() - STUCK_AFTER)
    for note in outbox.notes_due(database, stuck_before, limit, call_sid):
        with db.transaction(database):
            if not outbox.claim_note(database, note["id"], stuck_before, clock.stamp()):
                continue  # another sender has it
        # The message is sent outside any transaction: the database is never locked while Twilio answers.
        try:
            message = calling("send an SMS note", lambda note=note: client.messages.create(
                to=note["to_number"], body=note["body"], **_sender_options(settings)))
            status, message_sid, error = "sent", message.sid, None
        except TwilioUnavailable as problem:
            status, message_sid, error = "failed", None, str(problem)[:500]
        with db.transaction(database):
            outbox.note_result(database, note["id"], status, clock.stamp(), message_sid=message_sid, error=error)
        counts[status] += 1
    return counts


def _sender_options(settings):
    options = ({"messaging_service_sid": settings.sender} if settings.sender.startswith("MG")
               else {"from_": settings.sender})
    if settings.status_url:
        options["status_callback"] = settings.status_url
    return options
