"""PostgreSQL's schema: the Alembic migrations in ivr/storage/alembic, run under an advisory lock; psycopg 3 URLs."""
import zlib
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from ivr.storage.tables import metadata

SCRIPTS = Path(__file__).resolve().parent / "alembic"
# One key for every host of one database: a second host releasing at the same moment waits for the first one's
# migrations, then finds nothing left to do.
ADVISORY_LOCK_KEY = zlib.crc32(b"ivr schema migrations")
CONNECT_TIMEOUT_SECONDS = 10
# How an operator may spell a PostgreSQL URL; every spelling is run on psycopg 3.
POSTGRESQL_DRIVERS = {"postgresql", "postgres", "postgresql+psycopg"}


class SchemaError(Exception):
    """The database cannot be migrated or used: an unusable URL, or a schema this release does not know."""


def engine_url(url):
    """Return `url` as a SQLAlchemy URL for psycopg 3; raise SchemaError if it is not a PostgreSQL URL."""
    try:
        parsed = make_url(str(url))
    except sa.exc.ArgumentError:
        raise SchemaError(f"not a database URL: {display(url)}") from None
    if parsed.drivername not in POSTGRESQL_DRIVERS:
        raise SchemaError(f"not a PostgreSQL URL (postgresql://user:password@host:5432/database): {display(url)}")
    return parsed.set(drivername="postgresql+psycopg")


def display(url):
    """Return `url` with its password hidden, for messages."""
    try:
        return make_url(str(url)).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "(unreadable URL)"


def create_engine(url):
    """Return an engine on the PostgreSQL database at `url` without a pool (for commands, not web workers)."""
    return sa.create_engine(engine_url(url), poolclass=NullPool,
                            connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS})


def include_object(item, name, kind, reflected, compare_to):
    """Tell Alembic's comparisons to skip what tables.py declares only for another database (SQLite's indexes)."""
    condition = getattr(item, "_ddl_if", None)
    return condition is None or condition.dialect in (None, "postgresql")


def schema_differences(connection):
    """Return how the database on `connection` differs from tables.metadata, as Alembic's autogenerate sees it."""
    return compare_metadata(MigrationContext.configure(connection, opts={"include_object": include_object}),
                            metadata)


def alembic_config():
    """Return Alembic's configuration, built in code: the package carries its scripts, no alembic.ini is needed."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    return config


def head_revision():
    """Return the newest revision this release's migrations know."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def known_revisions():
    """Return every revision this release's migrations know."""
    return {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def revision_of(connection):
    """Return the revision the database on `connection` is at, or None if it was never migrated."""
    return MigrationContext.configure(connection).get_current_revision()


def current_revision(url):
    """Return the revision the database at `url` is at, or None if it was never migrated."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return revision_of(connection)
    finally:
        engine.dispose()


def check_known(revision, url):
    """Raise SchemaError if `revision` is one this release does not know (a newer release migrated the database)."""
    if revision is not None and revision not in known_revisions():
        raise SchemaError(
            f"the database {display(url)} is at schema revision {revision!r}, which this release does not know"
            f" (it knows up to {head_revision()!r}): it was migrated by a newer release; upgrade this one first"
        )


def check_current(url):
    """Raise SchemaError unless the database at `url` is at this release's newest revision (web processes never
    migrate: the release step, `flask init-db`, does)."""
    revision = current_revision(url)
    if revision is None:
        raise SchemaError(f"the database {display(url)} has no schema yet: run `flask --app app init-db` (the"
                          " Procfile's release step) before starting the web processes")
    check_known(revision, url)
    head = head_revision()
    if revision != head:
        raise SchemaError(f"the database {display(url)} is at schema revision {revision!r} and this release needs"
                          f" {head!r}: run `flask --app app init-db` (the Procfile's release step) first")


def upgrade(url):
    """Migrate the database at `url` to the newest revision, one host at a time; return (revision before, after)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            # A session-level lock: it outlives the transactions below and is released however they end.
            connection.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
            connection.commit()
            try:
                before = revision_of(connection)
                connection.commit()
                check_known(before, url)
                config = alembic_config()
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
                connection.commit()
                return before, revision_of(connection)
            finally:
                connection.rollback()
                connection.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
                connection.commit()
    finally:
        engine.dispose()
