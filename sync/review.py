"""Review of replies for merged-mode channels (平台融合): the channel's managing body approves or rejects.

An approved reply is published on the channel (its delivery becomes due). A rejected one is not published: the
rejection and its comment go back to the 12345 platform as a return, and the platform has the reply redone;
what the platform said after the rejected reply (closed, revisited) is superseded, not published.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from core.models import Delivery, utcnow
from sync import outbox, timeline


class ReviewError(Exception):
    """The review cannot be recorded (unknown reply, not the reviewer's channel, already reviewed)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


async def awaiting(conn: AsyncConnection, channels: list[str]) -> list[Any]:
    """Replies waiting for review on these channels, oldest first."""
    query = (
        select(Delivery)
        .where(Delivery.state == "awaiting_review", Delivery.channel_id.in_(channels))
        .order_by(Delivery.created_at, Delivery.id)
    )
    return list((await conn.execute(query)).all())


async def _reviewable(conn: AsyncConnection, delivery_id: int, channels: list[str]) -> Any:
    row = (await conn.execute(select(Delivery).where(Delivery.id == delivery_id))).first()
    if row is None or row.channel_id not in channels:
        raise ReviewError(404, f"no reply {delivery_id} awaits review on your channels")
    if row.state != "awaiting_review":
        raise ReviewError(409, f"reply {delivery_id} was already reviewed ({row.state})")
    return row


async def approve(
    conn: AsyncConnection, delivery_id: int, channels: list[str], actor: str, deliver_within: timedelta
) -> Any:
    """Publish the reply on its channel (its delivery deadline starts now: review time is not the channel's)."""
    row = await _reviewable(conn, delivery_id, channels)
    now = utcnow()
    await conn.execute(
        update(Delivery)
        .where(Delivery.id == row.id)
        .values(
            state="pending",
            next_attempt_at=now,
            deadline=now + deliver_within,
            reviewed_by=actor,
            reviewed_at=now,
            updated_at=now,
        )
    )
    await timeline.record(
        conn,
        row.case_id,
        now,
        "reviewer",
        "reply_approved",
        {"channel_id": row.channel_id, "by": actor},
        ref=f"review:{row.id}",
        appeal_id=row.appeal_id,
    )
    return row


async def reject(conn: AsyncConnection, delivery_id: int, channels: list[str], actor: str, comment: str) -> Any:
    """Keep the reply off the channel and return it to the platform with the reviewer's comment."""
    comment = comment.strip()
    if not 0 < len(comment) <= 1000:
        raise ReviewError(400, "comment: required, at most 1000 characters (why the reply is rejected)")
    row = await _reviewable(conn, delivery_id, channels)
    now = utcnow()
    await conn.execute(
        update(Delivery)
        .where(Delivery.id == row.id)
        .values(state="rejected", reviewed_by=actor, reviewed_at=now, review_comment=comment, updated_at=now)
    )
    # What the platform said after the rejected reply (closed, revisited) is about a reply the channel never
    # published: it is not carried; the platform's events after the return are.
    await conn.execute(
        update(Delivery)
        .where(Delivery.appeal_id == row.appeal_id, Delivery.id > row.id, Delivery.state == "pending")
        .values(state="superseded", last_error="follows a reply rejected in review", updated_at=now)
    )
    return_id = f"review-{row.idempotency_key}"
    if len(return_id) > 64:
        return_id = f"review-{row.id}-{row.event_id}"[:64]
    await outbox.enqueue(
        conn, [outbox.return_reply(row.case_id, row.appeal_id, row.channel_id, return_id, comment, now)]
    )
    await timeline.record(
        conn,
        row.case_id,
        now,
        "reviewer",
        "reply_rejected",
        {"channel_id": row.channel_id, "by": actor, "comment": comment},
        ref=f"review:{row.id}",
        appeal_id=row.appeal_id,
    )
    return row
