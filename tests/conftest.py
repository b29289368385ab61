import sqlite3

import pytest

from ivr import create_app, db
from ivr.simulator import Call, FlaskTransport

TOKEN = "test-auth-token-0123456789abcdef"
AGENT = "+8675512345678"


@pytest.fixture
def app(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(tmp_path / "hotline.db"),
            "TWILIO_AUTH_TOKEN": TOKEN,
            "AGENT_NUMBER": AGENT,
            "BUSINESS_HOURS": "24/7",
            "SECRET_KEY": "test-secret",
            "API_TOKEN": "test-api-token",
        }
    )
    yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def database(app):
    """A connection to the app's database, for asserting on rows."""
    connection = db.connect(app.config["DATABASE"])
    yield connection
    connection.conn.close()


class CallHelper:
    """`call.start(from_=...)`, then `call.press("1")`, `call.say(...)`, `call.silence()`, ..."""

    def __init__(self, app):
        self.app = app
        self.current = None

    def start(self, from_="+8613800138000", to="+864009001234", sid=None):
        self.current = Call(FlaskTransport(self.app), TOKEN, from_=from_, to=to, sid=sid)
        return self.current.start()

    def __getattr__(self, name):
        if self.current is None:
            raise AttributeError(name)
        return getattr(self.current, name)


@pytest.fixture
def call(app):
    return CallHelper(app)


def rows(app, sql, params=()):
    """Run a query on the app's database and return a list of dicts."""
    connection = sqlite3.connect(app.config["DATABASE"])
    connection.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in connection.execute(sql, params)]
    finally:
        connection.close()
