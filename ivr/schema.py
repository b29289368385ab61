"""The database schema as an ordered list of migrations; each runs once, in order, on every boot."""

# Append new migrations at the end; never edit one that has shipped.
MIGRATIONS = [
    (
        1,
        "call log",
        """
        CREATE TABLE calls (
            sid TEXT PRIMARY KEY,
            from_number TEXT,
            from_raw TEXT,
            caller_withheld INTEGER NOT NULL DEFAULT 0,
            to_number TEXT,
            language TEXT NOT NULL DEFAULT 'zh',
            started_at TEXT NOT NULL,
            answered_at TEXT,
            ended_at TEXT,
            status TEXT,
            duration INTEGER,
            verdict TEXT,
            verdict_at TEXT,
            merchant_id TEXT,
            node TEXT,
            state TEXT NOT NULL DEFAULT '{}',
            updated_at TEXT NOT NULL
        );
        CREATE INDEX calls_started ON calls (started_at);
        CREATE INDEX calls_verdict_started ON calls (verdict, started_at);
        CREATE INDEX calls_merchant_started ON calls (merchant_id, started_at);
        CREATE INDEX calls_from_started ON calls (from_number, started_at);
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            call_sid TEXT NOT NULL REFERENCES calls(sid),
            at TEXT NOT NULL,
            node TEXT,
            kind TEXT NOT NULL,
            text TEXT,
            digits TEXT,
            speech TEXT,
            confidence REAL,
            detail TEXT
        );
        CREATE INDEX events_call ON events (call_sid, id);
        CREATE TABLE deliveries (
            token TEXT PRIMARY KEY,
            call_sid TEXT,
            at TEXT NOT NULL,
            status_code INTEGER NOT NULL,
            body TEXT NOT NULL
        );
        CREATE TABLE callbacks (
            id INTEGER PRIMARY KEY,
            call_sid TEXT NOT NULL,
            from_number TEXT,
            language TEXT,
            recording_url TEXT,
            recording_sid TEXT,
            recording_duration INTEGER,
            created_at TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'waiting',
            done_by TEXT,
            done_at TEXT
        );
        CREATE INDEX callbacks_status ON callbacks (status, created_at);
        """,
    ),
    (
        2,
        "merchants, outreach, reports and the number watchlist",
        """
        CREATE TABLE merchants (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            unlocked_at TEXT,
            unlocked_by TEXT
        );
        CREATE TABLE merchant_phones (
            merchant_id TEXT NOT NULL REFERENCES merchants(id),
            phone TEXT NOT NULL,
            PRIMARY KEY (merchant_id, phone)
        );
        CREATE INDEX merchant_phones_phone ON merchant_phones (phone);
        CREATE TABLE outreach (
            id INTEGER PRIMARY KEY,
            merchant_id TEXT NOT NULL REFERENCES merchants(id),
            reason TEXT NOT NULL,
            channel TEXT NOT NULL,
            from_number TEXT,
            staff_name TEXT NOT NULL,
            instructions TEXT NOT NULL,
            reference_code TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'open',
            status_changed_at TEXT,
            status_changed_by TEXT
        );
        CREATE INDEX outreach_merchant_code ON outreach (merchant_id, reference_code);
        CREATE INDEX outreach_created ON outreach (created_at);
        CREATE TABLE code_attempts (
            id INTEGER PRIMARY KEY,
            merchant_id TEXT,
            caller_number TEXT,
            call_sid TEXT,
            at TEXT NOT NULL,
            success INTEGER NOT NULL
        );
        CREATE INDEX code_attempts_merchant ON code_attempts (merchant_id, at);
        CREATE INDEX code_attempts_caller ON code_attempts (caller_number, at);
        CREATE TABLE reports (
            id INTEGER PRIMARY KEY,
            report_number TEXT NOT NULL UNIQUE,
            call_sid TEXT,
            merchant_id TEXT,
            reporter_number TEXT,
            number TEXT,
            number_raw TEXT,
            category TEXT NOT NULL,
            recording_url TEXT,
            recording_sid TEXT,
            recording_duration INTEGER,
            created_at TEXT NOT NULL
        );
        CREATE INDEX reports_number ON reports (number, created_at);
        CREATE INDEX reports_created ON reports (created_at);
        CREATE INDEX reports_call ON reports (call_sid);
        CREATE TABLE numbers (
            number TEXT PRIMARY KEY,
            status TEXT NOT NULL DEFAULT 'reported',
            first_reported_at TEXT,
            last_reported_at TEXT,
            status_changed_at TEXT,
            status_changed_by TEXT,
            reason TEXT
        );
        CREATE TABLE number_status_changes (
            id INTEGER PRIMARY KEY,
            number TEXT NOT NULL,
            status TEXT NOT NULL,
            changed_by TEXT NOT NULL,
            reason TEXT,
            at TEXT NOT NULL
        );
        """,
    ),
    (
        3,
        "staff accounts and the audit log",
        """
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            created_at TEXT NOT NULL,
            failed_logins INTEGER NOT NULL DEFAULT 0,
            last_failed_at TEXT,
            disabled INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            user TEXT,
            action TEXT NOT NULL,
            target TEXT,
            detail TEXT
        );
        CREATE INDEX audit_at ON audit (at);
        """,
    ),
]


