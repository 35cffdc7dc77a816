"""What the command-line tools share: running a command's coroutine, a database checked to be ready, and
printing times and texts for people."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from core.config import ConfigError, LoadedConfig

SHANGHAI = ZoneInfo("Asia/Shanghai")


class SchemaNotReady(Exception):
    """The database is not at the newest migration (or not reachable)."""


def run_async(fn: Callable[..., Any], *args: Any) -> int:
    """Run a command's coroutine; a config or schema problem is one line on stderr and exit status 2."""
    try:
        return asyncio.run(fn(*args))
    except (ConfigError, SchemaNotReady) as e:
        print(f"{'config error: ' if isinstance(e, ConfigError) else ''}{e}", file=sys.stderr)
        return 2


@contextlib.asynccontextmanager
async def database(loaded: LoadedConfig) -> AsyncIterator[AsyncEngine]:
    """An engine on a database that is reachable and at the newest schema (else SchemaNotReady)."""
    from core.db import current_revision, head_revision, make_engine

    engine = make_engine(loaded.config.database.url)
    try:
        try:
            current = await current_revision(engine)
        except Exception as e:
            raise SchemaNotReady(f"database not reachable: {type(e).__name__}: {e}") from None
        if current != head_revision():
            raise SchemaNotReady(
                f"database schema is at {current}, not {head_revision()}: run `gateway.py migrate`"
            )
        yield engine
    finally:
        await engine.dispose()


def local_time(t: datetime | None) -> str:
    """A time in Beijing time, to the second ("-" for none)."""
    return t.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if t else "-"


def clip(text: str, n: int) -> str:
    """The text cut to n characters, with an ellipsis when cut."""
    return text if len(text) <= n else text[: n - 1] + "…"


def print_rows(
    rows: list[dict[str, Any]], as_json: bool, line: Callable[[dict[str, Any]], str], empty: str
) -> int:
    """Print rows, one a line (as JSON objects, or as `line` writes them); `empty` on stderr when none."""
    for r in rows:
        print(json.dumps(r, ensure_ascii=False) if as_json else line(r))
    if not rows:
        print(empty, file=sys.stderr)
    return 0
