"""Every setting, read once from the environment (IVR_*, TWILIO_*): the README's table, in one place."""
from pathlib import Path

from ivr.hours import DEFAULT_ZONE
from ivr.phone import VIRTUAL_PREFIXES

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VOICE_OVERRIDE_PREFIX = "IVR_VOICE_"


def _flag(environ, name, default="0"):
    return environ.get(name, default).strip().lower() in ("1", "true", "yes", "on")


SQLITE_URL_PREFIX = "sqlite:///"


def _sqlite_path(url):
    url = (url or "").strip()
    return url[len(SQLITE_URL_PREFIX):] if url.startswith(SQLITE_URL_PREFIX) else None


def _postgresql_url(url):
    url = (url or "").strip()
    return url if url and not url.startswith(SQLITE_URL_PREFIX) else None


def from_environment(environ, instance_path):
    """Return the app's configuration from `environ` (os.environ), with the documented defaults."""
    return {
        "TWILIO_AUTH_TOKEN": environ.get("TWILIO_AUTH_TOKEN") or None,
        # Twilio's REST API: the account, with its auth token or an API key and secret, and where the API is.
        "TWILIO_ACCOUNT_SID": environ.get("TWILIO_ACCOUNT_SID") or None,
        "TWILIO_API_KEY": environ.get("TWILIO_API_KEY") or None,
        "TWILIO_API_SECRET": environ.get("TWILIO_API_SECRET") or None,
        "TWILIO_API_URL": (environ.get("IVR_TWILIO_API_URL") or "https://api.twilio.com").rstrip("/"),
        # IVR_DATABASE_URL, when set, names the database: sqlite:///path for a SQLite file, postgresql://... for
        # PostgreSQL. Unset, the SQLite file IVR_DATABASE is used.
        "DATABASE": _sqlite_path(environ.get("IVR_DATABASE_URL")) or environ.get("IVR_DATABASE")
        or str(Path(instance_path) / "hotline.db"),
        "DATABASE_URL": _postgresql_url(environ.get("IVR_DATABASE_URL")),
        # Connections each worker process keeps to PostgreSQL: 4 workers x 2 hosts x 5 stay within a default
        # max_connections of 100, with room for the release step and an operator's psql.
        "DATABASE_POOL_SIZE": int(environ.get("IVR_DATABASE_POOL_SIZE", "5")),
        "DATABASE_TIMEOUT": float(environ.get("IVR_DATABASE_TIMEOUT", "3")),
        "AUTO_MIGRATE": _flag(environ, "IVR_AUTO_MIGRATE", "1"),
        "AGENT_NUMBER": environ.get("IVR_AGENT_NUMBER") or None,
        "BUSINESS_HOURS": environ.get("IVR_BUSINESS_HOURS", f"Mon-Sun 09:00-21:00 {DEFAULT_ZONE}"),
        "SECRET_KEY": environ.get("IVR_SECRET_KEY") or None,
        "PROXY_FIX": int(environ.get("IVR_PROXY_FIX", "0") or 0),
        "PUBLIC_URL": environ.get("IVR_PUBLIC_URL") or None,
        "SKIP_SIGNATURE": _flag(environ, "IVR_INSECURE_SKIP_SIGNATURE"),
        "FLOWS_DIR": environ.get("IVR_FLOWS_DIR") or str(PROJECT_ROOT / "flows"),
        "FLOW": environ.get("IVR_FLOW", "hotline"),
        # {language code: voice} from IVR_VOICE_<CODE> (IVR_VOICE_YUE), replacing the voices a flow declares.
        "VOICE_OVERRIDES": {
            name[len(VOICE_OVERRIDE_PREFIX):].lower(): value.strip()
            for name, value in environ.items() if name.startswith(VOICE_OVERRIDE_PREFIX) and value.strip()
        },
        "API_TOKEN": environ.get("IVR_API_TOKEN") or None,
        # /metrics: a bearer token, else only scrapes from this host (ivr/ops/metrics.py); logs: json or text.
        "METRICS_TOKEN": environ.get("IVR_METRICS_TOKEN") or None,
        "LOG_FORMAT": (environ.get("IVR_LOG_FORMAT") or "json").strip().lower(),
        "OFFICIAL_NUMBERS": environ.get("IVR_OFFICIAL_NUMBERS", ""),
        # In a folder of its own: every *.yaml file in flows/ itself is loaded as a call flow.
        "OUTREACH_ACTIONS": environ.get("IVR_OUTREACH_ACTIONS")
        or str(PROJECT_ROOT / "flows" / "catalogue" / "outreach_actions.yaml"),
        "CODE_SECRET": environ.get("IVR_CODE_SECRET") or None,
        "LOCK_ATTEMPTS": int(environ.get("IVR_LOCK_ATTEMPTS", 5)),
        "LOCK_HOURS": int(environ.get("IVR_LOCK_HOURS", 24)),
        "REPORT_THRESHOLD": int(environ.get("IVR_REPORT_THRESHOLD", 3)),
        "REPORT_WINDOW_DAYS": int(environ.get("IVR_REPORT_WINDOW_DAYS", 30)),
        "VIRTUAL_PREFIXES": environ.get("IVR_VIRTUAL_PREFIXES", ",".join(VIRTUAL_PREFIXES)),
        "DASHBOARD_TZ": environ.get("IVR_DASHBOARD_TZ") or DEFAULT_ZONE,
        # Staff sessions end after this long without a request, and in any case this long after sign-in.
        "SESSION_IDLE_MINUTES": int(environ.get("IVR_SESSION_IDLE_MINUTES", 30)),
        "SESSION_MAX_HOURS": int(environ.get("IVR_SESSION_MAX_HOURS", 12)),
        "REVEAL_MINUTES": int(environ.get("IVR_REVEAL_MINUTES", 5)),
        # Password checks running at once on this server; more attempts are answered "try again" unchecked.
        "SIGN_IN_SLOTS": int(environ.get("IVR_SIGN_IN_SLOTS", 1)),
        # SMS notes after a call, and staff alerts to a chat robot: both off until their setting is given.
        "SMS_FROM": environ.get("IVR_SMS_FROM") or None,
        "SMS_PER_DAY": int(environ.get("IVR_SMS_PER_DAY", 3)),
        "SMS_NOTES": environ.get("IVR_SMS_NOTES") or str(PROJECT_ROOT / "flows" / "catalogue" / "sms.yaml"),
        "ALERT_WEBHOOK": environ.get("IVR_ALERT_WEBHOOK") or None,
        "ALERT_FORMAT": (environ.get("IVR_ALERT_FORMAT") or "wecom").strip().lower(),
        "ALERT_SECRET": environ.get("IVR_ALERT_SECRET") or None,
        "ALERT_DEDUPE_MINUTES": int(environ.get("IVR_ALERT_DEDUPE_MINUTES", 60)),
        "ALERT_SURGE_MULTIPLE": float(environ.get("IVR_ALERT_SURGE_MULTIPLE", 3)),
        "ALERT_SURGE_MINIMUM": int(environ.get("IVR_ALERT_SURGE_MINIMUM", 5)),
        "MAX_CONTENT_LENGTH": 256 * 1024,
    }
