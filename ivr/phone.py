"""Phone numbers: normalised to E.164 once, at the boundary, with withheld caller IDs recognised."""
import functools
from dataclasses import dataclass

import phonenumbers

# Values Twilio and carriers send when the caller's number is withheld or not a phone at all.
WITHHELD_NUMBERS = frozenset(
    {"+266696687", "+7378742833", "+2562533", "+8656696", "+86282452253", "266696687", "7378742833"}
)
WITHHELD_WORDS = frozenset({"anonymous", "restricted", "unknown", "private", "unavailable", "withheld", "blocked"})
DEFAULT_REGION = "CN"


@dataclass(frozen=True)
class Caller:
    """A caller's number as received (`raw`) and as E.164 (`number`, None when withheld or invalid)."""

    raw: str
    number: str | None
    withheld: bool

    @property
    def callable(self):
        """True when the number is a real, dialable E.164 number."""
        return self.number is not None


def is_withheld(raw):
    """Return True when a caller ID value means the number was withheld or is not a phone."""
    value = (raw or "").strip()
    lowered = value.lower()
    if not value or lowered in WITHHELD_WORDS:
        return True
    if lowered.startswith(("client:", "sip:")):
        return True
    compact = value.replace(" ", "").replace("-", "")
    return compact in WITHHELD_NUMBERS


def parse_caller(raw, region=DEFAULT_REGION):
    """Turn a caller ID from Twilio into a Caller, recognising every withheld form."""
    raw = (raw or "").strip()[:64]
    if is_withheld(raw):
        return Caller(raw=raw, number=None, withheld=True)
    return Caller(raw=raw, number=to_e164(raw, region), withheld=False)


def to_e164(raw, region=DEFAULT_REGION):
    """Return the E.164 form of a possible number, or None when it cannot be a valid number."""
    if raw is None:
        return None
    text = str(raw).strip()
    if not text or len(text) > 40:
        return None
    return _e164(text, region)


# Parsing with phonenumbers costs about 50 µs, and each webhook parses the same caller and hotline numbers
# again (From, To, the caller's merchants); the answer depends only on the (short) text, so it is cached.
@functools.lru_cache(maxsize=4096)
def _e164(text, region):
    if is_withheld(text):
        return None
    # Callers and staff type China's international prefixes in several ways.
    digits_only = "".join(ch for ch in text if ch.isdigit())
    if text.startswith("00") or (text.startswith("0086")):
        text = "+" + digits_only[2:]
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask(number):
    """Return a number with its middle digits hidden, e.g. +86 138****8000."""
    if not number:
        return "withheld"
    try:
        parsed = phonenumbers.parse(number, None)
        national = str(parsed.national_number)
        prefix = f"+{parsed.country_code} "
    except phonenumbers.NumberParseException:
        national, prefix = number.lstrip("+"), "+"
    if len(national) <= 4:
        return prefix + "*" * len(national)
    keep_start = 3 if len(national) >= 10 else 1
    return prefix + national[:keep_start] + "*" * (len(national) - keep_start - 4) + national[-4:]


# Mobile blocks of China's virtual operators (MVNOs), much used by scammers; IVR_VIRTUAL_PREFIXES overrides.
VIRTUAL_PREFIXES = ("170", "171", "162", "165", "167")


def parse_reported(raw, virtual_prefixes=VIRTUAL_PREFIXES):
    """Read "the number that called" as a merchant types or says it; return {number, raw, signals}.

    `number` is E.164 or None; `signals` lists risks: international, virtual, invalid.
    """
    text = "".join(ch for ch in str(raw or "") if ch.isdigit() or ch == "+")[:30]
    digits = text.lstrip("+")
    if text.startswith("+"):
        candidate = "+" + digits
    elif digits.startswith("00"):
        candidate = "+" + digits[2:]  # 0086..., 00852..., 001...
    elif len(digits) == 13 and digits.startswith("861"):
        candidate = "+" + digits  # "86" typed before a mobile number, without 00
    else:
        candidate = digits
    number = to_e164(candidate) if digits else None
    signals = []
    if number is None:
        if not _valid_short_number(digits):
            signals.append("invalid")
    else:
        parsed = phonenumbers.parse(number, None)
        national = str(parsed.national_number)
        if parsed.country_code != 86:
            signals.append("international")
        elif national.startswith(tuple(virtual_prefixes)):
            signals.append("virtual")
    return {"number": number, "raw": digits or None, "signals": signals}


def _valid_short_number(digits):
    # Service numbers such as 95588 are real, so they are not flagged as impossible.
    try:
        return bool(digits) and phonenumbers.is_valid_short_number(phonenumbers.parse(digits, DEFAULT_REGION))
    except phonenumbers.NumberParseException:
        return False
