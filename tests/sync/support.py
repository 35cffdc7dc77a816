"""A world for sync tests: the gateway serving on loopback, the 12345 platform simulator calling it back, and
optionally a national platform (12315) as a channel that takes status and replies back."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import select

from connectors.api.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER
from core.ids import new_id
from core.models import Appeal, Case
from core.signing import sign_body
from dedup.assign import Assignment
from simulators.api_channel import build_channel
from simulators.hotline import build_platform, running
from simulators.national.run import build_simulator
from tests.helpers import API_SECRET, CALLBACK_SECRET, NATIONAL_SECRET, PLATFORM_SECRET, load_test_config
from tests.process import free_port
from web.app import create_app
from web.context import CTX, GatewayContext

APP_KEY = "huiju-test"
CALLBACK_KEY = "12345-test"
FAST = 2e-6  # the simulator's clock: a two-day work order life in well under a second
REVIEWER_TOKEN = "reviewer-token-0123456789abcdef"
ADMIN_TOKEN = "admin-token-0123456789abcdef0123"
AUDITOR_TOKEN = "auditor-token-0123456789abcdef01"


def complaint(source_id: str, **fields: Any) -> dict[str, Any]:
    """A generic-API complaint about a property fee, with the citizen's identity."""
    return {
        "source_id": source_id,
        "type": "投诉",
        "title": "景蓉华苑物业乱收停车费",
        "content": "小区物业未经业主大会同意，自4月起每月收取停车管理费300元。",
        "citizen": {"name": "张三", "phone": "13800138000"},
        "location": {"address": "章贡区解放街道景蓉华苑", "division_code": "360702"},
        **fields,
    }


@dataclass
class World:
    """The running gateway and its simulators."""

    gateway: str
    platform: str
    national: str | None
    ctx: GatewayContext
    http: aiohttp.ClientSession
    receivers: dict[str, str]  # channel id -> base URL of its channel system's receiving side

    async def push(self, appeal: dict[str, Any], channel: str = "web") -> uuid.UUID:
        """Push one appeal through the generic API channel, signed; its gateway id."""
        body = json.dumps(appeal, ensure_ascii=False).encode()
        ts, sig = sign_body(API_SECRET, body)
        headers = {TIMESTAMP_HEADER: ts, SIGNATURE_HEADER: sig, "Content-Type": "application/json"}
        async with self.http.post(
            f"{self.gateway}/api/v1/channels/{channel}/appeals", data=body, headers=headers
        ) as r:
            assert r.status in (200, 202), await r.text()
            return uuid.UUID((await r.json())["id"])

    async def sim(self, path: str, method: str = "GET", base: str | None = None, **kw: Any) -> Any:
        """A call to a simulator's control API (the platform's by default)."""
        async with self.http.request(method, f"{base or self.platform}{path}", **kw) as r:
            return await r.json()

    async def call(self, method: str, path: str, token: str = ADMIN_TOKEN, **kw: Any) -> tuple[int, Any]:
        """A call to the gateway's own API with a bearer token."""
        headers = {"Authorization": f"Bearer {token}"}
        async with self.http.request(method, f"{self.gateway}{path}", headers=headers, **kw) as r:
            return r.status, await r.json()

    async def case_of(self, appeal_id: uuid.UUID) -> Any:
        """The stored case of an appeal."""
        async with self.ctx.engine.connect() as conn:
            query = select(Case).join(Appeal, Appeal.case_id == Case.id).where(Appeal.id == appeal_id)
            return (await conn.execute(query)).one()

    async def rows(self, query: Any) -> list[Any]:
        """Rows of a query on the gateway's database."""
        async with self.ctx.engine.connect() as conn:
            return list((await conn.execute(query)).all())


async def _merging(app: web.Application) -> None:
    app[CTX].pipeline.assigner = MergeBySourcePrefix()


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 20.0, every: float = 0.05) -> Any:
    """Wait until check() returns something truthy; that value (or fail after the timeout)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {timeout} s: {check.__qualname__} last gave {value!r}")
        await asyncio.sleep(every)


def platform_table(url: str, *, callbacks: bool, feed_poll_seconds: float, sign_method: str) -> str:
    """The [platform] table of a test config."""
    lines = [
        "[platform]",
        f'base_url = "{url}"',
        f'app_key = "{APP_KEY}"',
        'app_secret = "${HUIJU_TEST_PLATFORM_SECRET}"',
        f'sign_method = "{sign_method}"',
        "timeout_seconds = 5",
        f"feed_poll_seconds = {feed_poll_seconds}",
    ]
    if callbacks:
        lines += [f'callback_app_key = "{CALLBACK_KEY}"', 'callback_secret = "${HUIJU_TEST_CALLBACK_SECRET}"']
    return "\n".join(lines) + "\n"


SYNC_FAST = """
[sync]
backoff_initial_seconds = 0.05
backoff_max_seconds = 0.5
idle_seconds = 0.05
gap_wait_seconds = 0.3
escalation_seconds = 0.2
"""

TOKENS = f"""
[[tokens]]
name = "test-admin"
role = "admin"
token = "{ADMIN_TOKEN}"

