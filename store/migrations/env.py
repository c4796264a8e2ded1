"""Alembic environment: runs on the connection ticketd hands over (see store.db.migrate)."""

from __future__ import annotations

from alembic import context

from ticketd.store.schema import metadata
from ticketd.store.search import in_schema

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    include_name=in_schema,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
