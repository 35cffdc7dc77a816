"""The 12333 connector against the simulated 12333 platform, over real HTTP on loopback.

Signed requests, keyset paging, classified errors after the HTTP client's retries, idempotent feedback and
schema drift, end to end.
"""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
import pytest

from connectors.base import MappingError, OutboundEvent, Position
from connectors.hrss12333 import Hrss12333Connector
from core.config import ChannelSettings
from core.errors import AuthError, PermanentError, TransientError
from core.http import HttpClient
from normalizer.record import IntegrationMode
from simulators.national.engine import SIMULATOR
from simulators.national.run import build_simulator, running

APP_KEY = "huiju-ganzhou"
APP_SECRET = "12333-secret-0123456789abcdef"


class Platform:
    """A running 12333 simulator and connectors pointing at it."""

    def __init__(self, app, base_url: str, session: aiohttp.ClientSession) -> None:
        self.app = app
        self.base_url = base_url
        self.session = session

    @property
    def sim(self):
        return self.app[SIMULATOR]

    def connector(self, *, secret: str = APP_SECRET, sign_method: str = "hmac-sha256", attempts: int = 3,
                  page_size: int = 10) -> Hrss12333Connector:
        settings = {"base_url": self.base_url, "app_key": APP_KEY, "app_secret": secret,
                    "sign_method": sign_method, "page_size": page_size}
        channel = ChannelSettings(id="hrss12333", kind="12333", mode=IntegrationMode.INTERCONNECT,
                                  settings=settings)
        return Hrss12333Connector(channel, HttpClient(self.session, attempts=attempts, timeout_s=5))

    async def control(self, method: str, path: str, body: dict | None = None):
        async with self.session.request(method, self.base_url + path, json=body) as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()

    def requests(self, route: str) -> dict[str, int]:
        return {str(status): n for (r, status), n in self.sim.stats.items() if r == route}


def start(sign_method: str = "hmac-sha256"):
    return build_simulator("12333", app_key=APP_KEY, app_secret=APP_SECRET, sign_method=sign_method, seed=11)


@pytest.fixture
async def platform():
    app = start()
    async with running(app) as base_url, aiohttp.ClientSession() as session:
        yield Platform(app, base_url, session)


@pytest.fixture
async def sm3_platform():
    app = start(sign_method="sm3")
    async with running(app) as base_url, aiohttp.ClientSession() as session:
        yield Platform(app, base_url, session)


async def poll_all(connector: Hrss12333Connector, position: Position | None = None, limit: int = 10):
    """Every page from position until the platform has no more; the pages."""
    pages = []
    while True:
        page = await connector.poll(position, limit)
        pages.append(page)
        if page.next is None:
            return pages
        position = page.next


# -- credentials -----------------------------------------------------------------------------------------------


async def test_the_check_passes_with_the_right_credentials(platform):
    await platform.connector().check()
    assert platform.requests("POST /api/gd/xt") == {"200": 1}


async def test_a_wrong_secret_is_refused_as_an_auth_error(platform):
    with pytest.raises(AuthError, match="4001"):
        await platform.connector(secret="not-the-right-secret-000").check()


async def test_a_wrong_secret_is_not_retried(platform):
    with pytest.raises(AuthError):
        await platform.connector(secret="not-the-right-secret-000").poll(None, 10)
    assert platform.requests("POST /api/gd/query") == {"401": 1}


async def test_sm3_signatures_are_accepted_by_a_platform_that_agreed_on_sm3(sm3_platform):
    sm3_platform.sim.generate(3)
    await sm3_platform.connector(sign_method="sm3").check()
    assert len((await sm3_platform.connector(sign_method="sm3").poll(None, 10)).items) == 3


async def test_the_wrong_sign_method_is_refused(sm3_platform):
    with pytest.raises(AuthError):
        await sm3_platform.connector(sign_method="hmac-sha256").check()


async def test_credentials_refused_by_the_platform_are_an_auth_error(platform):
    platform.sim.knobs.reject_auth = True
    with pytest.raises(AuthError):
        await platform.connector().check()


# -- polling ---------------------------------------------------------------------------------------------------


async def test_polling_from_the_start_pages_through_every_work_order_once_in_order(platform):
    ids = platform.sim.generate(25)
    pages = await poll_all(platform.connector())
    assert [len(p.items) for p in pages] == [10, 10, 5]
    polled = [i.item.source_id for p in pages for i in p.items]
    assert polled == ids  # generated at one moment: ordered by work-order number
    positions = [i.position for p in pages for i in p.items]
    assert positions == sorted(positions) and len(set(positions)) == 25


