"""What auditors do with the matcher's decisions: unmerge an appeal, merge two cases, mark two appeals "not the
same matter"; and the hot issues they watch.

Shared by `gateway.py audit …` and the auditor API (/audit/v1), so that both do exactly the same. Each action
commits in one transaction with its merge-log entry (actor: the auditor), the case timeline lines, and the
outbox messages that tell the 12345 platform, under the same locks as the matcher's decisions, so that every
gateway instance's matcher learns of it before its next decision (dedup/assign.py reads the log).

- **unmerge**: the appeal becomes a case of its own. The platform detaches the repeat from the old case's work
  order, and only then gets a work order for the new case (the platform refuses an appeal that is still in
  another work order). The appeal's deliveries that were still owed from the old case move with it to the new
  case and are withdrawn (`superseded`): the old case's reply does not answer this appeal; its own case's will.
  A case's founding appeal (the one its work order was created from) cannot be unmerged: unmerge the others.
- **merge**: every appeal of one case joins another; the first case is closed as `merged`, and the platform
  merges its work order into the other's (工单合并). The appeals get what the other case already has (its reply,
  its latest status), as any repeat does.
- **distinct**: two appeals are not the same matter. If they share a case, the later one is unmerged; if their
  cases are in one hot-issue cluster, the later case leaves it. The matcher never again merges or links an
  appeal into the case of one of them on the strength of the other, and cases holding them cannot be merged by
  hand.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy import case as when
from sqlalchemy.ext.asyncio import AsyncConnection

from core.config import Config
from core.ids import new_id
from core.ingest import Late, Pipeline, case_row
from core.masking import mask_text
from core.models import Appeal, Case, Delivery, Flag, MergeEntry, utcnow
from core.sql import advisory_xact_lock, insert_new
from dedup import mergelog
from dedup.assign import DEDUP_LOCK
from sync import intake, outbox, timeline
from sync.control import NotFound, Refused

__all__ = ["Auditor", "NotFound", "Refused", "auditor_for", "hot_issues"]

RULE = "auditor"
VERSION = "1"
REASON_MAX = 500
FOUNDING = ("new", "unmerge")  # the decisions that open a case with the appeal as its first
OWED = ("pending", "awaiting_review", "dead")  # deliveries not yet made


@dataclass(frozen=True, slots=True)
class Auditor:
    """Who acts, and how the gateway delivers (which channels, how soon): what every action needs."""

    actor: str  # token:<name> or cli:<user>
    delivers: Callable[[str], bool] = lambda channel_id: True
    delivery_deadline_seconds: float = 3600.0

    async def unmerge(self, conn: AsyncConnection, appeal_id: uuid.UUID, reason: str) -> dict[str, Any]:
        """Take an appeal out of its case into a case of its own."""
        _check_reason(reason)
        await advisory_xact_lock(conn, DEDUP_LOCK)
        return await self._unmerge(conn, await _appeal(conn, appeal_id), reason, utcnow())

    async def merge(
        self, conn: AsyncConnection, case_id: uuid.UUID, into_id: uuid.UUID, reason: str
    ) -> dict[str, Any]:
        """Merge every appeal of one case into another."""
        _check_reason(reason)
        await advisory_xact_lock(conn, DEDUP_LOCK)
        now = utcnow()
        case, into = await _case(conn, case_id), await _case(conn, into_id)
        if case.id == into.id:
            raise Refused("a case cannot be merged into itself")
        for c in (case, into):
            if c.merged_into is not None:
                raise Refused(f"case {c.id} was merged into case {c.merged_into} already")
        moving = list(
            (
                await conn.execute(
                    select(Appeal.id, Appeal.channel_id, Appeal.source_id, Appeal.mode)
                    .where(Appeal.case_id == case.id)
                    .order_by(Appeal.received_at)
                )
            ).all()
        )
        staying = set((await conn.execute(select(Appeal.id).where(Appeal.case_id == into.id))).scalars())
        moved = {m.id for m in moving}
        for a, b, entry in await _marked(conn, [*moved, *staying]):
            if {a, b} & moved and {a, b} & staying:
                raise Refused(
                    f"appeals {a} and {b} were marked not the same matter by {entry.actor} "
                    f"({entry.evidence.get('reason')!r}): these cases cannot be merged"
                )
        await conn.execute(update(Appeal).where(Appeal.case_id == case.id).values(case_id=into.id))
        await conn.execute(
            update(Case)
            .where(Case.id == into.id)
            .values(
                appeal_count=Case.appeal_count + len(moving),
                cluster_id=into.cluster_id or case.cluster_id,
                updated_at=now,
            )
        )
        await conn.execute(
            update(Case)
            .where(Case.id == case.id)
            .values(appeal_count=0, status="merged", merged_into=into.id, updated_at=now)
        )
        merge_id = str(new_id())
        await outbox.enqueue(conn, [outbox.merge_cases(case.id, into.id, merge_id, reason, now)])
        await intake.catch_up(
            conn,
            [Late(m.id, into.id, m.channel_id, m.source_id, m.mode) for m in moving],
            self.delivers,
            self.delivery_deadline_seconds,
            now,
        )
        ids = [str(m.id) for m in moving]
        await timeline.record_many(
            conn,
            [
                self._line(
                    case.id, now, "case_merged_away", {"into_case": str(into.id), "reason": reason}, merge_id
                ),
                self._line(
                    into.id,
                    now,
                    "case_merged_in",
                    {"from_case": str(case.id), "appeals": ids, "reason": reason},
                    merge_id,
                ),
            ],
        )
        evidence = {"from_case": str(case.id), "merge_id": merge_id, "reason": reason}
        await mergelog.append(conn, [self._entry(m.id, into.id, "manual_merge", evidence, now) for m in moving])
        return {"case_id": str(into.id), "from_case": str(case.id), "appeals": ids, "merge_id": merge_id}

    async def distinct(
        self, conn: AsyncConnection, a_id: uuid.UUID, b_id: uuid.UUID, reason: str
    ) -> dict[str, Any]:
        """Mark two appeals "not the same matter" (and part them if they share a case or a cluster)."""
        _check_reason(reason)
        if a_id == b_id:
            raise Refused("an appeal is always the same matter as itself")
        await advisory_xact_lock(conn, DEDUP_LOCK)
        now = utcnow()
        a, b = await _appeal(conn, a_id), await _appeal(conn, b_id)
        for x, y, entry in await _marked(conn, [a.id, b.id]):
            if {x, y} == {a.id, b.id}:
                return {"appeals": [str(a.id), str(b.id)], "marked": False, "by": entry.actor}
        first, later = sorted((a, b), key=lambda r: (r.received_at, str(r.id)))
        outcome: dict[str, Any] = {"appeals": [str(a.id), str(b.id)], "marked": True}
        evidence: dict[str, Any] = {"other_appeal": str(b.id), "other_case": str(b.case_id), "reason": reason}
        cases = {
            c.id: c for c in (await conn.execute(select(Case).where(Case.id.in_([a.case_id, b.case_id])))).all()
        }
        cluster = cases[a.case_id].cluster_id
        if a.case_id != b.case_id and cluster is not None and cluster == cases[b.case_id].cluster_id:
            leaving = max(cases.values(), key=lambda c: (c.created_at, str(c.id)))
            await conn.execute(update(Case).where(Case.id == leaving.id).values(cluster_id=None, updated_at=now))
            evidence["left_cluster"] = {"case_id": str(leaving.id), "cluster_id": str(cluster)}
            outcome["left_cluster"] = evidence["left_cluster"]
        await mergelog.append(conn, [self._entry(a.id, a.case_id, "distinct", evidence, now)])
        await timeline.record_many(
            conn,
            [
                self._line(
                    r.case_id,
                    now,
                    "marked_distinct",
                    {"appeal_id": str(r.id), "other": str(o.id), "reason": reason},
                )
                for r, o in ((a, b), (b, a))
            ],
        )
        if a.case_id == b.case_id:
            founder = await _founder(conn, a.case_id)
            moving = later if later.id != founder else first
            outcome["unmerged"] = await self._unmerge(conn, moving, reason, now)
        return outcome

    async def _unmerge(self, conn: AsyncConnection, appeal: Any, reason: str, now: datetime) -> dict[str, Any]:
        old = appeal.case_id
        if await _founder(conn, old) == appeal.id:
            raise Refused(
                f"appeal {appeal.id} opened case {old} (its work order was created from it): "
                "unmerge the case's other appeals instead"
            )
        history = list(
            (
                await conn.execute(
                    select(MergeEntry.decision, MergeEntry.case_id, MergeEntry.evidence)
                    .where(MergeEntry.appeal_id == appeal.id)
                    .order_by(MergeEntry.id)
                )
            ).all()
        )
        joined = [h.decision for h in history if h.case_id == old and h.decision != "distinct"][-1:]
        attached = joined in (["merge"], ["manual_merge"]) and appeal.mode != "interconnect"
        left_before = sum(
            1 for h in history if h.decision == "unmerge" and h.evidence.get("from_case") == str(old)
        )
        case_id = new_id()
        await insert_new(conn, Case, [case_row(case_id, {**appeal._mapping, "received_at": now}, now)])
        await conn.execute(update(Appeal).where(Appeal.id == appeal.id).values(case_id=case_id))
        await conn.execute(
            update(Case).where(Case.id == old).values(appeal_count=Case.appeal_count - 1, updated_at=now)
        )
        messages, after = [], None
        if attached:
            messages.append(outbox.detach(old, appeal.id, reason, now, left_before + 1))
            after = messages[-1]["idempotency_key"]
        if appeal.mode != "interconnect":  # an interconnect record was shared once and stays with its platform
            messages.append(outbox.first_appeal(case_id, appeal.id, appeal.mode, now, after_key=after))
        await outbox.enqueue(conn, messages)
        withdrawn = (
            await conn.execute(
                update(Delivery)
                .where(Delivery.appeal_id == appeal.id, Delivery.case_id == old, Delivery.state.in_(OWED))
                .values(
                    case_id=case_id,
                    state="superseded",
                    last_error=f"withdrawn: the appeal was unmerged from case {old} ({reason})",
                    updated_at=now,
                    claimed_by=None,
                    claimed_until=None,
                )
            )
        ).rowcount
        detail = {"appeal_id": str(appeal.id), "reason": reason, "deliveries_withdrawn": withdrawn}
        tag = f"{appeal.id}:{left_before + 1}"
        await timeline.record_many(
            conn,
            [
                self._line(old, now, "appeal_unmerged", {**detail, "case_id": str(case_id)}, tag),
                self._line(case_id, now, "case_opened_by_unmerge", {**detail, "from_case": str(old)}, tag),
            ],
        )
        evidence = {
            "from_case": str(old),
            "reason": reason,
            "detached": attached,
            "deliveries_withdrawn": withdrawn,
        }
        await mergelog.append(conn, [self._entry(appeal.id, case_id, "unmerge", evidence, now)])
        return {
            "appeal_id": str(appeal.id),
            "from_case": str(old),
            "case_id": str(case_id),
            "detached": attached,
            "deliveries_withdrawn": withdrawn,
        }

    def _entry(
        self, appeal_id: uuid.UUID, case_id: uuid.UUID, decision: str, evidence: dict[str, Any], now: datetime
    ) -> dict[str, Any]:
        return {
            "appeal_id": appeal_id,
            "case_id": case_id,
            "decision": decision,
            "rule": RULE,
            "rule_version": VERSION,
            "score": None,
            "evidence": evidence,
            "actor": self.actor,
            "created_at": now,
        }

    def _line(
        self, case_id: uuid.UUID, now: datetime, kind: str, detail: dict[str, Any], tag: str | None = None
    ) -> dict[str, Any]:
        ref = f"audit:{kind}:{case_id}:{tag}" if tag else None
        return timeline.line(case_id, now, "auditor", kind, {**detail, "actor": self.actor}, ref=ref)


def auditor_for(config: Config, actor: str, pipeline: Pipeline | None = None) -> Auditor:
    """The auditor acting through this gateway's config (its channels decide where replies go back)."""
    pipeline = pipeline or Pipeline(config, config.tier_rules())
    return Auditor(actor, pipeline.delivers, config.sync.delivery_deadline_seconds)


