"""Baseline: the schema SQLite reaches at its migration 50, on PostgreSQL, with pg_trgm standing in for FTS5."""
import sqlalchemy as sa
from alembic import op

# Frozen here, not read from tables.py: a later revision changes tables.py and adds its own step, and this one
# must still build the schema as it was. The same text as tables.JSON_FIELD_OR_NULL at this revision.
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

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    """Create every table and index, the trigram extension and the JSON helper events_asked_number is built on."""
    # pg_trgm is a trusted extension (PostgreSQL 13 and later): the database's owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(JSON_FIELD_OR_NULL)
    op.create_table('alerts',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.Text(), nullable=False),
    sa.Column('sent_at', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('alerts_status', 'alerts', ['status', 'id'], unique=False)
    op.create_index('alerts_subject', 'alerts', ['kind', 'subject', 'status', 'sent_at'], unique=False)
    op.create_table('audit',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('at', sa.Text(), nullable=False),
    sa.Column('user', sa.Text(), nullable=True),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('target', sa.Text(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('audit_action_target', 'audit', ['action', 'target', 'at'], unique=False)
    op.create_index('audit_at', 'audit', ['at'], unique=False)
    op.create_index('audit_user_at', 'audit', ['user', 'at'], unique=False)
    op.create_table('callbacks',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('call_sid', sa.Text(), nullable=False),
    sa.Column('from_number', sa.Text(), nullable=True),
    sa.Column('language', sa.Text(), nullable=True),
    sa.Column('recording_url', sa.Text(), nullable=True),
    sa.Column('recording_sid', sa.Text(), nullable=True),
    sa.Column('recording_duration', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), server_default=sa.text("'waiting'"), nullable=False),
    sa.Column('done_by', sa.Text(), nullable=True),
    sa.Column('done_at', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('callbacks_call', 'callbacks', ['call_sid'], unique=False)
    op.create_index('callbacks_done', 'callbacks', ['status', 'done_at'], unique=False)
    op.create_index('callbacks_status', 'callbacks', ['status', 'created_at'], unique=False)
    op.create_table('calls',
    sa.Column('sid', sa.Text(), nullable=False),
    sa.Column('from_number', sa.Text(), nullable=True),
    sa.Column('from_raw', sa.Text(), nullable=True),
    sa.Column('caller_withheld', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('to_number', sa.Text(), nullable=True),
    sa.Column('language', sa.Text(), server_default=sa.text("'zh'"), nullable=False),
    sa.Column('started_at', sa.Text(), nullable=False),
    sa.Column('answered_at', sa.Text(), nullable=True),
    sa.Column('ended_at', sa.Text(), nullable=True),
    sa.Column('status', sa.Text(), nullable=True),
    sa.Column('duration', sa.Integer(), nullable=True),
    sa.Column('verdict', sa.Text(), nullable=True),
    sa.Column('verdict_at', sa.Text(), nullable=True),
    sa.Column('merchant_id', sa.Text(), nullable=True),
    sa.Column('node', sa.Text(), nullable=True),
    sa.Column('state', sa.Text(), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('updated_at', sa.Text(), nullable=False),
    sa.Column('identified_by', sa.Text(), server_default=sa.text("'none'"), nullable=False),
    sa.Column('purged_at', sa.Text(), nullable=True),
    sa.Column('answer_token', sa.Text(), nullable=True),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('status_token', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.PrimaryKeyConstraint('sid')
    )
    op.create_index('calls_from_started', 'calls', ['from_number', 'started_at'], unique=False)
    op.create_index('calls_from_tail', 'calls', [sa.literal_column('right(from_number, 4)'), 'started_at'], unique=False)
    op.create_index('calls_language_started', 'calls', ['language', 'started_at'], unique=False)
    op.create_index('calls_merchant_started', 'calls', ['merchant_id', 'started_at'], unique=False)
    op.create_index('calls_overview', 'calls', ['started_at', 'verdict', 'status', 'answered_at', 'verdict_at'], unique=False)
    op.create_index('calls_started', 'calls', ['started_at'], unique=False)
    op.create_index('calls_status_started', 'calls', ['status', 'started_at'], unique=False)
    op.create_index('calls_to_number', 'calls', ['to_number'], unique=False)
    op.create_index('calls_unpurged_ended', 'calls', ['ended_at'], unique=False, postgresql_where=sa.text('purged_at IS NULL AND ended_at IS NOT NULL'))
    op.create_index('calls_unpurged_unended', 'calls', ['started_at'], unique=False, postgresql_where=sa.text('purged_at IS NULL AND ended_at IS NULL'))
    op.create_index('calls_verdict_started', 'calls', ['verdict', 'started_at'], unique=False)
    op.create_table('code_attempts',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('merchant_id', sa.Text(), nullable=True),
    sa.Column('caller_number', sa.Text(), nullable=True),
    sa.Column('call_sid', sa.Text(), nullable=True),
    sa.Column('at', sa.Text(), nullable=False),
    sa.Column('success', sa.Integer(), nullable=False),
    sa.Column('registered', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('code_attempts_caller', 'code_attempts', ['caller_number', 'at'], unique=False)
    op.create_index('code_attempts_merchant', 'code_attempts', ['merchant_id', 'at'], unique=False)
    op.create_index('code_attempts_scope', 'code_attempts', ['merchant_id', 'registered', 'at'], unique=False)
    op.create_table('deliveries',
    sa.Column('token', sa.Text(), nullable=False),
    sa.Column('call_sid', sa.Text(), nullable=True),
    sa.Column('at', sa.Text(), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('token')
    )
    op.create_table('lock_lifts',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('at', sa.Text(), nullable=False),
    sa.Column('lifted_by', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('lock_lifts_counter', 'lock_lifts', ['scope', 'key', 'at'], unique=False)
    op.create_table('merchants',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.Text(), nullable=False),
    sa.Column('unlocked_at', sa.Text(), nullable=True),
    sa.Column('unlocked_by', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('merchants_created', 'merchants', ['created_at'], unique=False)
    op.create_index('merchants_name', 'merchants', ['name'], unique=False)
    op.create_table('number_status_changes',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('number', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('changed_by', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('at', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('number_status_changes_number', 'number_status_changes', ['number', 'id'], unique=False)
    op.create_table('numbers',
    sa.Column('number', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), server_default=sa.text("'reported'"), nullable=False),
    sa.Column('first_reported_at', sa.Text(), nullable=True),
    sa.Column('last_reported_at', sa.Text(), nullable=True),
    sa.Column('status_changed_at', sa.Text(), nullable=True),
    sa.Column('status_changed_by', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('number')
    )
    op.create_index('numbers_last', 'numbers', ['last_reported_at'], unique=False)
    op.create_index('numbers_status_changed', 'numbers', ['status', 'status_changed_at'], unique=False)
    op.create_index('numbers_status_last', 'numbers', ['status', 'last_reported_at'], unique=False)
    op.create_table('recordings',
    sa.Column('sid', sa.Text(), nullable=False),
    sa.Column('call_sid', sa.Text(), nullable=False),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('duration', sa.Integer(), nullable=True),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('content_type', sa.Text(), nullable=True),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('copied_duration', sa.Double(), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.Text(), nullable=False),
    sa.Column('copied_at', sa.Text(), nullable=True),
    sa.Column('deleted_at', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('sid')
    )
    op.create_index('recordings_call', 'recordings', ['call_sid'], unique=False)
    op.create_index('recordings_status', 'recordings', ['status', 'created_at'], unique=False)
    op.create_table('reports',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('report_number', sa.Text(), nullable=False),
    sa.Column('call_sid', sa.Text(), nullable=True),
    sa.Column('merchant_id', sa.Text(), nullable=True),
    sa.Column('reporter_number', sa.Text(), nullable=True),
    sa.Column('number', sa.Text(), nullable=True),
    sa.Column('number_raw', sa.Text(), nullable=True),
    sa.Column('category', sa.Text(), nullable=False),
    sa.Column('recording_url', sa.Text(), nullable=True),
    sa.Column('recording_sid', sa.Text(), nullable=True),
    sa.Column('recording_duration', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.Text(), nullable=False),
    sa.Column('signals', sa.Text(), nullable=True),
    sa.Column('counted', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('case_status', sa.Text(), server_default=sa.text("'new'"), nullable=False),
    sa.Column('assignee', sa.Text(), nullable=True),
    sa.Column('case_changed_at', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('report_number')
    )
    op.create_index('reports_assignee', 'reports', ['assignee', 'id'], unique=False)
    op.create_index('reports_call', 'reports', ['call_sid'], unique=False)
    op.create_index('reports_case_status', 'reports', ['case_status', 'id'], unique=False)
    op.create_index('reports_category', 'reports', ['category', 'created_at'], unique=False)
    op.create_index('reports_counted', 'reports', ['number', 'counted', 'created_at'], unique=False)
    op.create_index('reports_created', 'reports', ['created_at'], unique=False)
    op.create_index('reports_merchant', 'reports', ['merchant_id', 'created_at'], unique=False)
    op.create_index('reports_number', 'reports', ['number', 'created_at'], unique=False)
    op.create_index('reports_number_merchant', 'reports', ['number', 'merchant_id'], unique=False)
    op.create_table('sign_in_throttle',
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failed_at', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_index('sign_in_throttle_last', 'sign_in_throttle', ['last_failed_at'], unique=False)
    op.create_table('sms_notes',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('call_sid', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('to_number', sa.Text(), nullable=False),
    sa.Column('language', sa.Text(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('message_sid', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('call_sid', 'note')
    )
    op.create_index('sms_notes_message', 'sms_notes', ['message_sid'], unique=False, postgresql_where=sa.text('message_sid IS NOT NULL'))
    op.create_index('sms_notes_status', 'sms_notes', ['status', 'id'], unique=False)
    op.create_index('sms_notes_to', 'sms_notes', ['to_number', 'created_at'], unique=False)
    op.create_table('suspected_seen',
    sa.Column('number', sa.Text(), nullable=False),
    sa.Column('seen_by', sa.Text(), nullable=False),
    sa.Column('seen_at', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('number')
    )
    op.create_table('users',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('role', sa.Text(), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Text(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('last_failed_at', sa.Text(), nullable=True),
    sa.Column('disabled', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('last_sign_in_at', sa.Text(), nullable=True),
    sa.Column('password_changed_at', sa.Text(), nullable=True),
    sa.Column('password_temporary_until', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('callback_attempts',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('callback_id', sa.BigInteger(), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('made_by', sa.Text(), nullable=False),
    sa.Column('at', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['callback_id'], ['callbacks.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('callback_attempts_callback', 'callback_attempts', ['callback_id', 'id'], unique=False)
    op.create_table('events',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('call_sid', sa.Text(), nullable=False),
    sa.Column('at', sa.Text(), nullable=False),
    sa.Column('node', sa.Text(), nullable=True),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('digits', sa.Text(), nullable=True),
    sa.Column('speech', sa.Text(), nullable=True),
    sa.Column('confidence', sa.Double(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['call_sid'], ['calls.sid'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('events_asked_number', 'events', [sa.literal_column("json_field_or_null(detail, 'number')"), 'id'], unique=False, postgresql_where=sa.text("kind = 'number'"))
    op.create_index('events_call', 'events', ['call_sid', 'id'], unique=False)
    op.create_index('events_speech', 'events', ['id', 'call_sid'], unique=False, postgresql_where=sa.text("kind = 'input' AND speech IS NOT NULL"))
    op.create_index('events_speech_trigram', 'events', ['speech'], unique=False, postgresql_using='gin', postgresql_ops={'speech': 'gin_trgm_ops'}, postgresql_where=sa.text("kind = 'input' AND speech IS NOT NULL"))
    op.create_table('merchant_phones',
    sa.Column('merchant_id', sa.Text(), nullable=False),
    sa.Column('phone', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], ),
    sa.PrimaryKeyConstraint('merchant_id', 'phone')
    )
    op.create_index('merchant_phones_phone', 'merchant_phones', ['phone'], unique=False)
    op.create_table('outreach',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('merchant_id', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('channel', sa.Text(), nullable=False),
    sa.Column('from_number', sa.Text(), nullable=True),
    sa.Column('staff_name', sa.Text(), nullable=False),
    sa.Column('instructions', sa.Text(), nullable=False),
    sa.Column('reference_code', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), server_default=sa.text("'open'"), nullable=False),
    sa.Column('status_changed_at', sa.Text(), nullable=True),
    sa.Column('status_changed_by', sa.Text(), nullable=True),
    sa.Column('action', sa.Text(), nullable=True),
    sa.Column('code_hash', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('outreach_created', 'outreach', ['created_at'], unique=False)
    op.create_index('outreach_merchant_code', 'outreach', ['merchant_id', 'reference_code'], unique=False)
    op.create_index('outreach_merchant_status', 'outreach', ['merchant_id', 'status', 'expires_at'], unique=False)
    op.create_index('outreach_status_created', 'outreach', ['status', 'created_at'], unique=False)
    op.create_table('report_notes',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('report_id', sa.BigInteger(), nullable=False),
    sa.Column('author', sa.Text(), nullable=False),
    sa.Column('at', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('report_notes_report', 'report_notes', ['report_id', 'id'], unique=False)
    op.create_table('staff_sessions',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('token_hash', sa.Text(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.Text(), nullable=False),
    sa.Column('last_seen_at', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.Text(), nullable=False),
    sa.Column('revoked_at', sa.Text(), nullable=True),
    sa.Column('revoked_reason', sa.Text(), nullable=True),
    sa.Column('remote', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index('staff_sessions_expires', 'staff_sessions', ['expires_at'], unique=False)
    op.create_index('staff_sessions_user', 'staff_sessions', ['user_id'], unique=False, postgresql_where=sa.text('revoked_at IS NULL'))
    op.create_table('revealed_numbers',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('session_id', sa.BigInteger(), nullable=False),
    sa.Column('number', sa.Text(), nullable=False),
    sa.Column('record', sa.Text(), nullable=False),
    sa.Column('revealed_at', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['staff_sessions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('revealed_numbers_expires', 'revealed_numbers', ['expires_at'], unique=False)
    op.create_index('revealed_numbers_session', 'revealed_numbers', ['session_id', 'expires_at'], unique=False)


def downgrade():
    """Drop every table (their indexes go with them) and the JSON helper; pg_trgm stays, others may use it."""
    op.drop_table('revealed_numbers')
    op.drop_table('staff_sessions')
    op.drop_table('report_notes')
    op.drop_table('outreach')
    op.drop_table('merchant_phones')
    op.drop_table('events')
    op.drop_table('callback_attempts')
    op.drop_table('users')
    op.drop_table('suspected_seen')
    op.drop_table('sms_notes')
    op.drop_table('sign_in_throttle')
    op.drop_table('reports')
    op.drop_table('recordings')
    op.drop_table('numbers')
    op.drop_table('number_status_changes')
    op.drop_table('merchants')
    op.drop_table('lock_lifts')
    op.drop_table('deliveries')
    op.drop_table('code_attempts')
    op.drop_table('calls')
    op.drop_table('callbacks')
    op.drop_table('audit')
    op.drop_table('alerts')
    op.execute("DROP FUNCTION IF EXISTS json_field_or_null(text, text)")
