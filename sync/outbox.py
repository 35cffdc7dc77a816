"""The outbox: messages owed to the 12345 platform, written in the transaction that caused them.

A message is never sent from the transaction that creates it; the dispatcher picks it up after commit. Its
idempotency key lets the platform recognise a message it has seen, so a re-send is harmless.

A message holds references, not a copy of the appeal: appeals are never modified once stored, so rendering
the request at send time gives the same request every time, and citizens' personal data is not copied into
a second table.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from core.models import OutboxMessage
from core.sql import insert_new

CREATE_WORK_ORDER = "create_work_order"


def create_work_order(case_id: uuid.UUID, appeal_id: uuid.UUID, now: datetime) -> dict[str, Any]:
    """An outbox row asking the platform to open the work order for a new case, from its first appeal."""
    case = str(case_id)
    return {
        "case_id": case_id,
        "kind": CREATE_WORK_ORDER,
        "idempotency_key": f"case:{case}:create",
        "payload": {"case_id": case, "appeal_id": str(appeal_id)},
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


async def enqueue(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Add messages to the outbox in the caller's transaction."""
    await insert_new(conn, OutboxMessage, rows)


def work_order_payload(case_id: uuid.UUID, appeal: Mapping[str, Any]) -> dict[str, Any]:
    """The work order the platform receives for a new case, rendered from its stored first appeal.

    A confidential appeal (every 举报) carries no identity at all: the handling unit must not learn who
    reported it, so name, phone, ID number and channel user ids stay inside the gateway.
    """
    citizen = None
    if not appeal["confidential"]:
        citizen = {"name": appeal["citizen_name"], "phone": appeal["phone"], "id_number": appeal["id_number"]}
    enterprise = None
    if appeal["enterprise"]:
        enterprise = {"name": appeal["enterprise_name"], "credit_code": appeal["credit_code"]}
    return {
        "case_id": str(case_id),
        "appeal_id": str(appeal["id"]),
        "channel_id": appeal["channel_id"],
        "mode": appeal["mode"],
        "type": appeal["type"],
        "title": appeal["title"],
        "content": appeal["content"],
        "received_at": _iso(appeal["received_at"]),
        "occurred_at": _iso(appeal["occurred_at"]),
        "time_tier": appeal["time_tier"],
        "emergency": appeal["emergency"],
        "confidential": appeal["confidential"],
        "citizen": citizen,
        "enterprise": enterprise,
        "location": {k: appeal[k] for k in ("address", "division_code", "township", "lat", "lon")},
        "category": appeal["category"] or appeal["channel_category"],
    }


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None
