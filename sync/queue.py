"""What the outbox and the deliveries share: claiming due work in order, and durable back-off.

Both are tables of work owed to another system. A worker claims due rows in one short transaction (on
PostgreSQL with FOR UPDATE SKIP LOCKED, so several instances share the work; SQLite has one writer), marks
them with its name and a claim deadline and counts the attempt, then sends outside any transaction, then
records the outcome. A row whose worker died is claimed again once its claim deadline has passed; its attempt
was counted, so the next one knows it is a resend.

Rows of one group (the outbox: a case; deliveries: an appeal) go in the order they were written: a row waits
while an earlier row of its group is still pending or dead, and, when it names one (the outbox's `after_key`),
while that row of another group is.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from core.config import SyncSettings
from core.errors import ChannelError, ErrorKind


@dataclass(frozen=True, slots=True)
class WorkQueue:
    """One table of owed work: its model, its state column and values, and its ordering group."""

    model: Any
    state: str  # the column holding the state
    group: str  # rows of one group go in order
    pending: str = "pending"
    blocking: tuple[str, ...] = ("pending", "dead")  # an earlier row in these states holds later ones back
    after: str | None = None  # the column naming (by `key`) a row of another group that must go first
    key: str = "idempotency_key"

    def column(self, model: Any, name: str) -> Any:
        """A column of the model (or of an alias of it)."""
        return getattr(model, name)

    async def claim(
        self, conn: AsyncConnection, owner: str, now: datetime, limit: int, hold: timedelta
    ) -> list[Any]:
        """Claim up to `limit` due rows (oldest due first), count their attempt, and return them as claimed."""
        m, earlier = self.model, aliased(self.model)
        blocked = exists().where(
            and_(
                self.column(earlier, self.group) == self.column(m, self.group),
                earlier.id < m.id,
                self.column(earlier, self.state).in_(self.blocking),
            )
        )
        if self.after is not None:  # a row may also wait for one named row of another group
            awaited = aliased(self.model)
            blocked = or_(
                blocked,
                exists().where(
                    self.column(awaited, self.key) == self.column(m, self.after),
                    self.column(awaited, self.state).in_(self.blocking),
                ),
            )
        query = (
            select(m.id)
            .where(
                self.column(m, self.state) == self.pending,
                m.next_attempt_at <= now,
                or_(m.claimed_until.is_(None), m.claimed_until < now),
                ~blocked,
            )
            .order_by(m.next_attempt_at, m.id)
            .limit(limit)
        )
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=m)
        ids = list((await conn.execute(query)).scalars())
        if not ids:
            return []
        await conn.execute(
            update(m)
            .where(m.id.in_(ids))
            .values(claimed_by=owner, claimed_until=now + hold, attempts=m.attempts + 1)
        )
        rows = (await conn.execute(select(m).where(m.id.in_(ids)).order_by(m.id))).all()
        return list(rows)


def backoff(
    settings: SyncSettings, attempts: int, retry_after: float | None = None, *, capped: bool = False
) -> timedelta:
    """How long to wait before attempt `attempts + 1`: doubling from the initial delay up to the cap, with
    jitter (so that a backlog does not come back all at once), and never sooner than the other side asked."""
    base = min(settings.backoff_max_seconds, settings.backoff_initial_seconds * 2 ** max(0, attempts - 1))
    if capped:  # refused credentials: the count does not grow, and asking often will not fix them
        base = settings.backoff_max_seconds
    delay = base * random.uniform(0.5, 1.0)
    if retry_after:
        delay = max(delay, min(retry_after, settings.backoff_max_seconds))
    return timedelta(seconds=delay)


@dataclass(frozen=True, slots=True)
class Failure:
    """Why one attempt failed, and what happens next."""

    error: ChannelError

    def is_final(self, attempts: int, max_attempts: int) -> bool:
        """Dead letter now: a permanent error, or the last attempt allowed (auth failures wait for a fix)."""
        if self.error.kind == ErrorKind.PERMANENT:
            return True
        return self.error.kind != ErrorKind.AUTH and attempts >= max_attempts

    def message(self) -> str:
        """The error as kept with the row."""
        return f"{self.error.kind}: {self.error}"[:2000]
