"""The database schema: migrations and models describe the same tables, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from core.db import current_revision, head_revision
from core.models import Base


async def test_migrations_produce_exactly_the_schema_the_models_declare(engine):
    def diff(conn):
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, Base.metadata)

    async with engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


async def test_a_migrated_database_is_at_the_newest_revision(engine):
    assert await current_revision(engine) == head_revision()
