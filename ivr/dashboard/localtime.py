"""Staff see times and days in the hotline's own time zone (IVR_DASHBOARD_TZ), while storage stays UTC."""
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app

from ivr import clock
from ivr.errors import InvalidInput


def zone():
    """Return the dashboard's time zone."""
    return ZoneInfo(current_app.config["DASHBOARD_TZ"])


def zone_label():
    """Return the dashboard's time zone as a CSV header names it, e.g. 'Asia/Shanghai, UTC+08:00' (offset of now)."""
    offset = clock.now().astimezone(zone()).strftime("%z")
    return f"{current_app.config['DASHBOARD_TZ']}, UTC{offset[:3]}:{offset[3:]}"


def today():
    """Return today's date in the dashboard's time zone."""
    return clock.now().astimezone(zone()).date()


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
