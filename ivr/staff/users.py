"""Staff accounts: creation, roles, scrypt password hashes, password changes and resets."""
import logging
import secrets
from datetime import timedelta

from werkzeug.security import generate_password_hash

from ivr import clock
from ivr.errors import Conflict, InvalidInput, NotFound
from ivr.staff import audit, sessions, throttle
from ivr.storage import staff as store
from ivr.storage.connection import transaction

log = logging.getLogger(__name__)
ROLES = ("agent", "admin")
MIN_PASSWORD = 10
# A temporary password (an admin's reset) signs in only this long, and only to choose a new password.
TEMPORARY_PASSWORD_LIFETIME = timedelta(hours=24)
# Without 0/O, 1/l/I, so a temporary password read aloud or off a screen is typed right the first time.
TEMPORARY_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
PASSWORD_TOO_SHORT = f"a password needs at least {MIN_PASSWORD} characters"


def hash_password(password):
    """Return a salted scrypt hash of a password."""
    return generate_password_hash(password, method="scrypt")


def _check_name(name):
    name = (name or "").strip()
    if not name or len(name) > 64 or not all(ch.isalnum() or ch in "._-@" for ch in name):
        raise InvalidInput("a user name is 1-64 letters, digits, '.', '_', '-' or '@'", field="name")
    return name


def check_password_rules(password):
    """Raise InvalidInput unless `password` is long enough to be a staff password."""
    if len(password or "") < MIN_PASSWORD:
        raise InvalidInput(PASSWORD_TOO_SHORT, field="password")
    return password


def create_user(database, name, role, password, actor=None):
    """Create a staff account and return its row; the name must be new."""
    name = _check_name(name)
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")
    # Hashed before the write transaction: scrypt takes about 100 ms, and webhooks wait for the write lock.
    password_hash = hash_password(check_password_rules(password))
    with transaction(database):
        if get_user(database, name) is not None:
            raise Conflict(f"user {name!r} already exists")
        store.add_user(database, name, role, password_hash, clock.stamp())
        audit.record(database, actor or "cli", "user.create", name, {"role": role})
    return get_user(database, name)


def get_user(database, name):
    """Return the user row named `name`, or None."""
    return store.find_user(database, name)


def get_user_by_id(database, user_id):
    """Return the user row with id `user_id`, or None."""
    return store.find_user_by_id(database, user_id)


def list_users(database, limit=None, offset=0):
    """Return the staff accounts by name (`limit` of them from `offset`; None: every one), each with its failed
    sign-ins still counted by the throttle."""
    rows = store.all_users(database, limit, offset)
    counted = throttle.failures(database, [row["name"] for row in rows], clock.now())
    for row in rows:
        row["failed_logins"] = counted.get(row["name"], 0)
    return rows


def user_names(database, enabled_only=False):
    """Return the staff accounts' names in order (only those not disabled, with `enabled_only`)."""
    return store.user_names(database, enabled_only)


def count_users(database):
    """Return how many staff accounts there are."""
    return store.count_users(database)


def update_user(database, name, actor, role=None, disabled=None, password=None, clear_wait=False):
    """Change a user's role, disabled flag or password (the last two end its sessions), or lift its sign-in wait."""
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
        fields["password_hash"] = hash_password(check_password_rules(password))
        fields["password_changed_at"] = clock.stamp()
        fields["password_temporary_until"] = None
        detail["password"] = "changed"
    with transaction(database):
        if fields:
            store.change_user(database, user["id"], fields)
        if clear_wait:
            throttle.lift(database, name)
            detail["sign_in_wait"] = "cleared"
        if fields.get("disabled") or password is not None:
            detail["sessions_ended"] = sessions.end_all(database, user["id"], "disabled" if fields.get("disabled")
                                                        else "password set")
        if detail:
            audit.record(database, actor, "user.update", name, detail)
    return get_user(database, name)


def change_own_password(database, user, new_password):
    """Set a user's new password (the current one already checked) and end all of its sessions."""
    # The caller then starts a fresh session for the browser that made the change: only that one stays signed in.
    password_hash = hash_password(check_password_rules(new_password))
    with transaction(database):
        store.change_user(database, user["id"], {
            "password_hash": password_hash, "password_changed_at": clock.stamp(), "password_temporary_until": None,
        })
        ended = sessions.end_all(database, user["id"], "password changed")
        audit.record(database, user["name"], "user.password_change", user["name"], {"sessions_ended": ended})
    return get_user(database, user["name"])


def temporary_password():
    """Return a new random temporary password: 16 unambiguous characters in groups of four (about 93 bits)."""
    characters = "".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(16))
    return "-".join(characters[start:start + 4] for start in range(0, 16, 4))


def reset_password(database, name, actor):
    """Give a user a temporary password (good only to choose a new one), end its sessions; return the password."""
    # The password is shown once to the admin and stored only as a hash; it signs in only within
    # TEMPORARY_PASSWORD_LIFETIME, and the guard sends its user to the password page until a new one is chosen.
    user = get_user(database, name)
    if user is None:
        raise NotFound(f"no user {name!r}")
    password = temporary_password()
    password_hash = hash_password(password)
    now = clock.now()
    with transaction(database):
        store.change_user(database, user["id"], {
            "password_hash": password_hash, "password_changed_at": clock.stamp(now),
            "password_temporary_until": clock.stamp(now + TEMPORARY_PASSWORD_LIFETIME),
        })
        throttle.lift(database, name)
        ended = sessions.end_all(database, user["id"], "password reset")
        audit.record(database, actor, "user.password_reset", name, {"sessions_ended": ended})
    log.info("password of %r reset by %r", name, actor)
    return password


def password_is_temporary(user):
    """True when a user signed in with an admin's temporary password and must choose a new one."""
    return bool(user and user.get("password_temporary_until"))


def temporary_password_expired(user, now=None):
    """True when a user's temporary password is past its lifetime and no longer signs in."""
    until = user.get("password_temporary_until")
    return bool(until) and clock.parse(until) <= (now or clock.now())
