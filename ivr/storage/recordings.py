"""Recordings: the operator's own copy of each caller's audio, and where the one at Twilio stands."""

# Statuses: pending (only at Twilio), failed (its copy did not work yet), copied (a verified copy here, still at
# Twilio), deleted (only here), purge_pending (purged here, still to delete at Twilio), purged (gone everywhere).
# Sync works on pending, failed, copied and purge_pending ones.
MAX_ATTEMPTS = 10
INFO = "sid, call_sid, url, duration, status, content_type, size, copied_duration, attempts, error, created_at," \
       " copied_at, deleted_at"


def queue(database, sid, call_sid, url, duration, at):
    """Note a recording Twilio reported, once; it is copied later (sync)."""
    database.execute(
        "INSERT INTO recordings (sid, call_sid, url, duration, status, created_at) VALUES (?, ?, ?, ?, 'pending', ?)"
        " ON CONFLICT (sid) DO NOTHING",
        [sid, call_sid, url, duration, at],
    )


def due(database, call_sid=None, limit=100):
    """Return the recordings sync should work on (without their audio), oldest first; only `call_sid`'s if given."""
    where = "(status IN ('pending', 'failed') AND attempts < :tries) OR status IN ('copied', 'purge_pending')"
    if call_sid is not None:
        where = f"call_sid = :call AND ({where})"
    return list(database.query(f"SELECT {INFO} FROM recordings WHERE {where} ORDER BY created_at LIMIT :limit",
                               {"tries": MAX_ATTEMPTS, "call": call_sid, "limit": limit}))


def store_copy(database, sid, content, content_type, copied_duration, at):
    """Keep the verified audio of a recording."""
    database.execute(
        "UPDATE recordings SET status = 'copied', content = ?, content_type = ?, size = ?, copied_duration = ?,"
        " attempts = attempts + 1, error = NULL, copied_at = ? WHERE sid = ?",
        [content, content_type, len(content), copied_duration, at, sid],
    )


def copy_failed(database, sid, error):
    """Note why a recording could not be copied yet."""
    database.execute("UPDATE recordings SET status = 'failed', attempts = attempts + 1, error = ? WHERE sid = ?",
                     [error, sid])


def deleted_at_twilio(database, sid, at):
    """Note that Twilio no longer holds a recording we have a verified copy of (or purged here already)."""
    database.execute("UPDATE recordings SET status = CASE status WHEN 'purge_pending' THEN 'purged' ELSE 'deleted' END,"
                     " deleted_at = ?, error = NULL WHERE sid = ? AND status IN ('copied', 'purge_pending')", [at, sid])


def delete_failed(database, sid, error):
    """Note why a copied recording could not be deleted at Twilio yet (tried again by sync)."""
    database.execute("UPDATE recordings SET error = ? WHERE sid = ?", [error, sid])


def info(database, sid):
    """Return a recording's row without its audio, or None."""
    return next(iter(database.query(f"SELECT {INFO} FROM recordings WHERE sid = ?", [sid])), None)


def audio(database, sid):
    """Return (content, content_type) of a recording we hold a copy of, or None."""
    row = database.execute("SELECT content, content_type FROM recordings WHERE sid = ? AND content IS NOT NULL",
                           [sid]).fetchone()
    return (bytes(row[0]), row[1]) if row else None


def by_sids(database, sids):
    """Return {sid: recording info} for those of `sids` the hotline knows."""
    sids = [sid for sid in dict.fromkeys(sids) if sid]
    found = {}
    for start in range(0, len(sids), 500):
        chunk = sids[start:start + 500]
        for row in database.query(f"SELECT {INFO} FROM recordings WHERE sid IN ({','.join('?' * len(chunk))})", chunk):
            found[row["sid"]] = row
    return found


def for_calls(database, call_sids):
    """Return {call_sid: [recording info, ...]} for these calls."""
    found = {}
    sids = list(call_sids)
    for start in range(0, len(sids), 500):
        chunk = sids[start:start + 500]
        rows = database.query(f"SELECT {INFO} FROM recordings WHERE call_sid IN ({','.join('?' * len(chunk))})"
                              " ORDER BY created_at", chunk)
        for row in rows:
            found.setdefault(row["call_sid"], []).append(row)
    return found


def held_at_twilio(database, call_sids):
    """Return the SIDs of these calls' recordings that may still be at Twilio (never confirmed deleted)."""
    sids = list(call_sids)
    held = []
    for start in range(0, len(sids), 500):
        chunk = sids[start:start + 500]
        held += [row[0] for row in database.execute(
            f"SELECT sid FROM recordings WHERE call_sid IN ({','.join('?' * len(chunk))})"
            " AND deleted_at IS NULL AND status != 'purged'", chunk)]
    return held


def adopt(database, sid, call_sid, at):
    """Make sure a recording named elsewhere (a report, a call-back, an older release) has a row here."""
    database.execute("INSERT INTO recordings (sid, call_sid, status, created_at) VALUES (?, ?, 'pending', ?)"
                     " ON CONFLICT (sid) DO NOTHING", [sid, call_sid, at])


def forget(database, sid, at, still_at_twilio=False):
    """Drop a recording's audio and link, keeping only its SID while Twilio may still hold it."""
    database.execute(
        "UPDATE recordings SET status = ?, content = NULL, content_type = NULL, url = NULL, error = NULL,"
        " deleted_at = CASE WHEN ? = 1 THEN deleted_at ELSE coalesce(deleted_at, ?) END WHERE sid = ?",
        ["purge_pending" if still_at_twilio else "purged", int(bool(still_at_twilio)), at, sid])
