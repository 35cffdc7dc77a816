"""The 12315 connector against the 12315 simulator on loopback: signed polls, paging, errors, deliveries."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp
import pytest

from connectors.base import MappingError, Page
from connectors.market12315 import Market12315Connector
from core.config import ChannelSettings
from core.errors import AuthError, PermanentError, TransientError
from core.http import HttpClient
from normalizer import NormalizationError, NormalizeContext, normalize
from normalizer.record import IntegrationMode
from simulators.national.engine import SIMULATOR, Knobs, Simulator
from simulators.national.run import build_simulator, running
from tests.connectors.national_support import events

APP_KEY = "huiju-ganzhou"
SECRET = "sim-secret-0123456789abcdef"


@dataclass
class Platform:
    """A running 12315 simulator and what talks to it."""

    url: str
    sim: Simulator
    session: aiohttp.ClientSession

    def connector(self, **settings) -> Market12315Connector:
        values = {"base_url": self.url, "app_key": APP_KEY, "app_secret": SECRET} | settings
        channel = ChannelSettings(id="m12315", kind="12315", mode="interconnect", settings=values)
        return Market12315Connector(channel, HttpClient(self.session, attempts=3, timeout_s=5))

    def knobs(self, **changes) -> None:
        self.sim.knobs = Knobs.model_validate(self.sim.knobs.model_dump() | changes)

    async def control(self, method: str, path: str, body: dict | None = None):
        async with self.session.request(method, self.url + path, json=body) as resp:
            return await resp.json()


@pytest.fixture
async def platform() -> AsyncIterator[Platform]:
    app = build_simulator("12315", app_key=APP_KEY, app_secret=SECRET, seed=3)
    async with running(app) as url, aiohttp.ClientSession() as session:
        yield Platform(url, app[SIMULATOR], session)


async def drain(connector: Market12315Connector, limit: int = 100) -> tuple[list[Page], list[str]]:
    pages, ids, position = [], [], None
    while True:
        page = await connector.poll(position, limit)
        pages.append(page)
        ids += [p.item.source_id for p in page.items]
        if page.next is None:
            return pages, ids
        position = page.next


event = events(
    event_id="ev-0001", at=datetime(2024, 11, 26, 7, 30, tzinfo=UTC),
    text="经核查，商家已同意退款。", unit="赣州市章贡区市场监督管理局",
)


async def test_check_passes_with_the_right_credentials(platform):
    await platform.connector().check()


async def test_check_with_a_wrong_secret_is_an_auth_error(platform):
    with pytest.raises(AuthError) as caught:
        await platform.connector(app_secret="wrong-secret-0123456789").check()
    assert caught.value.status == 401 and "40101" in str(caught.value)


async def test_check_with_an_unknown_app_key_is_an_auth_error(platform):
    with pytest.raises(AuthError, match="unknown app key"):
        await platform.connector(app_key="someone-else").check()


async def test_sm3_signatures_work_end_to_end():
    app = build_simulator("12315", app_key=APP_KEY, app_secret=SECRET, sign_method="sm3", initial_orders=3)
    async with running(app) as url, aiohttp.ClientSession() as session:
        platform = Platform(url, app[SIMULATOR], session)
        _, ids = await drain(platform.connector(sign_method="sm3"))
        assert len(ids) == 3
        with pytest.raises(AuthError):
            await platform.connector().check()


async def test_a_poll_returns_each_work_order_as_its_json_text_with_its_place(platform):
    [order_id] = platform.sim.generate(1)
    page = await platform.connector().poll(None, 10)
    [polled] = page.items
    item = json.loads(polled.item.payload)
    assert polled.item.source_id == order_id == item["orderNo"]
    assert polled.item.payload == json.dumps(item, ensure_ascii=False, separators=(",", ":"))
    assert polled.position.id == order_id
    assert polled.position.updated_at == platform.sim.order(order_id).updated_at
    assert page.next is None and page.server_time is not None


async def test_keyset_paging_returns_every_order_once_in_feed_order(platform):
    platform.sim.generate(7, age_seconds=100)
    platform.sim.generate(6, age_seconds=50)
    platform.sim.generate(12)
    pages, ids = await drain(platform.connector(), limit=5)
    assert len(pages) == 5
    assert ids == [k[1] for k in platform.sim.feed_keys()]
    assert len(set(ids)) == 25


async def test_the_platform_page_size_cap_is_followed(platform):
    platform.knobs(page_size_max=4)
    platform.sim.generate(10)
    pages, ids = await drain(platform.connector(), limit=100)
    assert [len(p.items) for p in pages] == [4, 4, 2]
    assert len(set(ids)) == 10


async def test_an_updated_order_comes_again_after_the_cursor(platform):
    ids = platform.sim.generate(3, age_seconds=30)
    connector = platform.connector()
    page = await connector.poll(None, 10)
    cursor = page.items[-1].position
    assert (await connector.poll(cursor, 10)).items == []
    await platform.control("POST", f"/_sim/orders/{ids[0]}/touch")
    again = await connector.poll(cursor, 10)
    assert [p.item.source_id for p in again.items] == [ids[0]]


async def test_a_malformed_item_is_still_polled_and_refused_by_map(platform):
    platform.sim.generate(2, age_seconds=30)
    await platform.control("POST", "/_sim/orders/raw", {"item": {"title": "no number", "updateTime": "bad"}})
    platform.sim.generate(1)
    connector = platform.connector()
    page = await connector.poll(None, 10)
    raw = page.items[2]
    assert raw.item.source_id.startswith("unidentified:")
    assert raw.position == page.items[1].position  # the place of the item before it
    with pytest.raises(MappingError, match=r"^orderNo: missing$"):
        connector.map(raw.item.payload)
    assert len(page.items) == 4


async def test_a_503_is_a_transient_error_after_the_http_clients_retries(platform):
    platform.knobs(error_rate=1.0, error_statuses=[503])
    with pytest.raises(TransientError) as caught:
        await platform.connector().poll(None, 10)
    assert caught.value.status == 503
    stats = await platform.control("GET", "/_sim/stats")
    assert stats["requests"]["GET /open/v1/workorders"] == {"503": 3}


async def test_a_429_is_a_transient_error(platform):
    platform.knobs(error_rate=1.0, error_statuses=[429])
    with pytest.raises(TransientError) as caught:
        await platform.connector().poll(None, 10)
    assert caught.value.status == 429


async def test_an_outage_is_a_transient_error(platform):
    platform.knobs(outage=True)
    with pytest.raises(TransientError):
        await platform.connector().check()


async def test_refused_credentials_are_an_auth_error_without_retries(platform):
    platform.knobs(reject_auth=True)
    with pytest.raises(AuthError):
        await platform.connector().poll(None, 10)
    stats = await platform.control("GET", "/_sim/stats")
    assert stats["requests"]["GET /open/v1/workorders"] == {"401": 1}


async def test_every_retry_is_signed_afresh_so_none_is_refused_as_a_replay(platform):
    platform.sim.generate(20)
    platform.knobs(error_rate=0.5, error_statuses=[500])
    for _ in range(4):
        with contextlib.suppress(TransientError):
            await platform.connector().poll(None, 5)
    # The injected 500s come after the signature check (the nonce is used up), so a retry that reused the
    # first attempt's headers would have been refused with 401.
    stats = await platform.control("GET", "/_sim/stats")
    assert set(stats["requests"]["GET /open/v1/workorders"]) == {"200", "500"}


async def test_a_bad_page_size_is_a_permanent_error():
    app = build_simulator("12315", app_key=APP_KEY, app_secret=SECRET)
    async with running(app) as url, aiohttp.ClientSession() as session:
        connector = Platform(url, app[SIMULATOR], session).connector()
        bad = connector.dialect.poll_request(None, 10).__class__("GET", "/open/v1/workorders", {"pageSize": "0"})
        with pytest.raises(PermanentError, match="40001"):
            await connector.send(bad)


async def test_a_delivered_event_is_recorded_and_a_repeat_is_a_duplicate_receipt(platform):
    [order_id] = platform.sim.generate(1)
    connector = platform.connector()
    first = await connector.deliver(event(source_id=order_id))
    second = await connector.deliver(event(source_id=order_id))
    assert first.duplicate is False and second.duplicate is True
    assert first.reference == second.reference and first.reference.startswith("FK")
    events = await platform.control("GET", "/_sim/events")
    assert len(events) == 1
    assert events[0]["raw"] == {
        "eventId": "ev-0001", "eventType": "2", "status": "40", "content": "经核查，商家已同意退款。",
        "org": "赣州市章贡区市场监督管理局", "time": "2024-11-26 15:30:00",
    }


async def test_an_event_for_an_unknown_order_is_a_permanent_error(platform):
    with pytest.raises(PermanentError) as caught:
        await platform.connector().deliver(event(source_id="SC-NOPE"))
    assert caught.value.status == 404


async def test_drifted_orders_map_or_are_refused_with_a_reason(platform):
    platform.knobs(
        drift_unknown_fields=0.5, drift_missing_optional=0.5, drift_bad_dates=0.5, drift_wrong_types=0.5
    )
    platform.sim.generate(60)
    connector = platform.connector()
    pages, ids = await drain(connector, limit=25)
    assert len(ids) == 60 and not any(i.startswith("unidentified:") for i in ids)
    mapped = refused = 0
    now = datetime.now(UTC)
    for page in pages:
        for polled in page.items:
            try:
                draft = connector.map(polled.item.payload)
                normalize(draft, NormalizeContext("a", "m12315", IntegrationMode.INTERCONNECT, now, "r"), now=now)
                mapped += 1
            except (MappingError, NormalizationError) as e:
                assert str(e).split(":")[0], e
                refused += 1
    assert mapped > refused > 0


async def test_generated_orders_normalize_cleanly(platform):
    platform.sim.generate(40)
    connector = platform.connector()
    page = await connector.poll(None, 100)
    now = datetime.now(UTC)
    ctx = NormalizeContext("a", "m", IntegrationMode.INTERCONNECT, now, "r")
    records = [normalize(connector.map(p.item.payload), ctx) for p in page.items]
    assert len(records) == 40
    assert sum(1 for r in records if r.warnings) <= 8
    assert all(r.enterprise is None for r in records)
