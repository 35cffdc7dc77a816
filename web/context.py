"""What the HTTP handlers share: the gateway's long-lived resources, under one typed app key."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter as Tally
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.base import InboundItem
from core.batcher import IngestBatcher
from core.config import Config
from core.ingest import IngestResult, Pipeline, Submission
from core.runner import Supervisor
from core.sql import bump_counters
from sync.service import SyncService
from web.auth import TokenRing

log = logging.getLogger(__name__)


class RejectionCounter:
    """Counts rejected requests in memory and adds them to the counters table every few seconds.

    A flood of bad requests then costs one small write per interval, not one per request.
    """

    def __init__(self, engine: AsyncEngine, interval_s: float = 5.0) -> None:
        self._engine = engine
        self._interval = interval_s
        self._pending: Tally[tuple[str, str]] = Tally()
        self._task: asyncio.Task[None] | None = None

    def add(self, channel_id: str, reason: str) -> None:
        """Count one rejected request."""
        self._pending[(channel_id, f"rejected_{reason}")] += 1

    async def flush(self) -> None:
        """Write what was counted since the last flush."""
        if not self._pending:
            return
        pending, self._pending = dict(self._pending), Tally()
        try:
            async with self._engine.begin() as conn:
                await bump_counters(conn, pending)
        except Exception as e:
            log.warning("could not store rejection counters: %s", e)
            self._pending.update(pending)

    def start(self) -> None:
        """Flush periodically in the background."""
        self._task = asyncio.create_task(self._loop(), name="rejection-counter")

    async def stop(self) -> None:
        """Stop flushing, after one last flush."""
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.flush()


@dataclass
class GatewayContext:
    """The long-lived resources of one gateway process."""

    config: Config
    engine: AsyncEngine
    pipeline: Pipeline
    batcher: IngestBatcher
    channels: Supervisor  # which channels are enabled, and the poll jobs
    rejections: RejectionCounter
    tokens: TokenRing
    started_at: datetime
    sync: SyncService | None = None  # the background sync loops (None when the app only serves HTTP)

    async def submit(self, channel_id: str, item: InboundItem, received_at: datetime) -> IngestResult:
        """Ingest one received item through the group-commit batcher."""
        result = await self.batcher.submit(Submission(channel_id, item, received_at))
        if self.sync is not None and result.outcome == "accepted":
            self.sync.wake("dispatch")
        return result


CTX = web.AppKey("huiju", GatewayContext)
