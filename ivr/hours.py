"""Business hours, such as "Mon-Fri 09:00-18:00; Sat 10:00-16:00 Asia/Shanghai", parsed once at start-up."""
import re
from dataclasses import dataclass
from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ivr.errors import InvalidInput

DAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
RANGE = re.compile(r"^(?P<days>[A-Za-z]{3}(?:-[A-Za-z]{3})?)\s+(?P<start>\d{1,2}:\d{2})-(?P<end>\d{1,2}:\d{2})$")
DEFAULT_ZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class BusinessHours:
    """Opening periods per weekday in one time zone; `always` means people answer around the clock."""

    zone: ZoneInfo
    periods: tuple  # (weekday, start time, end time)
    always: bool = False

    def is_open(self, moment):
        """Return True when people answer at the aware datetime `moment`."""
        if self.always:
            return True
        local = moment.astimezone(self.zone)
        now = local.time()
        return any(day == local.weekday() and start <= now < end for day, start, end in self.periods)


def parse_hours(text):
    """Parse an IVR_BUSINESS_HOURS value, raising InvalidInput that says what is wrong."""
    text = (text or "").strip()
    if not text:
        text = f"Mon-Sun 09:00-21:00 {DEFAULT_ZONE}"
    words = text.split()
    zone_name = DEFAULT_ZONE
    if words and ("/" in words[-1] or words[-1].upper() == "UTC") and not re.match(r"^\d", words[-1]):
        zone_name = words[-1]
        text = " ".join(words[:-1])
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"IVR_BUSINESS_HOURS: unknown time zone {zone_name!r}") from None
    if text.strip().lower() in ("24/7", "always"):
        return BusinessHours(zone=zone, periods=(), always=True)
    periods = []
    for part in filter(None, (piece.strip() for piece in text.split(";"))):
        match = RANGE.match(part)
        if not match:
            raise InvalidInput(
                f"IVR_BUSINESS_HOURS: cannot read {part!r}; write e.g. 'Mon-Fri 09:00-18:00; Sat 10:00-16:00 Asia/Shanghai'"
            )
        days = _days(match["days"], part)
        start, end = _time(match["start"], part), _time(match["end"], part)
        if end <= start:
            raise InvalidInput(f"IVR_BUSINESS_HOURS: {part!r} ends before it starts")
        periods.extend((day, start, end) for day in days)
    if not periods:
        raise InvalidInput("IVR_BUSINESS_HOURS: no opening periods given")
    return BusinessHours(zone=zone, periods=tuple(periods))


def _days(spec, part):
    names = spec.lower().split("-")
    try:
        indexes = [DAY_NAMES.index(name) for name in names]
    except ValueError:
        raise InvalidInput(f"IVR_BUSINESS_HOURS: unknown day in {part!r}; use Mon Tue Wed Thu Fri Sat Sun") from None
    if len(indexes) == 1:
        return indexes
    first, last = indexes
    return [day % 7 for day in range(first, last + 1 if last >= first else last + 8)]


def _time(value, part):
    hours, minutes = map(int, value.split(":"))
    if hours == 24 and minutes == 0:
        return time(23, 59, 59, 999999)
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise InvalidInput(f"IVR_BUSINESS_HOURS: bad time {value!r} in {part!r}")
    return time(hours, minutes)
