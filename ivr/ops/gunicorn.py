"""gunicorn's settings for the hotline (`gunicorn -c python:ivr.ops.gunicorn`): metrics summed over the workers, and
gunicorn's own log in IVR_LOG_FORMAT. The Procfile's command line still sets the workers, the address and the timeout."""
import glob
import os
import shutil
import tempfile

import sqlalchemy

from ivr.config import from_environment
from ivr.ops import logs
from ivr.storage import pgschema

# Set before any worker imports prometheus_client, which picks its storage when first imported (the master never
# imports it before child_exit; a --preload app is imported after this file, so it sees the directory too).
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    CREATED_DIRECTORY = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="ivr-metrics-")
else:
    CREATED_DIRECTORY = None
METRICS_DIRECTORY = os.environ["PROMETHEUS_MULTIPROC_DIR"]

# The setting the app reads, so that gunicorn's lines and the app's look alike.
_formatter = logs.formatter_class(from_environment(os.environ, "instance")["LOG_FORMAT"])
# gunicorn merges this over its own defaults, key by key: every key it has is given here.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"hotline": {"()": _formatter}},
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "formatter": "hotline", "stream": "ext://sys.stderr"},
    },
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {
        # No level here, so that --log-level still sets it.
        "gunicorn.error": {"handlers": ["stderr"], "propagate": False},
        # A log configuration turns on gunicorn's line per request; the metrics count requests, so it is kept off.
        "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
    },
}


def on_starting(server):
    """Refuse to start on a PostgreSQL database this release has not migrated; start from an empty metrics
    directory: the files of an earlier run would be counted again."""
    url = from_environment(os.environ, "instance")["DATABASE_URL"]
    if url:
        try:
            pgschema.check_current(url)
        except (pgschema.SchemaError, sqlalchemy.exc.SQLAlchemyError) as error:
            # gunicorn prints a RuntimeError raised here and exits with status 1.
            raise RuntimeError(f"the hotline cannot start: {' '.join(str(error).split())}") from None
    os.makedirs(METRICS_DIRECTORY, mode=0o700, exist_ok=True)
    for path in glob.glob(os.path.join(METRICS_DIRECTORY, "*.db")):
        os.remove(path)


def child_exit(server, worker):
    """Drop a worker's live gauges (its open connections) once it has exited; its counters stay in the sums."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, METRICS_DIRECTORY)


def on_exit(server):
    """Remove the metrics directory this file made."""
    if CREATED_DIRECTORY:
        shutil.rmtree(CREATED_DIRECTORY, ignore_errors=True)
