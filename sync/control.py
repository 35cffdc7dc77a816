"""What admins do with the outbox, the deliveries and cases: list, retry, replay, look at one case.

Shared by `gateway.py outbox|deliveries|cases` and the admin API, so that both do exactly the same. Every
retry and replay is written on the case's timeline with the admin who asked for it. Views carry no personal
data in clear: appeals show masked phone and ID numbers, and frozen requests are not shown.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from core.masking import mask_id_number, mask_openid, mask_phone
from core.models import Appeal, Case, Delivery, Flag, OutboxMessage, utcnow
from sync import timeline
from sync.render import identifiers, scrub

OUTBOX_STATES = ("pending", "sent", "dead", "skipped")
DELIVERY_STATES = ("pending", "awaiting_review", "delivered", "rejected", "superseded", "dead")


class NotFound(LookupError):
    """No such outbox message, delivery or case."""


class Refused(ValueError):
    """The action does not apply to the message in its state."""


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None


def outbox_view(r: Any) -> dict[str, Any]:
    """One outbox message, without its frozen request (which carries the appeal)."""
    return {
        "id": r.id,
        "case_id": str(r.case_id),
        "kind": r.kind,
        "idempotency_key": r.idempotency_key,
        "status": r.status,
        "attempts": r.attempts,
        "next_attempt_at": _iso(r.next_attempt_at),
        "last_error": r.last_error,
        "created_at": _iso(r.created_at),
        "sent_at": _iso(r.sent_at),
        "response": r.response,
        "frozen": r.request is not None,
    }


def _late(r: Any) -> bool:
    """Delivered after its deadline, or still owed past it (a reply in review or rejected is not owed)."""
    if r.deadline is None:
        return False
    if r.delivered_at is not None:
        return r.delivered_at > r.deadline
    return r.state in ("pending", "dead") and r.deadline < utcnow()


def delivery_view(r: Any) -> dict[str, Any]:
    """One delivery: what it carries, where it goes, how it went."""
    return {
        "id": r.id,
        "case_id": str(r.case_id),
        "appeal_id": str(r.appeal_id),
        "channel_id": r.channel_id,
        "kind": r.kind,
        "event_id": r.event_id,
        "status": r.payload.get("status"),
        "text": r.payload.get("text"),
        "unit": r.payload.get("unit"),
        "state": r.state,
        "attempts": r.attempts,
        "next_attempt_at": _iso(r.next_attempt_at),
        "deadline": _iso(r.deadline),
        "late": _late(r),
        "last_error": r.last_error,
        "receipt": r.receipt,
        "delivered_at": _iso(r.delivered_at),
        "reviewed_by": r.reviewed_by,
        "review_comment": r.review_comment,
    }


async def list_outbox(
    conn: AsyncConnection, status: str | None = None, case_id: uuid.UUID | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Outbox messages, newest first, optionally of one status or case."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status:
        query = query.where(OutboxMessage.status == status)
    if case_id:
        query = query.where(OutboxMessage.case_id == case_id)
    return [outbox_view(r) for r in await conn.execute(query)]


async def _outbox_rows(conn: AsyncConnection, ids: Sequence[int] | None, default_status: str) -> list[Any]:
    """The messages named (every one must exist, none may be being sent), or every message in default_status
    when ids is None."""
    query = select(OutboxMessage.id, OutboxMessage.case_id, OutboxMessage.status, OutboxMessage.claimed_until)
    if ids is None:
        return list((await conn.execute(query.where(OutboxMessage.status == default_status))).all())
    if not ids:
        raise ValueError("ids: name at least one message, or leave ids out")
    rows = list((await conn.execute(query.where(OutboxMessage.id.in_(list(ids))))).all())
    missing = sorted(set(ids) - {r.id for r in rows})
    if missing:
        raise NotFound(f"no outbox message {', '.join(map(str, missing))}")
    _not_in_flight(rows, "outbox message", "status")
    return rows


def _not_in_flight(rows: Sequence[Any], what: str, state: str) -> None:
    """Refuse to change rows a worker is sending right now (its claim still runs): acting on one would let a
    second send, perhaps of a request rendered anew, race the first."""
    now = utcnow()
    busy = [r.id for r in rows if getattr(r, state) == "pending" and r.claimed_until and r.claimed_until > now]
    if busy:
        raise Refused(f"{what} {', '.join(map(str, busy))} is being sent right now: try again in a moment")


async def retry_outbox(
    conn: AsyncConnection, ids: Sequence[int] | None, actor: str, rerender: bool = False
) -> list[int]:
    """Send dead (or waiting) messages again now, from a fresh attempt count; every dead one if ids is None.

    rerender: render the request anew from the case and appeal instead of sending the frozen one (after the
    platform refused its content and the cause was fixed on huiju's side). Messages already sent are left.
    """
    rows = [r for r in await _outbox_rows(conn, ids, "dead") if r.status in ("dead", "pending")]
    return await _requeue(
        conn, rows, actor, "outbox_retried", {"attempts": 0, **({"request": None} if rerender else {})}
    )


async def replay_outbox(conn: AsyncConnection, message_id: int, actor: str) -> list[int]:
    """Send a message that was sent once more, the very same request: the platform answers it with what it
    answered the first time (a check that both sides still agree)."""
    [row] = await _outbox_rows(conn, [message_id], "sent")
    if row.status != "sent":
        raise Refused(f"outbox message {message_id} is {row.status}: only a sent message is replayed (retry it)")
    return await _requeue(conn, [row], actor, "outbox_replayed", {})


async def discard_outbox(conn: AsyncConnection, ids: Sequence[int], actor: str, reason: str) -> list[int]:
    """Give up on dead or waiting messages for good (recorded as skipped, with who and why): the messages of
    their case after them go on."""
    if not reason.strip():
        raise ValueError("reason: say why the messages are given up")
    rows = [r for r in await _outbox_rows(conn, ids, "dead") if r.status in ("dead", "pending")]
    now = utcnow()
    if rows:
        await conn.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_([r.id for r in rows]))
            .values(status="skipped", last_error=f"discarded by {actor}: {reason}"[:2000], claimed_until=None)
        )
        await _note(conn, rows, actor, "outbox_discarded", now, reason=reason)
    return [r.id for r in rows]


async def _requeue(conn: AsyncConnection, rows: Sequence[Any], actor: str, kind: str, values: dict[str, Any]):
    now = utcnow()
    ids = [r.id for r in rows]
    if ids:
        due = {"status": "pending", "next_attempt_at": now, "claimed_until": None, **values}
        await conn.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(**due))
        await _note(conn, rows, actor, kind, now)
    return ids


async def _note(conn: AsyncConnection, rows: Sequence[Any], actor: str, kind: str, now: datetime, **extra: Any):
    lines = [
        timeline.line(r.case_id, now, "admin", kind, {"message_id": r.id, "was": r.status, "by": actor, **extra})
        for r in rows
    ]
    await timeline.record_many(conn, lines)


async def list_deliveries(
    conn: AsyncConnection,
    state: str | None = None,
    channel_id: str | None = None,
    case_id: uuid.UUID | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Deliveries, newest first, optionally of one state, channel or case."""
    query = select(Delivery).order_by(Delivery.id.desc()).limit(limit)
    if state:
        query = query.where(Delivery.state == state)
    if channel_id:
        query = query.where(Delivery.channel_id == channel_id)
    if case_id:
        query = query.where(Delivery.case_id == case_id)
    return [delivery_view(r) for r in await conn.execute(query)]


async def retry_deliveries(conn: AsyncConnection, ids: Sequence[int] | None, actor: str) -> list[int]:
    """Deliver dead (or waiting) deliveries again now, from a fresh attempt count; all dead ones if ids is None."""
    query = select(Delivery.id, Delivery.case_id, Delivery.state, Delivery.claimed_until)
    if ids is None:
        rows = list((await conn.execute(query.where(Delivery.state == "dead"))).all())
    elif not ids:
        raise ValueError("ids: name at least one delivery, or leave ids out")
    else:
        rows = list((await conn.execute(query.where(Delivery.id.in_(list(ids))))).all())
        missing = sorted(set(ids) - {r.id for r in rows})
        if missing:
            raise NotFound(f"no delivery {', '.join(map(str, missing))}")
        _not_in_flight(rows, "delivery", "state")
    rows = [r for r in rows if r.state in ("dead", "pending")]
    now = utcnow()
    chosen = [r.id for r in rows]
    if chosen:
        await conn.execute(
            update(Delivery)
            .where(Delivery.id.in_(chosen))
            .values(state="pending", attempts=0, next_attempt_at=now, claimed_until=None, updated_at=now)
        )
        lines = [
            timeline.line(r.case_id, now, "admin", "delivery_retried", {"delivery_id": r.id, "by": actor})
            for r in rows
        ]
        await timeline.record_many(conn, lines)
    return chosen


async def case_view(conn: AsyncConnection, case_id: uuid.UUID) -> dict[str, Any]:
    """One case: its state and deadlines, its appeals (masked), flags, timeline, outbox and deliveries."""
    case = (await conn.execute(select(Case).where(Case.id == case_id))).first()
    if case is None:
        raise NotFound(f"no case {case_id}")
    appeals = (
        await conn.execute(select(Appeal).where(Appeal.case_id == case_id).order_by(Appeal.received_at))
    ).all()
    flags = (await conn.execute(select(Flag).where(Flag.case_id == case_id).order_by(Flag.id))).all()
    doc = {
        k: (_iso(v) if isinstance(v, datetime) else (str(v) if isinstance(v, uuid.UUID) else v))
        for k, v in case._mapping.items()
    }
    hidden = [x for a in appeals if a.confidential for x in identifiers(a._mapping)]
    doc["title"] = scrub(case.title, hidden)  # a reporter may have typed their own name into a title
    doc["appeals"] = [
        {
            "id": str(a.id),
            "channel_id": a.channel_id,
            "source_id": a.source_id,
            "mode": a.mode,
            "type": a.type,
            "received_at": _iso(a.received_at),
            "title": scrub(a.title, identifiers(a._mapping)) if a.confidential else a.title,
            "confidential": a.confidential,
            "citizen": None
            if a.confidential
            else {
                "name": a.citizen_name,
                "phone": mask_phone(a.phone),
                "id_number": mask_id_number(a.id_number),
                "openid": mask_openid(a.openid),
            },
        }
        for a in appeals
    ]
    doc["flags"] = [
        {"flag_id": f.flag_id, "kind": f.kind, "reason": f.reason, "raised_at": _iso(f.raised_at), **f.detail}
        for f in flags
    ]
    doc["timeline"] = [
        {
            "at": _iso(e.at),
            "source": e.source,
            "kind": e.kind,
            "detail": e.detail,
            "appeal_id": str(e.appeal_id) if e.appeal_id else None,
        }
        for e in await timeline.of_case(conn, case_id)
    ]
    doc["outbox"] = await list_outbox(conn, case_id=case_id, limit=1000)
    doc["deliveries"] = await list_deliveries(conn, case_id=case_id, limit=1000)
    return doc
