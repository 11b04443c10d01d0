"""Alembic environment of the leaderboard database.

Run through `conflictnews.leaderboard.migrate` (on server startup or `leaderboard db upgrade`),
which hands over an open connection in `config.attributes["connection"]`.
"""

from __future__ import annotations

from alembic import context

from conflictnews.leaderboard.db import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    """`--sql` mode: emit the DDL for the configured URL."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes["connection"]
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