async def test_the_next_page_starts_after_the_last_item_of_this_one(platform):
    ids = platform.sim.generate(12)
    first = await platform.connector().poll(None, 10)
    assert first.next == first.items[-1].position
    second = await platform.connector().poll(first.next, 10)
    assert [i.item.source_id for i in second.items] == ids[10:]
    assert second.next is None


async def test_a_drained_feed_gives_an_empty_page(platform):
    platform.sim.generate(3)
    last = (await platform.connector().poll(None, 10)).items[-1].position
    page = await platform.connector().poll(last, 10)
    assert page.items == [] and page.next is None


async def test_work_orders_spread_over_time_come_oldest_first_across_pages(platform):
    late = platform.sim.generate(5, age_seconds=600)
    early = platform.sim.generate(5, age_seconds=3600)
    now = platform.sim.generate(5)
    polled = [i.item.source_id for p in await poll_all(platform.connector(), limit=4) for i in p.items]
    assert polled == early + late + now


async def test_an_updated_work_order_is_served_again_after_the_cursor(platform):
    ids = platform.sim.generate(5, age_seconds=60)
    cursor = (await platform.connector().poll(None, 10)).items[-1].position
    await platform.control("POST", f"/_sim/orders/{ids[1]}/touch")
    page = await platform.connector().poll(cursor, 10)
    assert [i.item.source_id for i in page.items] == [ids[1]]
    assert page.items[0].position > cursor


async def test_the_platforms_page_size_limit_is_respected(platform):
    platform.sim.generate(30)
    await platform.control("PUT", "/_sim/knobs", {"page_size_max": 7})
    pages = await poll_all(platform.connector(), limit=100)
    assert [len(p.items) for p in pages] == [7, 7, 7, 7, 2]


async def test_the_page_carries_the_platforms_clock(platform):
    platform.sim.generate(1)
    page = await platform.connector().poll(None, 10)
    assert page.server_time is not None
    assert abs((page.server_time - datetime.now(UTC)).total_seconds()) < 5


async def test_each_polled_payload_is_the_work_order_as_the_platform_wrote_it_and_maps(platform):
    platform.sim.generate(20)
    connector = platform.connector()
    for polled in (await connector.poll(None, 20)).items:
        draft = connector.map(polled.item.payload)
        assert draft.source_id == polled.item.source_id
        assert draft.sources["content"] == "payload.nr"
        assert draft.title and draft.content


# -- malformed items ---------------------------------------------------------------------------------------------


async def test_an_item_without_a_number_is_stored_under_a_stable_id_and_refused_by_map(platform):
    await platform.control("POST", "/_sim/orders/raw",
                           {"item": {"sqlx": "03", "nr": "公司拖欠工资", "gxsj": 1732497151407}})
    connector = platform.connector()
    first = (await connector.poll(None, 10)).items
    again = (await connector.poll(None, 10)).items
    assert first[0].item.source_id.startswith("unidentified:")
    assert first[0].item.source_id == again[0].item.source_id
    with pytest.raises(MappingError, match="gdbh"):
        connector.map(first[0].item.payload)


async def test_an_item_with_an_unreadable_update_time_keeps_the_place_before_it(platform):
    ids = platform.sim.generate(2, age_seconds=30)
    await platform.control("POST", "/_sim/orders/raw",
                           {"item": {"gdbh": "RS202411259999999", "nr": "社保卡补办", "gxsj": "2024-13-45"}})
    page = await platform.connector().poll(None, 10)
    assert [i.item.source_id for i in page.items] == [*ids, "RS202411259999999"]
    assert page.items[2].position == page.items[1].position


async def test_an_item_that_is_not_an_object_is_stored_and_refused_by_map(platform):
    await platform.control("POST", "/_sim/orders/raw", {"item": "数据异常"})
    connector = platform.connector()
    polled = (await connector.poll(None, 10)).items[0]
    assert polled.item.payload == '"数据异常"'
    with pytest.raises(MappingError, match="JSON object"):
        connector.map(polled.item.payload)


