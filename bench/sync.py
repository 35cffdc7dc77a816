#!/usr/bin/env python3
"""Sync: outbox messages per second into the 12345 platform simulator, and the time from the platform's reply
to its delivery on every channel of the case.

1. Throughput. A backlog of cases (ingested through the pipeline, so each owes a create_work_order message) is
   dispatched to the platform simulator running in its own process (`gateway.py simulate hotline`): claimed
   in batches, rendered and frozen, signed, sent concurrently, recorded durably. Messages per second.
2. Reply to every delivery. The gateway runs with its sync loops; the simulator lives each work order on a
   fast clock and calls the gateway back; each case is merged from three appeals on three channels (a
   stand-in assigner merges them, as dedup will), so each reply owes three deliveries, to three channel
   systems on loopback. For each case: from the moment the platform sent the `replied` callback to the
   moment the last of its three deliveries was acknowledged by its channel. p50 and p99.

    .venv/bin/python bench/sync.py                              # both parts, SQLite and PostgreSQL
    .venv/bin/python bench/sync.py --part throughput --db sqlite --count 20000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
import asyncpg
from aiohttp import web
from sqlalchemy import func, select

from bench.ingest import durability, fresh_database, payloads
from connectors.base import InboundItem
from core.config import ROOT, SyncSettings, load_config
from core.db import make_engine
from core.http import HttpClient
from core.ingest import Pipeline, Submission
from core.models import Case, Delivery, OutboxMessage
from simulators.api_channel import build_channel
from simulators.api_sender import ApiChannelSender, appeal_from_board, signed_request
from simulators.corpus import board_messages
from simulators.national.run import running
from sync.dispatcher import Dispatcher
from sync.targets.platform12345 import Platform12345
from tests.helpers import API_SECRET, CALLBACK_SECRET, ENV, PLATFORM_SECRET, write_config
from tests.process import free_port
from tests.sync.support import APP_KEY, CALLBACK_KEY, MergeBySourcePrefix, api_channel, platform_table
from web.app import create_app
from web.context import CTX

CHANNELS = ("board", "wechat", "hotline")


async def start_platform(port: int, callback_url: str | None, clock_scale: float) -> subprocess.Popen:
    """`gateway.py simulate hotline` in its own process, answering on the port."""
    cmd = [
        sys.executable,
        str(ROOT / "gateway.py"),
        "simulate",
        "hotline",
        "--port",
        str(port),
        "--app-key",
        APP_KEY,
        "--app-secret",
        PLATFORM_SECRET,
        "--clock-scale",
        str(clock_scale),
        "--return-rate",
        "0",
    ]
    if callback_url:
        cmd += [
            "--callback-url",
            callback_url,
            "--callback-app-key",
            CALLBACK_KEY,
            "--callback-secret",
            CALLBACK_SECRET,
        ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"http://127.0.0.1:{port}/_sim/knobs") as resp:
                    if resp.status == 200:
                        return proc
            await asyncio.sleep(0.05)
    proc.kill()
    raise RuntimeError("the platform simulator did not start")


async def throughput(db_url: str, workdir: Path, count: int, batch: int, concurrency: int, workers: int) -> float:
    """Outbox messages per second, from a backlog of `count` new cases to all sent."""
    port = free_port()
    platform = platform_table(
        f"http://127.0.0.1:{port}", callbacks=False, feed_poll_seconds=300, sign_method="hmac-sha256"
    )
    config = load_config(write_config(workdir, db_url, platform=platform), environ=dict(ENV)).config
    pipeline = Pipeline(config, config.tier_rules())
    engine = make_engine(db_url)
    now = datetime.now(UTC)
    subs = [Submission("web", InboundItem(f"S-{i}", b.decode()), now) for i, b in enumerate(payloads(count, "S"))]
    for i in range(0, count, 500):
        async with engine.begin() as conn:
            await pipeline.ingest(conn, subs[i : i + 500])
    proc = await start_platform(port, None, 1.0)
    try:
        async with aiohttp.ClientSession() as session:
            async with session.put(f"http://127.0.0.1:{port}/_sim/knobs", json={"auto_advance": False}) as r:
                assert r.status == 200
            connector = aiohttp.TCPConnector(limit=concurrency)
            async with aiohttp.ClientSession(connector=connector) as client:
                settings = SyncSettings(batch_size=batch, concurrency=concurrency)
                dispatcher = Dispatcher(
                    engine, Platform12345(config.platform, HttpClient(client)), settings, "bench"
                )

                async def worker() -> None:
                    handled = await dispatcher.round()
                    while handled:  # until a round finds nothing left to send
                        handled = await dispatcher.round()

                start = time.perf_counter()
                await asyncio.gather(*(worker() for _ in range(workers)))
                elapsed = time.perf_counter() - start
    finally:
        proc.terminate()
        proc.wait()
    async with engine.connect() as conn:
        sent = (await conn.execute(select(func.count()).where(OutboxMessage.status == "sent"))).scalar_one()
    await engine.dispose()
    assert sent == count, f"{sent} of {count} sent"
    return count / elapsed


async def reply_latency(db_url: str, workdir: Path, cases: int, rate: float) -> list[float]:
    """Seconds from the platform's `replied` callback to the last of the case's three deliveries, per case."""
    port, platform_port = free_port(), free_port()
    async with contextlib.AsyncExitStack() as stack:
        receivers = [await stack.enter_async_context(running(build_channel(API_SECRET))) for _ in CHANNELS]
        extra = "".join(api_channel(ch, f"{url}/callbacks") for ch, url in zip(CHANNELS, receivers, strict=True))
        platform = platform_table(
            f"http://127.0.0.1:{platform_port}", callbacks=True, feed_poll_seconds=0, sign_method="hmac-sha256"
        )
        extra += "\n[sync]\nidle_seconds = 0.2\n"
        path = write_config(workdir, db_url, port, extra=extra, platform=platform)
        config = load_config(path, environ=dict(ENV)).config
        app = create_app(config)

        async def merging(app: web.Application) -> None:
            app[CTX].pipeline.assigner = MergeBySourcePrefix()

        app.on_startup.append(merging)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        await web.TCPSite(runner, "127.0.0.1", port).start()
        # A business day in 8.64 s: accepted after 3 s, the reply some 30 s after creation.
        proc = await start_platform(platform_port, f"http://127.0.0.1:{port}/api/v1/platform/events", 1e-4)
        stack.callback(proc.wait)
        stack.callback(proc.terminate)
        client = await stack.enter_async_context(aiohttp.ClientSession())
        msgs = board_messages()
        for i in range(cases):
            for ch in CHANNELS:
                appeal = appeal_from_board(msgs[i % len(msgs)])
                appeal["source_id"] = f"CASE{i}#{ch}"
                body, _ = signed_request(API_SECRET, appeal)
                status, _ = await ApiChannelSender(f"http://127.0.0.1:{port}", ch, API_SECRET, client).post(body)
                assert status == 202, status
            await asyncio.sleep(1 / rate)
        engine = app[CTX].engine
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            async with engine.connect() as conn:
                done = (
                    await conn.execute(
                        select(func.count()).where(Delivery.kind == "reply", Delivery.state == "delivered")
                    )
                ).scalar_one()
            if done == cases * len(CHANNELS):
                break
            await asyncio.sleep(0.5)
        else:
            raise RuntimeError(f"only {done} of {cases * len(CHANNELS)} replies delivered")
        async with client.get(f"http://127.0.0.1:{platform_port}/_sim/callbacks") as resp:
            callbacks = await resp.json()
        sent = {}
        for c in callbacks:
            if c["type"] == "replied" and c["event_id"] not in sent:
                sent[c["event_id"]] = c["sent_at"]
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(Delivery.event_id, func.max(Delivery.delivered_at))
                    .where(Delivery.kind == "reply")
                    .group_by(Delivery.event_id)
                )
            ).all()
            assert (await conn.execute(select(func.count()).select_from(Case))).scalar_one() == cases
        return [last.timestamp() - sent[event_id] for event_id, last in rows]


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of the values."""
    return (
        statistics.quantiles(values, n=1000, method="inclusive")[int(q * 1000) - 1]
        if len(values) > 1
        else values[0]
    )


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--part", choices=["throughput", "latency", "both"], default="both")
    p.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    p.add_argument("--count", type=int, default=10_000, help="messages for the throughput part (default 10000)")
    p.add_argument("--batch", type=int, default=200, help="messages claimed per transaction (default 200)")
    p.add_argument("--concurrency", type=int, default=64, help="requests in flight (default 64)")
    p.add_argument("--workers", type=int, default=2, help="dispatch loops (default 2)")
    p.add_argument("--cases", type=int, default=200, help="cases of three appeals for the latency part (200)")
    p.add_argument("--rate", type=float, default=20.0, help="new cases per second in the latency part (20)")
    args = p.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    for kind in kinds:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                url, drop = await fresh_database(kind, Path(tmp))
            except (OSError, asyncpg.PostgresError) as e:
                print(f"{kind}: skipped ({type(e).__name__}: {e})")
                continue
            try:
                print(f"{kind} ({await durability(url)})")
                if args.part in ("throughput", "both"):
                    rate = await throughput(
                        url, Path(tmp) / "t", args.count, args.batch, args.concurrency, args.workers
                    )
                    print(
                        f"  outbox -> platform: {rate:,.0f} messages/s ({args.count} create_work_order, "
                        f"batch {args.batch}, {args.concurrency} in flight, {args.workers} workers)"
                    )
                if args.part in ("latency", "both"):
                    if drop is not None:
                        await drop()
                    fresh = Path(tmp) / "latency"  # a database of its own, not the throughput part's
                    fresh.mkdir()
                    url, drop = await fresh_database(kind, fresh)
                    lat = await reply_latency(url, fresh, args.cases, args.rate)
                    print(
                        f"  reply -> all {len(CHANNELS)} channel deliveries: p50 {pct(lat, 0.5) * 1000:.0f} ms, "
                        f"p99 {pct(lat, 0.99) * 1000:.0f} ms, max {max(lat) * 1000:.0f} ms ({len(lat)} cases)"
                    )
            finally:
                if drop is not None:
                    await drop()


if __name__ == "__main__":
    asyncio.run(main())
