#!/usr/bin/env python3
"""End-to-end ingest throughput: receive, store raw, normalize, assign a case, write the outbox.

Two paths, each on SQLite and on PostgreSQL (skipped if unreachable):
  batch  Pipeline.ingest in committed batches (how polled pages arrive), in this process
  http   signed POSTs to a real `gateway.py run` process on loopback, from concurrent clients here

    .venv/bin/python bench/ingest.py                 # both paths, both databases
    .venv/bin/python bench/ingest.py --path batch --db sqlite --count 50000

Prints appeals per second. Every commit is durable (SQLite WAL with synchronous=FULL; PostgreSQL defaults).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
import asyncpg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from connectors.base import InboundItem
from core.config import load_config
from core.db import make_engine, upgrade_to_head
from core.ingest import Pipeline, Submission
from core.models import Appeal
from simulators.api_sender import ApiChannelSender, appeal_from_board, signed_request
from simulators.corpus import board_messages
from tests.helpers import API_SECRET, ENV, write_config
from tests.process import free_port, start_gateway, wait_healthy

PG_URL = os.environ.get("HUIJU_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def payloads(n: int, run: str) -> list[bytes]:
    """n distinct, realistic appeal bodies drawn from the board sample."""
    msgs = board_messages()
    out = []
    for i in range(n):
        appeal = appeal_from_board(msgs[i % len(msgs)])
        appeal["source_id"] = f"{run}-{i}"
        out.append(signed_request(API_SECRET, appeal)[0])
    return out


async def fresh_database(kind: str, workdir: Path) -> tuple[str, object]:
    """A migrated, empty database URL and a cleanup coroutine function."""
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir}/bench.db"
        await asyncio.to_thread(upgrade_to_head, url)
        return url, None
    name = f"huiju_bench_{uuid.uuid4().hex[:8]}"
    dsn = make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn, timeout=5)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    await asyncio.to_thread(upgrade_to_head, url)

    async def drop() -> None:
        c = await asyncpg.connect(dsn, timeout=5)
        await c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await c.close()

    return url, drop


async def count_appeals(url: str) -> int:
    engine = make_engine(url)
    async with engine.connect() as conn:
        n = (await conn.execute(select(func.count()).select_from(Appeal))).scalar_one()
    await engine.dispose()
    return n


async def durability(url: str) -> str:
    """How the database makes a commit durable, as the connections the benchmark used see it."""
    engine = make_engine(url)
    async with engine.connect() as conn:
        if make_url(url).get_backend_name() == "sqlite":
            level = (await conn.exec_driver_sql("PRAGMA synchronous")).scalar_one()
            settings = [f"synchronous={['OFF', 'NORMAL', 'FULL', 'EXTRA'][level]}"]
        else:
            settings = [
                f"{name}={(await conn.exec_driver_sql(f'SHOW {name}')).scalar_one()}"
                for name in ("fsync", "synchronous_commit")
            ]
    await engine.dispose()
    return " ".join(settings)


async def bench_batch(url: str, workdir: Path, count: int, batch: int, extra: str = "") -> float:
    """Appeals per second through Pipeline.ingest, one committed transaction per batch."""
    config = load_config(write_config(workdir, url, extra=extra), environ=dict(ENV)).config
    pipeline = Pipeline(config, config.tier_rules())
    engine = make_engine(url)
    bodies = payloads(count, "B")
    now = datetime.now(UTC)
    subs = [Submission("web", InboundItem(f"B-{i}", b.decode()), now) for i, b in enumerate(bodies)]
    start = time.perf_counter()
    for i in range(0, count, batch):
        async with engine.begin() as conn:
            await pipeline.ingest(conn, subs[i : i + batch])
    elapsed = time.perf_counter() - start
    await engine.dispose()
    assert await count_appeals(url) == count
    return count / elapsed


async def bench_http(url: str, workdir: Path, count: int, concurrency: int, extra: str = "") -> float:
    """Appeals per second through signed POSTs to a gateway process on loopback."""
    port = free_port()
    config_path = write_config(workdir, url, port, extra=extra)
    proc = start_gateway(config_path, log=workdir / "gateway.log")
    bodies = payloads(count, "H")
    try:
        await wait_healthy(port, proc)
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        for b in bodies:
            queue.put_nowait(b)
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            sender = ApiChannelSender(f"http://127.0.0.1:{port}", "web", API_SECRET, session)

            async def worker() -> None:
                while not queue.empty():
                    status, _ = await sender.post(queue.get_nowait())
                    assert status == 202, status

            start = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            elapsed = time.perf_counter() - start
    finally:
        proc.terminate()
        proc.wait()
    assert await count_appeals(url) == count
    return count / elapsed


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--path", choices=["batch", "http", "both"], default="both")
    p.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    p.add_argument("--count", type=int, default=20_000, help="appeals for the batch path (default 20000)")
    p.add_argument("--http-count", type=int, default=5_000, help="appeals for the HTTP path (default 5000)")
    p.add_argument("--batch", type=int, default=500, help="appeals per committed batch (default 500)")
    p.add_argument("--concurrency", type=int, default=64, help="HTTP requests in flight (default 64)")
    p.add_argument(
        "--dedup", action="store_true", help="with [dedup] enabled: every appeal goes through the matcher"
    )
    args = p.parse_args()
    extra = "\n[dedup]\nenabled = true\n" if args.dedup else ""

    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    paths = ["batch", "http"] if args.path == "both" else [args.path]
    print(f"huiju ingest benchmark — {os.cpu_count()} cores")
    for db in dbs:
        for path in paths:
            with tempfile.TemporaryDirectory() as tmp:
                workdir = Path(tmp)
                try:
                    url, drop = await fresh_database(db, workdir)
                except (OSError, asyncpg.PostgresError) as e:
                    print(f"{db:<10} {path:<5}  skipped: database unreachable ({e})")
                    continue
                try:
                    if path == "batch":
                        rate = await bench_batch(url, workdir, args.count, args.batch, extra)
                        detail = f"{args.count} appeals, batches of {args.batch}"
                    else:
                        rate = await bench_http(url, workdir, args.http_count, args.concurrency, extra)
                        detail = f"{args.http_count} appeals, {args.concurrency} in flight"
                    detail += f"; {await durability(url)}" + ("; dedup on" if args.dedup else "")
                finally:
                    if drop:
                        await drop()
                print(f"{db:<10} {path:<5}  {rate:8.0f} appeals/s  ({detail})")


if __name__ == "__main__":
    asyncio.run(main())