# Versions 10-19 belong to the staff dashboard.
MIGRATIONS.append(
    (
        10,
        "dashboard: indexes for every calls filter, overview, numbers and audit",
        """
        CREATE INDEX IF NOT EXISTS calls_language_started ON calls (language, started_at);
        CREATE INDEX IF NOT EXISTS calls_status_started ON calls (status, started_at);
        CREATE INDEX IF NOT EXISTS calls_overview ON calls (started_at, verdict, status, answered_at, verdict_at);
        CREATE INDEX IF NOT EXISTS reports_number_merchant ON reports (number, merchant_id);
        CREATE INDEX IF NOT EXISTS reports_merchant ON reports (merchant_id, created_at);
        CREATE INDEX IF NOT EXISTS reports_category ON reports (category, created_at);
        CREATE INDEX IF NOT EXISTS numbers_last ON numbers (last_reported_at);
        CREATE INDEX IF NOT EXISTS numbers_status_last ON numbers (status, last_reported_at);
        CREATE INDEX IF NOT EXISTS outreach_status_created ON outreach (status, created_at);
        CREATE INDEX IF NOT EXISTS callbacks_call ON callbacks (call_sid);
        CREATE INDEX IF NOT EXISTS audit_user_at ON audit (user, at);
        CREATE INDEX IF NOT EXISTS audit_action_target ON audit (action, target, at)
        """,
    )
)
# Only callers' speech is indexed (not prompts), so the webhook pays one small FTS insert per spoken answer.
# The trigram tokenizer finds Chinese substrings, which have no spaces between words; it cannot match fewer
# than three characters, so short searches scan the small partial index events_speech instead.
MIGRATIONS.append(
    (
        11,
        "dashboard: full-text search over what callers said",
        (
            """
            CREATE VIRTUAL TABLE IF NOT EXISTS speech_fts USING fts5(
                speech, content='events', content_rowid='id', tokenize='trigram'
            );
            CREATE TRIGGER IF NOT EXISTS events_speech_insert AFTER INSERT ON events
            WHEN new.kind = 'input' AND new.speech IS NOT NULL BEGIN
                INSERT INTO speech_fts (rowid, speech) VALUES (new.id, new.speech);
            END;
            CREATE TRIGGER IF NOT EXISTS events_speech_delete AFTER DELETE ON events
            WHEN old.kind = 'input' AND old.speech IS NOT NULL BEGIN
                INSERT INTO speech_fts (speech_fts, rowid, speech) VALUES ('delete', old.id, old.speech);
            END;
            CREATE TRIGGER IF NOT EXISTS events_speech_update AFTER UPDATE OF speech, kind ON events BEGIN
                INSERT INTO speech_fts (speech_fts, rowid, speech)
                    SELECT 'delete', old.id, old.speech WHERE old.kind = 'input' AND old.speech IS NOT NULL;
                INSERT INTO speech_fts (rowid, speech)
                    SELECT new.id, new.speech WHERE new.kind = 'input' AND new.speech IS NOT NULL;
            END;
            INSERT INTO speech_fts (rowid, speech) SELECT id, speech FROM events WHERE kind = 'input' AND speech IS NOT NULL;
            CREATE INDEX IF NOT EXISTS events_speech ON events (id, call_sid, speech) WHERE kind = 'input' AND speech IS NOT NULL
            """
        ),
    )
)

# Versions 4-9 belong to verification (merchants, outreach, reports, watchlist).
MIGRATIONS.append(
    (
        4,
        "verification: risk signals on reports, lookups for the lock and the watchlist",
        """
        ALTER TABLE reports ADD COLUMN signals TEXT;
        CREATE INDEX IF NOT EXISTS outreach_merchant_status ON outreach (merchant_id, status, expires_at);
        CREATE INDEX IF NOT EXISTS number_status_changes_number ON number_status_changes (number, id)
        """,
    )
)

# Versions 20-29 belong to load, faults and data retention.
MIGRATIONS.append(
    (
        20,
        "retention: mark purged calls; find old unpurged calls without scanning purged ones",
        """
        ALTER TABLE calls ADD COLUMN purged_at TEXT;
        CREATE INDEX IF NOT EXISTS calls_unpurged_ended ON calls (ended_at) WHERE purged_at IS NULL AND ended_at IS NOT NULL;
        CREATE INDEX IF NOT EXISTS calls_unpurged_unended ON calls (started_at) WHERE purged_at IS NULL AND ended_at IS NULL
        """,
    )
)
MIGRATIONS.append(
    (
        21,
        "webhook answers kept on the call row (one write per webhook instead of a deliveries row and its key)",
        # deliveries stays, unused, so workers still running the previous release keep answering during a
        # deploy; `flask purge` empties it.
        """
        ALTER TABLE calls ADD COLUMN answer_token TEXT;
        ALTER TABLE calls ADD COLUMN answer TEXT;
        ALTER TABLE calls ADD COLUMN status_token TEXT
        """,
    )
)
