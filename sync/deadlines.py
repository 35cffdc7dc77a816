"""Time limits (办理时限) and automatic escalation (督办).

A case's deadlines start from its time tier when huiju receives its first appeal: accepted within 1 hour
(Xi'an); replied within 2 hours or 24 hours, or by the end of the 7th or 15th day. Days are Beijing days:
a day tier ends at midnight Asia/Shanghai time, N days after the day of receipt, whatever the server's zone.
Once the platform names a deadline (accepted, dispatched, extended) that one counts.

Every few seconds the escalation scan flags cases near their reply deadline (the last 20% of the time) and
overdue ones, and raises supervision on abnormal cases: not accepted within the hour, overdue, urged again and
again (多次催办: three or more repeat appeals). Unsatisfied revisits and cases returned twice are escalated
when their event is applied.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from core.config import SyncSettings
from core.models import Case, Flag
from core.sql import upsert_insert
from sync import outbox, timeline

SHANGHAI = ZoneInfo("Asia/Shanghai")
ACCEPT_WITHIN = timedelta(hours=1)
HOURS = {"2h": 2, "24h": 24}
DAYS = {"7d": 7, "15d": 15}
OPEN_STATES = ("ok", "near_due")


def tier_deadlines(received_at: datetime, tier: str) -> tuple[datetime, datetime]:
    """(accept by, reply by) for a case received at this time in this tier."""
    received_at = received_at.astimezone(UTC)  # hours are real hours, whatever zone the time came in
    if tier in HOURS:
        reply = received_at + timedelta(hours=HOURS[tier])
    else:
        day = received_at.astimezone(SHANGHAI).date() + timedelta(days=DAYS[tier] + 1)
        reply = datetime.combine(day, time(0), tzinfo=SHANGHAI)
    return received_at + ACCEPT_WITHIN, reply


def case_deadlines(received_at: datetime, tier: str) -> dict[str, Any]:
    """The deadline columns of a new case."""
    accept, reply = tier_deadlines(received_at, tier)
    return {"accept_due_at": accept, "reply_due_at": reply, "due_state": "ok"}


def flag_id(case_id: uuid.UUID, reason: str) -> str:
    """The flag's id at the platform: one flag per case and reason."""
    return f"{case_id}:{reason}"


async def raise_supervision(
    conn: AsyncConnection, case_id: uuid.UUID, reason: str, note: str, now: datetime
) -> bool:
    """Raise supervision (督办) on a case once per reason: a flag, its outbox message, a timeline line."""
    detail = {"reason": reason, "note": note}
    return await _raise(
        conn, case_id, "supervision", reason, detail, "supervision_raised", now, reason=reason, note=note
    )


GROUP_REASON = "group"  # the one group-appeal flag of a case


async def raise_group_appeal(
    conn: AsyncConnection, case_id: uuid.UUID, cluster_id: uuid.UUID, citizens: int, now: datetime
) -> bool:
    """Flag a hot issue's case as a group appeal (群体诉求) once: a flag, its outbox message, a timeline line."""
    detail = {"cluster_id": str(cluster_id), "citizens": citizens}
    return await _raise(
        conn, case_id, "group_appeal", GROUP_REASON, detail, "group_appeal_raised", now, cluster_id=str(cluster_id)
    )


async def raise_group_appeals(conn: AsyncConnection, clusters: dict[uuid.UUID, int], now: datetime) -> int:
    """Flag every case of these hot issues (cluster id -> people counted) not yet flagged as a group appeal."""
    flagged = exists().where(Flag.case_id == Case.id, Flag.kind == "group_appeal")
    rows = await conn.execute(
        select(Case.id, Case.cluster_id)
        .where(Case.cluster_id.in_(list(clusters)), ~flagged)
        .order_by(Case.created_at)
    )
    raised = 0
    for case_id, cluster_id in rows.all():
        raised += await raise_group_appeal(conn, case_id, cluster_id, clusters[cluster_id], now)
    return raised


