"""Fixtures: the Open311 simulator served on loopback, and huiju's Open311 target pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from core.http import HttpClient
from simulators.open311 import build_open311
from simulators.open311.app import CITY
from simulators.open311.city import City
from sync.targets.open311 import Open311
from tests.sync.open311.support import API_KEY, JURISDICTION, settings

# Business delays of a request's life, and a clock that makes a day pass in about 0.09 s.
FAST = {"assign_delay_s": 3_600.0, "close_delay_s": 86_400.0, "token_delay_s": 600.0}
FAST_SCALE = 1e-6


@dataclass
class Server:
    """A running simulator: its URL, its state, and its unauthenticated API and control API."""

    url: str
    city: City
    session: aiohttp.ClientSession

    async def call(self, method: str, path: str, **kw: Any) -> tuple[int, Any]:
        """An API or control request; (status, parsed JSON body)."""
        async with self.session.request(method, self.url + path, **kw) as r:
            return r.status, await r.json(content_type=None)

    async def post(self, **form: str) -> tuple[int, Any]:
        """POST /requests.json with these form fields (the api_key added unless given)."""
        return await self.call("POST", "/requests.json", data={"api_key": API_KEY} | form)

    async def knobs(self, **changes: Any) -> dict[str, Any]:
        """Change knobs at run time."""
        status, body = await self.call("PUT", "/_sim/knobs", json=changes)
        assert status == 200, body
        return body

    async def wire(self) -> list[dict[str, Any]]:
        """Every API request the simulator received."""
        return (await self.call("GET", "/_sim/requests"))[1]

    async def held(self) -> list[dict[str, Any]]:
        """Every service request the simulator holds (with what was submitted)."""
        return (await self.call("GET", "/_sim/service-requests"))[1]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


ServerFactory = Callable[..., Awaitable[Server]]


@pytest.fixture
async def open311(aiohttp_server, session: aiohttp.ClientSession) -> ServerFactory:
    """Start a simulator (real time, lives by hand unless auto_advance); knobs as keyword arguments."""

    async def start(clock_scale: float = 1.0, **knobs: Any) -> Server:
        app = build_open311(
            API_KEY, JURISDICTION, seed=3, clock_scale=clock_scale, **({"auto_advance": False} | knobs)
        )
        server = await aiohttp_server(app)
        return Server(str(server.make_url("")).rstrip("/"), app[CITY], session)

    return start


TargetFactory = Callable[..., Open311]


@pytest.fixture
def target(session: aiohttp.ClientSession) -> TargetFactory:
    """huiju's Open311 target for a running simulator; [platform.open311] changes as keyword arguments."""

    def make(server: Server, **open311: Any) -> Open311:
        return Open311(settings(server.url, **open311), HttpClient(session, attempts=2))

    return make
