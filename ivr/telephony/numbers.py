"""Point a Twilio number's voice webhooks at the hotline (IncomingPhoneNumbers)."""
import urllib.parse
from dataclasses import dataclass

from ivr.errors import InvalidInput, NotFound
from ivr.telephony.rest import calling

# (field of the number, what it should be, given the public URL); every webhook is a POST, as ivr/voice expects.
WANTED = (
    ("voice_url", "{base}/voice/incoming"),
    ("voice_method", "POST"),
    ("voice_fallback_url", "{base}/voice/fallback"),
    ("voice_fallback_method", "POST"),
    ("status_callback", "{base}/voice/status"),
    ("status_callback_method", "POST"),
)
LABELS = {
    "voice_url": "Voice URL",
    "voice_method": "Voice method",
    "voice_fallback_url": "Fallback URL",
    "voice_fallback_method": "Fallback method",
    "status_callback": "Status callback",
    "status_callback_method": "Status callback method",
}


@dataclass(frozen=True)
class Change:
    """One setting of the number: what it is now and what the hotline needs."""

    field: str
    before: str
    after: str

    @property
    def label(self):
        """The setting's name as Twilio's console shows it."""
        return LABELS[self.field]


def public_base(url):
    """Return the hotline's public base URL (https, no query) without its trailing slash; raise InvalidInput."""
    parts = urllib.parse.urlsplit((url or "").strip())
    if parts.scheme != "https" or not parts.hostname:
        raise InvalidInput(f"--public-url must be the https:// address Twilio reaches the hotline at, not {url!r}",
                           field="public_url")
    if parts.query or parts.fragment:
        raise InvalidInput(f"--public-url must not carry a query or fragment: {url!r}", field="public_url")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def find_number(client, number):
    """Return the account's IncomingPhoneNumber for E.164 `number`; raise NotFound when the account has none."""
    found = calling("list the account's numbers", lambda: client.incoming_phone_numbers.list(phone_number=number,
                                                                                             limit=20))
    exact = [record for record in found if record.phone_number == number]
    if not exact:
        raise NotFound(f"{number} is not a number of this Twilio account ({client.account_sid})")
    return exact[0]


def changes_for(record, base):
    """Return the Changes that point `record`'s webhooks at `base`; empty when it is already set up."""
    changes = []
    for field, template in WANTED:
        wanted = template.format(base=base)
        current = getattr(record, field) or ""
        if current != wanted:
            changes.append(Change(field, current, wanted))
    return changes


def overrides(record):
    """Say what answers the number's calls instead of its Voice URL (a TwiML app or a SIP trunk), if anything."""
    # Twilio's API description allows no empty SID to detach these, so the operator detaches them in the console.
    found = []
    if record.voice_application_sid:
        found.append(f"TwiML app {record.voice_application_sid} answers this number's calls instead of its Voice URL;"
                     " detach it in Twilio's console")
    if record.trunk_sid:
        found.append(f"SIP trunk {record.trunk_sid} answers this number's calls instead of its Voice URL;"
                     " remove the number from the trunk in Twilio's console")
    return found


def configure_number(client, number, public_url, dry_run=False):
    """Point `number`'s voice webhooks at `public_url`; return (its record, the Changes made or planned, warnings)."""
    base = public_base(public_url)
    record = find_number(client, number)
    changes = changes_for(record, base)
    if changes and not dry_run:
        update = {change.field: change.after for change in changes}
        calling(f"update {number}", lambda: client.incoming_phone_numbers(record.sid).update(**update))
    return record, changes, overrides(record)
