"""A crash between sending a message and recording the platform's answer never makes a second work order: the
message stays claimed, is sent again once the claim runs out, byte for byte, and the platform answers the
resend with the work order it already made."""

from __future__ import annotations

import asyncio
import os
import signal
from collections import Counter, defaultdict
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select, update

from core.config import SyncSettings
from core.models import Case, OutboxMessage, utcnow
from simulators.api_sender import ApiChannelSender
from simulators.hotline import build_platform, running
from tests.helpers import API_SECRET, PLATFORM_SECRET, write_config
from tests.process import free_port, start_gateway, wait_healthy
from tests.sync.support import APP_KEY, FAST, complaint, eventually, platform_table
from tests.sync.test_dispatcher import CREATE_PATH, bench, drive, status_is

CASES = 30


async def test_a_dispatcher_that_dies_after_sending_leaves_one_work_order_and_another_finishes_it(
    tmp_path, engine, db_url
):
    settings = SyncSettings(backoff_initial_seconds=0.02, backoff_max_seconds=0.1, claim_seconds=60)
    async with bench(tmp_path, engine, db_url) as b:
        send = b.target.send

        async def send_then_die(request, *, resent):
            await send(request, resent=resent)
            raise asyncio.CancelledError  # the process is gone before it records the answer

        b.target.send = send_then_die  # type: ignore[method-assign]
        case_id = await b.case("CRASH-1")
        with pytest.raises(asyncio.CancelledError):
            await b.dispatcher("instance-a", settings).round()
        b.target.send = send  # type: ignore[method-assign]

        message = await b.message(case_id)
        assert message.status == "pending" and message.attempts == 1
        assert message.claimed_by == "instance-a" and message.claimed_until > utcnow()
        [order] = await b.sim("/_sim/work-orders")

        survivor = b.dispatcher("instance-b", settings)
        assert await survivor.round() == 0  # the dead instance's claim still holds
        await expire_claims(engine)  # a minute passes: the claim runs out
        message = await drive(survivor, status_is(b, case_id, "sent"))

        creates = await b.requests()
        assert [r["status"] for r in creates] == [201, 200]
        assert creates[0]["body"] == creates[1]["body"]
        assert message.attempts == 2 and message.response["work_order_no"] == order["work_order_no"]
        assert len(await b.sim("/_sim/work-orders")) == 1
        async with engine.connect() as conn:
            case = (await conn.execute(select(Case).where(Case.id == case_id))).one()
        assert case.work_order_no == order["work_order_no"]


async def expire_claims(engine) -> None:
    """Move every claim deadline into the past, as if the claim's time had gone by (no wall-clock wait)."""
    async with engine.begin() as conn:
        await conn.execute(
            update(OutboxMessage)
            .where(OutboxMessage.claimed_until.is_not(None))
            .values(claimed_until=utcnow() - timedelta(seconds=1))
        )


class KillAfterCreate:
    """Kills the gateway (SIGKILL) right after the platform made a work order, before its answer goes back:
    the gateway dies with that request, and the others of its batch, in flight."""

    def __init__(self) -> None:
        self.pid: int | None = None  # armed once set
        self.killed_case: str | None = None

    @web.middleware
    async def middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Pass the request to the platform; after the armed create is answered 201, kill the gateway."""
        response = await handler(request)
        if self.pid and request.method == "POST" and request.path == CREATE_PATH and response.status == 201:
            os.kill(self.pid, signal.SIGKILL)
            self.pid = None
            self.killed_case = (await request.json())["case_id"]
        return response


SYNC = """
[sync]
batch_size = 4
concurrency = 4
claim_seconds = 1
backoff_initial_seconds = 0.05
backoff_max_seconds = 0.5
idle_seconds = 0.05
"""


@pytest.mark.timeout(180)
async def test_a_gateway_killed_while_the_platform_takes_creates_leaves_exactly_one_work_order_per_case(
    tmp_path, db_url, engine
):
    killer = KillAfterCreate()
    app = build_platform(
        APP_KEY, PLATFORM_SECRET, "hmac-sha256", seed=7, clock_scale=FAST, auto_advance=False, latency_ms=200
    )
    app.middlewares.append(killer.middleware)
    port = free_port()
    log = tmp_path / "gateway.log"
    async with running(app) as platform_url, aiohttp.ClientSession() as http:
        platform = platform_table(platform_url, callbacks=False, feed_poll_seconds=60, sign_method="hmac-sha256")
        config = write_config(tmp_path, db_url, port, extra=SYNC, platform=platform)
        proc = start_gateway(config, log=log)
        try:
            await wait_healthy(port, proc)
            sender = ApiChannelSender(f"http://127.0.0.1:{port}", "web", API_SECRET, http)
            answers = await asyncio.gather(*(sender.post(complaint(f"KILL-{i}")) for i in range(CASES)))
            assert all(status in (200, 202) for status, _ in answers)
            killer.pid = proc.pid
            await asyncio.to_thread(proc.wait, 30)
            assert proc.returncode == -signal.SIGKILL

            proc = start_gateway(config, log=log)
            await wait_healthy(port, proc)

            async def all_sent() -> list[Any] | None:
                async with engine.connect() as conn:
                    rows = (await conn.execute(select(OutboxMessage))).all()
                return rows if len(rows) == CASES and all(r.status == "sent" for r in rows) else None

            messages = await eventually(all_sent, timeout=60)
        finally:
            proc.kill()
            proc.wait()
        async with http.get(f"{platform_url}/_sim/work-orders") as r:
            orders = await r.json()
        async with http.get(f"{platform_url}/_sim/requests") as r:
            creates = [q for q in await r.json() if q["method"] == "POST" and q["path"] == CREATE_PATH]

    async with engine.connect() as conn:
        cases = {str(c.id): c.work_order_no for c in (await conn.execute(select(Case))).all()}
    assert len(cases) == CASES and len(orders) == CASES
    assert Counter(o["case_id"] for o in orders) == Counter(set(cases))  # each case in exactly one work order
    assert {o["case_id"]: o["work_order_no"] for o in orders} == cases
    assert {str(m.case_id): m.response["work_order_no"] for m in messages} == cases
    answered: dict[str, list[int]] = defaultdict(list)
    for q in creates:
        answered[q["body"]["case_id"]].append(q["status"])
    assert all(statuses.count(201) == 1 for statuses in answered.values())
    assert answered[killer.killed_case] == [201, 200]  # made before the kill, recognised after it