[[tokens]]
name = "inspector"
role = "auditor"
token = "{AUDITOR_TOKEN}"

[[tokens]]
name = "board-office"
role = "reviewer"
token = "{REVIEWER_TOKEN}"
channels = ["gz-12315"]
"""


class MergeBySourcePrefix:
    """A stand-in for dedup in these tests: appeals whose source ids share the part before "#" are one
    matter of one person, merged into the case of the first (the real matcher is the Dedup issue's)."""

    rule, version = "test-merge-by-prefix", "1"

    def __init__(self) -> None:
        self.cases: dict[str, uuid.UUID] = {}

    async def assign(self, conn: Any, appeals: list[Any]) -> list[Assignment]:
        """Merge into the case of the first appeal with the same prefix."""
        out = []
        for a in appeals:
            key = a.source_id.split("#")[0]
            if key in self.cases:
                out.append(Assignment(a.id, self.cases[key], False, "merge", self.rule, self.version, 1.0))
            else:
                self.cases[key] = new_id()
                out.append(Assignment(a.id, self.cases[key], True, "new", self.rule, self.version))
        return out


def api_channel(channel_id: str, callback_url: str, mode: str = "hotline_flow") -> str:
    """A generic API channel taking status and replies back at callback_url."""
    return f"""
[[channels]]
id = "{channel_id}"
kind = "api"
mode = "{mode}"
[channels.settings]
secret = "${{HUIJU_TEST_API_SECRET}}"
callback_url = "{callback_url}"
"""


def national_channel(url: str, mode: str) -> str:
    """A 12315 channel polling the national simulator, taking status and replies back."""
    return f"""
[[channels]]
id = "gz-12315"
kind = "12315"
mode = "{mode}"
[channels.schedule]
interval_seconds = 0.2
lookback_seconds = 0
[channels.settings]
base_url = "{url}"
app_key = "huiju-12315"
app_secret = "${{HUIJU_TEST_NATIONAL_SECRET}}"
"""


@contextlib.asynccontextmanager
async def sync_world(
    tmp_path: Path,
    db_url: str,
    *,
    knobs: dict[str, Any] | None = None,
    callbacks: bool = True,
    feed_poll_seconds: float = 0,
    sign_method: str = "hmac-sha256",
    national_mode: str | None = None,
    national_orders: int = 0,
    sync: str = SYNC_FAST,
    callback_channels: tuple[str, ...] = (),
    merge: bool = False,
    extra_config: str = "",
) -> AsyncIterator[World]:
    """The gateway (SQLite or PostgreSQL) with the platform simulator, and a 12315 channel if asked for."""
    port = free_port()
    callback_url = f"http://127.0.0.1:{port}/api/v1/platform/events" if callbacks else None
    platform_app = build_platform(
        APP_KEY,
        PLATFORM_SECRET,
        sign_method,
        callback_url,
        CALLBACK_KEY,
        CALLBACK_SECRET,
        seed=7,
        clock_scale=FAST,
        **{
            "return_rate": 0,
            "extend_rate": 0,
            "callback_retry_initial_s": 0.05,
            "callback_retry_max_s": 0.2,
            **(knobs or {}),
        },
    )
    async with contextlib.AsyncExitStack() as stack:
        platform_url = await stack.enter_async_context(running(platform_app))
        national_url = None
        extra = sync + TOKENS + extra_config
        if national_mode:
            national_app = build_simulator(
                "12315", app_key="huiju-12315", app_secret=NATIONAL_SECRET, initial_orders=national_orders
            )
            national_url = await stack.enter_async_context(running(national_app))
            extra += national_channel(national_url, national_mode)
        receivers = {}
        for channel_id in callback_channels:
            receivers[channel_id] = await stack.enter_async_context(running(build_channel(API_SECRET)))
            extra += api_channel(channel_id, f"{receivers[channel_id]}/callbacks")
        platform = platform_table(
            platform_url,
            callbacks=callbacks,
            feed_poll_seconds=feed_poll_seconds or (0 if callbacks else 0.2),
            sign_method=sign_method,
        )
        config = load_test_config(tmp_path, db_url, port=port, extra=extra, platform=platform).config
        app = create_app(config)
        if merge:
            # The pipeline is made when the app starts; set the stand-in assigner right after.
            app.on_startup.append(_merging)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        await web.TCPSite(runner, "127.0.0.1", port).start()
        http = await stack.enter_async_context(aiohttp.ClientSession())
        yield World(f"http://127.0.0.1:{port}", platform_url, national_url, app[CTX], http, receivers)
