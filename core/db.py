"""The database: one async engine per process, SQLite (embedded default) or PostgreSQL."""

from __future__ import annotations

import asyncio
import fcntl
import os
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from core.config import ROOT

MIGRATIONS = ROOT / "migrations"


def resolve_url(url: str) -> str:
    """The URL with a relative SQLite path made absolute against the checkout (and its folder created)."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:":
        path = Path(u.database)
        if not path.is_absolute():
            path = ROOT / path
        path.parent.mkdir(parents=True, exist_ok=True)
        u = u.set(database=str(path))
    return u.render_as_string(hide_password=False)


def is_sqlite(engine_or_url: AsyncEngine | str) -> bool:
    """Whether this is the embedded SQLite database (one writer, one instance)."""
    url = engine_or_url if isinstance(engine_or_url, str) else str(engine_or_url.url)
    return make_url(url).get_backend_name() == "sqlite"


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets WAL, full fsync on commit, foreign keys and a busy timeout."""
    url = resolve_url(url)
    # JSON columns are written for every appeal; orjson does it several times faster than the stdlib.
    kwargs.setdefault("json_serializer", _json_dumps)
    kwargs.setdefault("json_deserializer", orjson.loads)
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("pool_pre_ping", True)
    engine = create_async_engine(url, **kwargs)
    # One multi-row INSERT per page instead of one round of statement execution per row.
    engine.sync_engine.dialect.use_insertmanyvalues_wo_returning = True
    event.listen(engine.sync_engine, "connect", _postgresql_settings)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")  # acknowledged means on disk, not just in the OS cache
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _postgresql_settings(dbapi_conn: Any, _record: Any) -> None:
    # Payloads and appeal texts over ~2 kB are compressed on insert; lz4 does it several times faster than
    # the default pglz, and as small for this text. Only where the server was built with lz4 (PostgreSQL 14+).
    cur = dbapi_conn.cursor()
    cur.execute(
        "SELECT set_config(name, 'lz4', false) FROM pg_settings"
        " WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)"
    )
    cur.close()
    dbapi_conn.commit()


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> AlembicConfig:
    """An alembic configuration for this database, without an alembic.ini."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["url"] = resolve_url(url)
    return cfg


def upgrade_to_head(url: str) -> None:
    """Apply every migration (blocking; runs its own event loop in alembic's env.py)."""
    command.upgrade(alembic_config(url), "head")


async def migrate(url: str) -> None:
    """Apply every migration from async code."""
    await asyncio.to_thread(upgrade_to_head, url)


def head_revision() -> str:
    """The newest migration revision in the checkout."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (None before the first migration)."""

    def read(conn: Connection) -> str | None:
        return MigrationContext.configure(conn).get_current_revision()

    async with engine.connect() as conn:
        return await conn.run_sync(read)


class AnotherInstance(RuntimeError):
    """A second gateway process on one SQLite database."""


def single_instance_lock(url: str) -> Any:
    """Hold an exclusive lock beside an SQLite database file for this process's lifetime.

    SQLite has one writer, so huiju runs one instance on it; a second one is refused with a clear message.
    Returns the open lock file (keep it referenced); None for PostgreSQL, where instances share the work.
    """
    u = make_url(resolve_url(url))
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    path = Path(u.database + ".lock")
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise AnotherInstance(
            f"another gateway ({holder}) is already running on {u.database}; SQLite supports one instance — "
            "use PostgreSQL to run several"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}")
    handle.flush()
    return handle
