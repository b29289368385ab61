"""Staff accounts: creation, roles, scrypt password hashes and sign-in with throttling."""
import logging
from dataclasses import dataclass
from datetime import timedelta

from werkzeug.security import check_password_hash, generate_password_hash

from ivr import clock
from ivr.errors import Conflict, InvalidInput, NotFound
from ivr.staff import audit
from ivr.storage import staff as store

log = logging.getLogger(__name__)
ROLES = ("agent", "admin")
MIN_PASSWORD = 10
# After FREE_FAILURES wrong passwords in a row, each further try must wait, doubling up to MAX_WAIT.
FREE_FAILURES = 4
FIRST_WAIT = timedelta(seconds=15)
MAX_WAIT = timedelta(minutes=15)
# Checked against when the name is unknown, so a wrong name costs the same time as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in: the user when it worked, else how long to wait (0: just wrong)."""

    user: dict | None
    wait: float = 0


def hash_password(password):
    """Return a salted scrypt hash of a password."""
    return generate_password_hash(password, method="scrypt")


def _check_name(name):
    name = (name or "").strip()
    if not name or len(name) > 64 or not all(ch.isalnum() or ch in "._-@" for ch in name):
        raise InvalidInput("a user name is 1-64 letters, digits, '.', '_', '-' or '@'", field="name")
    return name


def _check_password(password):
    if len(password or "") < MIN_PASSWORD:
        raise InvalidInput(f"a password needs at least {MIN_PASSWORD} characters", field="password")
    return password


def create_user(database, name, role, password, actor=None):
    """Create a staff account and return its row; the name must be new."""
    name = _check_name(name)
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")
    _check_password(password)
    if get_user(database, name) is not None:
        raise Conflict(f"user {name!r} already exists")
    store.add_user(database, name, role, hash_password(password), clock.stamp())
    audit.record(database, actor or "cli", "user.create", name, {"role": role})
    return get_user(database, name)


def get_user(database, name):
    """Return the user row named `name`, or None."""
    return store.find_user(database, name)


def list_users(database):
    """Return every staff account, by name."""
    return store.all_users(database)


def update_user(database, name, actor, role=None, disabled=None, password=None, clear_wait=False):
    """Change a user's role, disabled flag or password, or lift a sign-in slow-down, recording who did it."""
    user = get_user(database, name)
    if user is None:
        raise NotFound(f"no user {name!r}")
    fields, detail = {}, {}
    if role is not None:
        if role not in ROLES:
            raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")
        fields["role"] = detail["role"] = role
    if disabled is not None:
        fields["disabled"] = detail["disabled"] = int(bool(disabled))
    if password is not None:
        fields["password_hash"] = hash_password(_check_password(password))
        fields["failed_logins"] = 0
        detail["password"] = "changed"
    if clear_wait:
        fields.update(failed_logins=0, last_failed_at=None)
        detail["sign_in_wait"] = "cleared"
    if fields:
        store.change_user(database, user["id"], fields)
        audit.record(database, actor, "user.update", name, detail)
    return get_user(database, name)


def wait_needed(user, now=None):
    """Return how many seconds this account must wait before another try (0 when it may try now)."""
    over = user["failed_logins"] - FREE_FAILURES
    if over < 0 or not user["last_failed_at"]:
        return 0
    wait = min(FIRST_WAIT * (2 ** min(over, 16)), MAX_WAIT)
    left = clock.parse(user["last_failed_at"]) + wait - (now or clock.now())
    return max(0, left.total_seconds())


def authenticate(database, name, password, remote=None):
    """Check a name and password; the SignIn holds the user, or the wait left after too many failures."""
    name = (name or "").strip()[:64]
    user = get_user(database, name) if name else None
    if user is not None:
        wait = wait_needed(user)
        if wait > 0:
            audit.record(database, None, "auth.sign_in_throttled", name, {"remote": remote, "wait": int(wait)})
            log.warning("sign-in throttled for %r from %s (%d s left)", name, remote, wait)
            return SignIn(None, wait)
    good = check_password_hash(user["password_hash"] if user else _DUMMY_HASH, password or "")
    if user is None or not good or user["disabled"]:
        if user is not None:
            store.count_failed_sign_in(database, user["id"], clock.stamp())
        audit.record(database, None, "auth.sign_in_failed", name, {"remote": remote})
        log.warning("failed sign-in for %r from %s", name, remote)
        return SignIn(None)
    store.clear_failed_sign_ins(database, user["id"])
    audit.record(database, name, "auth.sign_in", name, {"remote": remote})
    return SignIn(get_user(database, name))
