"""`gateway.py run --demo`: the simulators started beside the gateway, so that something real happens.

- every enabled national channel (12315, 12333, 12328) whose base_url is on loopback gets its platform's
  simulator on that port, with the channel's own app key and secret, a history of work orders and a trickle
  of new ones;
- every enabled generic API channel gets a channel system posting real message-board appeals to it, and,
  when its callback_url is on loopback, the same channel system's receiving side for status and replies;
- the 12345 platform, when [platform] base_url is on loopback: its simulator takes the work orders and lives
  them on a fast clock (a business day in about 90 seconds), calling the gateway back with every event.
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
from simulators.api_channel import build_channel
from simulators.api_sender import ApiChannelSender
from simulators.hotline import build_platform
from simulators.national.run import DIALECT_MODULES, build_simulator, running

log = logging.getLogger(__name__)
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
DEMO_CLOCK_SCALE = 0.001  # wall seconds per business second


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
                        progress_rate=0.2,  # the platform handles its own work orders; huiju passes it on
                    )
                    await stack.enter_async_context(running(sim, url.hostname, url.port))
                    log.info("demo: %s simulator on %s", ch.kind, url.netloc)
                callback = urlsplit(str(ch.settings.get("callback_url") or ""))
                if ch.enabled and ch.kind == "api" and callback.hostname in LOOPBACK and callback.port:
                    receiver = build_channel(ch.settings["secret"], path=callback.path or "/callbacks")
                    await stack.enter_async_context(running(receiver, callback.hostname, callback.port))
                    log.info("demo: channel %s takes status and replies on %s", ch.id, callback.geturl())
            await _platform(stack, config)
            await stack.enter_async_context(_api_senders(config))
            yield

    return ctx


async def _platform(stack: contextlib.AsyncExitStack, config: Config) -> None:
    """The 12345 platform simulator, if the gateway is pointed at loopback."""
    p = config.platform
    url = urlsplit(p.base_url)
    if p.kind != "12345" or url.hostname not in LOOPBACK or not url.port or not p.app_secret:
        return
    callback = f"{config.gateway.public_base_url}/api/v1/platform/events" if p.callbacks else None
    app = build_platform(
        p.app_key,
        p.app_secret,
        p.sign_method,
        callback,
        p.callback_app_key,
        p.callback_secret,
        clock_scale=DEMO_CLOCK_SCALE,
        callback_retry_max_s=5,
    )
    await stack.enter_async_context(running(app, url.hostname, url.port))
    log.info(
        "demo: 12345 platform simulator on %s (a business day in %.0f s)", url.netloc, 86400 * DEMO_CLOCK_SCALE
    )


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
