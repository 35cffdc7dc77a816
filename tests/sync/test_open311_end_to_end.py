"""huiju in front of an Open311 GeoReport v2 server, end to end on loopback: a channel's appeal becomes one
service request, and the request's progress, read by polling, comes back on the case's timeline and out to
the channel — also when the answer to the POST was lost and the request had to be found again."""

from __future__ import annotations

import contextlib

import aiohttp
from aiohttp import web
from sqlalchemy import select

from core.models import CaseEvent, Delivery, OutboxMessage
from simulators.api_channel import build_channel
from simulators.open311 import build_open311, running
from tests.helpers import API_SECRET, ENV, load_test_config
from tests.process import free_port
from tests.sync.support import SYNC_FAST, World, api_channel, complaint, eventually
from web.app import create_app
from web.context import CTX

OPEN311_KEY = "test-open311-key-0123"


@contextlib.asynccontextmanager
async def open311_world(tmp_path, db_url, **knobs):
    """The gateway pushing to the Open311 simulator, with one API channel that takes status back."""
    server = build_open311(
        OPEN311_KEY, clock_scale=2e-5, **{"assign_delay_s": 1800, "close_delay_s": 7200, **knobs}
    )
    async with contextlib.AsyncExitStack() as stack:
        url = await stack.enter_async_context(running(server))
        receiver = await stack.enter_async_context(running(build_channel(API_SECRET)))
        platform = f"""
[platform]
kind = "open311"
base_url = "{url}"
timeout_seconds = 5
[platform.open311]
api_key = "${{HUIJU_TEST_OPEN311_KEY}}"
jurisdiction_id = "ganzhou.gov.cn"
default_service_code = "001"
poll_seconds = 0.1
"""
        port = free_port()
        extra = SYNC_FAST + api_channel("board", f"{receiver}/callbacks")
        environ = {**ENV, "HUIJU_TEST_OPEN311_KEY": OPEN311_KEY}
        config = load_test_config(tmp_path, db_url, port, extra, environ, platform=platform).config
        app = create_app(config)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        await web.TCPSite(runner, "127.0.0.1", port).start()
        http = await stack.enter_async_context(aiohttp.ClientSession())
        yield World(f"http://127.0.0.1:{port}", url, None, app[CTX], http, {"board": receiver})


async def _closed(w, appeal_id):
    case = await w.case_of(appeal_id)
    return case if case.platform_status == "closed" else None


async def test_an_appeal_becomes_a_service_request_and_its_reply_comes_back_by_polling(tmp_path, db_url):
    async with open311_world(tmp_path, db_url) as w:
        appeal_id = await w.push(complaint("BOARD-7"), channel="board")
        case = await eventually(lambda: _closed(w, appeal_id))

        [message] = await w.rows(select(OutboxMessage))
        assert message.status == "sent" and message.response["work_order_no"] == case.work_order_no
        lines = await w.rows(
            select(CaseEvent.kind)
            .where(CaseEvent.case_id == case.id, CaseEvent.source == "platform")
            .order_by(CaseEvent.id)
        )
        assert [k for (k,) in lines] == ["accepted", "dispatched", "replied", "closed"]

        async def reply_delivered():
            rows = await w.rows(select(Delivery).where(Delivery.kind == "reply", Delivery.state == "delivered"))
            return rows or None

        [reply] = await eventually(reply_delivered)
        events = [r["event"] for r in await w.sim("/_sim/events", base=w.receivers["board"])]
        assert [e["text"] for e in events if e["kind"] == "reply"] == [reply.payload["text"]]


async def test_a_lost_answer_to_the_post_never_makes_a_second_service_request(tmp_path, db_url):
    async with open311_world(tmp_path, db_url, lost_answer_rate=1.0, auto_advance=False) as w:
        appeal_id = await w.push(complaint("BOARD-8"), channel="board")

        async def lost():
            rows = await w.rows(select(OutboxMessage).where(OutboxMessage.last_error.is_not(None)))
            return rows or None

        await eventually(lost)  # the server created the request, and its answer never came back
        await w.sim("/_sim/knobs", "PUT", json={"lost_answer_rate": 0})

        async def sent():
            case = await w.case_of(appeal_id)
            return case if case.work_order_no else None

        case = await eventually(sent)
        requests = await w.sim("/_sim/service-requests")
        assert [r["service_request_id"] for r in requests] == [case.work_order_no]
        [message] = await w.rows(select(OutboxMessage))
        assert message.attempts >= 2
