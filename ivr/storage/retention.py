"""Data retention: removing callers' personal data from old calls (or one merchant's), in short batches."""
import re
from datetime import timedelta

from ivr import clock
from ivr.storage import db, dialect, recordings

BATCH_SIZE = 500
# Old calls: ended before the cutoff, or (status callback lost) started before it and never ended; each read by
# its partial index.
OLD_CALLS = (
    ("calls_unpurged_ended", "purged_at IS NULL AND ended_at IS NOT NULL AND ended_at < :cutoff"),
    ("calls_unpurged_unended", "purged_at IS NULL AND ended_at IS NULL AND started_at < :unended_cutoff"),
)
# A call that never ended is only taken once it cannot still be live (Twilio ends every call within 4 hours).
UNENDED_AFTER = timedelta(days=1)
MERCHANT_CALLS = "SELECT sid FROM calls WHERE purged_at IS NULL AND merchant_id = :merchant AND ended_at IS NOT NULL"
# A purged call keeps what the overview counts (dates, verdict, status, language, duration, merchant) and
# loses who called, its flow state (which holds codes typed and recording links) and the last answer it heard.
CALL_CHANGES = "SET from_number = NULL, from_raw = NULL, state = '{}', answer = NULL, purged_at = :now"
# Other rows that name a caller or a recording: (table, key, change or None to delete, which rows).
DETAILS = (
    ("callbacks", "id", "SET from_number = NULL, recording_url = NULL, recording_sid = NULL",
     "created_at < :cutoff AND (from_number IS NOT NULL OR recording_url IS NOT NULL OR recording_sid IS NOT NULL)"),
    # The reported number is the scammer's and stays for the watchlist; the reporter's number goes.
    ("reports", "id", "SET reporter_number = NULL, recording_url = NULL, recording_sid = NULL",
     "created_at < :cutoff AND (reporter_number IS NOT NULL OR recording_url IS NOT NULL OR recording_sid IS NOT NULL)"),
    # Staff notes on a report are free text (a reporter's number, what they said): their text goes with the report's
    # personal data; who wrote one and when stay, so the case still shows that it was worked.
    ("report_notes", "id", "SET body = ''",
     "body != '' AND report_id IN (SELECT id FROM reports WHERE created_at < :cutoff)"),
    ("code_attempts", "id", "SET caller_number = NULL", "at < :cutoff AND caller_number IS NOT NULL"),
    # An SMS note names the merchant's phone and what was confirmed; its status stays for the counts.
    ("sms_notes", "id", "SET to_number = '', body = ''", "created_at < :cutoff AND body != ''"),
    # Webhook answers stored by releases before migration 21 (they now live on the call's row).
    ("deliveries", "token", None, "at < :cutoff"),
)
# What names a recording outside the recordings table (rows from before it, and the report and call-back rows).
RECORDING_SIDS = ("SELECT call_sid, recording_sid FROM reports WHERE recording_sid IS NOT NULL AND {where}",
                  "SELECT call_sid, recording_sid FROM callbacks WHERE recording_sid IS NOT NULL AND {where}")
# A phone number written in an audit row's detail: a + and digits, or a long run of digits.
PHONE_IN_TEXT = re.compile(r"\+?\d[\d\s\-]{6,}\d")


