"""The staff dashboard: its views, queries, charts, texts and templates."""
from datetime import timedelta

from werkzeug.exceptions import HTTPException


def init_app(app):
    """Register the dashboard's blueprints, template helpers, cookie settings, security headers and CLI commands."""
    from ivr.cli import staff as staffcli
    from ivr.dashboard import admin, calls, helpers, localtime, manage, recordings, views
    from ivr.staff import signin
    from ivr.staff.auth import StaffSessionInterface, write_session_cookie

    # Flask ships these keys with its own defaults, so only its defaults are replaced; a test or deploy may override.
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    if app.config.get("PERMANENT_SESSION_LIFETIME") == timedelta(days=31):
        app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=12)
    app.session_interface = StaffSessionInterface()
    app.jinja_env.autoescape = True
    for blueprint in (views.bp, calls.bp, manage.bp, admin.bp, recordings.bp):
        app.register_blueprint(blueprint)
    app.jinja_env.filters["phone"] = helpers.shown_number
    app.jinja_env.filters["local"] = localtime.show
    app.jinja_env.filters["pretty"] = helpers.pretty
    app.context_processor(helpers.template_globals)
    # Errors no dashboard blueprint catches (unknown addresses, wrong methods, server errors) get the dashboard's
    # page on its paths; the API hands its routing errors for other paths here too (ivr/api.py).
    app.register_error_handler(HTTPException, helpers.error_page)
    app.extensions["page_errors"] = helpers.error_page
    # On the whole app, so API answers and error pages carry the headers too. Hooks run last-registered first:
    # a revealed number shown is audited before the cookie and headers are added.
    app.after_request(helpers.security_headers)
    app.after_request(write_session_cookie)
    app.after_request(helpers.audit_numbers_shown)
    signin.prepare()
    staffcli.init_app(app)
