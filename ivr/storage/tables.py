"""Every table of the schema, as ivr/storage/schema.py leaves it after its last migration, as SQLAlchemy metadata."""
import sqlalchemy as sa
from sqlalchemy import (
    BigInteger,
    Column,
    Double,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)

# What this file leaves out, on purpose: schema_migrations (SQLite's migration log; Alembic keeps its own on
# PostgreSQL), the FTS5 table speech_fts with its shadow tables and triggers (pg_trgm's GIN index stands in for
# it on PostgreSQL), and calls' implicit rowid (a SQLite-only column the dashboard pages by today).
#
# Timestamps stay ISO 8601 UTC text, as clock.stamp writes them, so that both databases store, sort and compare
# the same strings; flags stay 0/1 integers, as the app writes and compares them.

metadata = MetaData()

# Surrogate keys are 64-bit on PostgreSQL, like SQLite's rowids, so that a copied id always fits; on SQLite the
# column stays INTEGER, the only spelling that makes it the rowid.
Id = BigInteger().with_variant(Integer(), "sqlite")

# Partial indexes: the same condition on both databases.
INPUT_SPEECH = "kind = 'input' AND speech IS NOT NULL"


def _id():
    # BY DEFAULT, not ALWAYS: copy-database inserts the ids SQLite gave, then moves the sequence past them.
    return Column("id", Id, Identity(), primary_key=True)


def _default(sql):
    return sa.DefaultClause(text(sql))


def _partial(name, *columns, where):
    return Index(name, *columns, sqlite_where=text(where), postgresql_where=text(where))


def _only(dialect, index):
    index.info["dialect"] = dialect  # readable by tests; ddl_if keeps its setting private
    return index.ddl_if(dialect=dialect)


calls = Table(
    "calls", metadata,
    Column("sid", Text, primary_key=True),
    Column("from_number", Text),
    Column("from_raw", Text),
    Column("caller_withheld", Integer, nullable=False, server_default=_default("0")),
    Column("to_number", Text),
    Column("language", Text, nullable=False, server_default=_default("'zh'")),
    Column("started_at", Text, nullable=False),
    Column("answered_at", Text),
    Column("ended_at", Text),
    Column("status", Text),
    Column("duration", Integer),
    Column("verdict", Text),
    Column("verdict_at", Text),
    Column("merchant_id", Text),
    Column("node", Text),
    Column("state", Text, nullable=False, server_default=_default("'{}'")),
    Column("updated_at", Text, nullable=False),
    Column("identified_by", Text, nullable=False, server_default=_default("'none'")),
    Column("purged_at", Text),
    Column("answer_token", Text),
    Column("answer", Text),
    Column("status_token", Text),
    Column("version", Integer, nullable=False, server_default=_default("0")),
    Index("calls_started", "started_at"),
    Index("calls_verdict_started", "verdict", "started_at"),
    Index("calls_merchant_started", "merchant_id", "started_at"),
    Index("calls_from_started", "from_number", "started_at"),
    Index("calls_to_number", "to_number"),
    Index("calls_language_started", "language", "started_at"),
    Index("calls_status_started", "status", "started_at"),
    Index("calls_overview", "started_at", "verdict", "status", "answered_at", "verdict_at"),
    _partial("calls_unpurged_ended", "ended_at", where="purged_at IS NULL AND ended_at IS NOT NULL"),
    _partial("calls_unpurged_unended", "started_at", where="purged_at IS NULL AND ended_at IS NULL"),
)
# The calls list's verdict filter with a language or a status (dates too) on PostgreSQL: its count of up to
# COUNT_CAP matches reads one of these indexes alone, where with calls_language_started it fetched every candidate
# call (over 100 ms on a million calls). SQLite reads rows faster and needs neither.
_only("postgresql", Index("calls_verdict_language_started", calls.c.verdict, calls.c.language, calls.c.started_at))
_only("postgresql", Index("calls_status_verdict_started", calls.c.status, calls.c.verdict, calls.c.started_at))
# The caller's last four digits: PostgreSQL's substr() counts a negative start from the front, so right() there.
CALLER_TAIL = {"sqlite": func.substr(calls.c.from_number, -4), "postgresql": func.right(calls.c.from_number, 4)}
for _dialect, _tail in CALLER_TAIL.items():
    _only(_dialect, Index("calls_from_tail", _tail, calls.c.started_at))

