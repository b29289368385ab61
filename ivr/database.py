"""Each request's database connection, kept in Flask's `g` and handed back when the request ends."""
from flask import current_app, g

from ivr.storage import connection, postgres


def get_db():
    """Return this request's database connection: from the pool on PostgreSQL; on SQLite the worker thread's open
    one while its file is unchanged."""
    if "db" not in g:
        g.db = _request_connection(current_app.config)
    return g.db


def _request_connection(config):
    """Return a request's connection to the database the configuration names (give it back with release)."""
    if config.get("DATABASE_URL"):
        return postgres.checkout(config["DATABASE_URL"], config["DATABASE_POOL_SIZE"], config["DATABASE_TIMEOUT"])
    return connection.thread_connection(config["DATABASE"], config["DATABASE_TIMEOUT"])


def _settings(config):
    return config["DATABASE"], config["DATABASE_TIMEOUT"], config.get("DATABASE_URL"), config.get("DATABASE_POOL_SIZE", 5)


def connect(config):
    """Return a connection of its own to the configured database, for a command or a job; give it back with
    close()."""
    return connection.open_database(*_settings(config))


close = connection.close


def opened(config):
    """A connection of its own to the configured database, for a command or a job, closed after the block."""
    return connection.opened(*_settings(config))


def close_db(exception=None):
    """End this request's use of its connection; it stays open for the thread's next request if it is clean."""
    database = g.pop("db", None)
    if database is not None:
        connection.release(database, failed=exception is not None)


def init_app(app):
    """Hand each request's connection back when the request ends."""
    app.teardown_appcontext(close_db)