def purge(database, older_than_days, dry_run=False, batch_size=BATCH_SIZE, now=None, delete_recording=None):
    """Remove events, recordings and phone numbers of calls that ended more than `older_than_days` ago.

    `delete_recording(sid)` deletes one recording at Twilio and returns whether it is gone there; a recording it
    could not delete keeps its SID (and nothing else), so that `flask recordings sync` can delete it later.
    """
    now = now or clock.now()
    cutoff = clock.stamp(now - timedelta(days=older_than_days))
    unended_cutoff = clock.stamp(min(now - timedelta(days=older_than_days), now - UNENDED_AFTER))
    summary = {"cutoff": cutoff, "calls": 0, "events": 0, "recordings": 0, "recordings_left_at_twilio": 0}
    arguments = {"cutoff": cutoff, "unended_cutoff": unended_cutoff}
    if dry_run:
        del summary["recordings_left_at_twilio"]  # known only once Twilio has been asked
        return _count(database, arguments, summary)
    _zero_deleted_content(database)
    for select in _old_calls(database):
        _purge_calls(database, select, arguments, batch_size, summary, delete_recording)
    for table, key, change, where in DETAILS:
        summary[table] = _clear_rows(database, table, key, change, where, {"cutoff": cutoff}, batch_size, summary,
                                     delete_recording)
    summary["audit"] = _redact(database, "audit", "detail", batch_size, cutoff)
    summary.update(settle(database, optimise=summary["events"] > 0))
    return summary


def purge_merchant(database, merchant_id, batch_size=BATCH_SIZE, delete_recording=None):
    """Erase one merchant's personal data on request: its name, phones and calls' details; keep the counts."""
    summary = {"calls": 0, "events": 0, "recordings": 0, "recordings_left_at_twilio": 0}
    _zero_deleted_content(database)
    _purge_calls(database, MERCHANT_CALLS, {"merchant": merchant_id}, batch_size, summary, delete_recording)
    with db.transaction(database):
        phones = [row[0] for row in database.execute("SELECT phone FROM merchant_phones WHERE merchant_id = ?",
                                                     [merchant_id])]
        names = [row[0] for row in database.execute("SELECT name FROM merchants WHERE id = ? AND name != ''",
                                                    [merchant_id])]
        summary["phones"] = database.execute("DELETE FROM merchant_phones WHERE merchant_id = ?",
                                             [merchant_id]).rowcount
        summary["merchant"] = database.execute("UPDATE merchants SET name = '' WHERE id = ?", [merchant_id]).rowcount
    mine = "merchant_id = :merchant"
    changes = {table: change for table, _, change, _ in DETAILS}
    for table, key, change, where in (
        ("reports", "id", changes["reports"], f"{mine} AND (reporter_number IS NOT NULL OR recording_sid IS NOT NULL)"),
        ("report_notes", "id", changes["report_notes"],
         f"body != '' AND report_id IN (SELECT id FROM reports WHERE {mine})"),
        ("code_attempts", "id", changes["code_attempts"], f"{mine} AND caller_number IS NOT NULL"),
        ("sms_notes", "id", changes["sms_notes"],
         f"call_sid IN (SELECT sid FROM calls WHERE {mine}) AND body != ''"),
    ):
        summary[table] = _clear_rows(database, table, key, change, where, {"merchant": merchant_id}, batch_size,
                                     summary, delete_recording)
    summary["audit"] = _redact(database, "audit", "detail", batch_size, words=phones + names)
    if phones + names:  # with no words, _redact would mask every number in every note
        summary["report_notes"] += _redact(database, "report_notes", "body", batch_size, words=phones + names)
    summary.update(settle(database, optimise=summary["events"] > 0))
    return summary


def _old_calls(database):
    return [f"SELECT sid FROM calls{dialect.indexed_by_sql(database, index)} WHERE {where}"
            for index, where in OLD_CALLS]


def _zero_deleted_content(database):
    # SQLite: what is deleted or overwritten is zeroed in the file (PostgreSQL has no such setting: see settle).
    if not dialect.is_postgresql(database):
        database.conn.execute("PRAGMA secure_delete = ON")


# The tables a purge deletes from or overwrites.
PURGED_TABLES = ("calls", "events", "recordings", "callbacks", "reports", "report_notes", "code_attempts",
                 "sms_notes", "deliveries", "audit", "merchants", "merchant_phones")


