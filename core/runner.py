"""The poll runner: one scheduled job per enabled polling channel, and the supervisor that keeps the jobs in
line with what admins set.

A tick of one channel:
1. take (or renew) the channel's lease, so that exactly one gateway instance polls it;
2. start at the stored cursor minus the look-back window, so that items the source committed late, with an
   older update time, are still seen (seeing an item twice is harmless: it is a redelivery);
3. page through the feed; for each page, store its items and move the cursor in ONE transaction, and only
   while the lease is still ours. The cursor never moves past the "signpost", the source's clock when the
   tick began, so that items changed during the tick are read again next time rather than skipped;
4. record health, logging only when it changes.

Errors follow core.errors: transient and permanent ones back off (the next scheduled tick is the retry),
an auth failure pauses only this channel, one malformed item is quarantined by the pipeline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.base import InboundItem, PollingConnector, Position, unidentified_source_id
from core import channels
from core.config import ChannelSettings, Config
from core.errors import ChannelError, ErrorKind, classify_exception
from core.http import HttpClient
from core.ingest import Pipeline, Submission
from core.models import ChannelState, utcnow

log = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")
LEASE_TTL = timedelta(seconds=20)  # a dead instance's channels are taken over within this plus one tick
HEARTBEAT_SECONDS = 5
SYNC_SECONDS = 2
MAX_BACKOFF = timedelta(minutes=15)
MAX_SOURCE_ID = 128  # raw_items.source_id


def instance_id() -> str:
    """This process's name in leases: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def usable(item: InboundItem) -> InboundItem:
    """The item, or, if its source id cannot be stored (empty or over 128 characters), the item under a stable
    stand-in id, so that it is quarantined like any malformed item instead of failing the whole page."""
    if 0 < len(item.source_id) <= MAX_SOURCE_ID and item.source_id.strip():
        return item
    return InboundItem(unidentified_source_id(item.payload), item.payload, item.content_type)


async def _released(lock: asyncio.Lock) -> None:
    """Wait until whoever holds the lock lets it go."""
    await lock.acquire()
    lock.release()


class LeaseLost(Exception):
    """Another instance took this channel over; the page in hand is not committed."""


