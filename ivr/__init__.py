"""The official merchant verification hotline: a Twilio Voice IVR built with Flask."""
import gc
import logging
import os
import secrets
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import formdata
from .errors import FlowError, InvalidInput

PROJECT_ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)


def _env_flag(name, default="0"):
    return os.environ.get(name, default).strip().lower() in ("1", "true", "yes", "on")


def _settings_from_environment(app):
    """Read every IVR_* and TWILIO_* setting the README documents."""
    return {
        "TWILIO_AUTH_TOKEN": os.environ.get("TWILIO_AUTH_TOKEN") or None,
        "DATABASE": os.environ.get("IVR_DATABASE") or os.path.join(app.instance_path, "hotline.db"),
        "DATABASE_TIMEOUT": float(os.environ.get("IVR_DATABASE_TIMEOUT", "3")),
        "AUTO_MIGRATE": _env_flag("IVR_AUTO_MIGRATE", "1"),
        "AGENT_NUMBER": os.environ.get("IVR_AGENT_NUMBER") or None,
        "BUSINESS_HOURS": os.environ.get("IVR_BUSINESS_HOURS", "Mon-Sun 09:00-21:00 Asia/Shanghai"),
        "SECRET_KEY": os.environ.get("IVR_SECRET_KEY") or None,
        "PROXY_FIX": int(os.environ.get("IVR_PROXY_FIX", "0") or 0),
        "PUBLIC_URL": os.environ.get("IVR_PUBLIC_URL") or None,
        "SKIP_SIGNATURE": _env_flag("IVR_INSECURE_SKIP_SIGNATURE"),
        "VOICES": {
            "zh": os.environ.get("IVR_VOICE_ZH", "Polly.Zhiyu"),
            "en": os.environ.get("IVR_VOICE_EN", "Polly.Joanna"),
        },
        "FLOWS_DIR": os.environ.get("IVR_FLOWS_DIR") or str(PROJECT_ROOT / "flows"),
        "FLOW": os.environ.get("IVR_FLOW", "hotline"),
        "API_TOKEN": os.environ.get("IVR_API_TOKEN") or None,
        "OFFICIAL_NUMBERS": os.environ.get("IVR_OFFICIAL_NUMBERS", ""),
        "MAX_CONTENT_LENGTH": 256 * 1024,
    }


def _secret_key(app):
    """Keep a generated secret key in the instance folder so every worker and restart shares it."""
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def create_app(test_config=None):
    """Create and configure the hotline app; a bad flow or setting stops it here, not on a live call."""
    app = Flask(__name__, instance_relative_config=True)
    app.request_class = formdata.Request
    # "/api/merchants//0" is not a merchant: a 404 in the API's JSON, not an HTML redirect to "/api/merchants/0".
    app.url_map.merge_slashes = False
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(_settings_from_environment(app))
    if test_config:
        app.config.update(test_config)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _secret_key(app)

    from . import actions, api, cli, dashboard, db, flows, health, hours, phone, retention, verify, voice  # noqa: F401

    try:
        loaded = flows.load_flows(app.config["FLOWS_DIR"])
    except FlowError as error:
        raise RuntimeError(f"the hotline cannot start: {error}") from None
    if app.config["FLOW"] not in loaded:
        raise RuntimeError(f"the hotline cannot start: IVR_FLOW={app.config['FLOW']!r} is not one of {sorted(loaded)}")
    try:
        business_hours = hours.parse_hours(app.config["BUSINESS_HOURS"])
    except InvalidInput as error:
        raise RuntimeError(f"the hotline cannot start: {error}") from None
    if app.config["AGENT_NUMBER"]:
        agent = phone.to_e164(app.config["AGENT_NUMBER"])
        if agent is None:
            raise RuntimeError(f"the hotline cannot start: IVR_AGENT_NUMBER={app.config['AGENT_NUMBER']!r} is not a valid number")
        app.config["AGENT_NUMBER"] = agent
    app.extensions["ivr"] = {"flows": loaded, "flow": loaded[app.config["FLOW"]], "hours": business_hours}

    if app.config["PROXY_FIX"]:
        hops = app.config["PROXY_FIX"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops)
    if app.config["SKIP_SIGNATURE"]:
        log.warning("IVR_INSECURE_SKIP_SIGNATURE is on: anyone can post to /voice/*. Never use this in production.")

    db.init_app(app)
    app.register_blueprint(voice.bp)
    app.register_blueprint(health.bp)
    for module in (verify, api, dashboard, retention, cli):
        module.init_app(app)

    if app.config["AUTO_MIGRATE"]:
        try:
            database = db.connect(app.config["DATABASE"], app.config["DATABASE_TIMEOUT"])
            try:
                db.migrate(database)
            finally:
                database.conn.close()
        except Exception:  # noqa: BLE001 - the hotline still answers (with apologies) without its database
            log.exception("could not open or migrate the database at %s", app.config["DATABASE"])
    if not app.testing:
        # What is loaded by now (modules, flows, phone metadata) lives as long as the worker: set apart from the
        # garbage collector, which otherwise walks all of it again and again (2.4% of a webhook's instructions).
        gc.collect()
        gc.freeze()
    return app
