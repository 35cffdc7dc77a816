"""Status and reply intake: the platform's events, stored first, applied to their case in order, once.

An event arrives by callback, from the feed, or by polling (Open311). It is stored verbatim, unique on its
`event_id`, before anything acknowledges it; the same event again changes nothing. The applier then takes each
work order's stored events in `seq` order: the next one is applied only when every earlier one has been, so
out-of-order callbacks end in one clean timeline. A gap that stays open longer than `gap_wait_seconds` is
filled by reading the work order's events from the platform.

Applying an event, in one transaction with the case row locked:
- a timeline line, and the case's status, unit and deadlines;
- one delivery for every appeal of the case whose channel takes status back (three channels, three
  deliveries); a reply for a merged-mode channel waits for the channel's review first;
- supervision (督办) when the event makes the case abnormal: returned too often, an unsatisfied revisit.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.config import Config
from core.models import Appeal, Case, Delivery, PlatformEvent, utcnow
from core.sql import case_status, upsert_insert
from sync import timeline
from sync.deadlines import raise_supervision
from sync.targets.base import Target

log = logging.getLogger(__name__)

EVENT_TYPES = ("accepted", "dispatched", "returned", "extended", "replied", "closed", "revisited")
ORPHAN_AFTER = timedelta(hours=1)  # an event whose work order huiju does not know, after this long
CHANNEL_EVENT_ID_MAX = 64


def rfc3339(value: Any) -> datetime | None:
    """An RFC 3339 time with an offset, or None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        return None
    return t if t.tzinfo is not None else None


class EventRejected(ValueError):
    """The event cannot be stored: it lacks what makes it an event (the reason says what)."""


def event_row(doc: Any, source: str, now: datetime) -> dict[str, Any]:
    """A platform_events row for one event document; raises EventRejected."""
    if not isinstance(doc, dict):
        raise EventRejected("an event must be a JSON object")
    event_id, no, seq, kind = doc.get("event_id"), doc.get("work_order_no"), doc.get("seq"), doc.get("type")
    if not isinstance(event_id, str) or not 0 < len(event_id) <= 64:
        raise EventRejected("event_id: required, 1 to 64 characters")
    if not isinstance(no, str) or not 0 < len(no) <= 64:
        raise EventRejected("work_order_no: required, 1 to 64 characters")
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise EventRejected("seq: required, an integer from 1")
    if not isinstance(kind, str) or not 0 < len(kind) <= 24:
        raise EventRejected("type: required")
    at = rfc3339(doc.get("at"))
    if at is None:
        raise EventRejected("at: required, RFC 3339 with an offset")
    case_id = None
    if isinstance(doc.get("case_id"), str):
        try:
            case_id = uuid.UUID(doc["case_id"])
        except ValueError:
            case_id = None
    return {
        "event_id": event_id,
        "work_order_no": no,
        "case_id": case_id,
        "seq": seq,
        "type": kind,
        "at": at,
        "body": doc,
        "source": source,
        "received_at": now,
        "state": "pending",
        "applied_at": None,
        "error": None,
    }


async def store_events(conn: AsyncConnection, rows: list[dict[str, Any]]) -> int:
    """Store event rows (an event id already stored is left alone); how many were new."""
    if not rows:
        return 0
    stmt = upsert_insert(conn, PlatformEvent).on_conflict_do_nothing(index_elements=["event_id"])
    result = await conn.execute(stmt.returning(PlatformEvent.id), rows)
    return len(result.all())


def channel_event_id(event_id: str, appeal_id: uuid.UUID) -> str:
    """The event id a channel sees: one per (event, appeal), at most 64 characters."""
    value = f"{event_id}.{appeal_id.hex}"
    return value if len(value) <= CHANNEL_EVENT_ID_MAX else hashlib.sha256(value.encode()).hexdigest()[:40]


