"""The case-assignment step of the pipeline.

An assigner decides, for each newly stored appeal, which case it belongs to. It runs inside the ingest
transaction, so its decision, the appeal, the case, the merge-log entry and the outbox message commit together.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import uuid
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import String, TypeDecorator, event, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncConnection

from core.ids import new_id
from core.models import Appeal, Case, MergeEntry
from core.sql import advisory_xact_lock
from dedup.matcher import RULE, Matcher, Probe, Thresholds
from normalizer.record import AppealRecord
from normalizer.text import fold_for_matching


@dataclass(frozen=True, slots=True)
class Assignment:
    """One appeal's case decision, with what the merge log needs to explain it."""

    appeal_id: str
    case_id: uuid.UUID
    new_case: bool
    decision: str  # new | absorb | merge | link
    rule: str
    rule_version: str
    score: float | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    cluster_id: uuid.UUID | None = None  # the hot-issue cluster the case is linked to
    joined_cluster: tuple[uuid.UUID, ...] = ()  # earlier cases this decision put in the cluster too
    citizens: int = 0  # set when the cluster has reached the group-appeal threshold: how many people it has


class CaseAssigner(Protocol):
    """Decides the case of each appeal in a batch (in arrival order)."""

    async def assign(self, conn: AsyncConnection, appeals: list[AppealRecord]) -> list[Assignment]:
        """One assignment per appeal, in the same order."""
        ...


class OneCasePerAppeal:
    """Every appeal opens its own case: the baseline until repeated appeals are recognised."""

    rule = "one-case-per-appeal"
    version = "1"

    async def assign(self, conn: AsyncConnection, appeals: list[AppealRecord]) -> list[Assignment]:
        """A new case for each appeal."""
        return [
            Assignment(a.id, new_id(), True, "new", self.rule, self.version, None, {"reason": "no matching"})
            for a in appeals
        ]


AUDITOR_DECISIONS = frozenset({"unmerge", "manual_merge", "distinct"})  # merge-log entries of auditors' actions


@dataclass(frozen=True, slots=True)
class GroupRule:
    """[dedup] group_citizens, group_window_hours: a hot issue becomes a group appeal (群体诉求) when this many
    different people appealed about it within the window (0: never)."""

    citizens: int = 5
    window_hours: float = 72.0


DEDUP_LOCK = 0x68756A75_64656475  # "hujudedu": one matcher decides at a time across instances (PostgreSQL)
REPLAY_BATCH = 4096  # appeals read and replayed at once when the matcher's memory is rebuilt


class _IdText(TypeDecorator[str]):
    """A uuid column read as its text (SQLite keeps 32 hex digits): a rebuild builds no uuid.UUID per row."""

    impl = String
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        s = str(value)
        return s if len(s) == 36 else f"{s[:8]}-{s[8:12]}-{s[12:16]}-{s[16:20]}-{s[20:]}"


# The columns of a stored appeal that the matcher reads (probe_of_row).
REPLAYED = (
    type_coerce(Appeal.id, _IdText()).label("id"),
    type_coerce(Appeal.case_id, _IdText()).label("case_id"),
    Appeal.channel_id,
    Appeal.received_at,
    Appeal.match_title,
    Appeal.match_content,
    Appeal.phone,
    Appeal.id_number,
    Appeal.openid,
    Appeal.unionid,
    Appeal.user_id,
    Appeal.address,
    Appeal.division_code,
    Appeal.township,
)


def probe_of_row(row: Any) -> Probe:
    """A stored appeal (appeals row, or AppealRecord fields) as the matcher's probe."""
    identities = [
        (k, v)
        for k, v in (
            ("phone", row.phone),
            ("id_number", row.id_number),
            ("openid", row.openid),
            ("unionid", row.unionid),
        )
        if v
    ]
    if row.user_id:
        identities.append(("user", f"{row.channel_id}:{row.user_id}"))
    address = _folded_address(row.address) if row.address else None
    return Probe(
        id=str(row.id),
        channel=row.channel_id,
        received_at=row.received_at,
        text=f"{row.match_title} {row.match_content}",
        identities=tuple(identities),
        division_code=row.division_code,
        township=row.township,
        address=address or None,
    )


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused (in synchronous code: nothing else runs meanwhile).

    A rebuild makes millions of objects that hold no cycles, and the collector would traverse them again and
    again as they pile up: a third of a million-appeal rebuild's time (bench/dedup_rebuild.py).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@functools.lru_cache(maxsize=65536)
def _folded_address(address: str) -> str:
    """An address folded for matching (the same buildings come again and again)."""
    return fold_for_matching(address)


@dataclass(frozen=True, slots=True)
class _Fields:
    """The fields of a normalized record that a probe reads, under the appeals table's names."""

    id: str
    channel_id: str
    received_at: Any
    match_title: str
    match_content: str
    phone: str | None
    id_number: str | None
    openid: str | None
    unionid: str | None
    user_id: str | None
    address: str | None
    division_code: str | None
    township: str | None


def fields_of(r: AppealRecord) -> _Fields:
    """A record's matching fields."""
    c, loc = r.citizen, r.location
    return _Fields(
        r.id,
        r.channel_id,
        r.received_at,
        r.match.title,
        r.match.content,
        c.phone,
        c.id_number,
        c.openid,
        c.unionid,
        c.user_id,
        loc.address,
        loc.division_code,
        loc.township,
    )


