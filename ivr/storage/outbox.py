"""SMS notes and staff alerts waiting to leave, and what became of them."""
import json

# A note or alert that failed is tried again this many times in all, by `flask sms send` / `flask alerts send`.
MAX_ATTEMPTS = 5


def queue_note(database, call_sid, note, to_number, language, body, status, at):
    """Store an SMS note once per call and kind of note; return its id, or None if the call already has one."""
    cursor = database.execute(
        "INSERT INTO sms_notes (call_sid, note, to_number, language, body, status, attempts, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT (call_sid, note) DO NOTHING RETURNING id",
        [call_sid, note, to_number, language, body, status, at, at],
    )
    # Read to the end: only then is the INSERT finished. No row: the call already had this note.
    added = cursor.fetchall()
    return added[0][0] if added else None


def notes_to_since(database, to_number, since):
    """Count the notes to `to_number` since `since` that were or will be sent."""
    return database.execute(
        "SELECT count(*) FROM sms_notes WHERE to_number = ? AND created_at >= ? AND status NOT IN ('limited', 'refused')",
        [to_number, since],
    ).fetchone()[0]


# Due: queued; failed with tries left; or claimed by a sender that died before it could say what happened.
_DUE = "(status = 'queued' OR (status = 'failed' AND attempts < :tries) OR (status = 'sending' AND updated_at < :stuck))"


def notes_due(database, stuck_before, limit=50, call_sid=None):
    """Return the notes to send now, oldest first (a note claimed before `stuck_before` and never settled counts)."""
    mine = "call_sid = :call AND " if call_sid else ""
    return list(database.query(f"SELECT * FROM sms_notes WHERE {mine}{_DUE} ORDER BY id LIMIT :limit",
                               {"tries": MAX_ATTEMPTS, "stuck": stuck_before, "limit": limit, "call": call_sid}))


def claim_note(database, note_id, stuck_before, at):
    """Mark a due note as being sent; return False if another sender claimed it first."""
    cursor = database.execute(
        f"UPDATE sms_notes SET status = 'sending', attempts = attempts + 1, updated_at = :at WHERE id = :id AND {_DUE}",
        {"tries": MAX_ATTEMPTS, "stuck": stuck_before, "at": at, "id": note_id},
    )
    return cursor.rowcount == 1


def note_result(database, note_id, status, at, message_sid=None, error=None):
    """Record what sending a note gave: sent with Twilio's MessageSid, or failed with the reason."""
    database.execute(
        "UPDATE sms_notes SET status = ?, message_sid = coalesce(?, message_sid), error = ?, updated_at = ?"
        " WHERE id = ?",
        [status, message_sid, error, at, note_id],
    )


def delivery_status(database, message_sid, status, error, at):
    """Record Twilio's delivery status for a sent note; return False when no note has that MessageSid."""
    cursor = database.execute(
        "UPDATE sms_notes SET status = ?, error = coalesce(?, error), updated_at = ? WHERE message_sid = ?",
        [status, error, at, message_sid],
    )
    return cursor.rowcount > 0


def notes_for_call(database, call_sid):
    """Return a call's SMS notes, oldest first."""
    return list(database.query("SELECT * FROM sms_notes WHERE call_sid = ? ORDER BY id", [call_sid]))


def queue_alert(database, kind, subject, detail, at):
    """Store an alert of `kind` about `subject` (a number, a merchant, an hour) and return its id."""
    cursor = database.execute(
        "INSERT INTO alerts (kind, subject, detail, status, attempts, created_at) VALUES (?, ?, ?, 'queued', 0, ?)"
        " RETURNING id",
        [kind, subject, json.dumps(detail, ensure_ascii=False), at],
    )
    return cursor.fetchall()[0][0]


def alerts_due(database, limit=50):
    """Return the alerts to post now: queued, or failed with tries left, oldest first."""
    rows = database.query(
        "SELECT * FROM alerts WHERE status = 'queued' OR (status = 'failed' AND attempts < ?) ORDER BY id LIMIT ?",
        [MAX_ATTEMPTS, limit],
    )
    return [dict(row, detail=json.loads(row["detail"] or "{}")) for row in rows]


def alert_sent_since(database, kind, subject, since):
    """True when an alert of `kind` about `subject` was posted since `since`."""
    return database.execute(
        "SELECT 1 FROM alerts WHERE kind = ? AND subject = ? AND status = 'sent' AND sent_at >= ? LIMIT 1",
        [kind, subject, since],
    ).fetchone() is not None


def alert_queued(database, kind, subject):
    """True when an alert of `kind` about `subject` is waiting to be posted."""
    return database.execute(
        "SELECT 1 FROM alerts WHERE kind = ? AND subject = ? AND status IN ('queued', 'failed') LIMIT 1",
        [kind, subject],
    ).fetchone() is not None


def alert_result(database, alert_id, status, at, error=None):
    """Record what posting an alert gave (sent, failed, duplicate)."""
    database.execute(
        "UPDATE alerts SET status = ?, attempts = attempts + CASE WHEN ? = 'duplicate' THEN 0 ELSE 1 END, error = ?,"
        " sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END WHERE id = ?",
        [status, status, error, status, at, alert_id],
    )


def reports_between(database, start, end):
    """Count the reports filed in [start, end)."""
    return database.execute(
        "SELECT count(*) FROM reports WHERE created_at >= ? AND created_at < ?", [start, end]
    ).fetchone()[0]