def _check_reason(reason: str) -> None:
    if not reason or not reason.strip():
        raise Refused("a reason is required: it goes in the merge log")
    if len(reason) > REASON_MAX:
        raise Refused(f"the reason is {len(reason)} characters; at most {REASON_MAX}")


async def _appeal(conn: AsyncConnection, appeal_id: uuid.UUID) -> Any:
    row = (await conn.execute(select(Appeal).where(Appeal.id == appeal_id))).first()
    if row is None:
        raise NotFound(f"no appeal {appeal_id}")
    return row


async def _case(conn: AsyncConnection, case_id: uuid.UUID) -> Any:
    row = (await conn.execute(select(Case).where(Case.id == case_id))).first()
    if row is None:
        raise NotFound(f"no case {case_id}")
    return row


async def _founder(conn: AsyncConnection, case_id: uuid.UUID) -> uuid.UUID | None:
    """The appeal that opened a case (its work order was created from it)."""
    return (
        await conn.execute(
            select(MergeEntry.appeal_id)
            .where(MergeEntry.case_id == case_id, MergeEntry.decision.in_(FOUNDING))
            .order_by(MergeEntry.id.desc())
            .limit(1)
        )
    ).scalar()


async def _marked(
    conn: AsyncConnection, appeal_ids: Sequence[uuid.UUID]
) -> list[tuple[uuid.UUID, uuid.UUID, Any]]:
    """The "not the same matter" pairs logged on one of these appeals: (appeal, other appeal, log entry). A pair
    is logged on its first appeal, so the pairs between two groups of appeals are those logged on either."""
    if not appeal_ids:
        return []
    entries = await conn.execute(
        select(MergeEntry)
        .where(MergeEntry.appeal_id.in_(list(appeal_ids)), MergeEntry.decision == "distinct")
        .order_by(MergeEntry.id)
    )
    return [(e.appeal_id, uuid.UUID(e.evidence["other_appeal"]), e) for e in entries]


