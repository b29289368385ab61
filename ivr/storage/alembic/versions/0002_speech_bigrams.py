"""Two-character searches on PostgreSQL (speech_bigrams() and the GIN index events_speech_bigram over it), and the
indexes calls_verdict_language_started and calls_status_verdict_started for the calls list's verdict filter with a
language or a status."""
import sqlalchemy as sa
from alembic import op

# Frozen here, not read from tables.py, as the baseline's JSON helper is: the same text as tables.SPEECH_BIGRAMS at
# this revision.
SPEECH_BIGRAMS = """
CREATE OR REPLACE FUNCTION speech_bigrams(speech text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT characters[i] || characters[i + 1]), '{}')
    FROM (SELECT string_to_array(lower(speech), NULL) AS characters) AS split,
        generate_series(1, cardinality(characters) - 1) AS i
$$
"""

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    """Create the function, then index every answer's character pairs (the rows events_speech_trigram indexes), and
    calls by verdict and language, and by status and verdict, each then by start."""
    op.execute(SPEECH_BIGRAMS)
    op.create_index('calls_verdict_language_started', 'calls', ['verdict', 'language', 'started_at'], unique=False)
    op.create_index('calls_status_verdict_started', 'calls', ['status', 'verdict', 'started_at'], unique=False)
    op.create_index('events_speech_bigram', 'events', [sa.literal_column('speech_bigrams(speech)')], unique=False,
                    postgresql_using='gin', postgresql_where=sa.text("kind = 'input' AND speech IS NOT NULL"))


def downgrade():
    """Drop the indexes, then the function events_speech_bigram was built on."""
    op.drop_index('events_speech_bigram', table_name='events')
    op.drop_index('calls_verdict_language_started', table_name='calls')
    op.drop_index('calls_status_verdict_started', table_name='calls')
    op.execute("DROP FUNCTION IF EXISTS speech_bigrams(text)")