async def _raise(
    conn: AsyncConnection,
    case_id: uuid.UUID,
    kind: str,
    reason: str,
    detail: dict[str, Any],
    line: str,
    now: datetime,
    /,
    **fields: Any,
) -> bool:
    fid = flag_id(case_id, reason)
    row = {"case_id": case_id, "flag_id": fid, "kind": kind, "reason": reason, "raised_at": now, "detail": detail}
    stmt = upsert_insert(conn, Flag).on_conflict_do_nothing(index_elements=["flag_id"]).returning(Flag.id)
    if (await conn.execute(stmt, [row])).first() is None:
        return False
    await outbox.enqueue(conn, [outbox.flag(case_id, fid, kind, now, **fields)])
    await timeline.record(conn, case_id, now, "gateway", line, detail, ref=f"flag:{fid}")
    return True


async def scan(conn: AsyncConnection, settings: SyncSettings, now: datetime, limit: int = 1000) -> dict[str, int]:
    """Flag near-due and overdue cases and escalate the abnormal ones; counts of what changed."""
    counts = {"accept_overdue": 0, "near_due": 0, "overdue": 0, "repeatedly_urged": 0}
    # Only a case with a work order is the platform's to handle in time: a shared record (its first appeal was
    # interconnect) is dispatched, and held to time, by its own platform.
    unreplied = and_(
        Case.work_order_no.is_not(None),
        Case.merged_into.is_(None),  # merged into another case by an auditor: that one is held to time
        Case.replied_at.is_(None),
        Case.reply_due_at.is_not(None),
        Case.due_state.in_(OPEN_STATES),
    )
    not_flagged = ~exists().where(Flag.case_id == Case.id, Flag.kind == "supervision", Flag.reason == "overdue")
    unaccepted = (
        await conn.execute(
            select(Case.id, Case.accept_due_at)
            .where(unreplied, Case.accepted_at.is_(None), Case.accept_due_at < now, not_flagged)
            .limit(limit)
        )
    ).all()
    for case_id, due in unaccepted:
        await timeline.record(
            conn,
            case_id,
            now,
            "gateway",
            "accept_overdue",
            {"accept_due_at": due.isoformat()},
            ref=f"due:{case_id}:accept:{due.isoformat()}",
        )
        note = f"签收时限 {due.astimezone(SHANGHAI):%Y-%m-%d %H:%M} 已过，尚未签收"
        await raise_supervision(conn, case_id, "overdue", note, now)
        counts["accept_overdue"] += 1
    overdue = (
        await conn.execute(
            select(Case.id, Case.reply_due_at).where(unreplied, Case.reply_due_at < now).limit(limit)
        )
    ).all()
    for case_id, due in overdue:
        await conn.execute(update(Case).where(Case.id == case_id).values(due_state="overdue", updated_at=now))
        await timeline.record(
            conn,
            case_id,
            now,
            "gateway",
            "overdue",
            {"reply_due_at": due.isoformat()},
            ref=f"due:{case_id}:overdue:{due.isoformat()}",
        )
        note = f"答复时限 {due.astimezone(SHANGHAI):%Y-%m-%d %H:%M} 已过，尚未答复"
        await raise_supervision(conn, case_id, "overdue", note, now)
        counts["overdue"] += 1
    horizon = now + timedelta(days=DAYS["15d"] + 1)
    candidates = (
        await conn.execute(
            select(Case.id, Case.created_at, Case.reply_due_at)
            .where(unreplied, Case.due_state == "ok", Case.reply_due_at >= now, Case.reply_due_at < horizon)
            .order_by(Case.reply_due_at)
            .limit(limit)
        )
    ).all()
    for case_id, start, due in candidates:
        if due - now > (due - start) * settings.near_due_fraction:
            continue
        await conn.execute(update(Case).where(Case.id == case_id).values(due_state="near_due", updated_at=now))
        await timeline.record(
            conn,
            case_id,
            now,
            "gateway",
            "near_due",
            {"reply_due_at": due.isoformat()},
            ref=f"due:{case_id}:near:{due.isoformat()}",
        )
        counts["near_due"] += 1
    urged = (
        await conn.execute(
            select(Case.id, Case.appeal_count)
            .outerjoin(Flag, and_(Flag.case_id == Case.id, Flag.reason == "repeatedly_urged"))
            .where(
                Case.work_order_no.is_not(None),
                Case.appeal_count - 1 >= settings.repeat_escalation,
                Flag.id.is_(None),
            )
            .limit(limit)
        )
    ).all()
    for case_id, count in urged:
        await raise_supervision(conn, case_id, "repeatedly_urged", f"同一诉求已重复反映 {count - 1} 次", now)
        counts["repeatedly_urged"] += 1
    return counts
