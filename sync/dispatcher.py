"""The outbox dispatcher: sends owed messages to the target, durably retried, in order per case.

A round: claim a batch of due messages (sync/queue.py), render and freeze the request of each that has none
yet — in the claiming transaction, before anything is sent —, send them concurrently through the one shared
HTTP client (which retries a transient failure a few times inside the call), then record every outcome in one
transaction:

- answered: `sent`, with the answer's identifiers, and its effect on the case (the work order number);
- nothing to send for this target: `skipped`, with the reason;
- failed: back to `pending` with the next attempt time (doubling with jitter, capped), or `dead` with the
  last error after a permanent failure or the last allowed attempt. An auth failure never dead-letters: the
  messages wait for an administrator to fix the credentials.

A crash between sending and recording leaves the message claimed; once the claim runs out it is sent again,
byte for byte, and the platform answers the idempotency key it already knows with the first answer: never a
second work order.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from core.config import SyncSettings
from core.errors import ChannelError, ErrorKind, classify_exception
from core.models import Appeal, Case, OutboxMessage, utcnow
from core.sql import case_status
from sync import timeline
from sync.queue import Failure, WorkQueue, backoff
from sync.targets.base import (
    CREATE_WORK_ORDER,
    SHARE_RECORD,
    UPDATE_SHARED_RECORD,
    FrozenRequest,
    RenderContext,
    Skip,
    Target,
)

log = logging.getLogger(__name__)

OUTBOX = WorkQueue(OutboxMessage, state="status", group="case_id", after="after_key")
OUTBOX_TABLE = OutboxMessage.__table__


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one claimed message."""

    id: int
    case_id: uuid.UUID
    kind: str
    attempts: int
    claimed_until: datetime  # names the claim: one timeline line per claim, even after a retry resets attempts
    answer: dict[str, Any] | None = None
    skipped: str | None = None
    failure: Failure | None = None


class Dispatcher:
    """Sends the outbox to one target."""

    def __init__(self, engine: AsyncEngine, target: Target, settings: SyncSettings, owner: str) -> None:
        self.engine = engine
        self.target = target
        self.settings = settings
        self.owner = owner
        self._claim_lock = asyncio.Lock()  # one claimer per process; instances share through SKIP LOCKED
        self._in_flight = asyncio.Semaphore(settings.concurrency)
        self._health: str | None = None

    async def round(self) -> int:
        """Claim, send and record one batch; how many messages it handled."""
        claimed = await self._claim()
        if not claimed:
            return 0
        outcomes = await asyncio.gather(*(self._send(row, req) for row, req in claimed))
        await self._record(outcomes)
        return len(outcomes)

    async def _claim(self) -> list[tuple[Any, FrozenRequest | Skip]]:
        async with self._claim_lock, self.engine.begin() as conn:
            now = utcnow()
            hold = timedelta(seconds=self.settings.claim_seconds)
            rows = await OUTBOX.claim(conn, self.owner, now, self.settings.batch_size, hold)
            if not rows:
                return []
            fresh = [r for r in rows if r.request is None]
            contexts = await _contexts(conn, fresh)
            claimed: list[tuple[Any, FrozenRequest | Skip]] = []
            frozen: list[dict[str, Any]] = []
            for row in rows:
                if row.request is not None:
                    claimed.append((row, FrozenRequest.from_json(row.request)))
                    continue
                try:
                    request = self.target.render(contexts[row.id])
                except ChannelError as e:
                    request = Skip(f"cannot be rendered: {e}")
                except Exception as e:  # a rendering bug costs this message, not the batch
                    log.exception("outbox message %s could not be rendered", row.id)
                    request = Skip(f"cannot be rendered: {type(e).__name__}: {e}")
                if isinstance(request, FrozenRequest):
                    frozen.append({"m": row.id, "request": request.to_json()})
                claimed.append((row, request))
            if frozen:
                await conn.execute(
                    update(OUTBOX_TABLE)
                    .where(OUTBOX_TABLE.c.id == bindparam("m"))
                    .values(request=bindparam("request")),
                    frozen,
                )
            return claimed

    async def _send(self, row: Any, request: FrozenRequest | Skip) -> Outcome:
        if isinstance(request, Skip):
            return Outcome(row.id, row.case_id, row.kind, row.attempts, row.claimed_until, skipped=request.reason)
        async with self._in_flight:
            try:
                answer = await self.target.send(request, resent=row.attempts > 1)
            except Exception as e:
                return Outcome(
                    row.id,
                    row.case_id,
                    row.kind,
                    row.attempts,
                    row.claimed_until,
                    failure=Failure(classify_exception(e)),
                )
        return Outcome(row.id, row.case_id, row.kind, row.attempts, row.claimed_until, answer=answer)

    async def _record(self, outcomes: Sequence[Outcome]) -> None:
        """Every outcome of a round in one transaction, in a few statements whatever the batch size."""
        now = utcnow()
        sent, others, lines = [], [], []
        work_orders, records = [], []
        for o in outcomes:
            if o.answer is not None:
                effects = self.target.answer_effects(o.kind, o.answer)
                sent.append({"m": o.id, "response": effects})
                if o.kind == CREATE_WORK_ORDER and effects.get("work_order_no"):
                    work_orders.append({"c": o.case_id, "no": effects["work_order_no"]})
                elif o.kind == SHARE_RECORD and effects.get("record_no"):
                    records.append({"c": o.case_id, "no": effects["record_no"]})
                lines.append(self._line(o, f"{o.kind}_sent", {"attempts": o.attempts, **effects}, "sent", now))
                continue
            values: dict[str, Any]
            if o.skipped is not None:
                values = {"status": "skipped", "last_error": o.skipped}
                lines.append(
                    self._line(o, "message_skipped", {"kind": o.kind, "reason": o.skipped}, "skipped", now)
                )
            else:
                assert o.failure is not None
                values = {"last_error": o.failure.message()}
                if o.failure.is_final(o.attempts, self.settings.max_attempts):
                    values["status"] = "dead"
                    detail = {"kind": o.kind, "attempts": o.attempts, "error": values["last_error"]}
                    lines.append(self._line(o, "message_dead", detail, "dead", now))
                else:
                    auth = o.failure.error.kind == ErrorKind.AUTH
                    values["next_attempt_at"] = now + backoff(
                        self.settings, o.attempts, o.failure.error.retry_after, capped=auth
                    )
                    if auth:
                        # Refused at the door: it never reached the platform, and must not use up the attempts
                        # it will need once the credentials are fixed.
                        values["attempts"] = o.attempts - 1
            others.append((o.id, values))
        async with self.engine.begin() as conn:
            if sent:
                await conn.execute(
                    update(OUTBOX_TABLE)
                    .where(OUTBOX_TABLE.c.id == bindparam("m"))
                    .values(
                        status="sent",
                        sent_at=now,
                        response=bindparam("response"),
                        last_error=None,
                        claimed_by=None,
                        claimed_until=None,
                    ),
                    sent,
                )
            for message_id, values in others:
                await conn.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == message_id)
                    .values(claimed_by=None, claimed_until=None, **values)
                )
            cases = Case.__table__
            if work_orders:
                await conn.execute(
                    update(cases)
                    .where(cases.c.id == bindparam("c"), cases.c.work_order_no.is_(None))
                    .values(work_order_no=bindparam("no"), status=case_status("submitted"), updated_at=now),
                    work_orders,
                )
            if records:
                await conn.execute(
                    update(cases)
                    .where(
                        cases.c.id == bindparam("c"), cases.c.record_no.is_(None), cases.c.work_order_no.is_(None)
                    )
                    .values(record_no=bindparam("no"), status=case_status("shared"), updated_at=now),
                    records,
                )
            await timeline.record_many(conn, lines)
        self._note_health(outcomes)

    @staticmethod
    def _line(o: Outcome, kind: str, detail: dict[str, Any], what: str, now: datetime) -> dict[str, Any]:
        """The case's timeline line for a message's outcome (once per attempt)."""
        return timeline.line(
            o.case_id, now, "gateway", kind, detail, ref=f"outbox:{o.id}:{what}:{o.claimed_until.isoformat()}"
        )

    def _note_health(self, outcomes: Sequence[Outcome]) -> None:
        failures = [o.failure for o in outcomes if o.failure is not None]
        health = "ok" if len(failures) < len(outcomes) else failures[-1].error.kind.value
        if health != self._health:
            if health == "ok":
                log.info("platform %s: sending", self.target.kind)
            elif health == ErrorKind.AUTH:
                log.error("platform %s refuses huiju's credentials: %s", self.target.kind, failures[-1].error)
            else:
                log.warning("platform %s failing (%s): %s", self.target.kind, health, failures[-1].error)
        self._health = health


