"""`gateway.py run --demo`: the simulators started beside the gateway, so that something real happens."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

import aiohttp
from aiohttp import web

from core.config import Config
from simulators.api_sender import ApiChannelSender

log = logging.getLogger(__name__)


def demo_ctx(config: Config) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context that runs a sender for every enabled API channel against this gateway."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        base = f"http://{config.gateway.host}:{config.gateway.port}"
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        tasks = []
        for ch in config.channels:
            if ch.kind == "api" and ch.enabled:
                sender = ApiChannelSender(base, ch.id, ch.settings["secret"], session)
                tasks.append(asyncio.create_task(sender.run(interval_s=2.0), name=f"demo-sender-{ch.id}"))
                log.info("demo: posting board appeals to channel %s every 2 s", ch.id)
        try:
            yield
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await t
            await session.close()

    return ctx
