"""Later versions of an item: the same (channel, source id) handed over again, changed.

An interconnect platform keeps handling its own work orders; each change (accepted, replied, closed ...) moves
the work order to the end of its feed, and huiju reads it again. The appeal stays as it was first received;
the new version is kept verbatim (once: by its digest), and when the channel's own status of the item moved
on, the change goes on the case's timeline and, as an update of the shared record, to the 12345 platform.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter as Tally
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from connectors.base import ChannelStatus, InboundItem
from core.models import Appeal, RawItem, RawItemVersion
from core.sql import upsert_insert
from sync import outbox, timeline

if TYPE_CHECKING:
    from core.ingest import Pipeline


def digest_of(payload: str) -> str:
    """The SHA-256 hex digest of a payload's text."""
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class Changed:
    """A stored item handed over again with another payload."""

    channel_id: str
    raw_id: uuid.UUID
    item: InboundItem
    received_at: datetime
    previous_digest: str | None  # None: stored before digests were kept


async def store(conn: AsyncConnection, pipeline: Pipeline, changed: list[Changed], now: datetime) -> Tally:
    """Keep the new versions and pass status changes on; per-channel counts of new versions ("updates")."""
    counts: Tally[tuple[str, str]] = Tally()
    if not changed:
        return counts
    ids = [c.raw_id for c in changed]
    previous = await _newest_payloads(conn, ids)
    rows = [
        {
            "raw_id": c.raw_id,
            "digest": digest_of(c.item.payload),
            "payload": c.item.payload,
            "received_at": c.received_at,
        }
        for c in changed
        if digest_of(c.item.payload) != digest_of(previous.get(c.raw_id, ""))
    ]
    if not rows:
        return counts
    stmt = upsert_insert(conn, RawItemVersion).on_conflict_do_nothing(index_elements=["raw_id", "digest"])
    inserted = {r.raw_id for r in await conn.execute(stmt.returning(RawItemVersion.raw_id), rows)}
    for row in rows:
        if row["raw_id"] in inserted:
            await conn.execute(
                update(RawItem).where(RawItem.id == row["raw_id"]).values(digest=row["digest"], updated_at=now)
            )
    appeals = {
        a.id: a
        for a in await conn.execute(
            select(Appeal.id, Appeal.case_id, Appeal.mode).where(Appeal.id.in_(list(inserted)))
        )
    }
    messages, lines = [], []
    for c in changed:
        if c.raw_id not in inserted:
            continue
        counts[(c.channel_id, "updates")] += 1
        appeal = appeals.get(c.raw_id)
        if appeal is None or appeal.mode != "interconnect":
            continue
        status = _status(pipeline, c.channel_id, c.item.payload)
        before = _status(pipeline, c.channel_id, previous.get(c.raw_id, ""))
        if status is None or (before is not None and (before.status, before.text) == (status.status, status.text)):
            continue
        at = status.at if status.at is not None and status.at.tzinfo is not None else c.received_at
        fields = {
            "status": status.status,
            "at": at.isoformat(),
            "text": status.text,
            "unit": {"code": None, "name": status.unit} if status.unit else None,
        }
        update_id = f"{c.raw_id}:{digest_of(repr(sorted(fields.items())))[:16]}"
        messages.append(outbox.shared_update(appeal.case_id, c.raw_id, update_id, fields, now))
        detail = {"channel_id": c.channel_id, "status": status.status, "text": status.text, "unit": status.unit}
        lines.append(
            timeline.line(
                appeal.case_id,
                at,
                "channel",
                "channel_status",
                detail,
                ref=f"update:{update_id}",
                appeal_id=c.raw_id,
            )
        )
    await outbox.enqueue(conn, messages)
    await timeline.record_many(conn, lines)
    return counts


def _status(pipeline: Pipeline, channel_id: str, payload: str) -> ChannelStatus | None:
    if not payload:
        return None
    try:
        return pipeline.connector(channel_id).channel_status(payload)
    except (KeyError, ValueError):
        return None


async def _newest_payloads(conn: AsyncConnection, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The newest stored version of each item: its latest later version, else the first one."""
    newest: dict[uuid.UUID, Any] = {
        r.id: r.payload for r in await conn.execute(select(RawItem.id, RawItem.payload).where(RawItem.id.in_(ids)))
    }
    later = await conn.execute(
        select(RawItemVersion.raw_id, RawItemVersion.payload)
        .where(RawItemVersion.raw_id.in_(ids))
        .order_by(RawItemVersion.id)
    )
    for raw_id, payload in later:
        newest[raw_id] = payload
    return newest
