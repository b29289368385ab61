"""Staff alerts to a chat group's robot (WeCom, DingTalk or Slack): suspected numbers, locks, report surges."""
import base64
import hashlib
import hmac
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

import requests

from ivr import clock
from ivr.storage import db, outbox

FORMATS = ("wecom", "dingtalk", "slack")
TIMEOUT_SECONDS = 5
# An alert that waited longer than this (no robot set up, or it kept failing) is no longer news.
STALE_AFTER = timedelta(days=1)
# The usual rate of reports is the hourly average over this many days before the last hour.
USUAL_DAYS = 7


@dataclass(frozen=True)
class AlertSettings:
    """Where alerts go (IVR_ALERT_WEBHOOK) in which robot's format, its signing secret, and when to alert."""

    webhook: str | None
    format: str = "wecom"
    secret: str | None = None
    dedupe_minutes: int = 60
    surge_multiple: float = 3.0
    surge_minimum: int = 5

    @property
    def enabled(self):
        """True when the operator set IVR_ALERT_WEBHOOK."""
        return bool(self.webhook)


class AlertFailed(Exception):
    """The robot did not take the alert; the message says what it answered."""


def queue(database, kind, subject, detail):
    """Queue an alert of `kind` about `subject` unless the same one is already waiting; return its id or None."""
    if outbox.alert_queued(database, kind, subject):
        return None
    return outbox.queue_alert(database, kind, subject, detail, clock.stamp())


def text(alert):
    """The alert's short text, in Chinese then English."""
    detail = alert["detail"]
    if alert["kind"] == "number_suspected":
        number, count = detail.get("number", alert["subject"]), detail.get("merchants", "?")
        return (f"【商户核实热线】号码 {number} 已被标记为可疑：{count} 位商户举报。\n"
                f"Hotline: {number} is now suspected; {count} merchants reported it.")
    if alert["kind"] == "merchant_locked":
        merchant = "…" + str(detail.get("merchant_id") or alert["subject"])[-4:]  # enough for staff to find it
        return (f"【商户核实热线】商户 {merchant} 的参考码核实已被锁定（错误次数过多）。\n"
                f"Hotline: code checks for merchant {merchant} are locked after too many wrong codes.")
    count, usual = detail.get("reports", "?"), detail.get("usual", "?")
    return (f"【商户核实热线】过去一小时收到 {count} 份举报，平时约每小时 {usual} 份：可能有新的诈骗活动。\n"
            f"Hotline: {count} reports in the last hour against about {usual} an hour usually: a scam campaign may be starting.")


def payload(form, message):
    """The JSON body `form`'s robot expects for a plain text `message`."""
    if form == "slack":
        return {"text": message}
    return {"msgtype": "text", "text": {"content": message}}


def signed_url(url, secret, milliseconds):
    """DingTalk's signed robot URL: timestamp and sign (base64 HMAC-SHA256 of "timestamp\\nsecret") added."""
    digest = hmac.new(secret.encode(), f"{milliseconds}\n{secret}".encode(), hashlib.sha256).digest()
    sign = base64.b64encode(digest).decode()
    separator = "&" if urllib.parse.urlsplit(url).query else "?"
    return f"{url}{separator}{urllib.parse.urlencode({'timestamp': milliseconds, 'sign': sign})}"


def post(settings, message):
    """Post `message` to the robot; raise AlertFailed when it does not take it."""
    url = settings.webhook
    if settings.format == "dingtalk" and settings.secret:
        url = signed_url(url, settings.secret, int(time.time() * 1000))
    try:
        response = requests.post(url, json=payload(settings.format, message), timeout=TIMEOUT_SECONDS)
    except requests.RequestException as error:
        raise AlertFailed(f"could not reach the robot: {type(error).__name__}") from None
    if response.status_code != 200:
        raise AlertFailed(f"the robot answered HTTP {response.status_code}")
    if settings.format == "slack":
        if response.text.strip() != "ok":
            raise AlertFailed(f"Slack answered {response.text[:200]!r}")
        return
    try:
        answer = response.json()
    except ValueError:
        raise AlertFailed(f"the robot answered {response.text[:200]!r}") from None
    if answer.get("errcode") != 0:
        raise AlertFailed(f"the robot refused it: {answer.get('errcode')} {answer.get('errmsg', '')}"[:300])


def check_surge(database, settings, now=None):
    """Queue a report_surge alert when the last hour's reports exceed the usual hourly rate by the set multiple."""
    now = now or clock.now()
    hour_ago = now - timedelta(hours=1)
    recent = outbox.reports_between(database, clock.stamp(hour_ago), clock.stamp(now))
    before = outbox.reports_between(database, clock.stamp(hour_ago - timedelta(days=USUAL_DAYS)), clock.stamp(hour_ago))
    usual = before / (USUAL_DAYS * 24)
    if recent < settings.surge_minimum or recent <= settings.surge_multiple * usual:
        return None
    # One alert per clock hour: the subject names it, so the next hour may alert again.
    subject = now.strftime("%Y-%m-%dT%H")
    with db.transaction(database):
        return queue(database, "report_surge", subject, {"reports": recent, "usual": round(usual, 1)})


def send_due(database, settings, now=None, limit=50):
    """Post the alerts that are due; return {status: count}. A failure is stored and tried again later."""
    counts = Counter()
    if not settings.enabled:
        return counts
    now = now or clock.now()
    for alert in outbox.alerts_due(database, limit):
        status, error = "sent", None
        if clock.parse(alert["created_at"]) < now - STALE_AFTER:
            status = "stale"
        elif outbox.alert_sent_since(database, alert["kind"], alert["subject"],
                                     clock.stamp(now - timedelta(minutes=settings.dedupe_minutes))):
            status = "duplicate"
        else:
            try:
                post(settings, text(alert))
            except AlertFailed as failure:
                status, error = "failed", str(failure)
        with db.transaction(database):
            outbox.alert_result(database, alert["id"], status, clock.stamp(), error=error)
        counts[status] += 1
    return counts


def settings_from(config):
    """The AlertSettings in `config` (IVR_ALERT_*); raise ValueError naming a bad one."""
    form = config["ALERT_FORMAT"]
    if form not in FORMATS:
        raise ValueError(f"IVR_ALERT_FORMAT={form!r} must be one of {', '.join(FORMATS)}")
    webhook = config["ALERT_WEBHOOK"]
    if webhook and urllib.parse.urlsplit(webhook).scheme not in ("https", "http"):
        raise ValueError(f"IVR_ALERT_WEBHOOK must be the robot's http(s) URL, not {webhook!r}")
    return AlertSettings(webhook, form, config["ALERT_SECRET"], config["ALERT_DEDUPE_MINUTES"],
                         config["ALERT_SURGE_MULTIPLE"], config["ALERT_SURGE_MINIMUM"])
