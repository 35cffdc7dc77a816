"""Simulated work orders progress: POST /_sim/orders/{id}/status and the progress_rate knob.

Each platform's simulator is served on loopback and read by huiju's connector of that kind, as huiju reads the
real platform: a work order whose status changed comes again at the end of the feed, in the platform's own code,
and the connector reads it back as huiju's channel status with the reply and the unit.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from connectors.base import ChannelStatus, PolledItem, Position
from connectors.national.client import NationalConnector
from connectors.registry import connector_class
from core.config import ChannelSettings
from core.http import HttpClient
from simulators.national.engine import SIMULATOR, Simulator
from simulators.national.run import build_simulator, running, server_dialect
from tests.simulators.support import APP_KEY, APP_SECRET

KINDS = ["12315", "12333", "12328"]
STATUSES = ["accepted", "dispatched", "returned", "extended", "replied", "closed", "revisited"]
# How each platform's spec (docs/channels/<kind>.md) writes huiju's statuses in a work order, and where.
STATUS_FIELD = {"12315": "status", "12333": "zt", "12328": "status"}
CODES = {
    "12315": dict(zip(STATUSES, ["20", "30", "31", "32", "40", "50", "60"], strict=True)),
    "12333": dict(zip(STATUSES, ["20", "30", "35", "40", "50", "60", "70"], strict=True)),
    "12328": dict(zip(STATUSES, STATUSES, strict=True)) | {"accepted": "received", "dispatched": "assigned"},
}
REPLY_FIELD = {"12315": "replyContent", "12333": "hfnr", "12328": "reply_text"}
UNIT_FIELD = {"12315": "handleOrg", "12333": "cbdw", "12328": "handling_unit"}
BUREAU = {"12315": "市场监督管理局", "12333": "人力资源和社会保障局", "12328": "交通运输局"}
REPLY = "经核查，反映情况属实，已责令整改，并将整改结果告知来电人。"
UNIT = "赣州市章贡区承办单位"


@dataclass
class Platform:
    """A simulated platform on loopback and huiju's connector of its kind."""

    kind: str
    url: str
    sim: Simulator
    session: aiohttp.ClientSession

    @property
    def connector(self) -> NationalConnector:
        """A connector of the platform's kind pointing at it."""
        settings = {"base_url": self.url, "app_key": APP_KEY, "app_secret": APP_SECRET}
        channel = ChannelSettings(id=f"sim-{self.kind}", kind=self.kind, mode="interconnect", settings=settings)
        return connector_class(self.kind)(channel, HttpClient(self.session, attempts=1))  # type: ignore[return-value]

    async def set_status(self, order_id: str, **body: Any) -> aiohttp.ClientResponse:
        """POST /_sim/orders/{id}/status with this body."""
        return await self.session.post(f"{self.url}/_sim/orders/{order_id}/status", json=body)

    async def set_status_ok(self, order_id: str, **body: Any) -> dict[str, Any]:
        """The answer of a status change that must succeed."""
        resp = await self.set_status(order_id, **body)
        assert resp.status == 200, await resp.text()
        return await resp.json()

    async def feed(self, position: Position | None = None) -> list[PolledItem]:
        """Every work order after position, read by the connector page by page."""
        items: list[PolledItem] = []
        for _ in range(50):
            page = await self.connector.poll(position, 100)
            items += page.items
            if page.next is None:
                return items
            position = page.next
        raise AssertionError("the feed never drained")


@pytest.fixture(params=KINDS)
async def platform(request) -> AsyncIterator[Platform]:
    """Each national platform's simulator with three work orders a minute old."""
    app = build_simulator(request.param, app_key=APP_KEY, app_secret=APP_SECRET, seed=11)
    app[SIMULATOR].generate(3, age_seconds=60)
    async with running(app) as url, aiohttp.ClientSession() as session:
        yield Platform(request.param, url, app[SIMULATOR], session)


def ids_of(items: list[PolledItem]) -> list[str]:
    return [i.item.source_id for i in items]


# -- POST /_sim/orders/{id}/status ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", STATUSES)
async def test_a_status_set_is_served_in_the_platforms_own_code(platform, status):
    first = ids_of(await platform.feed())[0]
    answer = await platform.set_status_ok(first, status=status, reply=REPLY, unit=UNIT)
    assert answer["item"][STATUS_FIELD[platform.kind]] == CODES[platform.kind][status]
    assert (answer["item"][REPLY_FIELD[platform.kind]], answer["item"][UNIT_FIELD[platform.kind]]) == (REPLY, UNIT)


async def test_a_work_order_whose_status_is_set_moves_to_the_end_of_the_feed(platform):
    before = ids_of(await platform.feed())
    await platform.set_status_ok(before[0], status="dispatched", unit=UNIT)
    assert ids_of(await platform.feed()) == [*before[1:], before[0]]


async def test_a_changed_work_order_comes_again_after_the_cursor(platform):
    read = await platform.feed()
    await platform.set_status_ok(read[1].item.source_id, status="accepted")
    again = await platform.feed(read[-1].position)
    assert ids_of(again) == [read[1].item.source_id]
    assert again[0].position > read[-1].position


@pytest.mark.parametrize("status", STATUSES)
async def test_the_connector_reads_the_status_set_with_its_reply_unit_and_time(platform, status):
    first = ids_of(await platform.feed())[0]
    await platform.set_status_ok(first, status=status, reply=REPLY, unit=UNIT)
    changed = (await platform.feed())[-1]
    assert platform.connector.channel_status(changed.item.payload) == ChannelStatus(
        status, changed.position.updated_at, REPLY, UNIT
    )


