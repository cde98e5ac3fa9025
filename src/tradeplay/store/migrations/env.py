"""Alembic's entry point. tradeplay runs migrations only through ``tradeplay.store.migrate``,
which hands over an open connection inside a transaction (so a failed upgrade leaves nothing)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from tradeplay.store.schema import metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError(
        "tradeplay migrations run through tradeplay.store.migrate, with a connection given"
    )
context.configure(connection=connection, target_metadata=metadata, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
