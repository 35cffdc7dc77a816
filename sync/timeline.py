"""A case's timeline (the full status history): every platform event, message, delivery, review and flag.

Each line has its source (platform, gateway, channel, reviewer, auditor), the time it happened by that
source's clock, and the time huiju recorded it. A line with a `ref` is recorded at most once, so recording
it again after a retry or a crash is harmless.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.models import CaseEvent, utcnow
from core.sql import upsert_insert


def line(
    case_id: uuid.UUID,
    at: datetime,
    source: str,
    kind: str,
    detail: dict[str, Any],
    *,
    ref: str | None = None,
    appeal_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """One timeline row."""
    return {
        "case_id": case_id,
        "at": at,
        "recorded_at": utcnow(),
        "source": source,
        "kind": kind,
        "appeal_id": appeal_id,
        "detail": detail,
        "ref": ref,
    }


async def record_many(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Add timeline rows in the caller's transaction (a ref already recorded is skipped)."""
    if rows:
        await conn.execute(upsert_insert(conn, CaseEvent).on_conflict_do_nothing(index_elements=["ref"]), rows)


async def record(conn: AsyncConnection, case_id: uuid.UUID, *args: Any, **kwargs: Any) -> None:
    """Add one line (the arguments of `line`) to a case's timeline in the caller's transaction."""
    await record_many(conn, [line(case_id, *args, **kwargs)])


async def of_case(conn: AsyncConnection, case_id: uuid.UUID) -> list[Any]:
    """A case's timeline, in the order things happened."""
    query = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.at, CaseEvent.id)
    return list((await conn.execute(query)).all())