async def _contexts(conn: Any, rows: Sequence[Any]) -> dict[int, RenderContext]:
    """What each message is rendered from, read in a few queries for the whole batch."""
    if not rows:
        return {}
    case_ids = {r.case_id for r in rows} | {uuid.UUID(r.payload["into_case_id"]) for r in rows if _into(r)}
    appeal_ids = {uuid.UUID(r.payload["appeal_id"]) for r in rows if r.payload.get("appeal_id")}
    cases = {c.id: c._mapping for c in await conn.execute(select(Case).where(Case.id.in_(case_ids)))}
    appeals = {}
    if appeal_ids:
        appeals = {a.id: a._mapping for a in await conn.execute(select(Appeal).where(Appeal.id.in_(appeal_ids)))}
    records = await _shared_records(conn, [r for r in rows if r.kind == UPDATE_SHARED_RECORD])
    out = {}
    for r in rows:
        appeal_id = uuid.UUID(r.payload["appeal_id"]) if r.payload.get("appeal_id") else None
        case = cases[r.case_id]
        into = cases.get(uuid.UUID(r.payload["into_case_id"])) if _into(r) else None
        out[r.id] = RenderContext(
            r.kind,
            r.payload,
            case,
            appeals.get(appeal_id),
            case["work_order_no"],
            records.get(appeal_id),
            into["work_order_no"] if into else None,
        )
    return out


def _into(r: Any) -> bool:
    return bool(r.payload.get("into_case_id"))


async def _shared_records(conn: Any, rows: Sequence[Any]) -> dict[uuid.UUID, str]:
    keys = [f"appeal:{r.payload['appeal_id']}:share" for r in rows]
    if not keys:
        return {}
    found = await conn.execute(
        select(OutboxMessage.payload, OutboxMessage.response).where(
            OutboxMessage.idempotency_key.in_(keys), OutboxMessage.status == "sent"
        )
    )
    return {uuid.UUID(p["appeal_id"]): resp["record_no"] for p, resp in found if resp and resp.get("record_no")}
