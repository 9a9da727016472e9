"""Alembic's environment: migrations run on the connection ``edu.migrations.upgrade`` opens."""

from __future__ import annotations

from alembic import context

from edu.migrations import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata(),
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copying a table
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
