"""Staff see times and days in the hotline's own time zone (IVR_DASHBOARD_TZ), while storage stays UTC."""
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app

from ivr import clock
from ivr.errors import InvalidInput


def zone():
    """Return the dashboard's time zone."""
    return ZoneInfo(current_app.config["DASHBOARD_TZ"])


def today():
    """Return today's date in the dashboard's time zone."""
    return clock.now().astimezone(zone()).date()


def _offset_at(seconds):
    """Return the dashboard zone's UTC offset at a POSIX time."""
    return datetime.fromtimestamp(seconds, timezone.utc).astimezone(zone()).utcoffset() or timedelta(0)


def _offsets(first, last):
    """Return [(POSIX second from which it applies, UTC offset)] over local days `first` to `last`, oldest first."""
    midnight = int(datetime.combine(first, time.min, tzinfo=zone()).timestamp())
    found = [(midnight, _offset_at(midnight))]
    day = first
    while day <= last:
        day += timedelta(days=1)
        previous, midnight = midnight, int(datetime.combine(day, time.min, tzinfo=zone()).timestamp())
        if _offset_at(midnight) != found[-1][1]:
            # The clocks changed during the day: find the first second of the new offset.
            low, high = previous, midnight
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (middle, high) if _offset_at(middle) == found[-1][1] else (low, middle)
            found.append((high, _offset_at(high)))
    return found


def local_date_sql(column, first, last):
    """Return (SQL, parameters) for the local date of the UTC stamp in `column`, from local days `first` to `last`."""
    # Each stamp moves by the offset in force at that moment, so days either side of a daylight-saving change
    # each get their own offset (one offset for the whole range put the hour after midnight on the wrong day).
    changes = _offsets(first, last)
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


def day_start(day):
    """Return the UTC stamp of local midnight starting `day` (a date)."""
    return clock.stamp(datetime.combine(day, time.min, tzinfo=zone()))


def parse_day(text, field):
    """Return the date in 'YYYY-MM-DD' text, or None for empty text; raise InvalidInput otherwise."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{field}: expected a date like 2026-11-25", field=field) from None


def parse_range(filters, args):
    """Set `filters.date_from` and `filters.date_to` from query arguments, appending what is invalid to `filters.errors`."""
    for name in ("date_from", "date_to"):
        try:
            setattr(filters, name, parse_day(args.get(name), name))
        except InvalidInput as error:
            filters.errors.append(str(error))


def show(stamp, seconds=True):
    """Format a stored stamp as local 'YYYY-MM-DD HH:MM:SS' for display ('' for None)."""
    if not stamp:
        return ""
    try:
        moment = clock.parse(stamp).astimezone(zone())
    except ValueError:
        return stamp
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
