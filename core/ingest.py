"""The pipeline spine: every item a channel hands us goes through `Pipeline.ingest`.

store the raw item first → normalize → assign a case → write the outbox message, all in the caller's one
transaction. The same (channel, source id) again is a redelivery: it changes nothing and returns the gateway id
given the first time. An item that cannot be mapped or normalized is kept in the raw inbox as quarantined,
with the reason; nothing a channel handed us is ever dropped.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections import Counter as Tally
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import bindparam, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from connectors.base import Connector, DeliveringConnector, InboundItem, MappingError
from connectors.registry import connector_class
from core import versions
from core.config import ChannelSettings, Config
from core.ids import new_id
from core.models import Appeal, Case, CaseEvent, MergeEntry, OutboxMessage, RawItem, utcnow
from core.sql import bump_counters, insert_new_in_turn, upsert_insert
from dedup import mergelog
from dedup.assign import Assignment, CaseAssigner, MatchingAssigner, OneCasePerAppeal
from normalizer import NormalizationError, NormalizeContext, Rules, normalize
from normalizer.record import AppealRecord
from sync import deadlines, intake, outbox, timeline

log = logging.getLogger(__name__)

Outcome = Literal["accepted", "redelivery", "quarantined"]


@dataclass(frozen=True, slots=True)
class Submission:
    """One inbound item, the channel it came through and when huiju received it."""

    channel_id: str
    item: InboundItem
    received_at: datetime


@dataclass(frozen=True, slots=True)
class Prepared:
    """A submission with its gateway id, mapped and normalized (or with the reason it could not be)."""

    sub: Submission
    gid: uuid.UUID
    record: AppealRecord | None
    error: str | None

    @property
    def key(self) -> tuple[str, str]:
        """What makes an item unique: (channel id, source id)."""
        return (self.sub.channel_id, self.sub.item.source_id)


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What became of one submission: its gateway id and outcome."""

    id: uuid.UUID
    outcome: Outcome
    error: str | None = None


