"""Build and serve a simulator of one national platform: 12315, 12333 or 12328."""

from __future__ import annotations

import asyncio
import importlib
import inspect
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from simulators.national.dialect import ServerDialect
from simulators.national.engine import KNOB_NAMES, Knobs, Simulator, create_app

# Each module defines one concrete ServerDialect subclass; it is imported only when that kind is asked for.
DIALECT_MODULES: dict[str, str] = {
    "12315": "simulators.national.market12315",
    "12333": "simulators.national.hrss12333",
    "12328": "simulators.national.transport12328",
}
DEFAULT_PORTS: dict[str, int] = {"12315": 8315, "12333": 8333, "12328": 8328}


def server_dialect(kind: str) -> ServerDialect:
    """A new instance of the server dialect of a platform kind."""
    module_name = DIALECT_MODULES.get(kind)
    if module_name is None:
        raise ValueError(f"unknown platform {kind!r} (known: {', '.join(DIALECT_MODULES)})")
    module = importlib.import_module(module_name)
    found = [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj)
        and issubclass(obj, ServerDialect)
        and not inspect.isabstract(obj)
        and obj.__module__ == module.__name__
    ]
    if len(found) != 1:
        raise ImportError(f"{module_name} must define exactly one ServerDialect subclass, found {len(found)}")
    return found[0]()


def build_simulator(
    kind: str,
    *,
    app_key: str,
    app_secret: str,
    sign_method: str = "hmac-sha256",
    seed: int = 0,
    rate_per_second: float = 0.0,
    initial_orders: int = 0,
    initial_spread_seconds: float = 3600.0,
    **knobs: Any,
) -> web.Application:
    """The aiohttp application of one platform's simulator; knobs as in `engine.Knobs`.

    `initial_orders` work orders are generated at once, their update times spread evenly over the last
    `initial_spread_seconds`, so the feed has a history to page through.
    """
    unknown = sorted(set(knobs) - KNOB_NAMES)
    if unknown:
        raise TypeError(f"unknown knob(s) {', '.join(unknown)} (known: {', '.join(sorted(KNOB_NAMES))})")
    sim = Simulator(
        server_dialect(kind),
        app_key=app_key,
        app_secret=app_secret,
        sign_method=sign_method,
        seed=seed,
        knobs=Knobs.model_validate({**knobs, "rate_per_second": rate_per_second}),
    )
    for i in range(initial_orders):
        sim.generate(1, age_seconds=initial_spread_seconds * (initial_orders - i) / initial_orders)
    return create_app(sim)


@asynccontextmanager
async def running(app: web.Application, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Serve the app while the block runs; yields its base URL (port 0 picks a free port)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_host, bound_port = runner.addresses[0][:2]
        yield f"http://{f'[{bound_host}]' if ':' in bound_host else bound_host}:{bound_port}"
    finally:
        await runner.cleanup()


async def serve(app: web.Application, host: str, port: int) -> None:
    """Serve the app until cancelled (Ctrl-C)."""
    async with running(app, host, port) as url:
        print(f"simulator listening on {url}", flush=True)
        await asyncio.Event().wait()
