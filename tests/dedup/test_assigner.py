"""The matcher in the live gateway: repeated appeals become one case, decisions survive a restart, and two
instances deciding at the same moment still agree (on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from connectors.base import InboundItem
from core.ingest import Pipeline, Submission
from core.models import Appeal, Case, MergeEntry, OutboxMessage
from tests.helpers import load_test_config

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
BOARD = (
    "景蓉华苑物业乱收停车费",
    "景蓉华苑小区物业未经业主大会同意，自今年4月起每月向业主收取停车管理费300元，没有任何收费依据。",
)
WECHAT = ("停车费", "景蓉华苑物业乱收停车费，每月300元，没经过业主大会同意，没有收费依据，请管管")
OTHER_MATTER = (
    "路灯坏了",
    "解放街道和平路口的路灯已经坏了一个多星期，晚上一片漆黑，行人和车辆通行很不安全，请尽快维修。",
)


def item(source_id: str, text: tuple[str, str], phone: str = "13800138000") -> InboundItem:
    doc = {
        "source_id": source_id,
        "type": "投诉",
        "title": text[0],
        "content": text[1],
        "citizen": {"phone": phone},
        "location": {"address": "章贡区解放街道景蓉华苑", "division_code": "360702"},
    }
    return InboundItem(source_id, json.dumps(doc, ensure_ascii=False))


@pytest.fixture
def pipeline_factory(tmp_path, db_url):
    config = load_test_config(tmp_path, db_url, extra="\n[dedup]\nenabled = true\n").config
    return lambda: Pipeline(config, config.tier_rules())


async def ingest(engine, pipeline, *items: tuple[InboundItem, timedelta]):
    async with engine.begin() as conn:
        return await pipeline.ingest(conn, [Submission("web", i, T0 + dt) for i, dt in items])


async def case_of(engine, appeal_id):
    async with engine.connect() as conn:
        return (await conn.execute(select(Appeal.case_id).where(Appeal.id == appeal_id))).scalar_one()


async def test_the_same_person_on_the_same_matter_becomes_a_repeat_of_the_first_case(engine, pipeline_factory):
    pipeline = pipeline_factory()
    [first] = await ingest(engine, pipeline, (item("B-1", BOARD), timedelta(0)))
    [second] = await ingest(engine, pipeline, (item("W-1", WECHAT), timedelta(hours=5)))
    case = await case_of(engine, first.id)
    assert await case_of(engine, second.id) == case
    async with engine.connect() as conn:
        count = (await conn.execute(select(Case.appeal_count).where(Case.id == case))).scalar_one()
        kinds = list((await conn.execute(select(OutboxMessage.kind).order_by(OutboxMessage.id))).scalars())
        entry = (await conn.execute(select(MergeEntry).where(MergeEntry.appeal_id == second.id))).one()
    assert count == 2 and kinds == ["create_work_order", "attach_repeat"]
    assert entry.decision == "merge" and entry.rule == "text-identity-place" and entry.evidence["candidate"]


async def test_decisions_made_before_a_restart_are_remembered(engine, pipeline_factory):
    [first] = await ingest(engine, pipeline_factory(), (item("B-1", BOARD), timedelta(0)))
    [later] = await ingest(engine, pipeline_factory(), (item("W-1", WECHAT), timedelta(days=2)))
    assert await case_of(engine, later.id) == await case_of(engine, first.id)


async def test_another_person_is_never_merged(engine, pipeline_factory):
    pipeline = pipeline_factory()
    [first] = await ingest(engine, pipeline, (item("B-1", BOARD), timedelta(0)))
    [other] = await ingest(engine, pipeline, (item("B-2", BOARD, phone="13900139000"), timedelta(hours=1)))
    assert await case_of(engine, other.id) != await case_of(engine, first.id)
    async with engine.connect() as conn:
        clusters = list((await conn.execute(select(Case.cluster_id))).scalars())
    assert clusters[0] is not None and clusters[0] == clusters[1]  # one hot issue, two cases


async def test_a_rolled_back_decision_is_forgotten(engine, pipeline_factory):
    pipeline = pipeline_factory()
    with pytest.raises(RuntimeError):
        async with engine.begin() as conn:
            await pipeline.ingest(conn, [Submission("web", item("B-1", BOARD), T0)])
            raise RuntimeError("the transaction fails after the decision")
    [again] = await ingest(engine, pipeline, (item("W-1", WECHAT), timedelta(hours=1)))
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(Case))).scalar_one() == 1
    assert await case_of(engine, again.id) is not None


@pytest.mark.parametrize("db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
async def test_two_instances_deciding_at_the_same_moment_make_one_case(engine, pipeline_factory):
    one, two = pipeline_factory(), pipeline_factory()  # two gateway instances sharing PostgreSQL
    async with engine.begin() as conn:  # instance one has decided and not committed yet ...
        [first] = await one.ingest(conn, [Submission("web", item("B-1", BOARD), T0)])
        racing = asyncio.create_task(ingest(engine, two, (item("W-1", WECHAT), timedelta(minutes=1))))
        await asyncio.sleep(0.5)  # ... while instance two receives the repeat
        assert not racing.done()  # it waits for one's decision instead of deciding without it
    [second] = await racing
    assert await case_of(engine, second.id) == await case_of(engine, first.id)


async def test_a_merge_after_a_restart_names_the_appeal_it_matched(engine, pipeline_factory):
    [first] = await ingest(engine, pipeline_factory(), (item("B-1", BOARD), timedelta(0)))
    [later] = await ingest(engine, pipeline_factory(), (item("W-1", WECHAT), timedelta(days=2)))
    async with engine.connect() as conn:
        entry = (await conn.execute(select(MergeEntry).where(MergeEntry.appeal_id == later.id))).one()
    assert entry.decision == "merge" and entry.evidence["candidate"] == str(first.id)


async def test_an_appeal_decided_here_is_remembered_once(engine, pipeline_factory):
    pipeline = pipeline_factory()
    await ingest(engine, pipeline, (item("B-1", BOARD), timedelta(0)))
    await ingest(engine, pipeline, (item("B-2", OTHER_MATTER, phone="13900139000"), timedelta(hours=1)))
    await ingest(engine, pipeline, (item("W-1", WECHAT), timedelta(hours=2)))
    matcher = pipeline.assigner.matcher
    assert [p.id for p in matcher.priors] == list(dict.fromkeys(p.id for p in matcher.priors))
    assert len(matcher.priors) == matcher.documents == 3
