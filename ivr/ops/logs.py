"""Logs as one JSON line per event (or plain text), carrying the CallSid of the voice webhook being answered."""
import json
import logging
from datetime import datetime, timezone

from flask import has_request_context, request
from werkzeug.exceptions import HTTPException

from ivr.voice import webhooks


def utc_time(record):
    """The record's time in UTC, ISO 8601 to the millisecond (2026-12-03T08:15:02.125Z)."""
    stamp = datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def request_fields():
    """Return (CallSid, path) of the request being handled: the CallSid only for a voice webhook, else None."""
    if not has_request_context():
        return None, None
    call_sid = None
    if request.blueprint == webhooks.bp.name:
        try:
            call_sid = webhooks.call_sid(request.form)
        except HTTPException:
            pass  # the form itself is what failed (too large): the line is still written, without the call
    return call_sid, request.path


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, call_sid, path, and the exception if any."""

    def format(self, record):
        call_sid, path = request_fields()
        entry = {"time": utc_time(record), "level": record.levelname, "logger": record.name,
                 "message": record.getMessage(), "call_sid": call_sid, "path": path}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        # ASCII escapes keep an event on one line whatever a log reader counts as a line break.
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """Lines for people: time (UTC), level, logger, the call and path if any, the message, the traceback."""

    def format(self, record):
        call_sid, path = request_fields()
        where = f" [{call_sid} {path}]" if call_sid else f" [{path}]" if path else ""
        line = f"{utc_time(record)} {record.levelname} {record.name}{where}: {record.getMessage()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


FORMATTERS = {"json": JsonFormatter, "text": TextFormatter}


def formatter_class(log_format):
    """Return the formatter class for an IVR_LOG_FORMAT value; an unknown one stops start-up."""
    if log_format not in FORMATTERS:
        raise RuntimeError(f"the hotline cannot start: IVR_LOG_FORMAT={log_format!r} must be one of {', '.join(FORMATTERS)}")
    return FORMATTERS[log_format]


def init_app(app):
    """Send logs to standard error in IVR_LOG_FORMAT, unless logging was set up before the app was made."""
    formatter = formatter_class(app.config["LOG_FORMAT"])()
    root = logging.getLogger()
    # Set up already by gunicorn with ivr/ops/gunicorn.py (in the same format), by pytest (caplog), or by the
    # operator: a second handler would write every line twice.
    if root.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    root.addHandler(handler)
