"""Bringing a database up to date: the schema's migrations, then what needs the server's secret."""
from ivr.storage import db
from ivr.verification import outreach


def upgrade(database, code_key):
    """Apply every migration, then hash any reference code still stored in plain text; return (applied, hashed)."""
    # Migrations are SQL and cannot know the secret, so codes stored by an older release are hashed here.
    applied = db.migrate(database)
    return applied, outreach.hash_plaintext_codes(database, code_key)