async def hot_issues(
    conn: AsyncConnection, *, sort: str = "size", hours: float = 24.0, limit: int = 50, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Hot-issue clusters with their size (cases, appeals, people) and growth (appeals in the last `hours`
    against the `hours` before), biggest or fastest-growing first; titles masked."""
    now = now or utcnow()
    recent, before = now - timedelta(hours=hours), now - timedelta(hours=2 * hours)
    person = func.coalesce(Appeal.id_number, Appeal.phone, Appeal.unionid, Appeal.openid, Appeal.user_id)
    rows = (
        await conn.execute(
            select(
                Case.cluster_id,
                func.count(func.distinct(Case.id)).label("cases"),
                func.count(Appeal.id).label("appeals"),
                func.count(func.distinct(person)).label("people"),
                func.sum(when((Appeal.received_at >= recent, 1), else_=0)).label("last"),
                func.sum(
                    when((and_(Appeal.received_at >= before, Appeal.received_at < recent), 1), else_=0)
                ).label("previous"),
                func.min(Appeal.received_at).label("first_at"),
                func.max(Appeal.received_at).label("last_at"),
            )
            .join(Appeal, Appeal.case_id == Case.id)
            .where(Case.cluster_id.is_not(None))
            .group_by(Case.cluster_id)
        )
    ).all()
    flagged = set(
        (
            await conn.execute(
                select(Case.cluster_id).join(Flag, Flag.case_id == Case.id).where(Flag.kind == "group_appeal")
            )
        ).scalars()
    )
    out = [
        {
            "cluster_id": str(r.cluster_id),
            "cases": r.cases,
            "appeals": r.appeals,
            "people": r.people,
            "growth": {"hours": hours, "appeals": int(r.last or 0), "previous": int(r.previous or 0)},
            "first_at": r.first_at.isoformat(),
            "last_at": r.last_at.isoformat(),
            "group_appeal": r.cluster_id in flagged,
        }
        for r in rows
    ]
    key = {
        "size": lambda c: (c["people"], c["appeals"]),
        "growth": lambda c: (c["growth"]["appeals"], c["people"]),
    }
    out.sort(key=key[sort], reverse=True)
    out = out[:limit]
    oldest = (
        select(Case.cluster_id, func.min(Case.created_at).label("at"))
        .where(Case.cluster_id.in_([uuid.UUID(c["cluster_id"]) for c in out]))
        .group_by(Case.cluster_id)
        .subquery()
    )
    titles = await conn.execute(
        select(Case.cluster_id, Case.title).join(
            oldest, and_(Case.cluster_id == oldest.c.cluster_id, Case.created_at == oldest.c.at)
        )
    )
    first_title = {str(c): mask_text(t) for c, t in titles}  # each cluster's oldest case's title
    for c in out:
        c["title"] = first_title.get(c["cluster_id"])
    return out