async def test_drifted_work_orders_map_or_are_refused_with_a_reason(platform):
    await platform.control("PUT", "/_sim/knobs", {
        "drift_unknown_fields": 0.5, "drift_missing_optional": 0.5, "drift_bad_dates": 0.5,
        "drift_wrong_types": 0.5,
    })
    ids = platform.sim.generate(60)
    connector = platform.connector()
    pages = await poll_all(connector, limit=25)
    polled = [i for p in pages for i in p.items]
    assert [i.item.source_id for i in polled] == ids  # the number and the update time are never drifted
    mapped, refused = 0, []
    for item in polled:
        try:
            connector.map(item.item.payload)
            mapped += 1
        except MappingError as e:
            refused.append(str(e))
    assert mapped > 45
    assert all(r.startswith(("nr (诉求内容)", "bt (标题)")) for r in refused)


# -- errors ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_a_busy_or_failing_platform_is_a_transient_error_after_the_retries(platform, status):
    await platform.control("PUT", "/_sim/knobs", {"error_rate": 1.0, "error_statuses": [status]})
    with pytest.raises(TransientError) as e:
        await platform.connector(attempts=3).poll(None, 10)
    assert e.value.status == status
    assert platform.requests("POST /api/gd/query") == {str(status): 3}


async def test_an_outage_is_a_transient_error(platform):
    await platform.control("PUT", "/_sim/knobs", {"outage": True})
    with pytest.raises(TransientError, match="5003"):
        await platform.connector(attempts=2).check()


async def test_a_retry_after_a_transient_error_is_signed_afresh_and_succeeds(platform):
    platform.sim.generate(4)
    await platform.control("PUT", "/_sim/knobs", {"error_rate": 0.5, "error_statuses": [503]})
    connector = platform.connector(attempts=8)
    for _ in range(5):
        assert len((await connector.poll(None, 10)).items) == 4
    statuses = platform.requests("POST /api/gd/query")
    assert statuses.get("503", 0) > 0 and "401" not in statuses


async def test_a_malformed_poll_is_a_permanent_error(platform):
    with pytest.raises(PermanentError, match="4000"):
        await platform.connector().poll(None, 5000)


# -- feedback ----------------------------------------------------------------------------------------------------


def reply(order_id: str, event_id: str = "evt-20241126-0001") -> OutboundEvent:
    return OutboundEvent(
        event_id=event_id, source_id=order_id, kind="reply", status="replied",
        at=datetime(2024, 11, 26, 2, 30, tzinfo=UTC),
        text="经劳动保障监察大队调查，已责令施工总承包单位于12月10日前足额支付拖欠的农民工工资。",
        unit="章贡区人力资源和社会保障局",
    )


async def test_a_reply_is_delivered_and_recorded_as_sent(platform):
    [order_id] = platform.sim.generate(1)
    receipt = await platform.connector().deliver(reply(order_id))
    assert receipt.reference and receipt.reference.startswith("FK") and receipt.duplicate is False
    [event] = await platform.control("GET", "/_sim/events")
    assert (event["event_id"], event["order_id"], event["kind"], event["status"]) == (
        "evt-20241126-0001", order_id, "reply", "replied",
    )
    assert event["unit"] == "章贡区人力资源和社会保障局"
    assert event["raw"]["sjlx"] == "02" and event["raw"]["zt"] == "50"


async def test_the_same_event_twice_is_a_duplicate_and_recorded_once(platform):
    [order_id] = platform.sim.generate(1)
    connector = platform.connector()
    first = await connector.deliver(reply(order_id))
    again = await connector.deliver(reply(order_id))
    assert (first.duplicate, again.duplicate) == (False, True)
    assert again.reference == first.reference
    assert len(await platform.control("GET", "/_sim/events")) == 1


async def test_every_status_can_be_delivered(platform):
    [order_id] = platform.sim.generate(1)
    connector = platform.connector()
    for n, status in enumerate(["accepted", "dispatched", "extended", "replied", "closed", "revisited"]):
        event = OutboundEvent(event_id=f"evt-{n}", source_id=order_id, kind="status", status=status,
                              at=datetime.now(UTC))
        assert (await connector.deliver(event)).duplicate is False
    assert [e["status"] for e in await platform.control("GET", "/_sim/events")] == [
        "accepted", "dispatched", "extended", "replied", "closed", "revisited",
    ]


async def test_feedback_for_an_unknown_work_order_is_a_permanent_error(platform):
    with pytest.raises(PermanentError) as e:
        await platform.connector().deliver(reply("RS000000000000000"))
    assert e.value.status == 404
