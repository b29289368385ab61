"""The one place the hotline reads the time, so tests can move it."""
from datetime import datetime, timezone


def now():
    """Return the current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


def stamp(moment=None):
    """Return a sortable ISO 8601 UTC timestamp for storage."""
    moment = moment or now()
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def parse(text):
    """Return the aware datetime stored by `stamp`."""
    return datetime.fromisoformat(text)
