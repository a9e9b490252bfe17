"""Alembic environment: migrations run on the connection dpsheets hands over (never from alembic.ini)."""

from __future__ import annotations

from alembic import context

from dpsheets.county.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                  transaction_per_migration=False)
with context.begin_transaction():
    context.run_migrations()
