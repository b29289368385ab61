"""The database schema as a list of migrations in version order; each runs once, in that order, on every boot."""

# Each part of the hotline numbers its migrations in its own range, so a new one goes at the end of its range,
# which keeps this list in version order (db.migrate applies them by version whatever the order here); never
# edit one that has shipped.
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

MIGRATIONS.append(
    (
        5,
        "caller safety: how each call identified its merchant, lock counters by scope, reports that count",
        # code_attempts.registered: the calling number is one of the merchant's registered phones, so strangers
        # (withheld IDs included) and the merchant's own phones fill separate counters. lock_lifts: staff lifted
        # one counter's lock (an attempt fills two counters, so a lift is kept per counter, not on the attempt);
        # a lift before this release (merchants.unlocked_at) carries over to both of the merchant's counters.
        # reports.counted: the report may raise its number to `suspected` (a reporter identified by a
        # registered phone, the first report of its call); reports filed before this release count only
        # where the reporter called from a phone registered to the merchant named.
        """
        ALTER TABLE calls ADD COLUMN identified_by TEXT NOT NULL DEFAULT 'none';
        ALTER TABLE code_attempts ADD COLUMN registered INTEGER NOT NULL DEFAULT 0;
        UPDATE code_attempts SET registered = 1 WHERE EXISTS (
            SELECT 1 FROM merchant_phones p WHERE p.merchant_id = code_attempts.merchant_id AND p.phone = code_attempts.caller_number);
        CREATE TABLE lock_lifts (
            id INTEGER PRIMARY KEY,
            scope TEXT NOT NULL,
            key TEXT NOT NULL,
            at TEXT NOT NULL,
            lifted_by TEXT
        );
        CREATE INDEX lock_lifts_counter ON lock_lifts (scope, key, at);
        INSERT INTO lock_lifts (scope, key, at, lifted_by)
            SELECT scope, id, unlocked_at, unlocked_by FROM merchants,
                (SELECT 'merchant_strangers' AS scope UNION ALL SELECT 'merchant_registered')
            WHERE unlocked_at IS NOT NULL;
        ALTER TABLE reports ADD COLUMN counted INTEGER NOT NULL DEFAULT 0;
        UPDATE reports SET counted = 1 WHERE EXISTS (
            SELECT 1 FROM merchant_phones p WHERE p.merchant_id = reports.merchant_id AND p.phone = reports.reporter_number);
        CREATE INDEX IF NOT EXISTS code_attempts_scope ON code_attempts (merchant_id, registered, at);
        CREATE INDEX IF NOT EXISTS reports_counted ON reports (number, counted, created_at);
        CREATE INDEX IF NOT EXISTS calls_to_number ON calls (to_number)
        """,
    )
)

MIGRATIONS.append(
    (
        6,
        "caller safety: outreach asks for a catalogue action, reference codes kept only as keyed hashes",
        # outreach.action: a key of the outreach actions catalogue (IVR_OUTREACH_ACTIONS); older rows keep their
        # free-text instructions, which are never read out again. outreach.code_hash: HMAC-SHA256 of the
        # merchant and the code with the server's code key. SQL cannot know that key, so the plaintext codes of
        # older rows are hashed and blanked by outreach.hash_plaintext_codes, run after every migrate. Codes are
        # checked against all of a merchant's rows (by merchant_id), so code_hash needs no index. The index on the
        # plaintext codes stays: dropped before they are blanked, its freed pages would keep them in the file.
        """
        ALTER TABLE outreach ADD COLUMN action TEXT;
        ALTER TABLE outreach ADD COLUMN code_hash TEXT
        """,
    )
)

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
MIGRATIONS.append(
    (
        22,
        "a version on each call, checked by the UPDATE that stores a step (optimistic concurrency)",
        """
        ALTER TABLE calls ADD COLUMN version INTEGER NOT NULL DEFAULT 0
        """,
    )
)

# Versions 30-39 belong to staff sign-in, sessions and privacy.
MIGRATIONS.append(
    (
        30,
        "staff: server-side sessions, revealed numbers kept per session, sign-in throttling, password state",
        # Only a SHA-256 of each session id is stored: a copy of the database signs no one in.
        # sign_in_throttle is keyed by what was typed ("account:<name>") and where from ("address:<ip>"), so an
        # unknown name is slowed down exactly like a real one.
        """
        CREATE TABLE staff_sessions (
            id INTEGER PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,
            user_id INTEGER NOT NULL REFERENCES users(id),
            created_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            revoked_at TEXT,
            revoked_reason TEXT,
            remote TEXT
        );
        CREATE INDEX staff_sessions_user ON staff_sessions (user_id) WHERE revoked_at IS NULL;
        CREATE INDEX staff_sessions_expires ON staff_sessions (expires_at);
        CREATE TABLE revealed_numbers (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES staff_sessions(id) ON DELETE CASCADE,
            number TEXT NOT NULL,
            record TEXT NOT NULL,
            revealed_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        );
        CREATE INDEX revealed_numbers_session ON revealed_numbers (session_id, expires_at);
        CREATE INDEX revealed_numbers_expires ON revealed_numbers (expires_at);
        CREATE TABLE sign_in_throttle (
            key TEXT PRIMARY KEY,
            failures INTEGER NOT NULL,
            last_failed_at TEXT NOT NULL
        );
        CREATE INDEX sign_in_throttle_last ON sign_in_throttle (last_failed_at);
        ALTER TABLE users ADD COLUMN last_sign_in_at TEXT;
        ALTER TABLE users ADD COLUMN password_changed_at TEXT;
        ALTER TABLE users ADD COLUMN password_temporary_until TEXT
        """,
    )
)

