"""gateway.py: the commands an operator runs against a stored database."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest
from sqlalchemy import update

import gateway
from core.config import ROOT
from core.db import current_revision, head_revision, make_engine
from core.ingest import Pipeline
from core.models import RawItem
from tests.helpers import ENV, load_test_config, write_config
from tests.storage.test_pipeline import appeal_json, sub


@pytest.fixture
def secrets_set(monkeypatch):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
async def stored(tmp_path, db_url, engine, secrets_set):
    """A config file and a database holding one appeal and one quarantined item."""
    config = load_test_config(tmp_path, db_url).config
    pipeline = Pipeline(config, config.tier_rules())
    async with engine.begin() as conn:
        good, bad = await pipeline.ingest(conn, [sub("S-1"), sub("S-2", '{"source_id": "S-2"}')])
    return write_config(tmp_path, db_url), good.id, bad.id


def run(*args: str) -> int:
    """gateway.main off the event loop (the commands run their own)."""
    return gateway.main(list(args))


async def test_appeals_list_prints_one_line_per_appeal(stored, capsys):
    path, good, _ = stored
    assert await asyncio.to_thread(run, "appeals", "list", "--config", str(path)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith(str(good)) and "complaint" in lines[0]


async def test_appeals_show_prints_the_appeal_with_personal_data_masked(stored, capsys):
    path, good, _ = stored
    assert await asyncio.to_thread(run, "appeals", "show", str(good), "--config", str(path)) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["id"] == str(good)
    assert shown["phone"] == "+86138****5678"
    assert "13812345678" not in json.dumps(shown)


async def test_appeals_show_says_when_the_item_is_in_quarantine(stored, capsys):
    path, _, bad = stored
    assert await asyncio.to_thread(run, "appeals", "show", str(bad), "--config", str(path)) == 1
    assert "quarantine" in capsys.readouterr().err


async def test_quarantine_list_shows_the_item_and_its_reason(stored, capsys):
    path, _, bad = stored
    assert await asyncio.to_thread(run, "quarantine", "list", "--config", str(path)) == 0
    out = capsys.readouterr().out
    assert str(bad) in out and "source=S-2" in out


async def test_quarantine_retry_normalizes_a_repaired_item(stored, engine, capsys):
    path, _, bad = stored
    async with engine.begin() as conn:
        await conn.execute(update(RawItem).where(RawItem.id == bad).values(payload=appeal_json("S-2")))
    assert await asyncio.to_thread(run, "quarantine", "retry", str(bad), "--config", str(path)) == 0
    assert f"{bad}  accepted" in capsys.readouterr().out


async def test_quarantine_retry_exits_1_while_items_still_fail(stored, capsys):
    path, _, _ = stored
    assert await asyncio.to_thread(run, "quarantine", "retry", "--config", str(path)) == 1


async def test_migrate_brings_an_empty_database_to_the_newest_schema(tmp_path, secrets_set):
    url = f"sqlite+aiosqlite:///{tmp_path}/new.db"
    path = write_config(tmp_path, url)
    assert await asyncio.to_thread(run, "migrate", "--config", str(path)) == 0
    engine = make_engine(url)
    try:
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()


def test_run_refuses_an_unmigrated_database_with_exit_2(tmp_path):
    path = write_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/new.db")
    proc = subprocess.run([sys.executable, "gateway.py", "run", "--config", str(path)], cwd=ROOT,
                          env={"PATH": "/usr/bin:/bin", **ENV}, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "gateway.py migrate" in proc.stderr


def test_every_command_explains_itself_with_help():
    for command in (["run"], ["migrate"], ["check-config"], ["appeals", "list"], ["appeals", "show"],
                    ["quarantine", "list"], ["quarantine", "retry"]):
        proc = subprocess.run([sys.executable, "gateway.py", *command, "--help"], cwd=ROOT, capture_output=True,
                              text=True, timeout=60)
        assert proc.returncode == 0 and "--config" in proc.stdout, command


async def test_channels_list_shows_each_channel_with_its_health(stored, capsys):
    path, _, _ = stored
    assert await asyncio.to_thread(run, "channels", "list", "--config", str(path)) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert "push" in lines["web"] and "receives pushes" in lines["web"]
    assert "disabled" in lines["off"]
