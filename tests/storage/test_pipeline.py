"""The pipeline spine: store raw first, normalize, assign a case, write the outbox — in one transaction."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, insert, select, update

from connectors.base import InboundItem
from core.ids import new_id
from core.ingest import Pipeline, Submission
from core.models import Appeal, Case, Counter, MergeEntry, OutboxMessage, RawItem
from core.sql import insert_new, insert_new_in_turn
from dedup.mergelog import GENESIS, entry_hash, verify_chain
from sync.render import appeal_object
from tests.helpers import load_test_config

RECEIVED = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def appeal_json(source_id: str, **fields) -> str:
    doc = {
        "source_id": source_id,
        "type": "投诉",
        "title": "小区夜间施工噪音扰民",
        "content": "A3区某工地每天夜里十一点后仍在施工，噪音很大，严重影响休息。",
        "citizen": {"name": "张三", "phone": "13812345678"},
        **fields,
    }
    return json.dumps(doc, ensure_ascii=False)


def sub(source_id: str, payload: str | None = None, channel: str = "web") -> Submission:
    return Submission(channel, InboundItem(source_id, payload or appeal_json(source_id)), RECEIVED)


@pytest.fixture
def pipeline(tmp_path, db_url) -> Pipeline:
    config = load_test_config(tmp_path, db_url).config
    return Pipeline(config, config.tier_rules())


async def count(engine, model) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(model))).scalar_one()


async def test_an_accepted_appeal_is_stored_with_its_case_merge_entry_and_outbox_message(engine, pipeline):
    async with engine.begin() as conn:
        [result] = await pipeline.ingest(conn, [sub("A-1")])

    assert result.outcome == "accepted"
    async with engine.connect() as conn:
        appeal = (await conn.execute(select(Appeal).where(Appeal.id == result.id))).one()
        case = (await conn.execute(select(Case).where(Case.id == appeal.case_id))).one()
        entry = (await conn.execute(select(MergeEntry).where(MergeEntry.appeal_id == result.id))).one()
        message = (await conn.execute(select(OutboxMessage).where(OutboxMessage.case_id == case.id))).one()
    assert appeal.phone == "+8613812345678"
    assert appeal.type == "complaint"
    assert appeal.received_at == RECEIVED
    assert case.appeal_count == 1
    assert entry.decision == "new" and entry.actor == "system"
    assert message.kind == "create_work_order" and message.status == "pending"
    assert message.payload["appeal_id"] == str(result.id)


async def test_the_raw_payload_is_kept_verbatim(engine, pipeline):
    payload = '{"source_id":"A-2",  "title":"路灯不亮" ,"content":"  xx路路灯坏了 "}'
    async with engine.begin() as conn:
        [result] = await pipeline.ingest(conn, [sub("A-2", payload)])
    async with engine.connect() as conn:
        stored = (await conn.execute(select(RawItem.payload).where(RawItem.id == result.id))).scalar_one()
    assert stored == payload


async def test_the_same_source_id_again_is_a_redelivery_with_the_same_gateway_id(engine, pipeline):
    async with engine.begin() as conn:
        [first] = await pipeline.ingest(conn, [sub("A-3")])
    async with engine.begin() as conn:
        [again] = await pipeline.ingest(conn, [sub("A-3")])

    assert again.outcome == "redelivery" and again.id == first.id
    assert await count(engine, Appeal) == 1
    assert await count(engine, OutboxMessage) == 1
    async with engine.connect() as conn:
        counted = (
            await conn.execute(select(Counter.value).where(Counter.name == "redeliveries"))
        ).scalar_one()
    assert counted == 1


async def test_the_same_source_id_twice_in_one_batch_is_stored_once(engine, pipeline):
    async with engine.begin() as conn:
        first, second = await pipeline.ingest(conn, [sub("A-4"), sub("A-4")])
    assert (first.outcome, second.outcome) == ("accepted", "redelivery")
    assert second.id == first.id
    assert await count(engine, Appeal) == 1


async def test_the_same_source_id_on_two_channels_is_two_appeals(engine, pipeline):
    async with engine.begin() as conn:
        a, b = await pipeline.ingest(conn, [sub("A-5", channel="web"), sub("A-5", channel="off")])
    assert a.id != b.id and {a.outcome, b.outcome} == {"accepted"}


async def test_one_malformed_item_is_quarantined_with_its_reason_and_the_rest_are_stored(engine, pipeline):
    batch = [sub("B-1"), sub("B-2", '{"source_id": "B-2", "title": "", "content": ""}'), sub("B-3")]
    async with engine.begin() as conn:
        results = await pipeline.ingest(conn, batch)

    assert [r.outcome for r in results] == ["accepted", "quarantined", "accepted"]
    assert results[1].error
    async with engine.connect() as conn:
        raw = (await conn.execute(select(RawItem).where(RawItem.id == results[1].id))).one()
    assert raw.status == "quarantined" and raw.error == results[1].error
    assert await count(engine, Appeal) == 2


async def test_a_quarantined_item_becomes_an_appeal_when_retried_after_the_cause_is_fixed(engine, pipeline):
    broken = '{"source_id": "C-1", "title": "", "content": ""}'
    async with engine.begin() as conn:
        [result] = await pipeline.ingest(conn, [sub("C-1", broken)])
    async with engine.begin() as conn:  # an operator repairs the stored payload
        await conn.execute(update(RawItem).where(RawItem.id == result.id).values(payload=appeal_json("C-1")))

    async with engine.begin() as conn:
        [retried] = await pipeline.retry_quarantined(conn)

    assert retried.outcome == "accepted" and retried.id == result.id
    async with engine.connect() as conn:
        raw = (await conn.execute(select(RawItem).where(RawItem.id == result.id))).one()
        appeal_id = (await conn.execute(select(Appeal.id))).scalar_one()
    assert raw.status == "normalized" and raw.attempts == 2
    assert appeal_id == result.id


async def test_a_retry_that_fails_again_keeps_the_item_quarantined_and_counts_the_attempt(engine, pipeline):
    async with engine.begin() as conn:
        [result] = await pipeline.ingest(conn, [sub("C-2", "not json")])
    async with engine.begin() as conn:
        [retried] = await pipeline.retry_quarantined(conn, [result.id])
    assert retried.outcome == "quarantined"
    async with engine.connect() as conn:
        raw = (await conn.execute(select(RawItem).where(RawItem.id == result.id))).one()
    assert raw.status == "quarantined" and raw.attempts == 2 and "JSON" in raw.error


async def test_a_failed_transaction_stores_nothing_at_all(engine, pipeline):
    with pytest.raises(RuntimeError):
        async with engine.begin() as conn:
            await pipeline.ingest(conn, [sub("D-1")])
            raise RuntimeError("crash before commit")
    for model in (RawItem, Appeal, Case, MergeEntry, OutboxMessage):
        assert await count(engine, model) == 0


async def test_the_work_order_for_a_report_carries_no_trace_of_the_citizens_identity(engine, pipeline):
    payload = appeal_json(
        "E-1",
        type="举报",
        title="举报某餐馆使用地沟油",
        content="我是李四，住在附近，电话139 1234-5678，身份证11010519491231002x。该餐馆长期使用地沟油。",
        citizen={"name": "李四", "phone": "13912345678", "id_number": "11010519491231002X"},
    )
    async with engine.begin() as conn:
        await pipeline.ingest(conn, [sub("E-1", payload)])
    async with engine.connect() as conn:
        appeal = (await conn.execute(select(Appeal))).one()
    message = appeal_object(appeal._mapping)
    wire = json.dumps(message, ensure_ascii=False)
    assert message["confidential"] is True and message["citizen"] is None
    for secret in ("李四", "139 1234-5678", "11010519491231002x", "13912345678"):
        assert secret not in wire
    assert "该餐馆长期使用地沟油" in message["content"]


async def test_every_decision_is_chained_in_the_merge_log(engine, pipeline):
    async with engine.begin() as conn:
        await pipeline.ingest(conn, [sub(f"F-{i}") for i in range(5)])
    async with engine.begin() as conn:
        await pipeline.ingest(conn, [sub("F-9")])
    async with engine.connect() as conn:
        entries = [dict(r._mapping) for r in await conn.execute(select(MergeEntry).order_by(MergeEntry.id))]
    assert len(entries) == 6
    assert verify_chain(entries) == []


async def test_an_edited_merge_log_entry_is_detected(engine, pipeline):
    async with engine.begin() as conn:
        await pipeline.ingest(conn, [sub(f"G-{i}") for i in range(3)])
    async with engine.begin() as conn:
        await conn.execute(update(MergeEntry).where(MergeEntry.id == 2).values(rule="forged-by-hand"))
    async with engine.connect() as conn:
        entries = [dict(r._mapping) for r in await conn.execute(select(MergeEntry).order_by(MergeEntry.id))]
    assert verify_chain(entries) == ["entry 2: content does not match its hash (edited)"]


def fresh_case(**fields) -> dict:
    row = {
        "id": new_id(),
        "created_at": RECEIVED,
        "updated_at": RECEIVED,
        "status": "new",
        "title": "路灯不亮",
        "type": "complaint",
        "time_tier": "7d",
        "emergency": None,
        "confidential": False,
        "enterprise": True,
        "division_code": "110105",
        "appeal_count": 1,
        "cluster_id": None,
    }
    return {**row, **fields}


async def test_rows_inserted_as_new_read_back_exactly_as_an_insert_stores_them(engine):
    # On PostgreSQL insert_new uses COPY; its values must come out as SQLAlchemy's own INSERT puts them in.
    copied, inserted = fresh_case(), fresh_case()
    late = datetime(2026, 11, 25, 16, 30, 0, 123456, tzinfo=timezone(timedelta(hours=8)))

    def message(case_id):  # "attempts" is left out: its column default applies
        return {
            "case_id": case_id,
            "kind": "create_work_order",
            "idempotency_key": f"case:{case_id}:create",
            "payload": {"case_id": str(case_id), "nested": {"标题": "路灯", "n": [1, 2.5, None, True]}},
            "status": "pending",
            "next_attempt_at": late,
            "created_at": RECEIVED,
        }

    def entry(case_id):
        return {
            "appeal_id": None,
            "case_id": case_id,
            "decision": "link",
            "rule": "test",
            "rule_version": "1",
            "score": 0.1 + 0.2,
            "evidence": {},
            "actor": "system",
            "created_at": late,
            "prev_hash": "0" * 64,
            "hash": uuid.uuid4().hex * 2,
        }

    async with engine.begin() as conn:
        await insert_new(conn, Case, [copied])
        await insert_new(conn, OutboxMessage, [message(copied["id"])])
        await insert_new(conn, MergeEntry, [entry(copied["id"])])
        await conn.execute(insert(Case), [inserted])
        await conn.execute(insert(OutboxMessage), [message(inserted["id"])])
        await conn.execute(insert(MergeEntry), [entry(inserted["id"])])

    async with engine.connect() as conn:
        for model, skip in (
            (Case, {"id"}),
            (OutboxMessage, {"id", "case_id", "idempotency_key", "payload"}),
            (MergeEntry, {"id", "case_id", "hash"}),
        ):
            a, b = [dict(r._mapping) for r in await conn.execute(select(model))]
            assert {k: v for k, v in a.items() if k not in skip} == {k: v for k, v in b.items() if k not in skip}
        messages = (await conn.execute(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    assert messages[0].attempts == 0 and messages[0].next_attempt_at == late
    assert messages[0].next_attempt_at.utcoffset() == timedelta(0)
    assert (
        messages[0].payload["nested"]
        == messages[1].payload["nested"]
        == {"标题": "路灯", "n": [1, 2.5, None, True]}
    )


async def test_a_naive_time_is_refused_when_inserting_new_rows(engine):
    with pytest.raises(Exception, match="naive datetime"):
        async with engine.begin() as conn:
            await insert_new(conn, Case, [fresh_case(created_at=datetime(2026, 11, 25, 8, 0))])
    assert await count(engine, Case) == 0


async def test_new_rows_as_the_first_statement_still_belong_to_the_transaction(engine):
    with pytest.raises(RuntimeError):
        async with engine.begin() as conn:
            await insert_new(conn, Case, [fresh_case(), fresh_case()])
            raise RuntimeError("crash before commit")
    assert await count(engine, Case) == 0

    async with engine.begin() as conn:
        await insert_new(conn, Case, [fresh_case()])
    assert await count(engine, Case) == 1


async def test_a_row_builder_failing_while_rows_are_stored_leaves_nothing_and_a_usable_connection(engine):
    def broken() -> list[dict]:
        raise KeyError("a bug in a row builder")

    with pytest.raises(KeyError):
        async with engine.begin() as conn:
            await insert_new_in_turn(conn, [(Case, lambda: [fresh_case() for _ in range(500)]), (Case, broken)])
    assert await count(engine, Case) == 0

    async with engine.begin() as conn:
        await insert_new_in_turn(conn, [(Case, lambda: [fresh_case()]), (Case, lambda: [])])
    assert await count(engine, Case) == 1


async def test_a_long_appeal_is_stored_and_read_back_whole(engine, pipeline):
    content = "某小区地下车库长期积水，" * 400  # ~10 kB: compressed and kept out of line by PostgreSQL
    payload = appeal_json("H-1", content=content)
    async with engine.begin() as conn:
        [result] = await pipeline.ingest(conn, [sub("H-1", payload)])
    async with engine.connect() as conn:
        stored = (await conn.execute(select(RawItem.payload).where(RawItem.id == result.id))).scalar_one()
        appeal = (await conn.execute(select(Appeal).where(Appeal.id == result.id))).one()
        if engine.dialect.name == "postgresql":
            lz4 = (
                await conn.exec_driver_sql(
                    "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
                )
            ).scalar()
            method = (
                await conn.exec_driver_sql("SELECT pg_column_compression(payload) FROM raw_items")
            ).scalar_one()
            assert method == ("lz4" if lz4 else "pglz")
    assert stored == payload
    assert appeal.content == content.strip()


def test_a_merge_log_hash_is_the_same_as_ever():
    # Chains already stored must still verify: the canonical form of an entry must not drift.
    entry = {
        "appeal_id": uuid.UUID("0190f5e2-7a4b-7c3d-9e8f-1a2b3c4d5e6f"),
        "case_id": uuid.UUID("0190f5e2-7a4b-7c3d-9e8f-000000000001"),
        "decision": "new",
        "rule": "one-case-per-appeal",
        "rule_version": "1",
        "score": 0.5,
        "evidence": {"reason": "no matching", "n": [1, 2]},
        "actor": "system",
        "created_at": datetime(2026, 11, 25, 8, 0, tzinfo=UTC),
    }
    assert entry_hash(GENESIS, entry) == "293485fe97aa6a07d06e7f23d5d94d6ed382380a0649c3f0a9f815ef039f9b80"
