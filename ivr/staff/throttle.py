"""How sign-in attempts are slowed down: a few free failures per typed name and per source address, then waits
that double up to a ceiling, so guessing is slow and a wrong password never shuts anyone out for long."""
import ipaddress
from dataclasses import dataclass
from datetime import timedelta

from ivr import clock
from ivr.storage import staff as store


@dataclass(frozen=True)
class Policy:
    """Failures in a row allowed without a wait, then a wait starting at `first` and doubling up to `longest`."""

    free: int
    first: timedelta
    longest: timedelta


# Per typed name, from anywhere: short enough that an attacker keeping it busy costs its owner a minute at most.
ACCOUNT = Policy(free=5, first=timedelta(seconds=2), longest=timedelta(minutes=1))
# Per source address: room for an office behind one address, then long waits for whoever keeps guessing.
ADDRESS = Policy(free=20, first=timedelta(seconds=2), longest=timedelta(minutes=15))
# A key with no attempt for this long starts again from nothing.
FORGET_AFTER = timedelta(hours=1)


def account_key(name):
    """The throttle key of a typed name, whether or not such a user exists."""
    return "account:" + (name or "").strip()[:64].casefold()


def address_key(remote):
    """The throttle key of a source address; IPv6 by its /64, which one machine usually has whole."""
    try:
        address = ipaddress.ip_address(remote or "")
    except ValueError:
        return "address:" + str(remote or "unknown")[:64]
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return "address:" + str(address.ipv4_mapped)
        return "address:" + str(ipaddress.ip_network(f"{address}/64", strict=False))
    return "address:" + str(address)


def keys_of(name, remote):
    """The (key, policy) pairs one sign-in attempt is counted under."""
    return [(account_key(name), ACCOUNT), (address_key(remote), ADDRESS)]


def wait_for(row, policy, now):
    """Seconds one key must still wait at `now`, given its stored counter (None: nothing counted)."""
    if row is None:
        return 0.0
    last = clock.parse(row["last_failed_at"])
    over = row["failures"] - policy.free
    if over < 0 or now - last >= FORGET_AFTER:
        return 0.0
    wait = min(policy.first * (2 ** min(over, 20)), policy.longest)
    return max(0.0, (last + wait - now).total_seconds())


def wait_needed(database, pairs, now):
    """Seconds before an attempt under these (key, policy) pairs may be checked (0: it may be now)."""
    rows = store.throttle_rows(database, [key for key, _ in pairs])
    return max((wait_for(rows.get(key), policy, now) for key, policy in pairs), default=0.0)


def count(database, pairs, now):
    """Count an attempt against every key (in the caller's write transaction), before its password is checked."""
    forgotten = clock.stamp(now - FORGET_AFTER)
    store.forget_throttle(database, forgotten)
    store.count_attempt(database, [key for key, _ in pairs], clock.stamp(now), forgotten)


def succeeded(database, name, remote):
    """After a right password: the name starts afresh, and the address gets back the attempt it was charged."""
    store.clear_throttle(database, account_key(name))
    store.uncount_attempt(database, address_key(remote))


def failures(database, names, now):
    """Return {name: failed sign-ins in a row still counted} for staff names, for the users page."""
    keys = {account_key(name): name for name in names}
    found = {}
    for key, row in store.throttle_rows(database, keys).items():
        if now - clock.parse(row["last_failed_at"]) < FORGET_AFTER:
            found[keys[key]] = row["failures"]
    return found


def lift(database, name):
    """Forget the failures counted against a name (an admin's reset, or `flask users set`)."""
    store.clear_throttle(database, account_key(name))
