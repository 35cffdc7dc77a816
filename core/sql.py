"""The few statements whose SQL differs between SQLite and PostgreSQL, written once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, case, insert, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from core.models import Case, Counter


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
        await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


async def insert_new(conn: AsyncConnection, table: Table | Any, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows that cannot conflict (fresh keys), all with the same keys, in the caller's transaction.

    PostgreSQL gets them by COPY, which spares building, sending and planning one INSERT with a parameter for
    every value (the appeals of one batch alone are some 18,000). Each value still goes through its column's
    SQLAlchemy bind processor, so it is stored exactly as the INSERT that SQLite gets would store it. Errors
    are the driver's own (asyncpg's), not SQLAlchemy's.
    """
    await insert_new_in_turn(conn, [(table, lambda: rows)])


InsertStep = tuple[Table | Any, Callable[[], Sequence[dict[str, Any]]]]


async def insert_new_in_turn(conn: AsyncConnection, steps: Sequence[InsertStep]) -> None:
    """`insert_new` for each (table, function building its rows), in order.

    On PostgreSQL each step's rows are built while the database is still storing the step before: building
    rows is CPU work in this process, storing them is work in the server, and a batch needs about as much of
    each. The connection still runs one statement at a time, so a build function must not use it.
    """
    if conn.dialect.name != "postgresql":
        for table, build in steps:
            rows = build()
            if rows:
                await conn.execute(insert(table), rows)
        return
    storing: asyncio.Future[None] | None = None
    try:
        for table, build in steps:
            copy = _copy_of(conn.dialect, getattr(table, "__table__", table), build())
            if storing is not None:
                await storing
                storing = None
            if copy is not None:
                storing = asyncio.ensure_future(_copy(conn, *copy))
                await asyncio.sleep(0)  # let it send its rows before the next ones are built
        if storing is not None:
            await storing
            storing = None
    finally:
        if storing is not None:  # failing while a COPY is in flight: let it end before the caller rolls back
            await asyncio.wait([storing])
            if not storing.cancelled():
                storing.exception()  # retrieved: the error being raised already explains the failure


async def _copy(conn: AsyncConnection, table: Table, columns: list[str], records: list[list[Any]]) -> None:
    driver = (await conn.get_raw_connection()).driver_connection
    if conn.in_transaction() and not driver.is_in_transaction():
        await conn.execute(text("SELECT 1"))  # SQLAlchemy sends BEGIN with a transaction's first statement
    await driver.copy_records_to_table(table.name, schema_name=table.schema, columns=columns, records=records)


def _copy_of(
    dialect: Dialect, table: Table, rows: Sequence[dict[str, Any]]
) -> tuple[Table, list[str], list[list[Any]]] | None:
    """The table, column names and one record per row for a COPY (None without rows).

    Each value is bound as SQLAlchemy binds it, and a column the rows leave out gets its Python-side default
    if that is a constant, as insert() gives it. A value its column refuses (a naive datetime) fails here,
    before the COPY starts.
    """
    if not rows:
        return None
    keys = tuple(rows[0])
    defaults = [c for c in table.columns if c.key not in keys and c.default is not None and c.default.is_scalar]
    columns = [table.c[k] for k in keys] + defaults
    constants = [c.default.arg for c in defaults]
    binds = [(i, b) for i, c in enumerate(columns) if (b := c.type.dialect_impl(dialect).bind_processor(dialect))]
    get = itemgetter(*keys)
    records = []
    for row in rows:
        values = [*get(row), *constants] if len(keys) > 1 else [get(row), *constants]
        for i, bind in binds:
            values[i] = bind(values[i])
        records.append(values)
    return table, [c.name for c in columns], records


def case_status(status: str) -> Any:
    """A case's new status, unless an auditor merged it into another case (then it stays `merged`)."""
    cases = Case.__table__
    return case((cases.c.merged_into.is_(None), status), else_=cases.c.status)
