"""Recordings under the operator's control: copied from Twilio, verified, then deleted at Twilio."""
import io
import wave
from collections import Counter

from ivr import clock
from ivr.errors import TwilioUnavailable
from ivr.storage import db
from ivr.storage import recordings as store
from ivr.telephony.rest import TWILIO_API, calling

# Twilio's RecordingDuration is whole seconds; the audio may be a little longer or shorter.
DURATION_TOLERANCE_SECONDS = 2
CONTENT_TYPE = "audio/wav"


class CopyRefused(Exception):
    """What Twilio served is not a whole copy of the recording; the message says why."""


def media_url(recording_url, api_url):
    """The WAV audio of a recording Twilio reported, on Twilio's API (or the configured base); else None."""
    url = (recording_url or "").strip()
    # Only Twilio's own recordings are fetched, whatever a request names: never an address someone else chose.
    if not (url.startswith(TWILIO_API + "/") or url.startswith(api_url.rstrip("/") + "/")) or "/Recordings/" not in url:
        return None
    return url if url.endswith(".wav") else url + ".wav"


def verified(content, headers, duration):
    """Return the audio's duration in seconds if `content` is a whole WAV of about `duration` seconds; else raise."""
    expected_size = headers.get("Content-Length")
    if expected_size is not None and int(expected_size) != len(content):
        raise CopyRefused(f"got {len(content)} bytes of {expected_size}")
    try:
        with wave.open(io.BytesIO(content)) as audio:
            seconds = audio.getnframes() / audio.getframerate()
    except (wave.Error, EOFError, ZeroDivisionError) as error:
        raise CopyRefused(f"not a WAV recording: {error}") from None
    if duration is not None and abs(seconds - duration) > DURATION_TOLERANCE_SECONDS:
        raise CopyRefused(f"{seconds:.1f} s of audio where Twilio reported {duration} s")
    return round(seconds, 2)


def copy(client, recording, api_url):
    """Download and verify a recording; return (content, its duration in seconds). Raise CopyRefused or TwilioUnavailable."""
    url = media_url(recording["url"], api_url)
    if url is None:
        raise CopyRefused("its address is not one of Twilio's recordings")
    response = calling("download a recording", lambda: client.request("GET", url))
    if response.status_code != 200:
        raise TwilioUnavailable(f"Twilio answered HTTP {response.status_code} for the recording's audio",
                                status=response.status_code)
    content = client.http_client.content
    return content, verified(content, response.headers, recording["duration"])


def delete_at_twilio(client, sid):
    """Delete a recording at Twilio; one already gone counts as deleted."""
    try:
        calling("delete a recording", lambda: client.recordings(sid).delete())
    except TwilioUnavailable as error:
        if error.status != 404:
            raise


def note_recordings(database, call_sid, events):
    """Queue, for copying, every recording a step's events say Twilio made (inside the step's transaction)."""
    for event in events:
        detail = event.get("detail") or {}
        if event["kind"] == "record" and detail.get("recorded") and detail.get("sid"):
            store.queue(database, detail["sid"], call_sid, detail.get("url"), detail.get("duration"), clock.stamp())


def sync(database, client, api_url, call_sid=None):
    """Copy what is still only at Twilio, then delete at Twilio what has a verified copy (or was purged here).

    Returns {outcome: count}. A recording is deleted at Twilio only once a verified copy is here, or once purge
    has removed it here too.
    """
    counts = Counter()
    for recording in store.due(database, call_sid):
        sid = recording["sid"]
        if recording["status"] in ("pending", "failed"):
            # Network and verification happen outside any transaction: webhooks never wait behind a download.
            try:
                content, seconds = copy(client, recording, api_url)
            except (CopyRefused, TwilioUnavailable) as error:
                with db.transaction(database):
                    store.copy_failed(database, sid, str(error)[:500])
                counts["failed"] += 1
                continue  # never deleted at Twilio without a verified copy here
            with db.transaction(database):
                store.store_copy(database, sid, content, CONTENT_TYPE, seconds, clock.stamp())
            counts["copied"] += 1
        try:
            delete_at_twilio(client, sid)
        except TwilioUnavailable as error:
            with db.transaction(database):
                store.delete_failed(database, sid, str(error)[:500])
            counts["not deleted"] += 1
            continue
        with db.transaction(database):
            store.deleted_at_twilio(database, sid, clock.stamp())
        counts["deleted at Twilio"] += 1
    return counts