class ChannelRunner:
    """Polls one channel: one tick at a time, items and cursor committed together."""

    def __init__(self, engine: AsyncEngine, pipeline: Pipeline, connector: PollingConnector, owner: str) -> None:
        self.engine = engine
        self.pipeline = pipeline
        self.connector = connector
        self.channel: ChannelSettings = connector.channel
        self.owner = owner
        self.schedule = self.channel.schedule
        self._lock = asyncio.Lock()
        self._health: str | None = None
        self._last_tick: datetime | None = None
        self._resume: Position | None = None
        self.stopping = False

    @property
    def busy(self) -> bool:
        """Whether a tick is running now."""
        return self._lock.locked()

    async def tick(self) -> int:
        """Poll until the feed is drained (or the page cap); returns how many items the channel handed over."""
        if self._lock.locked() or self.stopping:
            return 0
        async with self._lock:
            try:
                return await self._tick()
            except Exception as e:  # the database itself failing: nothing was committed; try next tick
                log.warning("channel %s: tick abandoned: %s: %s", self.channel.id, type(e).__name__, e)
                return 0

    async def _tick(self) -> int:
        now = utcnow()
        state = await self._acquire()
        if state is None:
            return 0
        if state.paused or (state.backoff_until and state.backoff_until > now):
            return 0
        cursor = Position.from_json(state.cursor)
        lookback = timedelta(seconds=self.schedule.lookback_seconds)
        # A tick that stopped at the page cap goes on where it stopped; only a drained feed is read again from
        # the look-back window (else a window holding more than one tick's pages would be read forever).
        position = self._resume or (None if cursor is None else Position(cursor.updated_at - lookback, ""))
        self._resume = None
        signpost: Position | None = None
        handed = pages = 0
        try:
            while True:
                page = await self.connector.poll(position, self.connector.page_size)
                if signpost is None:
                    signpost = Position(page.server_time or utcnow())
                subs = [Submission(self.channel.id, usable(p.item), utcnow()) for p in page.items]
                prepared = await self.pipeline.prepare_stepwise(subs)
                if page.items:
                    newest = max(p.position for p in page.items)
                    capped = min(newest, signpost)
                    cursor = capped if cursor is None else max(cursor, capped)
                async with self.engine.begin() as conn:
                    results = await self.pipeline.write(conn, prepared)
                    new = sum(r.outcome != "redelivery" for r in results)
                    if not await self._save_cursor(conn, cursor, new):
                        raise LeaseLost(self.channel.id)
                handed += len(page.items)
                pages += 1
                if page.next is None:
                    break
                if pages >= self.schedule.max_pages_per_tick:
                    self._resume = page.next
                    break
                position = page.next
        except LeaseLost:
            log.warning("channel %s: lease lost to another instance; page not committed", self.channel.id)
            return handed
        except Exception as e:  # every failure is classified; one channel's failure never stops the others
            await self._failed(classify_exception(e), e)
            return handed
        await self._succeeded(handed, cursor, signpost)
        return handed

    async def _acquire(self) -> Any | None:
        """Take or renew the lease; the channel's state if this instance now holds it, else None."""
        now = utcnow()
        async with self.engine.begin() as conn:
            await channels.ensure_rows(conn, [self.channel.id])
            result = await conn.execute(
                update(ChannelState)
                .where(
                    ChannelState.channel_id == self.channel.id,
                    or_(
                        ChannelState.lease_owner.is_(None),
                        ChannelState.lease_owner == self.owner,
                        ChannelState.lease_expires_at < now,
                    ),
                )
                .values(lease_owner=self.owner, lease_expires_at=now + LEASE_TTL)
            )
            if result.rowcount != 1:
                return None
            return (
                await conn.execute(select(ChannelState).where(ChannelState.channel_id == self.channel.id))
            ).one()

    async def _save_cursor(self, conn: Any, cursor: Position | None, items: int) -> bool:
        now = utcnow()
        result = await conn.execute(
            update(ChannelState)
            .where(ChannelState.channel_id == self.channel.id, ChannelState.lease_owner == self.owner)
            .values(
                cursor=cursor.to_json() if cursor else None,
                lease_expires_at=now + LEASE_TTL,
                items_total=ChannelState.items_total + items,
                updated_at=now,
            )
        )
        return result.rowcount == 1

    async def renew_lease(self) -> None:
        """Keep the lease while this instance runs the channel (between ticks too)."""
        now = utcnow()
        async with self.engine.begin() as conn:
            await conn.execute(
                update(ChannelState)
                .where(ChannelState.channel_id == self.channel.id, ChannelState.lease_owner == self.owner)
                .values(lease_expires_at=now + LEASE_TTL)
            )

    async def release_lease(self) -> None:
        """Give the channel up at once (on shutdown or when it is switched off)."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(ChannelState)
                .where(ChannelState.channel_id == self.channel.id, ChannelState.lease_owner == self.owner)
                .values(lease_owner=None, lease_expires_at=None)
            )

    async def _succeeded(self, handed: int, cursor: Position | None, signpost: Position | None) -> None:
        now = utcnow()
        per_minute = None
        if self._last_tick is not None:
            minutes = max((now - self._last_tick).total_seconds() / 60, 1e-6)
            per_minute = handed / minutes
        self._last_tick = now
        lag = None
        if cursor is not None and signpost is not None:
            lag = max((signpost.updated_at - cursor.updated_at).total_seconds(), 0.0)
        async with self.engine.begin() as conn:
            previous = (
                await conn.execute(
                    select(ChannelState.consecutive_failures).where(ChannelState.channel_id == self.channel.id)
                )
            ).scalar()
            values: dict[str, Any] = {
                "last_success_at": now,
                "consecutive_failures": 0,
                "backoff_until": None,
                "lag_seconds": lag,
                "health": "ok",
                "updated_at": now,
            }
            if per_minute is not None:
                values["items_per_minute"] = per_minute
            await conn.execute(
                update(ChannelState).where(ChannelState.channel_id == self.channel.id).values(**values)
            )
        if self._health != "ok":
            if previous:
                log.info("channel %s recovered after %d failed polls", self.channel.id, previous)
            else:
                log.info("channel %s polling", self.channel.id)
        self._health = "ok"

    async def _failed(self, error: ChannelError, original: BaseException) -> None:
        now = utcnow()
        message = str(error)[:2000]
        async with self.engine.begin() as conn:
            failures = (
                await conn.execute(
                    select(ChannelState.consecutive_failures).where(ChannelState.channel_id == self.channel.id)
                )
            ).scalar() or 0
            failures += 1
            values: dict[str, Any] = {
                "last_error_at": now,
                "last_error": f"{error.kind}: {message}",
                "consecutive_failures": failures,
                "updated_at": now,
            }
            if error.kind == ErrorKind.AUTH:
                values.update(paused=True, paused_reason=f"auth failure: {message}", health="paused")
            else:
                values.update(backoff_until=now + self._backoff(failures, error.retry_after), health="failing")
            await conn.execute(
                update(ChannelState).where(ChannelState.channel_id == self.channel.id).values(**values)
            )
        health = values["health"]
        if health != self._health:
            if error.kind == ErrorKind.AUTH:
                log.error(
                    "channel %s paused: the source refused our credentials (%s); fix them, then "
                    "`gateway.py channels resume %s`",
                    self.channel.id,
                    message,
                    self.channel.id,
                )
            elif error.kind == ErrorKind.PERMANENT and not isinstance(original, ChannelError):
                log.error("channel %s failing: %s", self.channel.id, message, exc_info=original)
            else:
                log.warning("channel %s failing (%s): %s", self.channel.id, error.kind, message)
        self._health = health

    def _backoff(self, failures: int, retry_after: float | None) -> timedelta:
        base = self.schedule.interval_seconds or 60.0
        delay = timedelta(seconds=min(base * 2 ** (failures - 1), MAX_BACKOFF.total_seconds()))
        if retry_after:
            delay = max(delay, timedelta(seconds=min(retry_after, MAX_BACKOFF.total_seconds())))
        return delay - timedelta(seconds=base)  # the next tick itself is one interval away


class Supervisor:
    """Runs the scheduler: one job per active polling channel, kept in line with channel_state."""

    def __init__(
        self, engine: AsyncEngine, config: Config, pipeline: Pipeline, http: HttpClient, owner: str | None = None
    ) -> None:
        self.engine = engine
        self.config = config
        self.pipeline = pipeline
        self.http = http
        self.owner = owner or instance_id()
        self.scheduler = AsyncIOScheduler(
            timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}
        )
        self.runners: dict[str, ChannelRunner] = {}
        self.enabled: dict[str, bool] = {}
        self._poll_seen: dict[str, datetime | None] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._sync_lock = asyncio.Lock()

    def start(self) -> None:
        """Start the scheduler with the supervisor's own jobs."""
        self.scheduler.add_job(
            self.sync, IntervalTrigger(seconds=SYNC_SECONDS), id="supervisor-sync", next_run_time=datetime.now(UTC)
        )
        self.scheduler.add_job(self.heartbeat, IntervalTrigger(seconds=HEARTBEAT_SECONDS), id="lease-heartbeat")
        self.scheduler.start()

    async def stop(self) -> None:
        """Stop scheduling, let running ticks finish, give leases back."""
        # Shutting the scheduler down cancels running jobs, which could leave a transaction half-way: stop
        # starting jobs first, let the running ones finish, then shut down.
        self.scheduler.pause()
        for runner in self.runners.values():
            runner.stopping = True
        await _released(self._sync_lock)
        for runner in self.runners.values():
            await _released(runner._lock)  # a tick in progress finishes its page
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.scheduler.shutdown(wait=False)
        for runner in self.runners.values():
            with contextlib.suppress(Exception):
                await runner.release_lease()

    def is_enabled(self, channel_id: str) -> bool:
        """Whether a channel takes appeals now (push channels ask this for each request)."""
        ch = self.config.channel(channel_id)
        return ch is not None and self.enabled.get(channel_id, ch.enabled)

    async def sync(self) -> None:
        """Re-read channel_state and add, remove or trigger jobs to match it."""
        async with self._sync_lock:
            await self._sync()

    async def _sync(self) -> None:
        try:
            async with self.engine.begin() as conn:
                await channels.ensure_rows(conn, [c.id for c in self.config.channels])
                by_id = await channels.states(conn)
        except Exception as e:
            log.warning("channel state not readable (%s); keeping the current jobs", type(e).__name__)
            return
        for ch in self.config.channels:
            st = by_id.get(ch.id)
            enabled = channels.effective_enabled(ch, st)
            self.enabled[ch.id] = enabled
            if not ch.schedule:
                continue
            active = enabled and not (st and st.paused)
            job_id = f"poll:{ch.id}"
            job = self.scheduler.get_job(job_id)
            if active and job is None:
                self._add_job(ch)
            elif not active and job is not None:
                job.remove()
                if ch.id in self.runners:
                    await self.runners[ch.id].release_lease()
                log.info("channel %s stopped (%s)", ch.id, "disabled" if not enabled else "paused")
            requested = st.poll_requested_at if st else None
            if active and requested and requested != self._poll_seen.get(ch.id):
                self.poll_now(ch.id)
            self._poll_seen[ch.id] = requested

    def _add_job(self, ch: ChannelSettings) -> None:
        from connectors.registry import connector_class

        runner = self.runners.get(ch.id)
        if runner is None:
            connector = connector_class(ch.kind)(ch, self.http)
            runner = self.runners[ch.id] = ChannelRunner(self.engine, self.pipeline, connector, self.owner)
        trigger = (
            CronTrigger.from_crontab(ch.schedule.cron, timezone=SHANGHAI)
            if ch.schedule.cron
            else IntervalTrigger(seconds=ch.schedule.interval_seconds)
        )
        self.scheduler.add_job(
            runner.tick, trigger, id=f"poll:{ch.id}", name=f"poll {ch.id}", next_run_time=datetime.now(UTC)
        )
        log.info("channel %s scheduled (%s)", ch.id, ch.schedule.cron or f"every {ch.schedule.interval_seconds} s")

    def poll_now(self, channel_id: str) -> bool:
        """Run a tick of this channel now (False if it is not scheduled here or already polling)."""
        runner = self.runners.get(channel_id)
        if runner is None or runner.busy or self.scheduler.get_job(f"poll:{channel_id}") is None:
            return False
        task = asyncio.create_task(runner.tick(), name=f"poll-now-{channel_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def heartbeat(self) -> None:
        """Renew the leases of the channels this instance polls."""
        for channel_id, runner in self.runners.items():
            if self.scheduler.get_job(f"poll:{channel_id}") is not None:
                try:
                    await runner.renew_lease()
                except Exception as e:
                    log.warning("lease heartbeat for %s failed: %s", channel_id, type(e).__name__)
