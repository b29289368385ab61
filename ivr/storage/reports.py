"""Reports' SQL: scam reports, the numbers watchlist and its status changes, and the numbers the hotline answers on."""
from ivr.storage.db import insert_row


def report_number_taken(database, report_number):
    """True when a stored report already has this report number."""
    return database.execute("SELECT 1 FROM reports WHERE report_number = ?", [report_number]).fetchone() is not None


def call_has_counted_report(database, call_sid):
    """True when a report filed during this call counts towards the watchlist."""
    return database.execute(
        "SELECT 1 FROM reports WHERE call_sid = ? AND counted = 1", [call_sid]
    ).fetchone() is not None


def insert_report(database, row):
    """Store a report (a dict of its columns) and return its id."""
    return insert_row(database, "reports", row)


def hotline_answers_on(database, number):
    """True when some call to the hotline came in on `number` (its `To` number)."""
    return database.execute("SELECT 1 FROM calls WHERE to_number = ? LIMIT 1", [number]).fetchone() is not None


def note_reported_number(database, number, at):
    """Put `number` on the watchlist as `reported` if it is not there yet, and record that it was reported at `at`."""
    database.execute(
        "INSERT INTO numbers (number, status, first_reported_at, last_reported_at) VALUES (?, 'reported', ?, ?)"
        " ON CONFLICT (number) DO UPDATE SET last_reported_at = excluded.last_reported_at",
        [number, at, at],
    )


def number_status(database, number):
    """Return a number's watchlist status, or None when it is not on the watchlist."""
    found = database.execute("SELECT status FROM numbers WHERE number = ?", [number]).fetchone()
    return found[0] if found else None


def count_counted_reporters(database, number, since):
    """Count the distinct merchants whose counted reports of `number` were filed since `since`."""
    return database.execute(
        "SELECT count(DISTINCT merchant_id) FROM reports WHERE number = ? AND counted = 1 AND created_at >= ?",
        [number, since],
    ).fetchone()[0]


def upsert_number_status(database, number, status, actor, reason, at):
    """Store a number's watchlist status, who set it, why and when, adding the number if it is not there yet."""
    database.execute(
        "INSERT INTO numbers (number, status, status_changed_at, status_changed_by, reason) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (number) DO UPDATE SET status = excluded.status, status_changed_at = excluded.status_changed_at,"
        " status_changed_by = excluded.status_changed_by, reason = excluded.reason",
        [number, status, at, actor, reason],
    )


def insert_status_change(database, number, status, actor, reason, at):
    """Add one change of a number's status to its history."""
    database.execute(
        "INSERT INTO number_status_changes (number, status, changed_by, reason, at) VALUES (?, ?, ?, ?, ?)",
        [number, status, actor, reason, at],
    )


def number_row(database, number):
    """Return a number's watchlist row as a dict, or None."""
    return next(iter(database.query("SELECT * FROM numbers WHERE number = ?", [number])), None)


def report_counts_by_category(database, number):
    """Return how many reports of `number` there are in each category, as {category: count}."""
    return {row[0]: row[1] for row in database.execute(
        "SELECT category, count(*) FROM reports WHERE number = ? GROUP BY category", [number]
    ).fetchall()}


def status_history(database, number):
    """Return a number's status changes (status, changed_by, reason, at), oldest first."""
    return list(database.query(
        "SELECT status, changed_by, reason, at FROM number_status_changes WHERE number = ? ORDER BY id", [number]
    ))


def count_counted_reports(database, number):
    """Count the reports of `number` that count towards the watchlist."""
    return database.execute("SELECT count(*) FROM reports WHERE number = ? AND counted = 1", [number]).fetchone()[0]


def report_rows(database, number=None, limit=100):
    """Return report rows, newest first, about `number` or, without one, about any number."""
    if number is not None:
        return list(database.query("SELECT * FROM reports WHERE number = ? ORDER BY id DESC LIMIT ?", [number, limit]))
    return list(database.query("SELECT * FROM reports ORDER BY id DESC LIMIT ?", [limit]))


def call_report_rows(database, call_sid):
    """Return the report rows filed during one call, oldest first."""
    return list(database.query("SELECT * FROM reports WHERE call_sid = ? ORDER BY id", [call_sid]))
