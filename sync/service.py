"""The sync service: the background loops of one gateway process.

- the dispatcher sends the outbox to the target;
- the applier applies stored platform events to their cases;
- the deliverer carries status and replies back to the channels;
- the escalation scan flags near-due and overdue cases and raises supervision;
- the event reader reads the platform's feed (for a platform without callbacks, and to reconcile missed
  callbacks) or polls an Open311 server, under a lease so that one instance reads at a time.

Each loop runs a round, and when a round found nothing to do it sleeps until woken (something was just
stored in this process) or `idle_seconds` pass (something was stored by another instance). A failing round
is logged and retried; it never stops the other loops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from core.config import Config
from core.http import HttpClient
from core.models import Case, SyncCursor, utcnow
from core.sql import upsert_insert
from sync import deadlines
from sync.deliveries import ChannelDirectory, Deliverer
from sync.dispatcher import Dispatcher
from sync.intake import Applier, EventRejected, event_row, store_events
from sync.targets import make_target
from sync.targets.base import Target

log = logging.getLogger(__name__)

FEED = "platform-events"
FEED_LEASE = timedelta(seconds=60)
CLOSED = ("closed", "revisited")


class Loop:
    """One background loop: rounds until stopped, sleeping when idle until woken."""

    def __init__(self, name: str, round_: Callable[[], Awaitable[int]], idle: float) -> None:
        self.name = name
        self._round = round_
        self._idle = idle
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def wake(self) -> None:
        """Run a round soon."""
        self._wake.set()

    def start(self) -> None:
        """Start the loop as a task."""
        self._task = asyncio.create_task(self._run(), name=f"sync-{self.name}")

    async def stop(self) -> None:
        """Let the running round finish, then stop."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        failing = False
        while not self._stopping:
            try:
                done = await self._round()
                if failing:
                    log.info("sync %s recovered", self.name)
                failing = False
            except Exception as e:  # the database or a bug: log once, wait, try again
                if not failing:
                    log.warning("sync %s failing: %s: %s", self.name, type(e).__name__, e)
                failing, done = True, 0
            if done == 0 and not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._idle)
                self._wake.clear()


class SyncService:
    """Every sync loop of this process, and the hooks that wake them."""

    def __init__(self, engine: AsyncEngine, config: Config, http: HttpClient, owner: str) -> None:
        self.engine = engine
        self.config = config
        self.owner = owner
        self.target: Target = make_target(config.platform, http)
        self.channels = ChannelDirectory(config, http)
        self.dispatcher = Dispatcher(engine, self.target, config.sync, owner)
        self.applier = Applier(engine, config, self.target, self.channels.delivers)
        self.deliverer = Deliverer(engine, config, self.channels, owner)
        idle = config.sync.idle_seconds
        self.loops = {
            "dispatch": Loop("dispatch", self.dispatcher.round, idle),
            "apply": Loop("apply", self._apply, idle),
            "deliver": Loop("deliver", self.deliverer.round, idle),
            "escalate": Loop("escalate", self._escalate, config.sync.escalation_seconds),
        }
        read_every = self._read_interval()
        if read_every:
            self.loops["read"] = Loop("read", self._read_events, read_every)

    def _read_interval(self) -> float:
        p = self.config.platform
        if p.kind == "open311" and p.open311 is not None:
            return p.open311.poll_seconds
        return p.feed_poll_seconds

    def start(self) -> None:
        """Start every loop."""
        for loop in self.loops.values():
            loop.start()

    async def stop(self) -> None:
        """Stop every loop after its current round."""
        await asyncio.gather(*(loop.stop() for loop in self.loops.values()))

    def wake(self, *names: str) -> None:
        """Wake these loops (after something they handle was committed)."""
        for name in names:
            if name in self.loops:
                self.loops[name].wake()

    async def _apply(self) -> int:
        applied = await self.applier.round()
        if applied:
            self.wake("deliver", "dispatch")
        return applied

    async def _escalate(self) -> int:
        async with self.engine.begin() as conn:
            counts = await deadlines.scan(conn, self.config.sync, utcnow())
        if counts["overdue"] or counts["repeatedly_urged"]:
            self.wake("dispatch")
            log.info("escalation: %s", counts)
        return 0  # the scan runs on its interval, not again at once

    async def store_callback(self, doc: Any) -> bool:
        """Store one event the platform called back with; whether it was new. Raises EventRejected."""
        row = event_row(doc, "callback", utcnow())
        async with self.engine.begin() as conn:
            new = await store_events(conn, [row])
        if new:
            self.wake("apply")
        return bool(new)

    async def _read_events(self) -> int:
        """Read the feed (or poll Open311) while this instance holds the reader's lease."""
        if not await self._take_lease():
            return 0
        async with self.engine.connect() as conn:
            cursor = (await conn.execute(select(SyncCursor.cursor).where(SyncCursor.name == FEED))).scalar()
            open_orders = (
                (
                    await conn.execute(
                        select(Case.work_order_no).where(
                            Case.work_order_no.is_not(None),
                            (Case.platform_status.is_(None)) | (Case.platform_status.not_in(CLOSED)),
                        )
                    )
                )
                .scalars()
                .all()
            )
        stored = 0
        for _ in range(100):  # pages per round; the next round goes on
            page = await self.target.read_events(cursor, list(open_orders))
            now = utcnow()
            rows = []
            for doc in page.events:
                try:
                    rows.append(event_row(doc, "feed" if self.target.kind == "12345" else "poll", now))
                except EventRejected as e:
                    log.warning("an event of the platform's feed is unusable and skipped: %s", e)
            async with self.engine.begin() as conn:
                stored += await store_events(conn, rows)
                await conn.execute(update(SyncCursor).where(SyncCursor.name == FEED).values(cursor=page.cursor))
            cursor = page.cursor
            if not page.has_more:
                break
        if stored:
            self.wake("apply")
        return 0

    async def _take_lease(self) -> bool:
        now = utcnow()
        async with self.engine.begin() as conn:
            stmt = upsert_insert(conn, SyncCursor).on_conflict_do_nothing(index_elements=["name"])
            await conn.execute(stmt, [{"name": FEED, "cursor": None, "updated_at": now}])
            taken = await conn.execute(
                update(SyncCursor)
                .where(
                    SyncCursor.name == FEED,
                    (SyncCursor.lease_owner == self.owner)
                    | SyncCursor.lease_expires_at.is_(None)
                    | (SyncCursor.lease_expires_at < now),
                )
                .values(lease_owner=self.owner, lease_expires_at=now + FEED_LEASE, updated_at=now)
            )
            return bool(taken.rowcount)