class Applier:
    """Applies stored events to their cases."""

    def __init__(
        self,
        engine: AsyncEngine,
        config: Config,
        target: Target,
        delivers: Callable[[str], bool],
    ) -> None:
        self.engine = engine
        self.config = config
        self.settings = config.sync
        self.target = target
        self.delivers = delivers  # whether a channel takes status and replies back

    async def round(self, limit: int = 200) -> int:
        """Apply what can be applied now, fetching gaps that waited too long; how many events were applied."""
        applied, gaps = await self._apply(limit)
        for no in gaps:
            try:
                events = await self.target.work_order_events(no)
            except Exception as e:
                log.warning("could not read work order %s to fill a gap: %s", no, e)
                continue
            now = utcnow()
            rows = []
            for doc in events:
                try:
                    rows.append(event_row(doc, "fetch", now))
                except EventRejected as e:
                    log.warning("work order %s: an event read from the platform is unusable: %s", no, e)
            async with self.engine.begin() as conn:
                await store_events(conn, rows)
        if gaps:
            more, _ = await self._apply(limit)
            applied += more
        return applied

    async def _apply(self, limit: int) -> tuple[int, list[str]]:
        now = utcnow()
        async with self.engine.begin() as conn:
            waiting = (
                (
                    await conn.execute(
                        select(PlatformEvent.work_order_no)
                        .where(PlatformEvent.state == "pending")
                        .group_by(PlatformEvent.work_order_no)
                        .order_by(func.min(PlatformEvent.id))
                        .limit(limit)
                    )
                )
                .scalars()
                .all()
            )
            if not waiting:
                return 0, []
            cases = await self._cases(conn, list(waiting), now)
            events = (
                await conn.execute(
                    select(PlatformEvent)
                    .where(PlatformEvent.state == "pending", PlatformEvent.work_order_no.in_(waiting))
                    .order_by(PlatformEvent.work_order_no, PlatformEvent.seq, PlatformEvent.id)
                )
            ).all()
            by_order: dict[str, list[Any]] = defaultdict(list)
            for e in events:
                by_order[e.work_order_no].append(e)
            appeals = await self._appeals(conn, [c.id for c in cases.values()])
            applied, gaps = 0, []
            for no, pending in by_order.items():
                case = cases.get(no)
                if case is None:
                    stale = [e.id for e in pending if now - e.received_at > ORPHAN_AFTER]
                    if stale:
                        await _set_state(conn, stale, "orphan", now, "no case of huiju has this work order")
                    continue
                n, gap = await self._apply_order(conn, case, pending, appeals.get(case.id, []), now)
                applied += n
                if gap is not None and now - gap > timedelta(seconds=self.settings.gap_wait_seconds):
                    gaps.append(no)
            return applied, gaps

    async def _cases(self, conn: AsyncConnection, orders: list[str], now: datetime) -> dict[str, Any]:
        """The cases of these work orders, locked; a case whose create answer is not recorded yet is found by
        the case id the event names (the platform's signed word) and learns its work order number here."""
        query = select(Case).where(Case.work_order_no.in_(orders))
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(of=Case)
        found = {c.work_order_no: c for c in (await conn.execute(query)).all()}
        missing = [o for o in orders if o not in found]
        if missing:
            named = await conn.execute(
                select(PlatformEvent.work_order_no, PlatformEvent.case_id)
                .where(PlatformEvent.work_order_no.in_(missing), PlatformEvent.case_id.is_not(None))
                .distinct()
            )
            for no, case_id in named.all():
                done = await conn.execute(
                    update(Case)
                    .where(Case.id == case_id, Case.work_order_no.is_(None))
                    .values(work_order_no=no, status=case_status("submitted"), updated_at=now)
                )
                if done.rowcount:
                    case = (await conn.execute(select(Case).where(Case.id == case_id))).one()
                    found[no] = case
        return found

    async def _appeals(self, conn: AsyncConnection, case_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
        rows = await conn.execute(
            select(Appeal.id, Appeal.case_id, Appeal.channel_id, Appeal.source_id, Appeal.mode)
            .where(Appeal.case_id.in_(case_ids))
            .order_by(Appeal.received_at)
        )
        out: dict[uuid.UUID, list[Any]] = defaultdict(list)
        for r in rows.all():
            out[r.case_id].append(r)
        return out

    async def _apply_order(
        self, conn: AsyncConnection, case: Any, pending: list[Any], appeals: list[Any], now: datetime
    ) -> tuple[int, datetime | None]:
        """Apply one work order's pending events in seq order; (how many, when the open gap was first seen)."""
        state = dict(case._mapping)
        applied: list[int] = []
        superseded: list[int] = []
        deliveries: list[dict[str, Any]] = []
        lines: list[dict[str, Any]] = []
        gap: datetime | None = None
        for e in pending:
            expected = state["last_event_seq"] + 1
            if e.seq < expected:
                superseded.append(e.id)
                continue
            if e.seq > expected:
                gap = min(x.received_at for x in pending if x.seq >= e.seq)
                break
            changes = await self._effects(conn, state, e, now)
            state.update(changes, last_event_seq=e.seq)
            lines.append(
                timeline.line(case.id, e.at, "platform", e.type, _detail(e.body), ref=f"event:{e.event_id}")
            )
            deliveries += deliveries_of(e, appeals, self.delivers, self.settings.delivery_deadline_seconds, now)
            applied.append(e.id)
        if applied:
            keep = (
                "status",
                "platform_status",
                "last_event_seq",
                "unit_name",
                "returns",
                "accepted_at",
                "replied_at",
                "reply_due_at",
                "due_state",
            )
            await conn.execute(
                update(Case).where(Case.id == case.id).values(**{k: state[k] for k in keep}, updated_at=now)
            )
            await timeline.record_many(conn, lines)
            if deliveries:
                stmt = upsert_insert(conn, Delivery).on_conflict_do_nothing(index_elements=["idempotency_key"])
                await conn.execute(stmt, deliveries)
            await _set_state(conn, applied, "applied", now)
        if superseded:
            await _set_state(conn, superseded, "superseded", now, "an event with this seq was applied before")
        return len(applied), gap

    async def _effects(self, conn: AsyncConnection, case: dict[str, Any], e: Any, now: datetime) -> dict[str, Any]:
        """How one event changes its case (and the supervision it raises)."""
        body: Mapping[str, Any] = e.body
        out: dict[str, Any] = {"status": e.type, "platform_status": e.type}
        deadline = rfc3339(body.get("deadline"))
        if deadline is not None:
            out["reply_due_at"] = deadline
            if case["replied_at"] is None and case["due_state"] in ("overdue", "near_due") and deadline > now:
                out["due_state"] = "ok"
        unit = body.get("unit")
        if isinstance(unit, dict) and unit.get("name") and e.type == "dispatched":
            out["unit_name"] = unit["name"]
        if e.type == "accepted":
            out["accepted_at"] = e.at
        elif e.type == "dispatched" and case["replied_at"] is not None:
            out |= {"replied_at": None, "due_state": "ok"}  # handled again: returned after review, or reopened
        elif e.type == "returned" and body.get("by") != "review":
            out["returns"] = case["returns"] + 1
            if out["returns"] >= self.settings.return_escalation:
                note = f"已被承办单位退回 {out['returns']} 次"
                await raise_supervision(conn, case["id"], "returned_twice", note, now)
        elif e.type == "replied":
            due = out.get("reply_due_at", case["reply_due_at"])
            out |= {"replied_at": e.at, "due_state": "met" if due is None or e.at <= due else "late"}
        elif e.type == "revisited" and body.get("satisfaction") == "unsatisfied":
            await raise_supervision(conn, case["id"], "unsatisfied_revisit", "回访不满意", now)
        return out


def deliveries_of(
    e: Any, appeals: Iterable[Any], delivers: Callable[[str], bool], deadline_seconds: float, now: datetime
) -> list[dict[str, Any]]:
    """One delivery of a platform event (a platform_events row) for every appeal whose channel takes it back."""
    if e.type not in EVENT_TYPES:
        return []
    body = e.body
    unit = body.get("unit") if isinstance(body.get("unit"), dict) else {}
    extra = {k: body[k] for k in ("deadline", "reason", "resolved", "satisfaction", "note") if k in body}
    extra["work_order_no"] = e.work_order_no
    due = now + timedelta(seconds=deadline_seconds)
    out = []
    for a in appeals:
        if not delivers(a.channel_id):
            continue
        review = e.type == "replied" and a.mode == "merged"
        out.append(
            {
                "case_id": a.case_id,
                "appeal_id": a.id,
                "channel_id": a.channel_id,
                "kind": "reply" if e.type == "replied" else "status",
                "idempotency_key": f"{e.event_id}:{a.id}",
                "event_id": e.event_id,
                "payload": {
                    "event_id": channel_event_id(e.event_id, a.id),
                    "source_id": a.source_id,
                    "status": e.type,
                    "at": body.get("at"),
                    "text": body.get("text"),
                    "unit": unit.get("name"),
                    "extra": extra,
                },
                "state": "awaiting_review" if review else "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "deadline": due,
                "last_error": None,
                "receipt": None,
                "created_at": now,
                "updated_at": now,
            }
        )
    return out


async def catch_up(
    conn: AsyncConnection,
    appeals: list[Any],
    delivers: Callable[[str], bool],
    deadline_seconds: float,
    now: datetime,
) -> None:
    """Appeals merged into cases the platform already answered get what their case already has: the reply
    (if there is one) and the latest status, so that a citizen who asks again on another channel hears back."""
    case_ids = {a.case_id for a in appeals}
    if not case_ids:
        return
    orders = dict(
        (
            await conn.execute(
                select(Case.id, Case.work_order_no).where(Case.id.in_(case_ids), Case.work_order_no.is_not(None))
            )
        ).all()
    )
    if not orders:
        return
    events = (
        await conn.execute(
            select(PlatformEvent)
            .where(PlatformEvent.work_order_no.in_(list(orders.values())), PlatformEvent.state == "applied")
            .order_by(PlatformEvent.work_order_no, PlatformEvent.seq)
        )
    ).all()
    by_order: dict[str, list[Any]] = defaultdict(list)
    for e in events:
        by_order[e.work_order_no].append(e)
    rows: list[dict[str, Any]] = []
    for a in appeals:
        applied = by_order.get(orders.get(a.case_id, ""), [])
        owed = [e for e in applied if e.type == "replied"][-1:] + applied[-1:]
        for e in {e.event_id: e for e in owed}.values():
            rows += deliveries_of(e, [a], delivers, deadline_seconds, now)
    if rows:
        stmt = upsert_insert(conn, Delivery).on_conflict_do_nothing(index_elements=["idempotency_key"])
        await conn.execute(stmt, rows)


def _detail(body: Mapping[str, Any]) -> dict[str, Any]:
    """What the timeline keeps of an event: everything but the identifiers it is filed under."""
    return {k: v for k, v in body.items() if k not in ("event_id", "case_id", "type", "at")}


async def _set_state(conn: AsyncConnection, ids: list[int], state: str, now: datetime, error: str | None = None):
    await conn.execute(
        update(PlatformEvent).where(PlatformEvent.id.in_(ids)).values(state=state, applied_at=now, error=error)
    )
