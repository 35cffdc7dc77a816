"""Deliveries: status and replies carried back to the channel each appeal came from, one per appeal.

A case merged from three channels owes each event three times, each through its channel's connector
(`deliver`, in the channel's own protocol), each with its own state, attempts, receipt, deadline and dead
letter. The deliveries of one appeal go in order (accepted before the reply before closed). A reply for a
merged-mode channel waits in `awaiting_review` until the channel's managing body approves it (sync/review.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.base import Connector, DeliveringConnector, OutboundEvent, Receipt
from connectors.registry import connector_class
from core.config import Config
from core.errors import ErrorKind, PermanentError, classify_exception
from core.http import HttpClient
from core.models import Delivery, utcnow
from sync import timeline
from sync.intake import rfc3339
from sync.queue import Failure, WorkQueue, backoff

log = logging.getLogger(__name__)

DELIVERIES = WorkQueue(Delivery, state="state", group="appeal_id", blocking=("pending", "dead", "awaiting_review"))


@dataclass(frozen=True, slots=True)
class Delivered:
    """What became of one claimed delivery."""

    row: Any
    receipt: Receipt | None = None
    failure: Failure | None = None


class ChannelDirectory:
    """The connectors that carry deliveries, one per configured channel, built on first use."""

    def __init__(self, config: Config, http: HttpClient) -> None:
        self.config = config
        self.http = http
        self._built: dict[str, Connector] = {}

    def connector(self, channel_id: str) -> Connector | None:
        """The channel's connector, or None if the channel is no longer configured."""
        if channel_id not in self._built:
            ch = self.config.channel(channel_id)
            if ch is None:
                return None
            self._built[channel_id] = connector_class(ch.kind)(ch, self.http)
        return self._built[channel_id]

    def delivers(self, channel_id: str) -> bool:
        """Whether status and replies go back to this channel (its connector delivers and is set up to)."""
        conn = self.connector(channel_id)
        return isinstance(conn, DeliveringConnector) and conn.delivers_now()


def outbound(payload: dict[str, Any], kind: str) -> OutboundEvent:
    """The connector-facing event of a stored delivery."""
    at = rfc3339(payload.get("at"))
    return OutboundEvent(
        event_id=payload["event_id"],
        source_id=payload["source_id"],
        kind="reply" if kind == "reply" else "status",
        status=payload["status"],
        at=at or datetime.now(UTC),
        text=payload.get("text"),
        unit=payload.get("unit"),
        extra=dict(payload.get("extra") or {}),
    )


class Deliverer:
    """Sends due deliveries through their channels' connectors."""

    def __init__(self, engine: AsyncEngine, config: Config, channels: ChannelDirectory, owner: str) -> None:
        self.engine = engine
        self.settings = config.sync
        self.channels = channels
        self.owner = owner
        self._claim_lock = asyncio.Lock()
        self._in_flight = asyncio.Semaphore(self.settings.concurrency)

    async def round(self) -> int:
        """Claim, deliver and record one batch; how many deliveries it handled."""
        async with self._claim_lock, self.engine.begin() as conn:
            hold = timedelta(seconds=self.settings.claim_seconds)
            rows = await DELIVERIES.claim(conn, self.owner, utcnow(), self.settings.batch_size, hold)
        if not rows:
            return 0
        results = await asyncio.gather(*(self._deliver(r) for r in rows))
        await self._record(results)
        return len(results)

    async def _deliver(self, row: Any) -> Delivered:
        conn = self.channels.connector(row.channel_id)
        async with self._in_flight:
            try:
                if not isinstance(conn, DeliveringConnector):
                    raise PermanentError(f"channel {row.channel_id} is not configured to take deliveries")
                return Delivered(row, receipt=await conn.deliver(outbound(row.payload, row.kind)))
            except Exception as e:
                return Delivered(row, failure=Failure(classify_exception(e)))

    async def _record(self, results: Sequence[Delivered]) -> None:
        now = utcnow()
        async with self.engine.begin() as conn:
            lines = []
            for d in results:
                r = d.row
                values: dict[str, Any] = {"claimed_by": None, "claimed_until": None, "updated_at": now}
                detail = {"channel_id": r.channel_id, "status": r.payload.get("status"), "attempts": r.attempts}
                if d.receipt is not None:
                    receipt = {
                        "reference": d.receipt.reference,
                        "duplicate": d.receipt.duplicate,
                        **d.receipt.detail,
                    }
                    values |= {"state": "delivered", "delivered_at": now, "receipt": receipt, "last_error": None}
                    lines.append(
                        timeline.line(
                            r.case_id,
                            now,
                            "channel",
                            "delivered",
                            detail,
                            ref=f"delivery:{r.id}:delivered",
                            appeal_id=r.appeal_id,
                        )
                    )
                else:
                    assert d.failure is not None
                    values["last_error"] = d.failure.message()
                    if d.failure.is_final(r.attempts, self.settings.max_attempts):
                        values["state"] = "dead"
                        lines.append(
                            timeline.line(
                                r.case_id,
                                now,
                                "gateway",
                                "delivery_dead",
                                {**detail, "error": values["last_error"]},
                                ref=f"delivery:{r.id}:dead:{r.claimed_until.isoformat()}",
                                appeal_id=r.appeal_id,
                            )
                        )
                    else:
                        auth = d.failure.error.kind == ErrorKind.AUTH
                        values["next_attempt_at"] = now + backoff(
                            self.settings, r.attempts, d.failure.error.retry_after, capped=auth
                        )
                        if auth:
                            values["attempts"] = r.attempts - 1  # refused at the door: not an attempt used up
                await conn.execute(update(Delivery).where(Delivery.id == r.id).values(**values))
            await timeline.record_many(conn, lines)
