"""The few statements whose SQL differs between SQLite and PostgreSQL, written once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from core.models import Counter


def upsert_insert(conn: AsyncConnection, table: Table | Any) -> Any:
    """An INSERT that supports ON CONFLICT on this connection's dialect."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"unsupported database dialect {dialect}")


async def bump_counters(conn: AsyncConnection, counts: dict[tuple[str, str], int]) -> None:
    """Add to per-channel counters, creating them as needed."""
    if not counts:
        return
    stmt = upsert_insert(conn, Counter)
    stmt = stmt.on_conflict_do_update(
        index_elements=[Counter.channel_id, Counter.name], set_={"value": Counter.value + stmt.excluded.value}
    )
    rows = [{"channel_id": ch, "name": name, "value": n} for (ch, name), n in sorted(counts.items())]
    await conn.execute(stmt, rows)


async def advisory_xact_lock(conn: AsyncConnection, key: int) -> None:
    """Serialize this transaction against others holding the same key (PostgreSQL; SQLite has one writer)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy import text

        await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
