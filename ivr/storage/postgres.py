"""PostgreSQL at run time: a pooled psycopg 3 connection that takes the same SQL and calls as a SQLite one."""
import functools
import os
import re

import psycopg
import sqlalchemy as sa

from ivr.storage import pgschema

# The storage modules' SQL uses SQLite's placeholders (? and :name); psycopg takes %s and %(name)s, and then
# reads every other % as one, even inside quotes. Otherwise quoted text, identifiers and comments are copied as
# they are.
_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|::|\?|(?<![:\w]):([A-Za-z_]\w*)|%")


@functools.lru_cache(maxsize=2048)
def placeholders(sql):
    """Return `sql` with SQLite's placeholders spelled as psycopg's."""

    def spelled(match):
        token = match.group(0)
        if token == "?":
            return "%s"
        if token == "%":
            return "%%"
        if match.group(1):
            return f"%({match.group(1)})s"
        return token.replace("%", "%%")  # psycopg reads % inside quotes too

    return _TOKEN.sub(spelled, sql)


def without_nul(parameters):
    """Return `parameters` with each NUL in a text replaced by U+FFFD: PostgreSQL's text cannot hold NUL, which
    SQLite stores, and a caller's garbled field must still be filed rather than fail the webhook."""
    values = parameters.values() if isinstance(parameters, dict) else parameters
    if not any(isinstance(value, str) and "\x00" in value for value in values):
        return parameters
    if isinstance(parameters, dict):
        return {key: _clean(value) for key, value in parameters.items()}
    return [_clean(value) for value in parameters]


def _clean(value):
    return value.replace("\x00", "\ufffd") if isinstance(value, str) else value


class PostgresDatabase:
    """One pooled connection, in autocommit between explicit transactions, with sqlite-utils' execute and query."""

    kind = "postgresql"

    def __init__(self, pooled):
        self.pooled = pooled  # SQLAlchemy's proxy of the psycopg connection; close() gives it back to the pool
        self.conn = self  # the storage modules reach the driver as database.conn, as on SQLite

    def execute(self, sql, parameters=()):
        """Run one statement and return its cursor."""
        cursor = self.pooled.cursor()
        cursor.execute(placeholders(sql), without_nul(parameters))
        return cursor

    def executemany(self, sql, rows):
        """Run one statement once for each row of parameters."""
        cursor = self.pooled.cursor()
        cursor.executemany(placeholders(sql), [without_nul(row) for row in rows])
        return cursor

    def query(self, sql, parameters=()):
        """Yield each row of a query as a dict of its columns."""
        cursor = self.execute(sql, parameters)
        names = [column.name for column in cursor.description]
        for row in cursor:
            yield dict(zip(names, row))

    @property
    def in_transaction(self):
        """True inside a transaction not yet committed or rolled back."""
        return self.pooled.driver_connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    @property
    def broken(self):
        """True when the server has gone (a restart, a dropped link): the connection must not go back to the pool."""
        return self.pooled.driver_connection.closed or self.pooled.driver_connection.broken

    def close(self):
        """Give the connection back to the pool, or throw it away if it is broken."""
        if self.broken:
            self.pooled.invalidate()
        self.pooled.close()


def is_postgresql(database):
    """True when `database` is a PostgreSQL connection rather than a SQLite one."""
    return isinstance(database, PostgresDatabase)


class Engines:
    """This process's engine for each PostgreSQL URL; a forked worker makes its own, never its parent's."""

    def __init__(self):
        self._engines = {}

    def items(self):
        """Every (key, engine) made so far."""
        return list(self._engines.items())

    def dispose(self, url):
        """Close and forget this process's engines for `url`."""
        for key, engine in self.items():
            if key[1] == url:
                engine.dispose()
                del self._engines[key]

    def get(self, url, pool_size, timeout):
        """Return this process's pooled engine for `url`."""
        key = (os.getpid(), url, pool_size, timeout)
        engine = self._engines.get(key)
        if engine is None:
            engine = self._engines[key] = create_pooled_engine(url, pool_size, timeout)
        return engine


def create_pooled_engine(url, pool_size, timeout):
    """Return an engine with a pool of at most `pool_size` connections, each waited for at most `timeout` seconds."""
    milliseconds = int(timeout * 1000)
    return sa.create_engine(
        pgschema.engine_url(url),
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=timeout,
        # A connection the server dropped (a restart) is noticed before use and replaced, not handed to a webhook.
        pool_pre_ping=True,
        isolation_level="AUTOCOMMIT",
        connect_args={
            "connect_timeout": max(1, int(timeout)),
            # A statement or a lock waited on longer than the timeout fails, so that a caller hears an apology
            # within Twilio's 15 s rather than silence.
            # psycopg prepares a statement run five times, and PostgreSQL may then switch it to one generic plan
            # for every parameter: on skewed columns (every demo call has the same to_number) that plan read a
            # million rows for a rare value. A plan per execution costs a fraction of a millisecond.
            "options": f"-c statement_timeout={milliseconds} -c lock_timeout={milliseconds}"
                       " -c plan_cache_mode=force_custom_plan",
            "application_name": "ivr-hotline",
        },
    )


ENGINES = Engines()


def dispose(url):
    """Close every pooled connection this process keeps to `url`."""
    ENGINES.dispose(url)


def pool_use():
    """Return how many of this process's pooled PostgreSQL connections are in use and how many are idle."""
    engines = [engine for (pid, *_), engine in ENGINES.items() if pid == os.getpid()]
    return {"in_use": sum(engine.pool.checkedout() for engine in engines),
            "idle": sum(engine.pool.checkedin() for engine in engines)}


def checkout(url, pool_size, timeout):
    """Return a PostgresDatabase on a connection from this process's pool for `url`."""
    return PostgresDatabase(ENGINES.get(url, pool_size, timeout).raw_connection())