events = Table(
    "events", metadata,
    _id(),
    Column("call_sid", Text, ForeignKey("calls.sid"), nullable=False),
    Column("at", Text, nullable=False),
    Column("node", Text),
    Column("kind", Text, nullable=False),
    Column("text", Text),
    Column("digits", Text),
    Column("speech", Text),
    Column("confidence", Double),
    Column("detail", Text),
    Index("events_call", "call_sid", "id"),
)
# Short searches scan this partial index newest first. SQLite keeps the speech in it; on PostgreSQL a B-tree
# entry over ~2.7 kB fails the insert, so a long answer would fail its webhook: the speech is read from the row.
_only("sqlite", _partial("events_speech", events.c.id, events.c.call_sid, events.c.speech, where=INPUT_SPEECH))
_only("postgresql", _partial("events_speech", events.c.id, events.c.call_sid, where=INPUT_SPEECH))
# Search over what callers said on PostgreSQL (speech_fts on SQLite): trigrams of the same rows FTS5 indexes.
_only("postgresql", Index("events_speech_trigram", events.c.speech, postgresql_using="gin",
                          postgresql_ops={"speech": "gin_trgm_ops"}, postgresql_where=text(INPUT_SPEECH)))
# Searches of two characters on PostgreSQL (common in Chinese), which trigrams cannot match: each answer's distinct
# lower-cased character pairs (speech_bigrams, migration 0002), so that `speech_bigrams(speech) @> ARRAY[pair]` reads
# only the answers holding the pair. GIN's pending list (fastupdate, on by default) keeps a webhook's insert cheap.
_only("postgresql", Index("events_speech_bigram", func.speech_bigrams(events.c.speech), postgresql_using="gin",
                          postgresql_where=text(INPUT_SPEECH)))
# The number a verify call asked about; a malformed detail must read as NULL, never fail the webhook's insert.
# PostgreSQL 15 has no json_valid(), so json_field_or_null (created by the baseline migration) catches the error.
ASKED_NUMBER = {
    "sqlite": text("(CASE WHEN json_valid(detail) THEN json_extract(detail, '$.number') END)"),
    "postgresql": func.json_field_or_null(events.c.detail, "number"),
}
for _dialect, _asked in ASKED_NUMBER.items():
    _only(_dialect, Index("events_asked_number", _asked, events.c.id, sqlite_where=text("kind = 'number'"),
                          postgresql_where=text("kind = 'number'")))

JSON_FIELD_OR_NULL = """
CREATE OR REPLACE FUNCTION json_field_or_null(document text, field text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN document::jsonb ->> field;
EXCEPTION WHEN invalid_text_representation THEN
    RETURN NULL;
END
$$
"""

# IMMUTABLE, so that an index may be built on it: lower() and string_to_array() are. One string_to_array() and one
# pass over its characters, so that a long answer costs its length, not its length squared.
SPEECH_BIGRAMS = """
CREATE OR REPLACE FUNCTION speech_bigrams(speech text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT characters[i] || characters[i + 1]), '{}')
    FROM (SELECT string_to_array(lower(speech), NULL) AS characters) AS split,
        generate_series(1, cardinality(characters) - 1) AS i
$$
"""