# Versions 31-39: reports and call-backs worked as cases by the staff.
MIGRATIONS.append(
    (
        31,
        "cases: a report's status and assignee, and its staff notes (append-only)",
        # assignee is a staff user's name, as the audit log names them (names are never reused or renamed).
        """
        ALTER TABLE reports ADD COLUMN case_status TEXT NOT NULL DEFAULT 'new';
        ALTER TABLE reports ADD COLUMN assignee TEXT;
        ALTER TABLE reports ADD COLUMN case_changed_at TEXT;
        CREATE TABLE report_notes (
            id INTEGER PRIMARY KEY,
            report_id INTEGER NOT NULL REFERENCES reports(id),
            author TEXT NOT NULL,
            at TEXT NOT NULL,
            body TEXT NOT NULL
        );
        CREATE INDEX report_notes_report ON report_notes (report_id, id);
        CREATE INDEX reports_case_status ON reports (case_status, id);
        CREATE INDEX reports_assignee ON reports (assignee, id)
        """,
    )
)
MIGRATIONS.append(
    (
        32,
        "cases: each attempt to ring a caller back, with its outcome, who and when",
        """
        CREATE TABLE callback_attempts (
            id INTEGER PRIMARY KEY,
            callback_id INTEGER NOT NULL REFERENCES callbacks(id),
            outcome TEXT NOT NULL,
            made_by TEXT NOT NULL,
            at TEXT NOT NULL
        );
        CREATE INDEX callback_attempts_callback ON callback_attempts (callback_id, id);
        CREATE INDEX callbacks_done ON callbacks (status, done_at)
        """,
    )
)
MIGRATIONS.append(
    (
        33,
        "cases: find the calls that asked about a number (the verify branch's `number` event)",
        # Partial, so the webhook pays for it only on the one event per verify call that names a number; the
        # json_valid guard keeps a malformed detail from failing the webhook's insert. The expression must stay
        # identical to storage.dialect.json_field_sql (reportlist.asked_number_sql), or the query cannot use it.
        """
        CREATE INDEX IF NOT EXISTS events_asked_number
            ON events ((CASE WHEN json_valid(detail) THEN json_extract(detail, '$.number') END), id)
            WHERE kind = 'number'
        """,
    )
)

# Versions 40-49 belong to Twilio beyond webhooks: SMS notes, staff alerts, recordings.
MIGRATIONS.append(
    (
        40,
        "SMS notes to merchants after a call, and staff alerts, each queued and then sent",
        # One note of each kind per call: a step worked out again never queues a second one.
        """
        CREATE TABLE sms_notes (
            id INTEGER PRIMARY KEY,
            call_sid TEXT NOT NULL,
            note TEXT NOT NULL,
            to_number TEXT NOT NULL,
            language TEXT,
            body TEXT NOT NULL,
            status TEXT NOT NULL,
            message_sid TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (call_sid, note)
        );
        CREATE INDEX sms_notes_to ON sms_notes (to_number, created_at);
        CREATE INDEX sms_notes_status ON sms_notes (status, id);
        CREATE INDEX sms_notes_message ON sms_notes (message_sid) WHERE message_sid IS NOT NULL;
        CREATE TABLE alerts (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            subject TEXT NOT NULL,
            detail TEXT,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            created_at TEXT NOT NULL,
            sent_at TEXT
        );
        CREATE INDEX alerts_status ON alerts (status, id);
        CREATE INDEX alerts_subject ON alerts (kind, subject, status, sent_at)
        """,
    )
)
MIGRATIONS.append(
    (
        41,
        "recordings copied into the database, then deleted at Twilio",
        # status: pending (at Twilio only), copied (verified copy here, still at Twilio), deleted (only here), failed
        # (copy not yet possible; retried), purged (the copy and Twilio's are gone; only the row's dates are kept).
        """
        CREATE TABLE recordings (
            sid TEXT PRIMARY KEY,
            call_sid TEXT NOT NULL,
            url TEXT,
            duration INTEGER,
            status TEXT NOT NULL,
            content BLOB,
            content_type TEXT,
            size INTEGER,
            copied_duration REAL,
            attempts INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            created_at TEXT NOT NULL,
            copied_at TEXT,
            deleted_at TEXT
        );
        CREATE INDEX recordings_call ON recordings (call_sid);
        CREATE INDEX recordings_status ON recordings (status, created_at)
        """,
    )
)

# Versions 50-59: finding things and seeing campaigns in the dashboard.
MIGRATIONS.append(
    (
        50,
        "finding: calls by the caller's last four digits, merchants sorted by name or age, suspected numbers seen",
        # The tail index lets "8000" (what a masked number shows) find calls without scanning every call; the
        # expression must stay identical to storage.dialect.last_characters_sql or SQLite cannot use it.
        # suspected_seen keeps who first opened a suspected number's page, and when: the banner shows until then.
        """
        CREATE INDEX IF NOT EXISTS calls_from_tail ON calls (substr(from_number, -4), started_at);
        CREATE INDEX IF NOT EXISTS merchants_name ON merchants (name);
        CREATE INDEX IF NOT EXISTS merchants_created ON merchants (created_at);
        CREATE INDEX IF NOT EXISTS numbers_status_changed ON numbers (status, status_changed_at);
        CREATE TABLE suspected_seen (
            number TEXT PRIMARY KEY,
            seen_by TEXT NOT NULL,
            seen_at TEXT NOT NULL
        )
        """,
    )
)
