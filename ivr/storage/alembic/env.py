"""Alembic's environment for PostgreSQL: runs on the connection pgschema hands over, against tables.metadata."""
from alembic import context

from ivr.storage.pgschema import include_object
from ivr.storage.tables import metadata

# pgschema opens the connection (and holds the advisory lock on it); this file only runs the migrations on it.
connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, include_object=include_object)
with context.begin_transaction():
    context.run_migrations()
