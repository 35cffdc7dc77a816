"""`gateway.py run --demo`: the simulators started beside the gateway, so that something real happens.

- every enabled national channel (12315, 12333, 12328) whose base_url is on loopback gets its platform's
  simulator on that port, with the channel's own app key and secret, a history of work orders and a trickle
  of new ones;
- every enabled generic API channel gets a channel system posting real message-board appeals to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from core.config import Config
from simulators.api_sender import ApiChannelSender
from simulators.national.run import DIALECT_MODULES, build_simulator

log = logging.getLogger(__name__)
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def demo_ctx(config: Config) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context that runs the demo simulators for this config."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            for ch in config.channels:
                url = urlsplit(str(ch.settings.get("base_url", "")))
                if ch.enabled and ch.kind in DIALECT_MODULES and url.hostname in LOOPBACK and url.port:
                    sim = build_simulator(
                        ch.kind,
                        app_key=ch.settings["app_key"],
                        app_secret=ch.settings["app_secret"],
                        sign_method=ch.settings.get("sign_method", "hmac-sha256"),
                        rate_per_second=0.2,
                        initial_orders=40,
                    )
                    runner = web.AppRunner(sim, access_log=None)
                    await runner.setup()
                    await web.TCPSite(runner, url.hostname, url.port).start()
                    stack.push_async_callback(runner.cleanup)
                    log.info("demo: %s simulator on %s", ch.kind, url.netloc)
            await stack.enter_async_context(_api_senders(config))
            yield

    return ctx


@contextlib.asynccontextmanager
async def _api_senders(config: Config) -> AsyncIterator[None]:
    base = f"http://{config.gateway.host}:{config.gateway.port}"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
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
