"""Nothing acknowledged is lost: a gateway killed with SIGKILL mid-burst keeps every appeal it answered 202."""

from __future__ import annotations

import asyncio
import os
import signal

import aiohttp
import pytest
from sqlalchemy import func, select

from core.models import Appeal, RawItem
from simulators.api_sender import ApiChannelSender
from tests.helpers import API_SECRET, write_config
from tests.process import free_port, start_gateway, wait_healthy

BURST = 1500
KILL_AFTER = 300


def appeal(i: int) -> dict:
    return {
        "source_id": f"K-{i}",
        "type": "咨询",
        "title": f"第{i}号咨询",
        "content": f"请问办理居住证需要什么材料？编号{i}",
    }


async def burst(port: int, proc, acked: dict[str, str]) -> None:
    """Post the burst with 40 in flight; SIGKILL the gateway once KILL_AFTER answers came back."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(BURST):
        queue.put_nowait(i)

    async def worker(sender: ApiChannelSender) -> None:
        while not queue.empty():
            i = queue.get_nowait()
            try:
                status, body = await sender.post(appeal(i))
            except (aiohttp.ClientError, TimeoutError):
                continue
            if status in (200, 202):
                acked[f"K-{i}"] = body["id"]
            if len(acked) >= KILL_AFTER and proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        sender = ApiChannelSender(f"http://127.0.0.1:{port}", "web", API_SECRET, session)
        await asyncio.gather(*(worker(sender) for _ in range(40)))


@pytest.mark.timeout(180)
async def test_every_appeal_answered_202_survives_sigkill_and_is_stored_exactly_once(
    tmp_path, db_url, engine
):
    port = free_port()
    config = write_config(tmp_path, db_url, port)
    proc = start_gateway(config, log=tmp_path / "gateway.log")
    try:
        await wait_healthy(port, proc)
        acked: dict[str, str] = {}
        await burst(port, proc, acked)
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        assert KILL_AFTER <= len(acked) < BURST

        proc = start_gateway(config, log=tmp_path / "gateway.log")
        await wait_healthy(port, proc)
        async with aiohttp.ClientSession() as session:  # the channel resends everything after the outage
            sender = ApiChannelSender(f"http://127.0.0.1:{port}", "web", API_SECRET, session)
            answers = await asyncio.gather(*(sender.post(appeal(i)) for i in range(BURST)))
    finally:
        proc.kill()
        proc.wait()

    again = {f"K-{i}": body["id"] for i, (_, body) in enumerate(answers)}
    assert all(again[sid] == gid for sid, gid in acked.items())
    async with engine.connect() as conn:
        rows = (await conn.execute(select(RawItem.source_id, RawItem.id))).all()
        appeals = (await conn.execute(select(func.count()).select_from(Appeal))).scalar_one()
    stored = {sid: str(gid) for sid, gid in rows}
    assert len(rows) == BURST == len(stored) == appeals
    assert all(stored[sid] == gid for sid, gid in acked.items())
