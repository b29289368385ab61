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
