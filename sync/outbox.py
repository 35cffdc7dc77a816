"""The outbox: messages owed to the 12345 platform, written in the transaction that caused them.

A message is never sent from the transaction that creates it; the dispatcher (sync/dispatcher.py) picks it up
after commit. It holds references (the case, the appeal), not a copy of the appeal: the request is rendered
once, at the first attempt, and frozen with the message, so every later attempt sends the same bytes and the
platform's idempotency key recognises it.

Messages of one case are sent in the order they were written (create before repeat before flag): a message
waits while an earlier one of its case is pending or dead.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from core.models import OutboxMessage
from core.sql import upsert_insert
from sync.targets.base import (
    ATTACH_REPEAT,
    CREATE_WORK_ORDER,
    DETACH_REPEAT,
    MERGE_WORK_ORDER,
    RAISE_FLAG,
    RETURN_REPLY,
    SHARE_RECORD,
    UPDATE_SHARED_RECORD,
)


def message(
    case_id: uuid.UUID, kind: str, key: str, payload: dict[str, Any], now: datetime, after_key: str | None = None
) -> dict[str, Any]:
    """An outbox row, due now (once the message keyed `after_key`, of another case, has gone)."""
    return {
        "case_id": case_id,
        "kind": kind,
        "idempotency_key": key,
        "payload": payload,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "request": None,
        "response": None,
        "claimed_by": None,
        "claimed_until": None,
        "after_key": after_key,
    }


def first_appeal(
    case_id: uuid.UUID, appeal_id: uuid.UUID, mode: str, now: datetime, after_key: str | None = None
) -> dict[str, Any]:
    """The message a new case owes: a work order, or, for an interconnect appeal, a shared record."""
    payload = {"case_id": str(case_id), "appeal_id": str(appeal_id)}
    if mode == "interconnect":
        return message(case_id, SHARE_RECORD, f"appeal:{appeal_id}:share", payload, now)
    return message(case_id, CREATE_WORK_ORDER, create_key(case_id), payload, now, after_key)


def create_key(case_id: uuid.UUID) -> str:
    """The idempotency key of a case's work order."""
    return f"case:{case_id}:create"


def repeat_appeal(
    case_id: uuid.UUID, appeal_id: uuid.UUID, mode: str, now: datetime, n: int = 1
) -> dict[str, Any]:
    """An appeal merged into an existing case: a repeat of its work order (interconnect: shared, naming it).

    `n` counts how often this appeal has been merged into this case (after unmerges), keeping keys unique.
    """
    payload = {"case_id": str(case_id), "appeal_id": str(appeal_id), "merged_at": now.isoformat()}
    if mode == "interconnect":
        return message(case_id, SHARE_RECORD, f"appeal:{appeal_id}:share", payload, now)
    return message(case_id, ATTACH_REPEAT, f"appeal:{appeal_id}:attach:{case_id}:{n}", payload, now)


def detach(case_id: uuid.UUID, appeal_id: uuid.UUID, reason: str, now: datetime, n: int = 1) -> dict[str, Any]:
    """An auditor unmerged this appeal from the case: the platform detaches the repeat."""
    payload = {"case_id": str(case_id), "appeal_id": str(appeal_id), "reason": reason}
    return message(case_id, DETACH_REPEAT, detach_key(case_id, appeal_id, n), payload, now)


def detach_key(case_id: uuid.UUID, appeal_id: uuid.UUID, n: int = 1) -> str:
    """The idempotency key of the n-th detach of an appeal from a case."""
    return f"appeal:{appeal_id}:detach:{case_id}:{n}"


def merge_cases(
    case_id: uuid.UUID, into_case_id: uuid.UUID, merge_id: str, reason: str, now: datetime
) -> dict[str, Any]:
    """An auditor merged this case into another: the platform merges its work order into the other's (after
    the other's work order exists)."""
    payload = {"case_id": str(case_id), "into_case_id": str(into_case_id), "merge_id": merge_id, "reason": reason}
    return message(case_id, MERGE_WORK_ORDER, f"merge:{merge_id}", payload, now, create_key(into_case_id))


def flag(case_id: uuid.UUID, flag_id: str, kind: str, now: datetime, **fields: Any) -> dict[str, Any]:
    """A supervision (督办) or group-appeal (群体诉求) flag on the case's work order."""
    payload = {"case_id": str(case_id), "flag_id": flag_id, "kind": kind, "raised_at": now.isoformat(), **fields}
    return message(case_id, RAISE_FLAG, f"flag:{flag_id}", payload, now)


def return_reply(
    case_id: uuid.UUID, appeal_id: uuid.UUID, channel_id: str, return_id: str, comment: str, now: datetime
) -> dict[str, Any]:
    """A reply the channel's managing body rejected in review: returned to the platform with the comment."""
    payload = {
        "case_id": str(case_id),
        "appeal_id": str(appeal_id),
        "channel_id": channel_id,
        "return_id": return_id,
        "comment": comment,
        "returned_at": now.isoformat(),
    }
    return message(case_id, RETURN_REPLY, f"return:{return_id}", payload, now)


def shared_update(case_id: uuid.UUID, appeal_id: uuid.UUID, update_id: str, fields: dict[str, Any], now: datetime):
    """An interconnect channel's own status or reply of a shared record, passed on to the platform."""
    payload = {"case_id": str(case_id), "appeal_id": str(appeal_id), "update_id": update_id, **fields}
    return message(case_id, UPDATE_SHARED_RECORD, f"update:{update_id}", payload, now)


async def enqueue(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Add messages to the outbox in the caller's transaction; a key already there is left as it is."""
    if rows:
        stmt = upsert_insert(conn, OutboxMessage).on_conflict_do_nothing(index_elements=["idempotency_key"])
        await conn.execute(stmt, rows)
