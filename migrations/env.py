"""Alembic environment: async, URL handed in by core.db (no alembic.ini)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from core.db import make_engine
from core.models import Base

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = make_engine(context.config.attributes["url"])
    async with engine.connect() as conn:
        await conn.run_sync(_run)
    await engine.dispose()


def run_migrations_online() -> None:
    """Upgrade on a connection of the configured database."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        asyncio.run(_run_async())


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run `gateway.py migrate`")
run_migrations_online()
