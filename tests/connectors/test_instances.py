"""Several gateway instances: on PostgreSQL exactly one polls a channel and another takes over if it dies;
on SQLite a second instance is refused with a clear message."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from core.config import ROOT
from core.db import make_engine
from core.models import Appeal, ChannelState
from simulators.national.engine import SIMULATOR
from simulators.national.run import build_simulator, running
from tests.connectors.conftest import APP_KEY, APP_SECRET, channel_block
from tests.helpers import ENV, write_config
from tests.process import free_port, start_gateway, wait_healthy


async def lease_and_count(engine) -> tuple[str | None, int]:
    async with engine.connect() as conn:
        owner = (
            await conn.execute(select(ChannelState.lease_owner).where(ChannelState.channel_id == "hotline"))
        ).scalar()
        count = (await conn.execute(select(func.count()).select_from(Appeal))).scalar_one()
    return owner, count


@pytest.mark.postgres
@pytest.mark.timeout(120)
async def test_one_of_two_instances_polls_and_the_other_takes_over_within_30_seconds(tmp_path, pg_database):
    from tests.conftest import _truncate

    await _truncate(pg_database)
    app = build_simulator("12315", app_key=APP_KEY, app_secret=APP_SECRET, seed=11)
    engine = make_engine(pg_database)
    procs: list[subprocess.Popen] = []
    async with running(app) as url:
        try:
            for name in ("a", "b"):
                port = free_port()
                config = write_config(
                    tmp_path / name, pg_database, port, extra=channel_block("hotline", "12315", url)
                )
                procs.append(start_gateway(config, log=tmp_path / f"{name}.log"))
                await wait_healthy(port, procs[-1])
            app[SIMULATOR].generate(20, age_seconds=5)
            owner = await _until(engine, lambda o, n: o is not None and n == 20)
            pids = {p.pid: p for p in procs}
            owner_pid = int(owner.rsplit(":", 1)[1])
            assert owner_pid in pids
            await asyncio.sleep(3)
            assert (await lease_and_count(engine))[0] == owner  # the lease stays where it is

            os.kill(owner_pid, signal.SIGKILL)
            pids[owner_pid].wait()
            app[SIMULATOR].generate(10, age_seconds=5)
            started = asyncio.get_running_loop().time()
            new_owner = await _until(engine, lambda o, n: o not in (None, owner) and n == 30, timeout=40)
            took = asyncio.get_running_loop().time() - started
        finally:
            for p in procs:
                p.kill()
                p.wait()
            await engine.dispose()
    assert int(new_owner.rsplit(":", 1)[1]) in pids and took < 30


async def _until(engine, condition, timeout: float = 30.0) -> str:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        owner, count = await lease_and_count(engine)
        if condition(owner, count):
            return owner
        assert asyncio.get_running_loop().time() < deadline, f"not reached: owner={owner} appeals={count}"
        await asyncio.sleep(0.25)


@pytest.mark.timeout(60)
async def test_a_second_instance_on_one_sqlite_database_is_refused(tmp_path, sqlite_template):
    import shutil

    db = tmp_path / "huiju.db"
    shutil.copyfile(sqlite_template, db)
    port = free_port()
    config = write_config(tmp_path, f"sqlite+aiosqlite:///{db}", port)
    first = start_gateway(config)
    try:
        await wait_healthy(port, first)
        second = subprocess.run(
            [sys.executable, str(ROOT / "gateway.py"), "run", "--config", str(config)],
            cwd=ROOT,
            env={**os.environ, **ENV},
            capture_output=True,
            text=True,
            timeout=30,
        )
    finally:
        first.terminate()
        first.wait()
    assert second.returncode == 2
    assert "SQLite supports one instance" in second.stderr and "PostgreSQL" in second.stderr
