"""The official merchant verification hotline: a Twilio Voice IVR built with Flask."""
import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from ivr import config
from ivr.config import PROJECT_ROOT  # noqa: F401 - where flows and tests find the project
from ivr.errors import FlowError, InvalidInput

MIN_CODE_SECRET = 16
log = logging.getLogger(__name__)


def _deployment_warnings(config):
    """What a production deployment must fix, said at start-up and by /healthz."""
    warnings = []
    if config["SKIP_SIGNATURE"]:
        warnings.append("IVR_INSECURE_SKIP_SIGNATURE is on: anyone can post to /voice/*. Never use this in production.")
    elif not config["PUBLIC_URL"]:
        # Without it the signature is checked against whatever Host header arrives.
        warnings.append("IVR_PUBLIC_URL is not set: Twilio signatures are checked against the request's own Host"
                        " header. Set it to the public https:// URL Twilio calls (e.g. https://hotline.example.com).")
    return warnings


def _secret_key(app):
    """Keep a generated secret key in the instance folder so every worker and restart shares it."""
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _code_secret(config):
    """Return the key reference codes are hashed with: IVR_CODE_SECRET, else one derived from the secret key."""
    if config["CODE_SECRET"]:
        if len(config["CODE_SECRET"]) < MIN_CODE_SECRET:
            # Whoever has the key and a copy of the database can try all 10**8 codes in seconds.
            raise RuntimeError(
                f"the hotline cannot start: IVR_CODE_SECRET must be at least {MIN_CODE_SECRET} characters;"
                " generate one with: python -c 'import secrets; print(secrets.token_hex(32))'"
            )
        return config["CODE_SECRET"]
    # Derived, so every server sharing IVR_SECRET_KEY hashes codes alike.
    secret = config["SECRET_KEY"]
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, b"reference codes", hashlib.sha256).hexdigest()


def create_app(test_config=None):
    """Create and configure the hotline app; a bad flow or setting stops it here, not on a live call."""
    # The dashboard is the only part with pages: its templates and stylesheet live with its views.
    app = Flask(__name__, instance_relative_config=True, template_folder="dashboard/templates",
                static_folder="dashboard/static")
    # "/api/merchants//0" is not a merchant: a 404 in the API's JSON, not an HTML redirect to "/api/merchants/0".
    app.url_map.merge_slashes = False
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(config.from_environment(os.environ, app.instance_path))
    if test_config:
        app.config.update(test_config)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _secret_key(app)
    app.config["CODE_SECRET"] = _code_secret(app.config)

    from ivr import api, dashboard, database, health, hours, ops, phone, upgrade
    from ivr.cli import commands as cli
    from ivr.cli import retention
    from ivr.flow import loader as flows
    from ivr.flow import registry
    from ivr.notify import alerts
    from ivr.storage import db
    from ivr.verification import actions as verify  # noqa: F401 - they register the flow's actions
    from ivr.verification import callbacks, catalogue
    from ivr.voice import messages, signature
    from ivr.voice import webhooks as voice

    ops.init_app(app)  # first, so that what start-up logs is in IVR_LOG_FORMAT too
    try:
        # The actions and validators ivr/verification/actions.py and callbacks.py registered; voices as IVR_VOICE_<CODE> overrides.
        loaded = flows.load_flows(app.config["FLOWS_DIR"], registry.hotline, voices=app.config["VOICE_OVERRIDES"])
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
    try:
        # Every action is spoken in each of the flow's languages, so it needs a text in each.
        outreach_actions = catalogue.load_catalogue(app.config["OUTREACH_ACTIONS"],
                                                    loaded[app.config["FLOW"]].languages)
    except catalogue.CatalogueError as error:
        raise RuntimeError(f"the hotline cannot start: {error}") from None
    try:
        alerts.settings_from(app.config)  # read again when alerts go out, as a test or operator may change them
    except ValueError as error:
        raise RuntimeError(f"the hotline cannot start: {error}") from None
    app.extensions["ivr"] = {"flows": loaded, "flow": loaded[app.config["FLOW"]], "hours": business_hours,
                             "outreach_actions": outreach_actions}

    if app.config["PROXY_FIX"]:
        hops = app.config["PROXY_FIX"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops)
    warnings = app.extensions["ivr"]["warnings"] = _deployment_warnings(app.config)
    for warning in warnings:
        log.warning("%s", warning)

    app.request_class = signature.Request
    database.init_app(app)
    app.register_blueprint(voice.bp)
    app.register_blueprint(messages.bp)
    app.register_blueprint(health.bp)
    for module in (verify, api, dashboard, retention, cli):
        module.init_app(app)

    # PostgreSQL is migrated only by the release step (`flask init-db`), never by web processes as they start.
    if app.config["AUTO_MIGRATE"] and not app.config["DATABASE_URL"]:
        try:
            database = db.connect(app.config["DATABASE"], app.config["DATABASE_TIMEOUT"])
            try:
                upgrade.upgrade(database, app.config["CODE_SECRET"])
            finally:
                database.conn.close()
        except Exception:  # noqa: BLE001 - the hotline still answers (with apologies) without its database
            log.exception("could not open or migrate the database at %s", app.config["DATABASE"])
    return app
