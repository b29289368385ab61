"""When a call has ended: send its SMS notes, copy its recordings and post due alerts, without failing anything."""
import logging
from collections import Counter

from ivr.errors import TwilioUnavailable
from ivr.notify import alerts, sms
from ivr.telephony import recordings, rest

log = logging.getLogger(__name__)
# Twilio waits up to 15 s for the status callback this runs in, and retries it; each network call gets this long.
TIMEOUT_SECONDS = 4
ALERTS_PER_CALL = 5


def follow_up(database, call_sid, rest_settings, sms_settings, alert_settings):
    """Do what waited for the call's end; whatever fails stays queued for `flask sms send`, `recordings sync`, ...."""
    done = Counter()
    try:
        client = rest.client(rest_settings, timeout=TIMEOUT_SECONDS)
    except TwilioUnavailable:
        client = None  # said by /healthz; notes and recordings wait for credentials
    steps = []
    if client is not None and sms_settings.enabled:
        steps.append(("SMS notes", lambda: sms.send_due(database, client, sms_settings, call_sid=call_sid)))
    if client is not None:
        steps.append(("recordings", lambda: recordings.sync(database, client, rest_settings.api_url, call_sid)))
    if alert_settings.enabled:
        steps.append(("alerts", lambda: _post_alerts(database, alert_settings)))
    for name, step in steps:
        try:
            done.update(step())
        except Exception:  # noqa: BLE001 - nothing here may turn a status callback into an error; cron retries
            log.exception("after call %s: %s failed; left for the cron command", call_sid, name)
    return done


def _post_alerts(database, settings):
    alerts.check_surge(database, settings)
    return alerts.send_due(database, settings, limit=ALERTS_PER_CALL)
