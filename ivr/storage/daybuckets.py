"""SQL for the local date of a stored UTC stamp, in a given time zone, over a window of local days."""
from datetime import datetime, time, timedelta, timezone

from ivr import clock


def _offset_at(zone, seconds):
    """Return the zone's UTC offset at a POSIX time."""
    return datetime.fromtimestamp(seconds, timezone.utc).astimezone(zone).utcoffset() or timedelta(0)


def _offsets(zone, first, last):
    """Return [(POSIX second from which it applies, UTC offset)] over local days `first` to `last`, oldest first."""
    midnight = int(datetime.combine(first, time.min, tzinfo=zone).timestamp())
    found = [(midnight, _offset_at(zone, midnight))]
    day = first
    while day <= last:
        day += timedelta(days=1)
        previous, midnight = midnight, int(datetime.combine(day, time.min, tzinfo=zone).timestamp())
        if _offset_at(zone, midnight) != found[-1][1]:
            # The clocks changed during the day: find the first second of the new offset.
            low, high = previous, midnight
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (middle, high) if _offset_at(zone, middle) == found[-1][1] else (low, middle)
            found.append((high, _offset_at(zone, high)))
    return found


def local_date_sql(column, zone, first, last):
    """Return (SQL, parameters) for the date in `zone` of the UTC stamp in `column`, over local days `first`-`last`."""
    # Each stamp moves by the offset in force at that moment, so days either side of a daylight-saving change
    # each get their own offset (one offset for the whole range put the hour after midnight on the wrong day).
    changes = _offsets(zone, first, last)
    parameters = {"offset_0": _modifier(changes[0][1])}
    cases = []
    for number, (since, offset) in enumerate(changes[1:], start=1):
        parameters[f"offset_since_{number}"] = clock.stamp(datetime.fromtimestamp(since, timezone.utc))
        parameters[f"offset_{number}"] = _modifier(offset)
        cases.insert(0, f"WHEN {column} >= :offset_since_{number} THEN :offset_{number}")
    if not cases:
        return f"date({column}, :offset_0)", parameters
    return f"date({column}, CASE {' '.join(cases)} ELSE :offset_0 END)", parameters


def _modifier(offset):
    """Return an SQLite date modifier ('+480 minutes') for a UTC offset."""
    return f"{int(offset.total_seconds() // 60):+d} minutes"
