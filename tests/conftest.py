"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, and configs that point at it.

PostgreSQL tests run against $HUIJU_TEST_POSTGRES_URL (default: postgres@127.0.0.1:5432/test) in a database
of their own, created for the session. Where PostgreSQL is unreachable they are skipped with the reason,
unless HUIJU_REQUIRE_POSTGRES=1 (CI), which makes them fail.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path

import asyncpg
import pytest
from hypothesis import settings
from sqlalchemy.engine import make_url

from core.db import make_engine, upgrade_to_head
from core.models import Base

# CI runs the property tests on a fixed sequence of examples, so that a rare example cannot make one run of an
# unchanged tree fail; locally they explore anew each time.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

PG_URL = os.environ.get("HUIJU_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("HUIJU_REQUIRE_POSTGRES") == "1"


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(_dsn(PG_URL), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_database():
    """A fresh, migrated PostgreSQL database for this test session (dropped at the end)."""
    name = f"huiju_test_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as e:
        message = f"PostgreSQL not reachable at {PG_URL}: {type(e).__name__}: {e}"
        if REQUIRE_PG:
            pytest.fail(message + " (HUIJU_REQUIRE_POSTGRES=1)")
        pytest.skip(message)
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    upgrade_to_head(url)
    yield url
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file that each test copies."""
    path = tmp_path_factory.mktemp("template") / "huiju.db"
    upgrade_to_head(f"sqlite+aiosqlite:///{path}")
    return path


async def _truncate(url: str) -> None:
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> str:
    """The URL of an empty, migrated database: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "huiju.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url = request.getfixturevalue("pg_database")
    asyncio.run(_truncate(url))
    return url


@pytest.fixture
async def engine(db_url):
    """An engine on the test database."""
    e = make_engine(db_url)
    yield e
    await e.dispose()
