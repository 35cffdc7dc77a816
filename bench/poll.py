#!/usr/bin/env python3
"""Polling throughput: items per second from a platform simulator through the runner into stored appeals.

The simulator runs in its own process (`gateway.py simulate KIND`) with a backlog of work orders; this process
runs one channel's ChannelRunner until the backlog is stored, on SQLite and on PostgreSQL (skipped if
unreachable). Every page is committed with its cursor, durably.

    .venv/bin/python bench/poll.py                         # 12315, 12333 and 12328; both databases
    .venv/bin/python bench/poll.py --kind 12315 --db sqlite --count 20000 --page-size 500
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
import asyncpg

from bench.ingest import count_appeals, fresh_database
from connectors.registry import connector_class
from core.config import ROOT, load_config
from core.db import make_engine
from core.http import HttpClient
from core.ingest import Pipeline
from core.runner import ChannelRunner
from tests.connectors.conftest import APP_KEY, APP_SECRET, channel_block
from tests.helpers import ENV, write_config
from tests.process import free_port


async def start_simulator(kind: str, count: int) -> tuple[subprocess.Popen, str]:
    """`gateway.py simulate KIND` with a backlog of `count` work orders; its base URL once it answers."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "gateway.py"),
            "simulate",
            kind,
            "--port",
            str(port),
            "--app-key",
            APP_KEY,
            "--app-secret",
            APP_SECRET,
            "--rate",
            "0",
            "--initial",
            str(count),
        ],
        cwd=ROOT,
        env={**os.environ, **ENV},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"{url}/_sim/stats") as resp:
                    if resp.status == 200 and (await resp.json())["orders"] >= count:
                        return proc, url
            await asyncio.sleep(0.1)
    proc.kill()
    raise RuntimeError("simulator did not start")


async def bench(kind: str, url: str, db_url: str, workdir: Path, count: int, page_size: int) -> float:
    """Items per second through one runner until `count` appeals are stored."""
    extra = channel_block("bench", kind, url, page_size=page_size).replace(
        "lookback_seconds = 120.0", "lookback_seconds = 120.0\nmax_pages_per_tick = 100000"
    )
    config = load_config(write_config(workdir, db_url, extra=extra), environ=dict(ENV)).config
    engine = make_engine(db_url)
    async with aiohttp.ClientSession() as session:
        ch = config.channel("bench")
        connector = connector_class(kind)(ch, HttpClient(session))
        runner = ChannelRunner(engine, Pipeline(config, config.tier_rules()), connector, "bench")
        start = time.perf_counter()
        await runner.tick()
        elapsed = time.perf_counter() - start
    await engine.dispose()
    stored = await count_appeals(db_url)
    assert stored == count, f"{stored} of {count} stored"
    return count / elapsed


async def feed_only(kind: str, url: str, workdir: Path, count: int, page_size: int) -> float:
    """Items per second of the simulator and the connector alone: every page polled, nothing stored."""
    extra = channel_block("bench", kind, url, page_size=page_size)
    config = load_config(write_config(workdir, "sqlite+aiosqlite:///unused.db", extra=extra), environ=dict(ENV))
    async with aiohttp.ClientSession() as session:
        connector = connector_class(kind)(config.config.channel("bench"), HttpClient(session))
        seen, position = 0, None
        start = time.perf_counter()
        while True:
            page = await connector.poll(position, page_size)
            seen += len(page.items)
            if page.next is None:
                break
            position = page.next
        elapsed = time.perf_counter() - start
    assert seen == count, f"{seen} of {count} polled"
    return count / elapsed


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kind", choices=["12315", "12333", "12328", "all"], default="all")
    p.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    p.add_argument("--count", type=int, default=10_000, help="work orders in the backlog (default 10000)")
    p.add_argument("--page-size", type=int, default=500, help="items per page (default 500)")
    args = p.parse_args()
    kinds = ["12315", "12333", "12328"] if args.kind == "all" else [args.kind]
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    print(f"huiju poll benchmark — {os.cpu_count()} cores, {args.count} items, pages of {args.page_size}")
    for kind in kinds:
        proc, url = await start_simulator(kind, args.count)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                rate = await feed_only(kind, url, Path(tmp), args.count, args.page_size)
            print(f"{kind:<6} {'(no db)':<10} {rate:8.0f} items/s  simulator + connector alone, nothing stored")
        finally:
            proc.terminate()
            proc.wait()
        for db in dbs:
            proc, url = await start_simulator(kind, args.count)
            try:
                with tempfile.TemporaryDirectory() as tmp:
                    try:
                        db_url, drop = await fresh_database(db, Path(tmp))
                    except (OSError, asyncpg.PostgresError) as e:
                        print(f"{kind:<6} {db:<10} skipped: database unreachable ({e})")
                        continue
                    try:
                        rate = await bench(kind, url, db_url, Path(tmp), args.count, args.page_size)
                    finally:
                        if drop:
                            await drop()
                    print(f"{kind:<6} {db:<10} {rate:8.0f} items/s  through the runner into stored appeals")
            finally:
                proc.terminate()
                proc.wait()


if __name__ == "__main__":
    asyncio.run(main())