deliveries = Table(
    "deliveries", metadata,
    Column("token", Text, primary_key=True),
    Column("call_sid", Text),
    Column("at", Text, nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("body", Text, nullable=False),
)

callbacks = Table(
    "callbacks", metadata,
    _id(),
    Column("call_sid", Text, nullable=False),
    Column("from_number", Text),
    Column("language", Text),
    Column("recording_url", Text),
    Column("recording_sid", Text),
    Column("recording_duration", Integer),
    Column("created_at", Text, nullable=False),
    Column("status", Text, nullable=False, server_default=_default("'waiting'")),
    Column("done_by", Text),
    Column("done_at", Text),
    Index("callbacks_status", "status", "created_at"),
    Index("callbacks_call", "call_sid"),
    Index("callbacks_done", "status", "done_at"),
)

merchants = Table(
    "merchants", metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    Column("unlocked_at", Text),
    Column("unlocked_by", Text),
    Index("merchants_name", "name"),
    Index("merchants_created", "created_at"),
)

merchant_phones = Table(
    "merchant_phones", metadata,
    Column("merchant_id", Text, ForeignKey("merchants.id"), primary_key=True),
    Column("phone", Text, primary_key=True),
    Index("merchant_phones_phone", "phone"),
)

outreach = Table(
    "outreach", metadata,
    _id(),
    Column("merchant_id", Text, ForeignKey("merchants.id"), nullable=False),
    Column("reason", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("from_number", Text),
    Column("staff_name", Text, nullable=False),
    Column("instructions", Text, nullable=False),
    Column("reference_code", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("expires_at", Text, nullable=False),
    Column("status", Text, nullable=False, server_default=_default("'open'")),
    Column("status_changed_at", Text),
    Column("status_changed_by", Text),
    Column("action", Text),
    Column("code_hash", Text),
    Index("outreach_merchant_code", "merchant_id", "reference_code"),
    Index("outreach_created", "created_at"),
    Index("outreach_merchant_status", "merchant_id", "status", "expires_at"),
    Index("outreach_status_created", "status", "created_at"),
)

code_attempts = Table(
    "code_attempts", metadata,
    _id(),
    Column("merchant_id", Text),
    Column("caller_number", Text),
    Column("call_sid", Text),
    Column("at", Text, nullable=False),
    Column("success", Integer, nullable=False),
    Column("registered", Integer, nullable=False, server_default=_default("0")),
    Index("code_attempts_merchant", "merchant_id", "at"),
    Index("code_attempts_caller", "caller_number", "at"),
    Index("code_attempts_scope", "merchant_id", "registered", "at"),
)

reports = Table(
    "reports", metadata,
    _id(),
    Column("report_number", Text, nullable=False, unique=True),
    Column("call_sid", Text),
    Column("merchant_id", Text),
    Column("reporter_number", Text),
    Column("number", Text),
    Column("number_raw", Text),
    Column("category", Text, nullable=False),
    Column("recording_url", Text),
    Column("recording_sid", Text),
    Column("recording_duration", Integer),
    Column("created_at", Text, nullable=False),
    Column("signals", Text),
    Column("counted", Integer, nullable=False, server_default=_default("0")),
    Column("case_status", Text, nullable=False, server_default=_default("'new'")),
    Column("assignee", Text),
    Column("case_changed_at", Text),
    Index("reports_number", "number", "created_at"),
    Index("reports_created", "created_at"),
    Index("reports_call", "call_sid"),
    Index("reports_counted", "number", "counted", "created_at"),
    Index("reports_number_merchant", "number", "merchant_id"),
    Index("reports_merchant", "merchant_id", "created_at"),
    Index("reports_category", "category", "created_at"),
    Index("reports_case_status", "case_status", "id"),
    Index("reports_assignee", "assignee", "id"),
)

numbers = Table(
    "numbers", metadata,
    Column("number", Text, primary_key=True),
    Column("status", Text, nullable=False, server_default=_default("'reported'")),
    Column("first_reported_at", Text),
    Column("last_reported_at", Text),
    Column("status_changed_at", Text),
    Column("status_changed_by", Text),
    Column("reason", Text),
    Index("numbers_last", "last_reported_at"),
    Index("numbers_status_last", "status", "last_reported_at"),
    Index("numbers_status_changed", "status", "status_changed_at"),
)

number_status_changes = Table(
    "number_status_changes", metadata,
    _id(),
    Column("number", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("changed_by", Text, nullable=False),
    Column("reason", Text),
    Column("at", Text, nullable=False),
    Index("number_status_changes_number", "number", "id"),
)

users = Table(
    "users", metadata,
    _id(),
    Column("name", Text, nullable=False, unique=True),
    Column("role", Text, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("failed_logins", Integer, nullable=False, server_default=_default("0")),
    Column("last_failed_at", Text),
    Column("disabled", Integer, nullable=False, server_default=_default("0")),
    Column("last_sign_in_at", Text),
    Column("password_changed_at", Text),
    Column("password_temporary_until", Text),
)

audit = Table(
    "audit", metadata,
    _id(),
    Column("at", Text, nullable=False),
    Column("user", Text),  # a reserved word on PostgreSQL: SQLAlchemy quotes it
    Column("action", Text, nullable=False),
    Column("target", Text),
    Column("detail", Text),
    Index("audit_at", "at"),
    Index("audit_user_at", "user", "at"),
    Index("audit_action_target", "action", "target", "at"),
)

lock_lifts = Table(
    "lock_lifts", metadata,
    _id(),
    Column("scope", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("at", Text, nullable=False),
    Column("lifted_by", Text),
    Index("lock_lifts_counter", "scope", "key", "at"),
)

staff_sessions = Table(
    "staff_sessions", metadata,
    _id(),
    Column("token_hash", Text, nullable=False, unique=True),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False),
    Column("created_at", Text, nullable=False),
    Column("last_seen_at", Text, nullable=False),
    Column("expires_at", Text, nullable=False),
    Column("revoked_at", Text),
    Column("revoked_reason", Text),
    Column("remote", Text),
    _partial("staff_sessions_user", "user_id", where="revoked_at IS NULL"),
    Index("staff_sessions_expires", "expires_at"),
)

revealed_numbers = Table(
    "revealed_numbers", metadata,
    _id(),
    Column("session_id", Id, ForeignKey("staff_sessions.id", ondelete="CASCADE"), nullable=False),
    Column("number", Text, nullable=False),
    Column("record", Text, nullable=False),
    Column("revealed_at", Text, nullable=False),
    Column("expires_at", Text, nullable=False),
    Index("revealed_numbers_session", "session_id", "expires_at"),
    Index("revealed_numbers_expires", "expires_at"),
)

sign_in_throttle = Table(
    "sign_in_throttle", metadata,
    Column("key", Text, primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failed_at", Text, nullable=False),
    Index("sign_in_throttle_last", "last_failed_at"),
)

report_notes = Table(
    "report_notes", metadata,
    _id(),
    Column("report_id", Id, ForeignKey("reports.id"), nullable=False),
    Column("author", Text, nullable=False),
    Column("at", Text, nullable=False),
    Column("body", Text, nullable=False),
    Index("report_notes_report", "report_id", "id"),
)

callback_attempts = Table(
    "callback_attempts", metadata,
    _id(),
    Column("callback_id", Id, ForeignKey("callbacks.id"), nullable=False),
    Column("outcome", Text, nullable=False),
    Column("made_by", Text, nullable=False),
    Column("at", Text, nullable=False),
    Index("callback_attempts_callback", "callback_id", "id"),
)

sms_notes = Table(
    "sms_notes", metadata,
    _id(),
    Column("call_sid", Text, nullable=False),
    Column("note", Text, nullable=False),
    Column("to_number", Text, nullable=False),
    Column("language", Text),
    Column("body", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("message_sid", Text),
    Column("attempts", Integer, nullable=False, server_default=_default("0")),
    Column("error", Text),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    UniqueConstraint("call_sid", "note"),
    Index("sms_notes_to", "to_number", "created_at"),
    Index("sms_notes_status", "status", "id"),
    _partial("sms_notes_message", "message_sid", where="message_sid IS NOT NULL"),
)

alerts = Table(
    "alerts", metadata,
    _id(),
    Column("kind", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("detail", Text),
    Column("status", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default=_default("0")),
    Column("error", Text),
    Column("created_at", Text, nullable=False),
    Column("sent_at", Text),
    Index("alerts_status", "status", "id"),
    Index("alerts_subject", "kind", "subject", "status", "sent_at"),
)

recordings = Table(
    "recordings", metadata,
    Column("sid", Text, primary_key=True),
    Column("call_sid", Text, nullable=False),
    Column("url", Text),
    Column("duration", Integer),
    Column("status", Text, nullable=False),
    Column("content", LargeBinary),  # the audio itself: bytea on PostgreSQL
    Column("content_type", Text),
    Column("size", Integer),
    Column("copied_duration", Double),
    Column("attempts", Integer, nullable=False, server_default=_default("0")),
    Column("error", Text),
    Column("created_at", Text, nullable=False),
    Column("copied_at", Text),
    Column("deleted_at", Text),
    Index("recordings_call", "call_sid"),
    Index("recordings_status", "status", "created_at"),
)

suspected_seen = Table(
    "suspected_seen", metadata,
    Column("number", Text, primary_key=True),
    Column("seen_by", Text, nullable=False),
    Column("seen_at", Text, nullable=False),
)

# What the indexes above need on PostgreSQL before any table is made: the trigram operator class and the functions
# events_asked_number and events_speech_bigram are built on. Attached to metadata.create_all; the migrations run the
# same statements (the baseline the first two, 0002 the last).
POSTGRESQL_PREREQUISITES = ["CREATE EXTENSION IF NOT EXISTS pg_trgm", JSON_FIELD_OR_NULL, SPEECH_BIGRAMS]
for _statement in POSTGRESQL_PREREQUISITES:
    sa.event.listen(metadata, "before_create", sa.DDL(_statement).execute_if(dialect="postgresql"))
