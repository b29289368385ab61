"""Numbers a staff member chose to see in full: kept on the server per session, for a few minutes, each view audited."""
from datetime import timedelta

from ivr import clock
from ivr.phone import mask
from ivr.staff import audit
from ivr.storage import sessions as store
from ivr.storage.connection import transaction


def reveal(database, session_id, actor, record, numbers, minutes):
    """Show `numbers` (of the record "kind:ref") in full in one session for `minutes`, and audit the reveal."""
    now = clock.now()
    with transaction(database):
        store.forget_reveals(database, clock.stamp(now))
        store.add_reveals(database, session_id, record, numbers, clock.stamp(now),
                          clock.stamp(now + timedelta(minutes=minutes)))
        audit.record(database, actor, "number.reveal", record, {"numbers": [mask(number) for number in numbers],
                                                                "minutes": minutes})


def revealed(database, session_id):
    """Return {number: record} of the numbers shown in full in a session right now."""
    return store.revealed_numbers(database, session_id, clock.stamp())


def record_views(database, actor, shown, page):
    """Audit that numbers were shown in full on `page`: one row per {number: record}, the number masked."""
    with transaction(database):
        for number, record in sorted(shown.items()):
            audit.record(database, actor, "number.view", record, {"number": mask(number), "page": page})