def settle(database, optimise=True):
    """Leave nothing purged behind in the files: on SQLite merge the search index, then checkpoint and empty the
    WAL; on PostgreSQL vacuum the purged tables."""
    if dialect.is_postgresql(database):
        return _vacuum(database)
    if optimise:
        with db.transaction(database):
            # Merging drops the deleted entries that FTS5's segments still held.
            database.execute("INSERT INTO speech_fts (speech_fts) VALUES ('optimize')")
    busy = database.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    # Busy: a reader still used the log, so it could not be emptied; the operator is told to run purge again.
    return {"wal_emptied": busy == 0}


def _vacuum(database):
    """Remove the row versions a purge left dead in PostgreSQL's tables and indexes."""
    # PostgreSQL keeps the old version of every row a purge updated or deleted, in the table and its indexes,
    # until VACUUM removes it; after this plain VACUUM the purged rows are gone and their space is reused (but
    # not while some transaction older than the purge still runs). Their bytes can stay in the files' free space
    # until overwritten, and in the WAL, its archive, standbys and base backups until those are recycled: to
    # take them off the disk too, run VACUUM FULL on these tables in a quiet hour (it locks each table while it
    # rewrites it, so not on every purge) and expire WAL archives and backups within the retention period.
    # The pool's limits are for webhooks: vacuuming a big table takes longer, or waits for autovacuum to finish.
    database.execute("SET statement_timeout = 0")
    database.execute("SET lock_timeout = 0")
    try:
        for table in PURGED_TABLES:
            database.execute(f"VACUUM {table}")
    finally:
        database.execute("RESET statement_timeout")
        database.execute("RESET lock_timeout")
    return {}


def _purge_calls(database, select, arguments, batch_size, summary, delete_recording):
    kept = set()
    while True:
        sids = [row[0] for row in database.execute(
            f"SELECT sid FROM ({select}) AS old LIMIT :batch", dict(arguments, batch=batch_size + len(kept)))]
        sids = [sid for sid in sids if sid not in kept][:batch_size]
        if not sids:
            return
        # Recordings are deleted at Twilio first, outside the transaction, so no webhook waits behind the network.
        gone = _delete_at_twilio(database, _recordings_of_calls(database, sids), delete_recording)
        marks = ",".join("?" * len(sids))
        with db.transaction(database):
            summary["events"] += database.execute(f"DELETE FROM events WHERE call_sid IN ({marks})", sids).rowcount
            database.execute(f"UPDATE calls {CALL_CHANGES.replace(':now', '?')} WHERE sid IN ({marks})",
                             [clock.stamp(), *sids])
            _forget_recordings(database, gone, summary)
        summary["calls"] += len(sids)


def _recordings_of_calls(database, sids):
    """{recording SID: call SID} for every recording these calls made that may still be at Twilio or here."""
    found = {sid: call for call, sid in _legacy_recordings(database, "call_sid IN ({})", sids)}
    for call_sid, rows in recordings.for_calls(database, sids).items():
        for row in rows:
            if row["status"] != "purged":
                found[row["sid"]] = call_sid
    return found


def _legacy_recordings(database, where, values):
    pairs = []
    for start in range(0, len(values), 500):
        chunk = values[start:start + 500]
        clause = where.format(",".join("?" * len(chunk)))
        for select in RECORDING_SIDS:
            pairs += [tuple(row) for row in database.execute(select.format(where=clause), chunk)]
    return pairs


def _not_yet_forgotten(database, sid):
    known = recordings.info(database, sid)
    return known is None or known["status"] not in ("purged", "purge_pending")


def _delete_at_twilio(database, found, delete_recording):
    """Return {recording SID: (call SID, True when no longer at Twilio)} after deleting what is still there."""
    held = set(recordings.held_at_twilio(database, set(found.values())))
    result = {}
    for sid, call_sid in found.items():
        known = recordings.info(database, sid)
        still_there = sid in held or known is None
        if still_there and delete_recording is not None:
            still_there = not delete_recording(sid)
        result[sid] = (call_sid, not still_there)
    return result


