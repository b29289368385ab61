"""Each request's database connection, kept in Flask's `g` and handed back when the request ends."""
from flask import current_app, g

from ivr.storage import connection


def get_db():
    """Return this request's database connection: the worker thread's open one while its file is unchanged."""
    if "db" not in g:
        g.db = connection.thread_connection(current_app.config["DATABASE"], current_app.config["DATABASE_TIMEOUT"])
    return g.db


def close_db(exception=None):
    """End this request's use of its connection; it stays open for the thread's next request if it is clean."""
    database = g.pop("db", None)
    if database is not None:
        connection.release(database, failed=exception is not None)


def init_app(app):
    """Hand each request's connection back when the request ends."""
    app.teardown_appcontext(close_db)
