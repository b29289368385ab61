"""Prometheus metrics at /metrics: webhooks by route and outcome, their latency, verdicts, apologies, database
errors and open connections; under gunicorn, summed over its workers (multiprocess mode, ivr/ops/gunicorn.py)."""
import hmac
import ipaddress
import os
import sqlite3
import threading
import time

import psycopg
import sqlalchemy
from flask import Blueprint, abort, current_app, g, request
from flask.signals import appcontext_tearing_down, got_request_exception
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from ivr.storage import db, postgres
from ivr.vocabulary import VERDICTS
from ivr.voice import webhooks

bp = Blueprint("ops", __name__)

# Every label value comes from these fixed lists, never from a call: no number or CallSid can reach /metrics.
ROUTES = {"voice.incoming": "incoming", "voice.step": "step", "voice.status": "status", "voice.fallback": "fallback"}
# error: answering failed (the database, a bug); fallback: Twilio called the fallback URL; invalid: a request
# without a usable CallSid, or an HTTP error inside /voice/.
APOLOGY_REASONS = ("error", "fallback", "invalid")
# Webhooks take milliseconds; Twilio gives up on one after 15 s.
LATENCY_BUCKETS = (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)
# The driver's errors, and a call that other deliveries kept changing (ivr/voice/webhooks.py gives up after 3 tries).
DATABASE_ERRORS = (sqlite3.Error, psycopg.Error, sqlalchemy.exc.SQLAlchemyError, db.StaleCall)
# A reverse proxy on this host would make every visitor's peer loopback; proxies say they forwarded in these.
FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")
MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"

def is_database_error(error):
    """Whether `error`, or an error it was raised from or while handling, is a database error."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, DATABASE_ERRORS):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False

def is_open(database):
    """Whether a connection from ivr/storage is still open: sqlite3 has no flag, but refuses any use of a closed one."""
    try:
        return database.conn.in_transaction is not None
    except sqlite3.ProgrammingError:
        return False

class Metrics:
    """One app's metrics, in a registry of its own so that apps made in one process (tests) count apart."""

    def __init__(self, directory=None):
        self.directory = directory
        self.registry = registry = CollectorRegistry()
        self.webhooks = Counter("ivr_webhooks", "Voice webhooks answered, by route and outcome.",
                                ["route", "outcome"], registry=registry)
        self.latency = Histogram("ivr_webhook_duration_seconds", "Seconds taken to answer a voice webhook, by route.",
                                 ["route"], buckets=LATENCY_BUCKETS, registry=registry)
        self.verdicts = Counter("ivr_verdicts", "Verdicts reached on calls.", ["verdict"], registry=registry)
        self.apologies = Counter("ivr_apologies", "Apologies spoken instead of an answer, by reason.", ["reason"],
                                 registry=registry)
        self.database_errors = Counter("ivr_database_errors", "Requests that failed on a database error.",
                                       registry=registry)
        # One series per live worker (a pid label); sum() them for the host.
        self.connections = Gauge("ivr_database_connections", "Worker threads of this process keeping a database connection open (with its read-only companion).",
                                 multiprocess_mode="liveall", registry=registry)
        # Every series exists from the start, at 0, so that rates and alerts work before the first event. Kept by
        # label: labels() checks and locks on every call, which cost more than a webhook's other counting.
        self.by_route = {route: self.latency.labels(route) for route in ROUTES.values()}
        self.by_outcome = {(route, outcome): self.webhooks.labels(route, outcome)
                           for route in ROUTES.values() for outcome in webhooks.OUTCOMES}
        self.by_verdict = {verdict: self.verdicts.labels(verdict) for verdict in VERDICTS}
        self.by_reason = {reason: self.apologies.labels(reason) for reason in APOLOGY_REASONS}
        self.connections.set(0)
        self.pool = Gauge("ivr_database_pool_connections", "PostgreSQL connections in this process's pool, in use or idle.",
                          ["state"], multiprocess_mode="liveall", registry=registry)
        self.by_pool_state = {state: self.pool.labels(state) for state in ("in_use", "idle")}
        self.open_connections = {}  # worker thread -> its connection, while it is open
        self.open_count = 0
        self.lock = threading.Lock()

    def count_webhook(self, response):
        """After a voice webhook: its latency, outcome, verdict, apology and database error (an after_request hook)."""
        route = ROUTES.get(request.endpoint)
        if route is None:
            return response
        started = g.pop("webhook_started", None)
        if started is not None:
            self.by_route[route].observe(time.perf_counter() - started)
        outcome = g.get("webhook_outcome")
        if outcome is None:
            return response  # it failed before it could answer: Twilio's fallback URL counts the apology
        self.by_outcome[route, outcome.kind].inc()
        if outcome.verdict in self.by_verdict:
            self.by_verdict[outcome.verdict].inc()
        if outcome.kind == webhooks.APOLOGY:
            reason = "fallback" if route == "fallback" else "error" if outcome.error is not None else "invalid"
            self.by_reason[reason].inc()
        if outcome.error is not None and is_database_error(outcome.error):
            self.database_errors.inc()
        return response

    def count_failure(self, sender, exception, **extra):
        """Count a database error that failed any other request (got_request_exception)."""
        if is_database_error(exception):
            self.database_errors.inc()

    def note_connection(self, exception=None):
        """Note the connection this request used, if any, as its thread's (a teardown_request hook)."""
        # Runs before ivr/database.py's close_db (an app context teardown), which may close it if the request failed.
        used = g.get("db")
        if used is not None and not postgres.is_postgresql(used):
            with self.lock:
                self.open_connections[threading.get_ident()] = used

    def count_connections(self, sender, **extra):
        """Count this worker's open connections once the request's was handed back (appcontext_tearing_down)."""
        # Sent after every teardown_appcontext function, so after close_db whatever the order they were added in.
        if sender.config.get("DATABASE_URL"):
            for state, count in postgres.pool_use().items():
                self.by_pool_state[state].set(count)
            return
        if not self.open_connections:
            return
        with self.lock:
            # A connection found broken is closed and not replaced until its thread's next request needs one.
            self.open_connections = {thread: kept for thread, kept in self.open_connections.items() if is_open(kept)}
            if len(self.open_connections) != self.open_count:
                self.open_count = len(self.open_connections)
                self.connections.set(self.open_count)

    def exposition(self):
        """The metrics in Prometheus' text format; in multiprocess mode, those of every worker, summed."""
        if not self.directory:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=self.directory)
        return generate_latest(registry)