def _forget_recordings(database, gone, summary):
    stamp = clock.stamp()
    for sid, (call_sid, deleted) in gone.items():
        recordings.adopt(database, sid, call_sid, stamp)
        recordings.forget(database, sid, stamp, still_at_twilio=not deleted)
        summary["recordings"] += 1
        summary["recordings_left_at_twilio"] += 0 if deleted else 1


def _clear_rows(database, table, key, change, where, arguments, batch_size, summary, delete_recording):
    cleared, after = 0, None
    names_recordings = table in ("reports", "callbacks")
    while True:
        # Walking the key upwards visits each old row once, however many were purged before. (From no key at
        # first: a key may be text, which PostgreSQL will not compare with a number.)
        beyond = "" if after is None else f"{key} > :after AND "
        keys = [row[0] for row in database.execute(
            f"SELECT {key} FROM {table} WHERE {beyond}{where} ORDER BY {key} LIMIT :batch",
            dict(arguments, after=after, batch=batch_size))]
        if not keys:
            return cleared
        gone = {}
        if names_recordings:
            pairs = database.execute(
                f"SELECT recording_sid, call_sid FROM {table} WHERE recording_sid IS NOT NULL AND {key} IN"
                f" ({','.join('?' * len(keys))})", keys).fetchall()
            fresh = {sid: call or "" for sid, call in pairs if _not_yet_forgotten(database, sid)}
            gone = _delete_at_twilio(database, fresh, delete_recording)
        with db.transaction(database):
            action = f"UPDATE {table} {change}" if change else f"DELETE FROM {table}"
            database.execute(f"{action} WHERE {key} IN ({','.join('?' * len(keys))})", keys)
            _forget_recordings(database, gone, summary)
        cleared += len(keys)
        after = keys[-1]


def _redact(database, table, column, batch_size, cutoff=None, words=()):
    """Mask phone numbers in `column` of `table`'s rows older than `cutoff` (every age if None), or just these
    words; return how many rows changed."""
    redacted, after = 0, -1
    when = "at < :cutoff AND " if cutoff else ""
    while True:
        rows = database.execute(
            f"SELECT id, {column} FROM {table} WHERE {when}id > :after AND {column} IS NOT NULL AND {column} != ''"
            " ORDER BY id LIMIT :batch", {"cutoff": cutoff, "after": after, "batch": batch_size}).fetchall()
        if not rows:
            return redacted
        changes = []
        for row_id, text in rows:
            cleaned = _redacted(text, words)
            if cleaned != text:
                changes.append((cleaned, row_id))
        if changes:
            with db.transaction(database):
                database.conn.executemany(f"UPDATE {table} SET {column} = ? WHERE id = ?", changes)
        redacted += len(changes)
        after = rows[-1][0]


def _redacted(detail, words):
    if words:
        for word in words:
            # A number is also written without its + or, in China, without +86.
            for form in sorted({word, word.lstrip("+"), word[3:] if word.startswith("+86") else word}, key=len,
                               reverse=True):
                detail = detail.replace(form, "[redacted]")
        return detail
    return PHONE_IN_TEXT.sub("[redacted]", detail)


def _count(database, arguments, summary):
    """Fill `summary` with what a purge would change, changing nothing."""
    for select in _old_calls(database):
        summary["calls"] += database.execute(f"SELECT count(*) FROM ({select}) AS old", arguments).fetchone()[0]
        summary["events"] += database.execute(
            f"SELECT count(*) FROM events WHERE call_sid IN ({select})", arguments).fetchone()[0]
        sids = [row[0] for row in database.execute(select, arguments)]
        summary["recordings"] += len(_recordings_of_calls(database, sids))
    for table, _, _, where in DETAILS:
        summary[table] = database.execute(f"SELECT count(*) FROM {table} WHERE {where}", arguments).fetchone()[0]
    return summary