async def test_a_reply_and_unit_not_given_stay_as_they_were(platform):
    first = ids_of(await platform.feed())[0]
    await platform.set_status_ok(first, status="replied", reply=REPLY, unit=UNIT)
    await platform.set_status_ok(first, status="closed")
    closed = (await platform.feed())[-1]
    assert platform.connector.channel_status(closed.item.payload) == ChannelStatus(
        "closed", closed.position.updated_at, REPLY, UNIT
    )


async def test_a_status_for_an_unknown_work_order_is_404(platform):
    assert (await platform.set_status("NO-SUCH-ORDER", status="accepted")).status == 404


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"status": "escalated"}, "status must be one of accepted, dispatched"),
        ({}, "status must be one of"),
        ({"status": "replied", "reply": 42}, "reply must be text or null"),
        ({"status": "dispatched", "unit": ["赣州市"]}, "unit must be text or null"),
    ],
)
async def test_a_bad_status_request_is_400_with_the_reason(platform, body, reason):
    first = ids_of(await platform.feed())[0]
    resp = await platform.set_status(first, **body)
    assert resp.status == 400
    assert reason in (await resp.json())["error"]


async def test_a_raw_item_has_no_status_to_set(platform):
    raw_id = platform.sim.add_raw({"note": "not a work order"})
    resp = await platform.set_status(raw_id, status="accepted")
    assert resp.status == 400
    assert "raw item" in (await resp.json())["error"]


# -- progress: one step at a time, by the seed ------------------------------------------------------------------


async def test_an_accepted_work_order_progresses_through_dispatched_replied_closed(platform):
    first = ids_of(await platform.feed())[0]
    await platform.set_status_ok(first, status="accepted")
    seen = []
    while platform.sim.advance(first) is not None:
        item = (await platform.feed())[-1]
        seen.append(platform.connector.channel_status(item.item.payload))
    assert [s.status for s in seen] == ["dispatched", "replied", "closed"]
    dispatched, replied, closed = seen
    assert dispatched.unit is not None and dispatched.unit.endswith(BUREAU[platform.kind])
    assert dispatched.text is None
    assert replied.unit == dispatched.unit and replied.text and len(replied.text) > 40
    assert (closed.text, closed.unit) == (replied.text, replied.unit)


def test_a_registered_work_order_is_accepted_first():
    sim = build_simulator("12333", app_key=APP_KEY, app_secret=APP_SECRET)[SIMULATOR]
    [registered] = sim.generate(1)
    assert sim.order(registered).status == "registered"
    assert sim.advance(registered) == "accepted"
    assert sim.served(registered)["zt"] == "20"


def test_a_closed_or_revisited_work_order_has_no_next_step():
    sim = build_simulator("12315", app_key=APP_KEY, app_secret=APP_SECRET)[SIMULATOR]
    closed, revisited = sim.generate(2)
    sim.set_status(closed, "closed")
    sim.set_status(revisited, "revisited")
    assert (sim.advance(closed), sim.advance(revisited)) == (None, None)
    assert sim.progress(5) == []


def test_a_returned_work_order_is_dispatched_again_and_an_extended_one_replied():
    sim = build_simulator("12333", app_key=APP_KEY, app_secret=APP_SECRET)[SIMULATOR]
    returned, extended = sim.generate(2)
    sim.set_status(returned, "returned", unit="赣州市章贡区人力资源和社会保障局")
    sim.set_status(extended, "extended", unit="赣州市章贡区人力资源和社会保障局")
    assert (sim.advance(returned), sim.advance(extended)) == ("dispatched", "replied")


@pytest.mark.parametrize("kind", KINDS)
def test_progress_follows_the_seed(kind):
    def after_progress() -> tuple[list[str], list[Any]]:
        clock = datetime(2024, 11, 28, 2, 30, tzinfo=UTC)  # a fixed clock: the served update times are equal too
        sim = Simulator(server_dialect(kind), app_key=APP_KEY, app_secret=APP_SECRET, seed=5, clock=lambda: clock)
        ids = sim.generate(20, age_seconds=600)
        for _ in range(15):
            sim.progress(2)
        return [sim.order(i).status for i in ids], [sim.served(i) for i in ids]

    statuses, served = after_progress()
    assert {"dispatched", "replied", "closed"} & set(statuses)
    assert (statuses, served) == after_progress()


async def test_progress_rate_moves_work_orders_on_in_the_background():
    app = build_simulator("12328", app_key=APP_KEY, app_secret=APP_SECRET, initial_orders=5, progress_rate=50)
    sim = app[SIMULATOR]
    ids = [key[1] for key in sim.feed_keys()]
    async with running(app):
        for _ in range(100):
            if all(sim.order(i).status == "closed" for i in ids):
                break
            await asyncio.sleep(0.05)
    assert [sim.order(i).status for i in ids] == ["closed"] * 5
    assert all(sim.order(i).reply for i in ids)


async def test_no_work_order_moves_on_by_itself_by_default():
    app = build_simulator("12328", app_key=APP_KEY, app_secret=APP_SECRET, initial_orders=5)
    sim = app[SIMULATOR]
    async with running(app):
        await asyncio.sleep(0.5)
    assert {sim.order(key[1]).status for key in sim.feed_keys()} == {"registered"}
