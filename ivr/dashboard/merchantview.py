"""What the merchant pages and the outreach list show: merchants found a page at a time, a merchant's detail, locks
in force."""
import math
from dataclasses import dataclass, field

from ivr import clock
from ivr.dashboard import paging
from ivr.errors import InvalidInput, NotFound
from ivr.phone import to_e164
from ivr.storage import merchantview as store
from ivr.verification import merchants, outreach

PAGE = 50
SORTS = tuple(store.MERCHANT_ORDERS)


@dataclass
class MerchantList:
    """One page of the merchants list: its rows, how many merchants match in all, and where it is."""

    rows: list
    total: int
    page: int
    pages: int
    errors: list = field(default_factory=list)


def search(database, q="", sort="number", page=1, limit=PAGE):
    """Return a MerchantList of the merchants whose number or registered phone contains `q`'s digits, whose name
    contains `q`, or whose phone is `q` (every merchant when `q` is empty), sorted by an allow-listed key."""
    if sort not in SORTS:
        raise InvalidInput(f"sort: unknown value {sort[:20]!r}", field="sort")
    match = _match(q)
    total = store.count_merchants(database, match)
    pages = max(math.ceil(total / limit), 1)
    page = min(max(page, 1), pages)
    rows = store.merchants_page(database, match, sort, limit, (page - 1) * limit)
    for row in rows:
        row["phone_list"] = (row.pop("phones") or "").split(",") if row.get("phones") else []
    return MerchantList(rows, total, page, pages)


def matching_ids(database, q, limit):
    """Return the numbers of at most `limit` merchants that the merchants list's search `q` finds, in number order."""
    return [row["id"] for row in store.merchants_page(database, _match(q), "number", limit, 0)]


def _match(q):
    digits = "".join(ch for ch in q if ch.isdigit())
    return store.MerchantMatch(digits=digits, text=q, phone=(to_e164(q) or "") if digits else "")


MERCHANT_SCOPES = ("merchant_strangers", "merchant_registered")


def detail(database, merchant_id, lock_attempts=5, lock_hours=24, limit=PAGE, calls_before=None):
    """Return a merchant with phones, both lock counters, outreach history, a page of its calls (older than the
    cursor `calls_before`) and reports; raise NotFound, or InvalidInput for a cursor that is not ours."""
    merchant = merchants.get_merchant(database, merchant_id)
    merchant_id = merchant["id"]
    cursor = paging.read_call_cursor(calls_before, "calls_before") if calls_before else None
    calls = store.merchant_calls(database, merchant_id, limit + 1, before=cursor)
    older_calls = paging.call_cursor(calls[limit - 1]) if len(calls) > limit else None
    calls = calls[:limit]
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
        "calls_total": store.count_merchant_calls(database, merchant_id),
        "older_calls": older_calls,
        "calls_paged": calls_before is not None,
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


def list_outreach(database, state="", merchant_id="", before=None, after=None, limit=PAGE):
    """Return (outreach newest first without codes, each with its state, has_older, has_newer) for one page: made
    before the outreach id `before`, after `after`, or the newest; raise InvalidInput for a cursor not ours."""
    now = clock.stamp()
    if after:
        found = store.outreach_page(database, state, merchant_id, now, limit + 1, after_id=paging.id_cursor(after, "after"))
    else:
        found = store.outreach_page(database, state, merchant_id, now, limit + 1,
                                    before_id=paging.id_cursor(before, "before") if before else None)
    found, has_older, has_newer = paging.keyset_page(found, limit, bool(after), False, bool(before or after))
    rows = []
    for row in found:
        row["state"] = "expired" if row["status"] == "open" and row["expires_at"] <= now else row["status"]
        rows.append(outreach.public(row))
    return rows, has_older, has_newer
