"""Checking a staff password without handing attackers a lever: throttled before anything is checked, hashed
outside the write lock and a few at a time, and answered alike whether or not the name exists."""
import contextlib
import fcntl
import logging
import os
import secrets
import tempfile
from dataclasses import dataclass

from werkzeug.security import check_password_hash

from ivr import clock
from ivr.staff import audit, throttle, users
from ivr.storage import staff as store
from ivr.storage.connection import transaction

log = logging.getLogger(__name__)
# When every check slot is taken the attempt is turned away unchecked, to come back after this many seconds.
BUSY_WAIT = 1
# What each purpose records: the failed check's audit action, and whether a good one is a sign-in.
FAILED_ACTION = {"sign_in": "auth.sign_in_failed", "password_change": "user.password_check_failed"}


@dataclass(frozen=True)
class Outcome:
    """A checked attempt: the user when the password was right, else the seconds to wait (0: just wrong)."""

    user: dict | None
    wait: float = 0


class CheckSlots:
    """At most `count` password checks at once (0: no limit) among all workers sharing a database, by file locks."""

    # scrypt takes a worker and a CPU for about 100 ms; with a ceiling, a flood of sign-ins (from however many
    # addresses) leaves the other workers to the voice webhooks.

    def __init__(self, database_path, count):
        if database_path == ":memory:":
            database_path = os.path.join(tempfile.gettempdir(), f"hotline-{os.getpid()}")
        self.prefix, self.count = database_path, count

    @contextlib.contextmanager
    def taken(self):
        """Yield True while holding a free slot, or False at once when all are taken."""
        if self.count <= 0:
            yield True
            return
        for index in range(self.count):
            handle = os.open(f"{self.prefix}.sign-in-{index}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(handle)
                continue
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
                os.close(handle)
            return
        yield False


_dummy_hashes = {}


def prepare():
    """Make the dummy hash now, at start-up, so that the first unknown name checked is not slower than the rest."""
    _dummy_hash()


def _dummy_hash():
    """A hash of no one's password made as real ones are, so checking an unknown name costs what a real check costs."""
    make = users.hash_password  # looked up each time: the hash settings can change (tests use cheaper ones)
    if make not in _dummy_hashes:
        _dummy_hashes.clear()
        _dummy_hashes[make] = make(secrets.token_urlsafe(24))
    return _dummy_hashes[make]


def check(database, name, password, remote, slots, purpose="sign_in"):
    """Check a name and password under the throttle and return an Outcome, taking the same steps for unknown names."""
    # Order matters: the throttle is read first (no write, no hash: a throttled attempt costs almost nothing), the
    # attempt is counted in a short write transaction before the hash (so parallel guesses cannot slip past the
    # count), the hash runs with no transaction open, and a second short transaction records how it went.
    name = (name or "").strip()[:64]
    pairs = throttle.keys_of(name, remote)
    wait = throttle.wait_needed(database, pairs, clock.now())
    if wait:
        log.info("sign-in for %r from %s not checked: %d s to wait", name, remote, wait)
        return Outcome(None, wait)
    with slots.taken() as free:
        if not free:
            log.info("sign-in for %r from %s not checked: every check slot is busy", name, remote)
            return Outcome(None, BUSY_WAIT)
        with transaction(database):
            now = clock.now()
            wait = throttle.wait_needed(database, pairs, now)
            if not wait:
                throttle.count(database, pairs, now)
        if wait:
            return Outcome(None, wait)
        user = users.get_user(database, name) if name else None
        right = check_password_hash(user["password_hash"] if user else _dummy_hash(), password or "")
    usable = right and user is not None and not user["disabled"] and not users.temporary_password_expired(user)
    with transaction(database):
        if not usable:
            audit.record(database, None, FAILED_ACTION[purpose], name, {"remote": remote})
        else:
            throttle.succeeded(database, name, remote)
            if purpose == "sign_in":
                store.note_sign_in(database, user["id"], clock.stamp())
                audit.record(database, name, "auth.sign_in", name, {"remote": remote})
    if not usable:
        log.warning("failed %s for %r from %s", purpose.replace("_", " "), name, remote)
        return Outcome(None)
    return Outcome(users.get_user(database, name))
