"""Alembic environment: cronbase runs migrations in-process with a connection it passes in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

# The migrations create the host CRM tables too, so `metadata` must hold them for autogenerate
# to compare against; importing cronbase.builtin.tables adds them to it.
import cronbase.builtin.tables  # noqa: F401
from cronbase.store.tables import metadata

connection = context.config.attributes["connection"]
if connection.dialect.name == "postgresql":
    # Two instances starting at once must not both run the same migration.
    connection.execute(text("SELECT pg_advisory_xact_lock(7245031)"))
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
)
with context.begin_transaction():
    context.run_migrations()