class MatchingAssigner:
    """Case assignment by the matcher (dedup/matcher.py), for the live gateway.

    The matcher's memory is rebuilt from the database the first time (every stored appeal replayed in the
    merge log's order) and caught up at every decision with what other instances decided since, under a
    PostgreSQL advisory lock that makes the instances decide one after the other: two repeated appeals that
    arrive at the same moment on two instances still end in one case. A transaction that rolls back after
    deciding leaves the memory ahead of the database, so the memory is rebuilt then.
    """

    rule = RULE

    def __init__(self, thresholds: Thresholds | None = None, group: GroupRule | None = None) -> None:
        self.thresholds = thresholds or Thresholds()
        self.group = group or GroupRule()
        self._grouped: dict[str, int] = {}  # clusters found to be group appeals: the people counted then
        self.matcher: Matcher | None = None
        self.last_entry = 0
        self._watched: weakref.WeakSet[Any] = weakref.WeakSet()
        self._inflight = False

    async def assign(self, conn: AsyncConnection, appeals: list[AppealRecord]) -> list[Assignment]:
        """One decision per appeal, in order, each made knowing every appeal stored before it."""
        await advisory_xact_lock(conn, DEDUP_LOCK)
        self._watch(conn)
        if self.matcher is None:
            self.matcher = Matcher(self.thresholds, new_case_id=lambda: str(new_id()))
            self.last_entry = 0
        await self._catch_up(conn, self.matcher)
        self._inflight = True
        out = []
        for record in appeals:
            probe = probe_of_row(fields_of(record))
            d = self.matcher.decide(probe)
            evidence = dict(d.evidence)
            if d.joined_cluster:
                evidence["joined_cluster"] = list(d.joined_cluster)
            citizens = 0
            if d.cluster_id is not None and self.group.citizens:
                citizens = self._grouped.get(d.cluster_id, 0)
                if not citizens:  # once a group appeal, always one: a cluster is not counted again
                    since = probe.received_at - timedelta(hours=self.group.window_hours)
                    citizens = self.matcher.citizens(d.cluster_id, since, self.group.citizens)
                    if citizens < self.group.citizens:
                        citizens = 0
                    else:
                        self._grouped[d.cluster_id] = citizens
            out.append(
                Assignment(
                    record.id,
                    uuid.UUID(d.case_id),
                    d.new_case,
                    d.decision,
                    d.rule,
                    d.rule_version,
                    d.score,
                    evidence,
                    uuid.UUID(d.cluster_id) if d.cluster_id else None,
                    tuple(uuid.UUID(c) for c in d.joined_cluster),
                    citizens,
                )
            )
        return out

    async def _catch_up(self, conn: AsyncConnection, matcher: Matcher) -> None:
        """Replay the appeals decided since the last look, streamed (a rebuild reads a million) in batches; then
        what auditors changed since (dedup/audit.py)."""
        result = await conn.stream(
            select(
                MergeEntry.id.label("entry"),
                MergeEntry.decision.label("decision"),
                *REPLAYED,
                type_coerce(Case.cluster_id, _IdText()).label("cluster"),
            )
            .join(Appeal, Appeal.id == MergeEntry.appeal_id)
            .join(Case, Case.id == Appeal.case_id)
            .where(MergeEntry.id > self.last_entry)
            .order_by(MergeEntry.id)
            .execution_options(yield_per=REPLAY_BATCH)
        )
        audited: list[int] = []  # entries of auditors' corrections
        replayed = 0
        pages = result.partitions()
        reading = asyncio.ensure_future(anext(pages, None))
        try:
            while (rows := await reading) is not None:
                reading = asyncio.ensure_future(anext(pages, None))
                await asyncio.sleep(0)  # the database reads the next page while this one is replayed
                self.last_entry = max(self.last_entry, rows[-1].entry)
                with _collector_paused():
                    matcher.replay_many((probe_of_row(r), r.case_id, r.cluster) for r in rows)
                audited += [r.entry for r in rows if r.decision in AUDITOR_DECISIONS]
                replayed += len(rows)
        finally:
            await asyncio.wait([reading])
        if replayed >= REPLAY_BATCH:
            # The rebuilt memory (millions of objects, no cycles) leaves the collector's sight: a full collection
            # would otherwise walk all of it, a pause of a second in the middle of some later decision.
            gc.freeze()
        if audited:
            await _corrections(conn, matcher, audited)

    def _watch(self, conn: AsyncConnection) -> None:
        sync = conn.sync_connection
        if sync is None or sync in self._watched:
            return
        self._watched.add(sync)
        event.listen(sync, "commit", self._committed)
        event.listen(sync, "rollback", self._rolled_back)

    def _committed(self, _conn: Any) -> None:
        self._inflight = False

    def _rolled_back(self, _conn: Any) -> None:
        if self._inflight:  # decisions made in memory that the database never got: start again from it
            self.matcher = None
        self._inflight = False


async def _corrections(conn: AsyncConnection, matcher: Matcher, entries: list[int]) -> None:
    """Teach the matcher what auditors changed: the pairs they marked "not the same matter", and every appeal of
    the cases they touched where it stands now."""
    touched: set[str] = set()
    rows = await conn.execute(
        select(MergeEntry.appeal_id, MergeEntry.case_id, MergeEntry.decision, MergeEntry.evidence)
        .where(MergeEntry.id.in_(entries))
        .order_by(MergeEntry.id)
    )
    for appeal_id, case_id, decision, evidence in rows:
        touched.add(str(case_id))
        touched.update(str(evidence[k]) for k in ("from_case", "other_case") if evidence.get(k))
        if decision == "distinct":
            matcher.forbid(str(appeal_id), str(evidence["other_appeal"]))
    now = await conn.execute(
        select(Appeal.id, Appeal.case_id, Case.cluster_id)
        .join(Case, Case.id == Appeal.case_id)
        .where(Case.id.in_([uuid.UUID(c) for c in touched]))
    )
    for appeal_id, case_id, cluster in now:
        matcher.move(str(appeal_id), str(case_id), str(cluster) if cluster else None)
