"""`gateway.py audit verify|log`: the merge log checked for tampering, and read by auditors with data masked."""

from __future__ import annotations

import asyncio
import csv
import io
import json

import pytest
from sqlalchemy import delete, select, update

import gateway
from core.ingest import Pipeline
from core.models import MergeEntry
from dedup.cli import masked
from tests.helpers import ENV, load_test_config, write_config
from tests.storage.test_pipeline import sub


@pytest.fixture
async def logged(tmp_path, db_url, engine, monkeypatch):
    """A database whose merge log holds four decisions, and a config pointing at it."""
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    config = load_test_config(tmp_path, db_url).config
    pipeline = Pipeline(config, config.tier_rules())
    for batch in (["L-1", "L-2"], ["L-3"], ["L-4"]):
        async with engine.begin() as conn:
            await pipeline.ingest(conn, [sub(s) for s in batch])
    async with engine.connect() as conn:
        ids = list((await conn.execute(select(MergeEntry.id).order_by(MergeEntry.id))).scalars())
    return write_config(tmp_path, db_url), ids


def run(*args: str) -> int:
    return gateway.main(list(args))


async def test_an_untouched_log_verifies(logged, capsys):
    path, _ = logged
    assert await asyncio.to_thread(run, "audit", "verify", "--config", str(path)) == 0
    assert "4 entries, chain intact" in capsys.readouterr().err


async def test_an_edited_entry_is_named(logged, engine, capsys):
    path, ids = logged
    async with engine.begin() as conn:
        await conn.execute(update(MergeEntry).where(MergeEntry.id == ids[1]).values(decision="merge"))
    assert await asyncio.to_thread(run, "audit", "verify", "--config", str(path)) == 1
    assert capsys.readouterr().out.splitlines() == [f"entry {ids[1]}: content does not match its hash (edited)"]


async def test_a_deleted_entry_is_found_at_the_one_after_it(logged, engine, capsys):
    path, ids = logged
    async with engine.begin() as conn:
        await conn.execute(delete(MergeEntry).where(MergeEntry.id == ids[1]))
    assert await asyncio.to_thread(run, "audit", "verify", "--config", str(path)) == 1
    assert f"entry {ids[2]}: does not follow the entry before it" in capsys.readouterr().out


async def test_the_log_of_one_case_is_exported_as_csv(logged, engine, capsys):
    path, ids = logged
    async with engine.connect() as conn:
        case_id = (await conn.execute(select(MergeEntry.case_id).where(MergeEntry.id == ids[2]))).scalar_one()
    args = ("audit", "log", "--case", str(case_id), "--format", "csv", "--config", str(path))
    assert await asyncio.to_thread(run, *args) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [int(r["id"]) for r in rows] == [ids[2]] and rows[0]["channel_id"] == "web"
    assert rows[0]["actor"] == "system" and json.loads(rows[0]["evidence"])


async def test_the_log_filters_by_actor_and_time(logged, capsys):
    path, _ = logged
    args = (
        "audit",
        "log",
        "--actor",
        "auditor:nobody",
        "--since",
        "2020-01-01T00:00:00+08:00",
        "--config",
        str(path),
    )
    assert await asyncio.to_thread(run, *args) == 0
    assert capsys.readouterr().out == ""


def test_phone_and_id_numbers_in_evidence_are_masked():
    evidence = {"text": {"excerpt": "我的电话13812345678，身份证11010519491231002X"}, "score": 0.5}
    shown = json.dumps(masked(evidence), ensure_ascii=False)
    assert "13812345678" not in shown and "11010519491231002X" not in shown and "0.5" in shown