def _start_timer():
    if request.endpoint in ROUTES:
        g.webhook_started = time.perf_counter()

def _bearer_matches(token):
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    # As bytes: compare_digest refuses str with non-ASCII characters, which a header may carry.
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())

def _from_this_host():
    """Whether the request came straight from this host: a loopback peer, and no proxy's forwarding headers."""
    if any(name in request.headers for name in FORWARDING_HEADERS):
        return False
    try:
        peer = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False  # a unix socket, or no peer at all
    if peer.version == 6 and peer.ipv4_mapped:
        peer = peer.ipv4_mapped
    return peer.is_loopback

@bp.get("/metrics")
def scrape():
    """The metrics in Prometheus' text format: with IVR_METRICS_TOKEN as a bearer token, else only from this host."""
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        if not _bearer_matches(token):
            return ("Unauthorized: /metrics needs the header Authorization: Bearer <IVR_METRICS_TOKEN>.\n", 401,
                    {"WWW-Authenticate": 'Bearer realm="metrics"', "Content-Type": "text/plain"})
    elif not _from_this_host():
        abort(404)  # as for any unknown URL: nothing says there are metrics to guess a token for
    metrics = current_app.extensions["ivr_metrics"]
    return metrics.exposition(), 200, {"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"}

def init_app(app):
    """Count the voice webhooks and serve /metrics, across gunicorn's workers when PROMETHEUS_MULTIPROC_DIR is set."""
    # No *_created series: gunicorn's workers cannot sum them, so one process leaves them out too.
    disable_created_metrics()
    metrics = app.extensions["ivr_metrics"] = Metrics(os.environ.get(MULTIPROCESS_DIRECTORY))
    app.register_blueprint(bp)
    app.before_request(_start_timer)
    app.after_request(metrics.count_webhook)
    app.teardown_request(metrics.note_connection)
    # Held weakly by the signals, and alive as long as the app's extensions hold `metrics`.
    got_request_exception.connect(metrics.count_failure, app)
    appcontext_tearing_down.connect(metrics.count_connections, app)
