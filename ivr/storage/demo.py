"""Demo data storage: the bulk generator's batched INSERTs and loading settings, and closing the demo's connection."""
from ivr.storage.postgres import is_postgresql


def tune_for_bulk(database, bulk):
    """Set the page cache and fsync for bulk loading (`bulk`) or back to normal."""
    # Bulk loading wants a big page cache and no fsync per batch; normal settings come back afterwards.
    if is_postgresql(database):
        # The server's cache is its own; a commit need not wait for its flush (a crash loses only demo rows), and
        # a batch of 20,000 calls takes longer than the pool's statement timeout, which is meant for webhooks.
        if bulk:
            database.execute("SET synchronous_commit = off")
            database.execute("SET statement_timeout = 0")
        else:
            database.execute("RESET synchronous_commit")
            database.execute("RESET statement_timeout")
        return
    database.execute(f"PRAGMA cache_size = {-1_000_000 if bulk else -2000}")
    database.execute(f"PRAGMA synchronous = {'OFF' if bulk else 'NORMAL'}")


def analyze(database):
    """Refresh the query planner's statistics."""
    database.execute("ANALYZE")


def add_merchants(database, merchants):
    """Insert (id, name, created_at, updated_at) merchant rows, skipping ids already there."""
    database.conn.executemany(
        "INSERT INTO merchants (id, name, created_at, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
        merchants,
    )


def add_merchant_phones(database, phones):
    """Insert (merchant_id, phone) pairs, skipping pairs already there."""
    database.conn.executemany(
        "INSERT INTO merchant_phones (merchant_id, phone) VALUES (?, ?) ON CONFLICT (merchant_id, phone) DO NOTHING",
        phones,
    )


def add_outreach(database, outreach):
    """Insert (merchant_id, reason, channel, from_number, staff_name, action, code_hash, created_at, expires_at,
    status) outreach rows."""
    # Like every outreach row: no free text, no plaintext code (both columns are NOT NULL, so blank).
    database.conn.executemany(
        "INSERT INTO outreach (merchant_id, reason, channel, from_number, staff_name, action, code_hash,"
        " created_at, expires_at, status, instructions, reference_code)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '')", outreach,
    )


def add_batch(database, rows):
    """Insert one batch of generated rows: {calls, events, reports, callbacks}, each a list of tuples."""
    conn = database.conn
    conn.executemany(
        "INSERT INTO calls (sid, from_number, from_raw, caller_withheld, to_number, language, started_at,"
        " answered_at, ended_at, status, duration, verdict, verdict_at, merchant_id, node, state, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows["calls"],
    )
    conn.executemany(
        "INSERT INTO events (call_sid, at, node, kind, text, digits, speech, confidence, detail)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows["events"],
    )
    conn.executemany(
        "INSERT INTO reports (report_number, call_sid, merchant_id, reporter_number, number, number_raw,"
        " category, recording_url, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows["reports"],
    )
    conn.executemany(
        "INSERT INTO callbacks (call_sid, from_number, language, recording_url, created_at, status, done_by)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)", rows["callbacks"],
    )


def watch_reported_numbers(database):
    """Put every reported number on the watchlist (suspected once three merchants reported it); return them all."""
    database.execute(
        "INSERT INTO numbers (number, status, first_reported_at, last_reported_at)"
        " SELECT number, CASE WHEN count(DISTINCT merchant_id) >= 3 THEN 'suspected' ELSE 'reported' END,"
        " min(created_at), max(created_at) FROM reports WHERE number IS NOT NULL GROUP BY number"
        " ON CONFLICT (number) DO UPDATE SET last_reported_at = excluded.last_reported_at"
    )
    return [row[0] for row in database.execute("SELECT number FROM numbers ORDER BY number")]


def set_number_statuses(database, changes):
    """Record (number, status, changed_by, reason, at) staff decisions in the history and on the watchlist."""
    database.conn.executemany(
        "INSERT INTO number_status_changes (number, status, changed_by, reason, at) VALUES (?, ?, ?, ?, ?)", changes
    )
    database.conn.executemany(
        "UPDATE numbers SET status = ?, status_changed_by = ?, reason = ?, status_changed_at = ? WHERE number = ?",
        [(status, who, reason, at, number) for number, status, who, reason, at in changes],
    )

