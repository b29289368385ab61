"""Online backups of the SQLite database: a checked, self-contained copy taken while the webhooks keep answering."""
import os
import sqlite3
import tempfile
import time
from pathlib import Path

# 1,024 pages (4 MiB at SQLite's default page size) per step, flushed to disk, then a short pause, so that the
# copy never takes the disk or a CPU away from the webhooks for long.
PAGES_PER_STEP = 1024
PAUSE_SECONDS = 0.002
# Files SQLite keeps beside a database: a leftover log or journal beside PATH would be replayed into the copy.
COMPANIONS = ("-wal", "-shm", "-journal")
COUNTED_TABLES = ("calls", "reports", "merchants")


class BackupError(Exception):
    """A backup was refused or failed; nothing was written to its destination."""


def backup(source, destination, force=False, timeout=5.0, pages_per_step=None, pause=None):
    """Copy the live database at `source` to `destination`, check the copy and rename it into place; return a summary."""
    started = time.monotonic()
    pages_per_step = pages_per_step or PAGES_PER_STEP
    pause = PAUSE_SECONDS if pause is None else pause
    source, destination = Path(source), Path(destination)
    _refuse_unsafe(source, destination, force)
    partial = None
    try:
        # A temporary file in the destination's folder, so the final rename is atomic; mkstemp makes it 0600.
        handle, name = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=".partial", dir=destination.parent)
        os.close(handle)
        partial = Path(name)
        migrations, steps = _copy(source, partial, timeout, pages_per_step, pause)
        copied = time.monotonic()
        summary = _check(partial, migrations)
        os.chmod(partial, 0o600)
        _sync(partial)
        os.replace(partial, destination)
        _sync(destination.parent)
    except BackupError as error:
        raise BackupError(f"{error}; nothing was written to {destination}") from None
    except sqlite3.Error as error:
        raise BackupError(f"backup of {source} failed, nothing was written to {destination}: {error}") from None
    except OSError as error:
        raise BackupError(f"backup to {destination} failed, nothing was written there: {error.strerror or error}") from None
    finally:
        if partial is not None:
            for leftover in [partial] + [Path(f"{partial}{suffix}") for suffix in COMPANIONS]:
                leftover.unlink(missing_ok=True)
    summary.update(source=str(source), destination=str(destination), steps=steps, copy_seconds=copied - started,
                   seconds=time.monotonic() - started)
    return summary


def _refuse_unsafe(source, destination, force):
    """Raise BackupError for a destination that cannot or must not be written."""
    if str(source) == ":memory:" or not source.is_file():
        raise BackupError(f"there is no database file at {source} (IVR_DATABASE) to back up")
    folder = destination.parent
    if not folder.is_dir():
        raise BackupError(f"the folder {folder} does not exist; create it first or choose another PATH")
    if destination.is_dir():
        raise BackupError(f"{destination} is a folder; give the backup a file name, e.g. {destination / 'hotline.db'}")
    live = [Path(f"{source}{suffix}") for suffix in ("",) + COMPANIONS]
    if any(_same_file(destination, path) for path in live):
        raise BackupError(f"{destination} is the live database (or one of its files); back up to another path")
    if destination.exists() and not force:
        raise BackupError(f"{destination} already exists; use --force to replace it")
    for suffix in ("-wal", "-journal"):
        companion = Path(f"{destination}{suffix}")
        if companion.exists():
            raise BackupError(f"{companion} exists: a database at {destination} is in use or was not closed cleanly,"
                              " and SQLite would replay it into the backup; remove it or choose another PATH")


def _same_file(path, other):
    """Whether two paths name one file, through symbolic or hard links too."""
    if os.path.realpath(path) == os.path.realpath(other):
        return True
    try:
        return os.path.samefile(path, other)
    except OSError:
        return False


def _copy(source, partial, timeout, pages_per_step, pause):
    """Copy `source` into the file `partial` with the backup API; return the source's migrations and the steps taken."""
    # Read-only: a backup never writes to the live database, nor creates one where none is.
    reader = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=timeout, isolation_level=None)
    writer = sqlite3.connect(partial, isolation_level=None)
    try:
        # One read transaction for the whole copy: in WAL mode it is a fixed snapshot that webhooks can write
        # past meanwhile. Without it each webhook's write would restart the copy from its first page.
        reader.execute("BEGIN")
        migrations = _migrations(reader, source)
        steps = []
        copy_file = os.open(partial, os.O_RDONLY)

        def rest(status, remaining, total):
            steps.append(remaining)
            # Flushed step by step: left to the kernel, hundreds of megabytes go to disk at once and the
            # webhooks' own fsyncs (WAL checkpoints) wait behind them.
            os.fsync(copy_file)
            time.sleep(pause)

        try:
            reader.backup(writer, pages=pages_per_step, progress=rest)
        finally:
            os.close(copy_file)
        reader.execute("COMMIT")
        # The copied header still says WAL, which would make the copy depend on -wal and -shm files beside it
        # and fail to open on a read-only disk; a rollback-journal database is one self-contained file.
        writer.execute("PRAGMA journal_mode = DELETE")
    finally:
        writer.close()
        reader.close()
    return migrations, len(steps)


def _migrations(connection, path):
    """Return the (version, name) migrations applied to a hotline database, or raise BackupError."""
    try:
        return connection.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    except sqlite3.OperationalError as error:
        if "no such table" in str(error):
            raise BackupError(f"{path} is not a hotline database (it has no schema_migrations table)") from None
        raise


def _check(partial, migrations):
    """Open the copy read-only, as a restore elsewhere would, and check it; return what it holds."""
    connection = sqlite3.connect(f"{partial.resolve().as_uri()}?mode=ro", uri=True)
    try:
        problems = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise BackupError("the copy failed SQLite's integrity check: " + "; ".join(problems[:5]))
        if _migrations(connection, partial) != migrations:
            raise BackupError("the copy's migrations differ from the live database's")
        journal_mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
        if journal_mode == "wal":
            raise BackupError("the copy is still in WAL mode")
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        counts = {table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                  for table in COUNTED_TABLES if table in tables}
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
    finally:
        connection.close()
    return {"bytes": partial.stat().st_size, "pages": pages, "page_size": page_size, "counts": counts,
            "schema_version": migrations[-1][0] if migrations else None}


def _sync(path):
    """Flush a file, or a folder's list of names, to disk, so a crash right after leaves the backup whole."""
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
