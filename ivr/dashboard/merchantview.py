"""What the merchant pages and the outreach list show: merchants found, a merchant's detail, locks in force."""
from ivr import clock
from ivr.errors import NotFound
from ivr.storage import merchantview as store
from ivr.verification import merchants, outreach

PAGE = 50


def search(database, q, limit=PAGE):
    """Return merchants whose number starts with `q` or whose name contains it (newest first when q is empty)."""
    if not q:
        return store.newest_merchants(database, limit)
    return store.merchants_matching(database, "".join(ch for ch in q if ch.isdigit()), q, limit)


MERCHANT_SCOPES = ("merchant_strangers", "merchant_registered")


def detail(database, merchant_id, lock_attempts=5, lock_hours=24, limit=PAGE):
    """Return a merchant with phones, both lock counters, outreach history, recent calls and reports; raise NotFound."""
    merchant = merchants.get_merchant(database, merchant_id)
    merchant_id = merchant["id"]
    calls = store.merchant_calls(database, merchant_id, limit)
    found_reports = store.merchant_reports(database, merchant_id, limit)
    counters = merchant_counters(database, merchant_id, lock_attempts, lock_hours)
    return {
        "merchant": merchant,
        "counters": counters,
        "lock_hours": lock_hours,
        "locked": any(counter["locked"] for counter in counters),
        "failed_codes": sum(counter["failures"] for counter in counters),
        "outreach_rows": outreach.for_merchant(database, merchant_id, limit),
        "calls": calls,
        "reports": found_reports,
    }


def merchant_counters(database, merchant_id, lock_attempts=5, lock_hours=24):
    """Return a merchant's two lock counters (callers not on file, its registered phones): failures, locked, until."""
    in_force = {lock["scope"]: lock for lock in merchants.active_locks(database, lock_attempts, lock_hours,
                                                                        merchant_id=merchant_id)}
    counters = []
    for scope in MERCHANT_SCOPES:
        lock = in_force.get(scope)
        counters.append({
            "scope": scope, "key": merchant_id, "locked": lock is not None,
            "failures": lock["failures"] if lock else merchants.failed_attempts(database, scope, merchant_id, lock_hours),
            "until": lock["until"] if lock else None,
        })
    return counters


def locks_in_force(database, lock_attempts=5, lock_hours=24, number=None):
    """Every lock in force, newest first, with the merchant's name, and for a calling number's lock a reference
    (`attempt:<id>` of its newest counted wrong code) that lifts it without the page carrying the number."""
    locks = merchants.active_locks(database, lock_attempts, lock_hours, number=number)
    ids = sorted({lock["merchant_id"] for lock in locks if lock["merchant_id"]})
    names = store.merchant_names(database, ids)
    for lock in locks:
        lock["merchant_name"] = names.get(lock["merchant_id"])
        lock["ref"] = lock["key"]
        if lock["scope"] == "number":
            newest = store.newest_wrong_code(database, lock["number"])
            lock["attempt_id"] = newest
            lock["ref"] = f"attempt:{newest}"
    return locks


def lock_key(database, scope, key):
    """Return the key lift_lock needs for a lift form's (scope, key): an `attempt:<id>` reference becomes the
    calling number of that wrong code; raise NotFound when there is no such attempt."""
    if scope == "number" and key.startswith("attempt:"):
        reference = key.partition(":")[2]
        number = store.attempt_number(database, int(reference) if reference.isdigit() and len(reference) <= 18 else -1)
        if not number:
            raise NotFound("no such lock")
        return number
    return key


def list_outreach(database, state="", merchant_id="", before=None, limit=PAGE):
    """Return (outreach newest first without codes, each with its state, has_more)."""
    now = clock.stamp()
    before_id = (int(before) if str(before).isdigit() else 0) if before else None
    rows = []
    for row in store.outreach_page(database, state, merchant_id, before_id, now, limit + 1):
        row["state"] = "expired" if row["status"] == "open" and row["expires_at"] <= now else row["status"]
        rows.append(outreach.public(row))
    return rows[:limit], len(rows) > limit