class Pipeline:
    """Maps, normalizes, stores and assigns inbound items for the configured channels."""

    def __init__(self, config: Config, rules: Rules, assigner: CaseAssigner | None = None) -> None:
        self.config = config
        self.rules = rules
        if assigner is None:
            assigner = (
                MatchingAssigner(config.dedup.thresholds(), config.dedup.group_rule())
                if config.dedup.enabled
                else OneCasePerAppeal()
            )
        self.assigner: CaseAssigner = assigner
        self._connectors: dict[str, Connector] = {}

    def connector(self, channel_id: str) -> Connector:
        """The connector instance for a configured channel (KeyError if there is none)."""
        conn = self._connectors.get(channel_id)
        if conn is None:
            ch = self.config.channel(channel_id)
            if ch is None:
                raise KeyError(channel_id)
            conn = self._connectors[channel_id] = connector_class(ch.kind)(ch)
        return conn

    def to_record(
        self, gid: uuid.UUID, channel: ChannelSettings, raw: InboundItem, received_at: datetime
    ) -> AppealRecord:
        """Map and normalize one payload; raises MappingError or NormalizationError."""
        draft = self.connector(channel.id).map(raw.payload)
        if str(draft.source_id).strip() != raw.source_id:
            draft = dataclasses.replace(draft, source_id=raw.source_id)
        ctx = NormalizeContext(str(gid), channel.id, channel.mode, received_at, str(gid))
        return normalize(draft, ctx, self.rules)

    def delivers(self, channel_id: str) -> bool:
        """Whether status and replies go back to this channel."""
        try:
            conn = self.connector(channel_id)
        except KeyError:
            return False
        return isinstance(conn, DeliveringConnector) and conn.delivers_now()

    def prepare(self, sub: Submission) -> Prepared:
        """Give an item its gateway id and map and normalize it: pure CPU, no database."""
        gid = new_id()
        try:
            channel = self.config.channel(sub.channel_id)
            if channel is None:
                raise MappingError(f"channel {sub.channel_id!r} is not configured")
            return Prepared(sub, gid, self.to_record(gid, channel, sub.item, sub.received_at), None)
        except (MappingError, NormalizationError) as e:
            return Prepared(sub, gid, None, str(e))
        except Exception as e:  # a mapping bug must cost one item, not the batch
            log.exception("mapping failed", extra={"channel_id": sub.channel_id})
            return Prepared(sub, gid, None, f"internal error while mapping: {type(e).__name__}: {e}")

    def prepare_all(self, batch: Sequence[Submission]) -> list[Prepared]:
        """Prepare every submission of a batch."""
        return [self.prepare(s) for s in batch]

    async def prepare_stepwise(self, batch: Sequence[Submission], step: int = 16) -> list[Prepared]:
        """Prepare a batch, letting the event loop run between steps of a few items."""
        prepared: list[Prepared] = []
        for i in range(0, len(batch), step):
            prepared.extend(self.prepare(s) for s in batch[i : i + step])
            await asyncio.sleep(0)
        return prepared

    async def ingest(self, conn: AsyncConnection, batch: Sequence[Submission]) -> list[IngestResult]:
        """Prepare and store a batch in the caller's transaction; one result per submission, in order."""
        return await self.write(conn, [self.prepare(s) for s in batch])

    async def write(self, conn: AsyncConnection, batch: Sequence[Prepared]) -> list[IngestResult]:
        """Store prepared items in the caller's transaction; one result per item, in order.

        The first of several items with one (channel, source id) is stored; the others, and items already
        stored by an earlier transaction, are redeliveries answered with the stored gateway id.
        """
        now = utcnow()
        results: list[IngestResult | None] = [None] * len(batch)
        first_of: dict[tuple[str, str], int] = {}
        for i, p in enumerate(batch):
            first_of.setdefault(p.key, i)
        firsts = [i for i, p in enumerate(batch) if first_of[p.key] == i]

        inserted = await self._insert_raw(conn, [batch[i] for i in firsts], now)
        stored: list[AppealRecord] = []
        for i in firsts:
            p = batch[i]
            if p.gid not in inserted:
                continue
            if p.record is None:
                results[i] = IngestResult(p.gid, "quarantined", p.error)
            else:
                results[i] = IngestResult(p.gid, "accepted")
                stored.append(p.record)

        existing = await self._existing_ids(conn, [batch[i].key for i in firsts if results[i] is None])
        redeliveries: Tally[tuple[str, str]] = Tally()
        changed: list[versions.Changed] = []
        for i, p in enumerate(batch):
            if results[i] is None:
                first = results[first_of[p.key]]
                if first is not None and first_of[p.key] != i:
                    gid = first.id
                else:
                    gid, digest = existing[p.key]
                    if digest != versions.digest_of(p.sub.item.payload):
                        changed.append(
                            versions.Changed(p.sub.channel_id, gid, p.sub.item, p.sub.received_at, digest)
                        )
                results[i] = IngestResult(gid, "redelivery")
                redeliveries[(p.sub.channel_id, "redeliveries")] += 1

        await self.store_appeals(conn, stored, now)
        redeliveries.update(await versions.store(conn, self, changed, now))
        await bump_counters(conn, dict(redeliveries))
        return [r for r in results if r is not None]

    async def _insert_raw(self, conn: AsyncConnection, prepared: list[Prepared], now: datetime) -> set[uuid.UUID]:
        if not prepared:
            return set()
        rows = [
            {
                "id": p.gid,
                "channel_id": p.sub.channel_id,
                "source_id": p.sub.item.source_id,
                "content_type": p.sub.item.content_type,
                "payload": p.sub.item.payload,
                "received_at": p.sub.received_at,
                "status": "normalized" if p.record is not None else "quarantined",
                "error": p.error,
                "attempts": 1,
                "updated_at": now,
                "digest": versions.digest_of(p.sub.item.payload),
            }
            for p in prepared
        ]
        stmt = upsert_insert(conn, RawItem).on_conflict_do_nothing(
            index_elements=[RawItem.channel_id, RawItem.source_id]
        )
        result = await conn.execute(stmt.returning(RawItem.id), rows)
        return set(result.scalars().all())

    async def _existing_ids(
        self, conn: AsyncConnection, keys: list[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[uuid.UUID, str | None]]:
        """(gateway id, digest of the newest version) of items stored before."""
        if not keys:
            return {}
        rows = await conn.execute(
            select(RawItem.channel_id, RawItem.source_id, RawItem.id, RawItem.digest).where(
                tuple_(RawItem.channel_id, RawItem.source_id).in_(keys)
            )
        )
        return {(c, s): (i, d) for c, s, i, d in rows}

    async def store_appeals(self, conn: AsyncConnection, records: list[AppealRecord], now: datetime) -> None:
        """Assign cases to normalized records and write appeals, cases, merge log and outbox together."""
        if not records:
            return
        decided = list(zip(records, await self.assigner.assign(conn, records), strict=True))
        prev_hash = await mergelog.last_hash(conn)
        # Each table's rows are built while the database stores the table before (on PostgreSQL).
        await insert_new_in_turn(
            conn,
            [
                (
                    Case,
                    lambda: [case_row(a.case_id, opening(r), now, a.cluster_id) for r, a in decided if a.new_case],
                ),
                (Appeal, lambda: [appeal_row(r, a.case_id) for r, a in decided]),
                (MergeEntry, lambda: mergelog.chain(prev_hash, [merge_entry(a, now) for _, a in decided])),
                (
                    OutboxMessage,
                    lambda: [owed(r, a, now) for r, a in decided if a.new_case or a.decision == "merge"],
                ),
                (CaseEvent, lambda: [received_line(r, a) for r, a in decided]),
            ],
        )
        joined = [(case, a.cluster_id) for _, a in decided for case in a.joined_cluster]
        if joined:  # a link that opened a cluster puts the case it matched in it too
            cases = Case.__table__
            await conn.execute(
                update(cases)
                .where(cases.c.id == bindparam("c"))
                .values(cluster_id=bindparam("k"), updated_at=now),
                [{"c": case, "k": cluster} for case, cluster in joined],
            )
        groups = {a.cluster_id: a.citizens for _, a in decided if a.citizens and a.cluster_id is not None}
        if groups:  # a hot issue reached the group-appeal threshold (or grew past it): flag its cases
            await deadlines.raise_group_appeals(conn, groups, now)
        repeats = Tally(a.case_id for _, a in decided if not a.new_case and a.decision == "merge")
        if repeats:
            merged = [
                Late(uuid.UUID(r.id), a.case_id, r.channel_id, r.source_id, r.mode.value)
                for r, a in decided
                if not a.new_case and a.decision == "merge"
            ]
            seconds = self.config.sync.delivery_deadline_seconds
            await intake.catch_up(conn, merged, self.delivers, seconds, now)
            cases = Case.__table__
            await conn.execute(
                update(cases)
                .where(cases.c.id == bindparam("case"))
                .values(appeal_count=cases.c.appeal_count + bindparam("n"), updated_at=now),
                [{"case": case_id, "n": n} for case_id, n in repeats.items()],
            )

    async def retry_quarantined(
        self, conn: AsyncConnection, ids: Sequence[uuid.UUID] | None = None
    ) -> list[IngestResult]:
        """Map and normalize quarantined items again; the ones that now pass become appeals."""
        query = select(RawItem).where(RawItem.status == "quarantined").order_by(RawItem.received_at)
        if ids is not None:
            query = query.where(RawItem.id.in_(list(ids)))
        raws = (await conn.execute(query)).all()
        now = utcnow()
        results, stored = [], []
        for raw in raws:
            channel = self.config.channel(raw.channel_id)
            item = InboundItem(raw.source_id, raw.payload, raw.content_type)
            try:
                if channel is None:
                    raise MappingError(f"channel {raw.channel_id!r} is not configured any more")
                record = self.to_record(raw.id, channel, item, raw.received_at)
            except (MappingError, NormalizationError) as e:
                await conn.execute(
                    update(RawItem)
                    .where(RawItem.id == raw.id)
                    .values(error=str(e), attempts=RawItem.attempts + 1, updated_at=now)
                )
                results.append(IngestResult(raw.id, "quarantined", str(e)))
                continue
            await conn.execute(
                update(RawItem)
                .where(RawItem.id == raw.id)
                .values(status="normalized", error=None, attempts=RawItem.attempts + 1, updated_at=now)
            )
            stored.append(record)
            results.append(IngestResult(raw.id, "accepted"))
        await self.store_appeals(conn, stored, now)
        return results


def opening(record: AppealRecord) -> dict[str, Any]:
    """What a case takes from the appeal that opens it (under the appeals table's names)."""
    return {
        "title": record.title,
        "type": record.type.value,
        "time_tier": record.time_tier.value,
        "emergency": record.emergency.value if record.emergency else None,
        "confidential": record.confidential,
        "enterprise": record.enterprise is not None,
        "division_code": record.location.division_code,
        "received_at": record.received_at,
    }


def case_row(
    case_id: uuid.UUID, first: Mapping[str, Any], now: datetime, cluster_id: uuid.UUID | None = None
) -> dict[str, Any]:
    """A new case opened by its first appeal (`opening`, or an appeals row); its time limits run from the
    appeal's `received_at`."""
    return {
        "id": case_id,
        "created_at": now,
        "updated_at": now,
        "status": "new",
        "title": first["title"],
        "type": first["type"],
        "time_tier": first["time_tier"],
        "emergency": first["emergency"],
        "confidential": first["confidential"],
        "enterprise": first["enterprise"],
        "division_code": first["division_code"],
        "appeal_count": 1,
        "cluster_id": cluster_id,
        "merged_into": None,
        "work_order_no": None,
        "record_no": None,
        "platform_status": None,
        "last_event_seq": 0,
        "unit_name": None,
        "returns": 0,
        "accepted_at": None,
        "replied_at": None,
        **deadlines.case_deadlines(first["received_at"], first["time_tier"]),
    }


@dataclass(frozen=True, slots=True)
class Late:
    """A merged appeal, as the deliveries of what its case already has need it."""

    id: uuid.UUID
    case_id: uuid.UUID
    channel_id: str
    source_id: str
    mode: str


def owed(record: AppealRecord, a: Assignment, now: datetime) -> dict[str, Any]:
    """The outbox message an assignment owes the platform: a new case's work order (or shared record), or a
    merged appeal's repeat of its case's work order."""
    appeal_id = uuid.UUID(record.id)
    if a.new_case:
        return outbox.first_appeal(a.case_id, appeal_id, record.mode.value, now)
    return outbox.repeat_appeal(a.case_id, appeal_id, record.mode.value, now)


def received_line(record: AppealRecord, a: Assignment) -> dict[str, Any]:
    """The case timeline's line for an appeal received on a channel."""
    detail = {"channel_id": record.channel_id, "source_id": record.source_id, "decision": a.decision}
    appeal_id = uuid.UUID(record.id)
    return timeline.line(
        a.case_id,
        record.received_at,
        "channel",
        "appeal_received",
        detail,
        ref=f"appeal:{appeal_id}:received",
        appeal_id=appeal_id,
    )


def appeal_row(record: AppealRecord, case_id: uuid.UUID) -> dict[str, Any]:
    """The appeals-table row for a normalized record."""
    c, loc, ent = record.citizen, record.location, record.enterprise
    return {
        "id": uuid.UUID(record.id),
        "case_id": case_id,
        "channel_id": record.channel_id,
        "source_id": record.source_id,
        "mode": record.mode.value,
        "received_at": record.received_at,
        "occurred_at": record.occurred_at,
        "type": record.type.value,
        "title": record.title,
        "content": record.content,
        "citizen_name": c.name,
        "phone": c.phone,
        "id_number": c.id_number,
        "openid": c.openid,
        "unionid": c.unionid,
        "user_id": c.user_id,
        "confidential": record.confidential,
        "enterprise": ent is not None,
        "enterprise_name": ent.name if ent else None,
        "credit_code": ent.credit_code if ent else None,
        "address": loc.address,
        "division_code": loc.division_code,
        "township": loc.township,
        "lat": loc.lat,
        "lon": loc.lon,
        "channel_category": record.channel_category,
        "category": record.category,
        "time_tier": record.time_tier.value,
        "tier_reason": record.tier_reason,
        "emergency": record.emergency.value if record.emergency else None,
        "attachments": [dataclasses.asdict(a) for a in record.attachments],
        "sources": dict(record.sources),
        "extra": dict(record.extra),
        "warnings": list(record.warnings),
        "match_title": record.match.title,
        "match_content": record.match.content,
    }


def merge_entry(a: Assignment, now: datetime) -> dict[str, Any]:
    """The merge-log entry that explains an assignment (chained on insert)."""
    return {
        "appeal_id": uuid.UUID(a.appeal_id),
        "case_id": a.case_id,
        "decision": a.decision,
        "rule": a.rule,
        "rule_version": a.rule_version,
        "score": a.score,
        "evidence": a.evidence,
        "actor": "system",
        "created_at": now,
    }
