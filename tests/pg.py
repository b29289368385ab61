"""PostgreSQL for tests: a fresh, uniquely named database on the machine's server, dropped afterwards."""
import contextlib
import os
import uuid

import psycopg
import pytest

HOST, PORT, USER = "127.0.0.1", 5432, "postgres"
SERVER = f"{HOST}:{PORT}"


def admin():
    """Return an autocommit connection to the maintenance database (CREATE DATABASE cannot run in a transaction)."""
    return psycopg.connect(host=HOST, port=PORT, user=USER, dbname="postgres", autocommit=True, connect_timeout=3)


def reachable_or_skip():
    """Skip the test when no PostgreSQL answers, except in CI (CI set), where .ci/run must have started one."""
    try:
        admin().close()
    except psycopg.OperationalError as error:
        reason = f"PostgreSQL is not reachable at {SERVER}: {' '.join(str(error).split())}"
        if os.environ.get("CI"):
            pytest.fail(reason + " (CI is set, so a missing server is a failure)")
        pytest.skip(reason)


def url_of(name, driver="postgresql"):
    """Return the SQLAlchemy URL of the test database `name`."""
    return f"{driver}://{USER}@{SERVER}/{name}"


def create_database():
    """Create an empty database with a name no other test uses; return its name."""
    name = f"ivr_test_{uuid.uuid4().hex[:16]}"
    with admin() as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(name):
    """Drop the database, disconnecting whoever is still on it."""
    with admin() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgresql_url():
    """The URL of a fresh, empty PostgreSQL database, dropped when the test ends."""
    reachable_or_skip()
    name = create_database()
    try:
        yield url_of(name)
    finally:
        drop_database(name)


def query(url, sql, params=None):
    """Run `sql` on the database at `url` (a postgresql:// URL, as the tests build them); return its rows, if any."""
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as connection:
        cursor = connection.execute(sql, params)
        return cursor.fetchall() if cursor.description else None


# -- the whole suite on PostgreSQL (IVR_TEST_DATABASE=postgresql) ---------------------------------------------

BACKEND = os.environ.get("IVR_TEST_DATABASE", "sqlite").strip().lower() or "sqlite"
if BACKEND not in ("sqlite", "postgresql"):
    raise RuntimeError(f"IVR_TEST_DATABASE must be sqlite or postgresql, not {BACKEND!r}")


class Template:
    """One migrated database per test session, copied for each test: CREATE DATABASE ... TEMPLATE takes a tenth
    of a second, where running the migrations takes seconds."""

    def __init__(self):
        self.name = None

    def copy(self):
        """Return the name of a new database holding the migrated, empty schema."""
        if self.name is None:
            from ivr.storage import pgschema

            name = create_database()
            pgschema.upgrade(url_of(name))
            self.name = name
        copied = f"ivr_test_{uuid.uuid4().hex[:16]}"
        with admin() as connection:
            connection.execute(f'CREATE DATABASE "{copied}" TEMPLATE "{self.name}"')
        return copied

    def drop(self):
        """Drop the template, if one was made."""
        if self.name is not None:
            drop_database(self.name)
            self.name = None


TEMPLATE = Template()


@contextlib.contextmanager
def migrated_copy():
    """A fresh PostgreSQL database with the schema migrated, dropped after the block; yields its URL."""
    reachable_or_skip()
    name = TEMPLATE.copy()
    try:
        yield url_of(name)
    finally:
        from ivr.storage import postgres

        postgres.dispose(url_of(name))  # the app's pooled connections, so that the database can be dropped
        drop_database(name)


@pytest.fixture
def migrated_postgresql_url():
    """The URL of a fresh PostgreSQL database with the schema migrated, dropped when the test ends."""
    with migrated_copy() as url:
        yield url
