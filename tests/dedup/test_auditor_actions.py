"""What auditors' corrections do to later decisions, deliveries and hot issues (dedup/audit.py), with the real
matcher deciding, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from sqlalchemy import insert, select

import gateway
from core.ingest import Pipeline
from core.models import Appeal, Case, Delivery, Flag, MergeEntry, OutboxMessage, utcnow
from dedup.audit import Auditor, hot_issues
from tests.dedup.test_assigner import BOARD, WECHAT, case_of, ingest, item
from tests.helpers import ENV, load_test_config, write_config

DEDUP = "\n[dedup]\nenabled = true\ngroup_citizens = 3\n"
PHONES = ("13800138000", "13900139000", "13700137000", "13600136000")


def pipeline_for(tmp_path, db_url) -> Pipeline:
    config = load_test_config(tmp_path, db_url, extra=DEDUP).config
    return Pipeline(config, config.tier_rules())


async def test_an_appeal_repeating_an_unmerged_one_joins_its_new_case_on_every_instance(engine, tmp_path, db_url):
    one, other = pipeline_for(tmp_path, db_url), pipeline_for(tmp_path, db_url)
    [board] = await ingest(engine, one, (item("B-1", BOARD), timedelta(0)))
    [wechat] = await ingest(engine, one, (item("W-1", WECHAT), timedelta(hours=5)))
    assert await case_of(engine, wechat.id) == await case_of(engine, board.id)

    async with engine.begin() as conn:
        done = await Auditor("token:inspector").unmerge(conn, wechat.id, "another matter")

    for pipeline, source in ((one, "W-2"), (other, "W-3")):
        [again] = await ingest(engine, pipeline, (item(source, WECHAT), timedelta(hours=6)))
        assert str(await case_of(engine, again.id)) == done["case_id"]


async def test_deliveries_still_owed_to_an_unmerged_appeal_move_with_it_and_are_withdrawn(
    engine, tmp_path, db_url
):
    pipeline = pipeline_for(tmp_path, db_url)
    [board] = await ingest(engine, pipeline, (item("B-1", BOARD), timedelta(0)))
    [wechat] = await ingest(engine, pipeline, (item("W-1", WECHAT), timedelta(hours=5)))
    old = await case_of(engine, board.id)
    now = utcnow()
    owed = {
        "case_id": old,
        "appeal_id": wechat.id,
        "channel_id": "web",
        "kind": "reply",
        "payload": {"status": "replied", "text": "已处理"},
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "updated_at": now,
    }
    async with engine.begin() as conn:
        await conn.execute(
            insert(Delivery),
            [
                {**owed, "idempotency_key": "e1:w", "event_id": "e1", "state": "pending"},
                {**owed, "idempotency_key": "e0:w", "event_id": "e0", "state": "delivered", "delivered_at": now},
                {**owed, "idempotency_key": "e1:b", "event_id": "e1", "state": "pending", "appeal_id": board.id},
            ],
        )
        done = await Auditor("cli:auditor").unmerge(conn, wechat.id, "not this citizen's matter")

    async with engine.connect() as conn:
        rows = {r.idempotency_key: r for r in await conn.execute(select(Delivery))}
    assert done["deliveries_withdrawn"] == 1
    assert (str(rows["e1:w"].case_id), rows["e1:w"].state) == (done["case_id"], "superseded")
    assert "unmerged" in rows["e1:w"].last_error
    assert (rows["e0:w"].case_id, rows["e0:w"].state) == (old, "delivered")  # what was delivered stays history
    assert (rows["e1:b"].case_id, rows["e1:b"].state) == (old, "pending")  # the other appeal's own reply


async def test_a_hot_issue_that_reaches_n_people_is_flagged_as_a_group_appeal_on_every_case(
    engine, tmp_path, db_url
):
    pipeline = pipeline_for(tmp_path, db_url)
    people = []
    for n, phone in enumerate(PHONES[:3]):
        [r] = await ingest(engine, pipeline, (item(f"B-{n}", BOARD, phone=phone), timedelta(hours=n)))
        people.append(r.id)
    async with engine.connect() as conn:
        cases = [await case_of(engine, a) for a in people]
        clusters = set((await conn.execute(select(Case.cluster_id).where(Case.id.in_(cases)))).scalars())
        flags = list((await conn.execute(select(Flag).order_by(Flag.id))).all())
        messages = list(
            (await conn.execute(select(OutboxMessage).where(OutboxMessage.kind == "raise_flag"))).all()
        )
        listed = await hot_issues(conn, now=max(f.raised_at for f in flags) + timedelta(hours=1))
    assert len(set(cases)) == 3 and len(clusters) == 1 and None not in clusters
    assert sorted(f.case_id for f in flags) == sorted(cases)
    assert {(f.kind, f.detail["citizens"]) for f in flags} == {("group_appeal", 3)}
    assert {m.payload["kind"] for m in messages} == {"group_appeal"}
    assert {m.payload["cluster_id"] for m in messages} == {str(clusters.pop())}
    [hot] = listed
    assert (hot["people"], hot["cases"], hot["group_appeal"]) == (3, 3, True)


async def test_below_the_threshold_a_hot_issue_is_linked_but_not_flagged(engine, tmp_path, db_url):
    pipeline = pipeline_for(tmp_path, db_url)
    for n, phone in enumerate(PHONES[:2]):
        await ingest(engine, pipeline, (item(f"B-{n}", BOARD, phone=phone), timedelta(hours=n)))
    async with engine.connect() as conn:
        clusters = list((await conn.execute(select(Case.cluster_id))).scalars())
        flags = list((await conn.execute(select(Flag))).all())
    assert len(set(clusters)) == 1 and clusters[0] is not None and flags == []


async def test_the_same_person_again_does_not_count_twice_towards_a_group_appeal(engine, tmp_path, db_url):
    pipeline = pipeline_for(tmp_path, db_url)
    for n, phone in enumerate((PHONES[0], PHONES[1], PHONES[0], PHONES[1])):
        await ingest(engine, pipeline, (item(f"B-{n}", BOARD, phone=phone), timedelta(hours=n)))
    async with engine.connect() as conn:
        assert list((await conn.execute(select(Flag))).all()) == []


async def test_auditors_unmerge_and_list_hot_issues_from_the_command_line(
    engine, tmp_path, db_url, monkeypatch, capsys
):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    pipeline = pipeline_for(tmp_path, db_url)
    await ingest(engine, pipeline, (item("B-1", BOARD), timedelta(0)))
    [wechat] = await ingest(engine, pipeline, (item("W-1", WECHAT), timedelta(hours=5)))
    path = str(write_config(tmp_path, db_url, extra=DEDUP))

    code = await asyncio.to_thread(
        gateway.main,
        ["audit", "unmerge", str(wechat.id), "--reason", "两件事", "--actor", "cli:ms-wang", "--config", path],
    )

    assert code == 0
    done = json.loads(capsys.readouterr().out)
    async with engine.connect() as conn:
        entry = (await conn.execute(select(MergeEntry).order_by(MergeEntry.id.desc()).limit(1))).one()
        moved = (await conn.execute(select(Appeal.case_id).where(Appeal.id == wechat.id))).scalar_one()
    assert (entry.decision, entry.actor, str(moved)) == ("unmerge", "cli:ms-wang", done["case_id"])
    code = await asyncio.to_thread(
        gateway.main, ["audit", "unmerge", str(wechat.id), "--reason", "again", "--config", path]
    )
    assert code == 1 and "opened case" in capsys.readouterr().err
    assert await asyncio.to_thread(gateway.main, ["audit", "clusters", "--json", "--config", path]) == 0
