"""Reports worked as cases: the SQL of a report's status, assignee and notes."""
from ivr.storage.db import insert_row, update_row


def report(database, report_id):
    """Return one report row, or None."""
    return next(iter(database.query("SELECT * FROM reports WHERE id = ?", [report_id])), None)


def set_case(database, report_id, fields):
    """Set a report's case columns (case_status, assignee, case_changed_at)."""
    update_row(database, "reports", report_id, fields)


def add_note(database, report_id, author, at, body):
    """Append a staff note to a report and return its id."""
    return insert_row(database, "report_notes", {"report_id": report_id, "author": author, "at": at, "body": body})


def notes(database, report_id):
    """Return a report's notes, oldest first."""
    return list(database.query("SELECT * FROM report_notes WHERE report_id = ? ORDER BY id", [report_id]))
