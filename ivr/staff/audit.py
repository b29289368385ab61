"""The audit log: who did what to which record, and when."""
import json

from ivr import clock
from ivr.storage import staff as store

PAGE = 100


def record(database, user, action, target=None, detail=None):
    """Append one audit row (sign-in, reveal, status change, ...)."""
    store.add_audit_row(
        database,
        clock.stamp(),
        user,
        action,
        None if target is None else str(target),
        None if detail is None else json.dumps(detail, ensure_ascii=False, sort_keys=True),
    )


def entries(database, user=None, action=None, target=None, before=None, limit=PAGE):
    """Return audit rows newest first, filtered by user, action or target, older than id `before`."""
    rows = store.audit_rows(database, user, action, target, int(before) if before else None, limit)
    for row in rows:
        try:
            row["detail_data"] = json.loads(row["detail"]) if row["detail"] else {}
        except ValueError:
            row["detail_data"] = {"text": row["detail"]}
    return rows


def actions(database):
    """Return the distinct action names seen in the log, for the filter menu."""
    return store.audit_actions(database)
