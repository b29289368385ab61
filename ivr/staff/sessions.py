"""Staff sessions kept on the server: the browser holds a random id, the database only its SHA-256."""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from ivr import clock
from ivr.storage import sessions as store
from ivr.storage.connection import transaction

# last_seen_at is written at most this often, so browsing costs the database about one write a minute per person.
TOUCH_EVERY = timedelta(minutes=1)
# Ended sessions are kept this long for whoever investigates, then deleted at a later sign-in.
KEEP_ENDED = timedelta(days=30)
MAX_TOKEN = 128


@dataclass(frozen=True)
class Timeouts:
    """A session ends after `idle` without a request, and `absolute` after it started, whichever comes first."""

    idle: timedelta
    absolute: timedelta


def token_hash(token):
    """The SHA-256 (hex) under which a session id is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def start(database, user, timeouts, remote=None):
    """Open a session for `user`; return its random id, which only the cookie carries."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    with transaction(database):
        store.forget_sessions(database, clock.stamp(now - KEEP_ENDED))
        store.add_session(database, token_hash(token), user["id"], clock.stamp(now), clock.stamp(now + timeouts.absolute),
                          remote)
    return token


def resume(database, token, timeouts):
    """Return the open session whose id is `token`, or None when it is unknown, revoked, idle or too old."""
    if not token or len(token) > MAX_TOKEN:
        return None
    found = store.find_session(database, token_hash(token))
    if found is None or found["revoked_at"]:
        return None
    now = clock.now()
    last_seen = clock.parse(found["last_seen_at"])
    if clock.parse(found["expires_at"]) <= now or last_seen + timeouts.idle <= now:
        return None
    if now - last_seen >= TOUCH_EVERY:
        with transaction(database):
            store.touch_session(database, found["id"], clock.stamp(now))
    return found


def end(database, session_id, reason):
    """End one session (sign-out): its id never works again."""
    with transaction(database):
        store.revoke_session(database, session_id, clock.stamp(), reason)


def end_all(database, user_id, reason):
    """End every open session of a user (in the caller's transaction, if any); return how many there were."""
    with transaction(database):
        return store.revoke_user_sessions(database, user_id, clock.stamp(), reason)
