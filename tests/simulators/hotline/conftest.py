"""Fixtures: the 12345 platform simulator served on loopback, a signing client and a callback receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from simulators.hotline import build_platform
from tests.simulators.hotline.support import (
    APP_KEY,
    APP_SECRET,
    CALLBACK_KEY,
    CALLBACK_PATH,
    CALLBACK_SECRET,
    Client,
    Receiver,
)

# Business delays of each step (seconds) and a clock that makes them take a few milliseconds.
FAST = {
    "accept_delay_s": 600.0,
    "dispatch_delay_s": 1_800.0,
    "return_delay_s": 3_600.0,
    "extend_delay_s": 7_200.0,
    "reply_delay_s": 86_400.0,
    "close_delay_s": 3_600.0,
    "revisit_delay_s": 86_400.0,
    "return_rate": 0.0,
    "extend_rate": 0.0,
    "callback_retry_initial_s": 0.01,
    "callback_retry_max_s": 0.05,
}
FAST_SCALE = 2e-6  # a business day in 0.17 s


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def receiver(aiohttp_server) -> tuple[Receiver, str]:
    """huiju's callback endpoint on loopback, and its URL."""
    r = Receiver()
    server = await aiohttp_server(r.app())
    return r, str(server.make_url(CALLBACK_PATH))


PlatformFactory = Callable[..., Awaitable[Client]]


@pytest.fixture
async def platform(aiohttp_server, session: aiohttp.ClientSession) -> PlatformFactory:
    """Start a simulated platform (manual by default: nothing moves until advanced); a client signed for it."""

    async def start(
        callback_url: str | None = None, clock_scale: float = 1.0, sign_method: str = "hmac-sha256", **knobs: Any
    ) -> Client:
        app = build_platform(
            APP_KEY,
            APP_SECRET,
            sign_method,
            callback_url=callback_url,
            callback_app_key=CALLBACK_KEY,
            callback_secret=CALLBACK_SECRET,
            seed=7,
            clock_scale=clock_scale,
            **({"auto_advance": False} | knobs),
        )
        server = await aiohttp_server(app)
        return Client(session, str(server.make_url("")).rstrip("/"), sign_method=sign_method)

    return start
