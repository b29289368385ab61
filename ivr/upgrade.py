"""Bringing a database up to date: the schema's migrations, then what needs the server's secret."""
from ivr.storage import connection, db, pgschema, postgres
from ivr.verification import outreach


def upgrade(database, code_key):
    """Apply every migration, then hash any reference code still stored in plain text; return (applied, hashed)."""
    # Migrations are SQL and cannot know the secret, so codes stored by an older release are hashed here.
    # PostgreSQL's schema is Alembic's, migrated by the release step (upgrade_postgresql) alone.
    applied = [] if postgres.is_postgresql(database) else db.migrate(database)
    return applied, outreach.hash_plaintext_codes(database, code_key)


def upgrade_postgresql(url, code_key, timeout, pool_size=1):
    """Migrate the PostgreSQL database at `url` under its advisory lock, then hash plain-text codes; return
    (revision before, revision after, hashed)."""
    before, after = pgschema.upgrade(url)
    with connection.opened(None, timeout, url, pool_size) as database:
        return before, after, outreach.hash_plaintext_codes(database, code_key)
