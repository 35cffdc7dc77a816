"""huiju's 12328 connector against the simulated 12328 platform, over real HTTP on loopback."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from connectors.base import MappingError, Page, PolledItem, Position
from connectors.transport12328 import Transport12328Connector
from core.config import ChannelSettings
from core.errors import AuthError, PermanentError, TransientError
from core.http import HttpClient
from normalizer import NormalizationError
from simulators.national.run import build_simulator, running
from tests.connectors.national_support import events
from tests.connectors.transport12328.support import normalized

APP_KEY = "huiju-ganzhou"
SECRET = "jt12328-secret-0123456789abcdef"


@dataclass
class Platform:
    """A running simulator and a way to drive it."""

    url: str
    session: aiohttp.ClientSession

    async def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        async with self.session.request(method, self.url + path, json=body) as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()

    async def orders(self, count: int, age_seconds: float = 0) -> list[str]:
        return (await self.control("POST", "/_sim/orders", {"count": count, "age_seconds": age_seconds}))["ids"]

    async def knobs(self, **changes: Any) -> None:
        await self.control("PUT", "/_sim/knobs", changes)

    async def requests(self, route: str) -> dict[str, int]:
        return (await self.control("GET", "/_sim/stats"))["requests"].get(route, {})

    def connector(self, secret: str = SECRET, sign_method: str = "hmac-sha256", **settings: Any):
        values = {"base_url": self.url, "app_key": APP_KEY, "app_secret": secret, "sign_method": sign_method}
        channel = ChannelSettings(id="jt12328", kind="12328", mode="interconnect", settings=values | settings)
        return Transport12328Connector(channel, HttpClient(self.session, attempts=3, timeout_s=5))


def start(sign_method: str = "hmac-sha256", **options: Any):
    """A simulated 12328 platform with huiju's app key (not yet serving)."""
    return build_simulator(
        "12328", app_key=APP_KEY, app_secret=SECRET, sign_method=sign_method, seed=12328, **options
    )


@pytest.fixture
async def platform():
    async with running(start()) as url, aiohttp.ClientSession() as session:
        yield Platform(url, session)


async def drain(connector: Transport12328Connector, limit: int, position: Position | None = None):
    """Every item from position on, page by page as the runner would; and the pages."""
    items: list[PolledItem] = []
    pages: list[Page] = []
    for _ in range(100):
        page = await connector.poll(position, limit)
        pages.append(page)
        items += page.items
        if page.items:
            position = page.items[-1].position
        if page.next is None:
            return items, pages
        assert page.next == position
    raise AssertionError("the feed never drained")


event = events(
    event_id="e5b1c7de-0f3a-4d2b-9c61-7a8e2f4b3d10",
    at=datetime(2024, 11, 26, 7, 5, 30, tzinfo=UTC),
    text="经核查，反映情况属实，已责令企业整改。",
    unit="赣州市交通运输局",
)


# -- credentials --------------------------------------------------------------------------------------------------


async def test_check_accepts_the_right_credentials(platform):
    await platform.connector().check()
    assert await platform.requests("GET /v2/health/auth") == {"200": 1}


async def test_check_with_a_wrong_secret_is_an_auth_error(platform):
    with pytest.raises(AuthError) as e:
        await platform.connector(secret="not-the-secret-0123456789").check()
    assert e.value.status == 401
    assert "signature does not match" in str(e.value)


async def test_poll_with_a_wrong_secret_is_an_auth_error_and_not_retried(platform):
    await platform.orders(3)
    with pytest.raises(AuthError):
        await platform.connector(secret="not-the-secret-0123456789").poll(None, 10)
    assert await platform.requests("GET /v2/tickets") == {"401": 1}


async def test_refused_credentials_are_an_auth_error(platform):
    await platform.knobs(reject_auth=True)
    with pytest.raises(AuthError):
        await platform.connector().poll(None, 10)


async def test_sm3_signatures_work_end_to_end():
    async with running(start(sign_method="sm3")) as url, aiohttp.ClientSession() as session:
        platform = Platform(url, session)
        await platform.orders(2)
        connector = platform.connector(sign_method="sm3")
        await connector.check()
        assert len((await connector.poll(None, 10)).items) == 2
        with pytest.raises(AuthError):
            await platform.connector(sign_method="hmac-sha256").check()


# -- polling ------------------------------------------------------------------------------------------------------


async def test_the_first_poll_returns_tickets_oldest_first_with_their_places():
    async with running(start(initial_orders=5)) as url, aiohttp.ClientSession() as session:
        page = await Platform(url, session).connector().poll(None, 10)
    assert len(page.items) == 5
    positions = [p.position for p in page.items]
    assert positions == sorted(positions)
    assert [p.item.source_id for p in page.items] == [p.id for p in positions]
    assert page.next is None
    assert page.server_time is not None


async def test_keyset_paging_reads_every_ticket_once_across_pages():
    async with running(start(initial_orders=23)) as url, aiohttp.ClientSession() as session:
        platform = Platform(url, session)
        items, pages = await drain(platform.connector(), limit=5)
        assert [len(p.items) for p in pages] == [5, 5, 5, 5, 3]
        assert await platform.requests("GET /v2/tickets") == {"200": 5}
    ids = [p.item.source_id for p in items]
    assert len(ids) == len(set(ids)) == 23


async def test_tickets_updated_in_the_same_second_are_split_across_pages_without_loss(platform):
    ids = await platform.orders(12)  # all at the platform's same whole second
    items, pages = await drain(platform.connector(), limit=5)
    assert len(pages) == 3
    assert sorted(p.item.source_id for p in items) == sorted(ids)
    assert len({p.position.updated_at for p in items}) == 1


async def test_polling_from_the_last_place_returns_only_what_changed_since(platform):
    first = await platform.orders(4, age_seconds=60)
    connector = platform.connector()
    items, _ = await drain(connector, limit=10)
    await platform.control("POST", f"/_sim/orders/{first[1]}/touch")
    new = await platform.orders(2)
    later, _ = await drain(connector, limit=10, position=items[-1].position)
    assert {p.item.source_id for p in later} == {first[1], *new}
    assert all(p.position > items[-1].position for p in later)


async def test_tickets_registered_in_the_same_second_after_a_poll_are_not_skipped(platform):
    before = await platform.orders(3)
    connector = platform.connector()
    items, _ = await drain(connector, limit=10)
    after = await platform.orders(3)  # very likely the same whole second as the poll's last ticket
    later, _ = await drain(connector, limit=10, position=items[-1].position)
    assert [p.item.source_id for p in items] == before
    assert [p.item.source_id for p in later] == after


async def test_a_late_ticket_is_served_to_a_poll_that_looks_back_before_its_update_time(platform):
    await platform.orders(3)
    connector = platform.connector()
    items, _ = await drain(connector, limit=10)
    [late] = await platform.orders(1, age_seconds=3600)
    looked_back = Position(items[0].position.updated_at.replace(year=2000), "")
    again, _ = await drain(connector, limit=10, position=looked_back)
    assert late in [p.item.source_id for p in again]


async def test_a_limit_above_the_platforms_page_size_is_cut_to_it(platform):
    await platform.orders(8)
    await platform.knobs(page_size_max=3)
    page = await platform.connector().poll(None, 100)
    assert len(page.items) == 3
    assert page.next == page.items[-1].position


async def test_polled_tickets_map_and_normalize(platform):
    await platform.orders(40)
    connector = platform.connector()
    items, _ = await drain(connector, limit=100)
    for polled in items:
        record = normalized(connector.map(polled.item.payload))
        assert record.source_id == polled.item.source_id
        assert record.enterprise is None


# -- errors -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 503])
async def test_a_busy_platform_is_a_transient_error_after_the_retries(platform, status):
    await platform.knobs(error_rate=1.0, error_statuses=[status])
    with pytest.raises(TransientError) as e:
        await platform.connector().poll(None, 10)
    assert e.value.status == status
    # three attempts, each freshly signed: a reused nonce would have been refused with 401
    assert await platform.requests("GET /v2/tickets") == {str(status): 3}


async def test_an_outage_is_a_transient_error(platform):
    await platform.knobs(outage=True)
    with pytest.raises(TransientError):
        await platform.connector().check()


async def test_an_unreachable_platform_is_a_transient_error():
    async with running(start()) as url:
        pass  # stopped: nothing listens there any more
    async with aiohttp.ClientSession() as session:
        with pytest.raises(TransientError):
            await Platform(url, session).connector().check()


# -- delivering events --------------------------------------------------------------------------------------------


async def test_an_event_is_delivered_once_and_its_repeat_answered_as_a_duplicate(platform):
    [ticket] = await platform.orders(1)
    connector = platform.connector()
    first = await connector.deliver(event(source_id=ticket))
    again = await connector.deliver(event(source_id=ticket))
    assert (first.duplicate, again.duplicate) == (False, True)
    assert first.reference == again.reference
    received = await platform.control("GET", "/_sim/events")
    assert len(received) == 1
    assert received[0]["order_id"] == ticket
    assert received[0]["raw"] == {
        "event_id": "e5b1c7de-0f3a-4d2b-9c61-7a8e2f4b3d10",
        "type": "reply",
        "status": "replied",
        "text": "经核查，反映情况属实，已责令企业整改。",
        "unit": "赣州市交通运输局",
        "at": "2024-11-26T15:05:30+08:00",
    }


async def test_every_status_event_is_accepted(platform):
    [ticket] = await platform.orders(1)
    connector = platform.connector()
    statuses = ["accepted", "dispatched", "returned", "extended", "replied", "closed", "revisited"]
    for i, status in enumerate(statuses):
        status_event = event(source_id=ticket, event_id=f"ev-{i}", kind="status", status=status, text=None)
        receipt = await connector.deliver(status_event)
        assert receipt.duplicate is False
    assert len(await platform.control("GET", "/_sim/events")) == 7


async def test_an_event_for_an_unknown_ticket_is_a_permanent_error(platform):
    with pytest.raises(PermanentError) as e:
        await platform.connector().deliver(event(source_id="JT00000020240101999999"))
    assert e.value.status == 404


async def test_an_event_the_platform_cannot_read_is_a_permanent_error_with_its_reason(platform):
    [ticket] = await platform.orders(1)
    with pytest.raises(PermanentError, match="text: required for a reply") as e:
        await platform.connector().deliver(event(source_id=ticket, text=None))
    assert e.value.status == 400


# -- malformed and drifting tickets -------------------------------------------------------------------------------


async def test_malformed_raw_tickets_are_polled_and_then_refused_by_map_with_a_reason(platform):
    [good] = await platform.orders(1)
    for item in (
        "JT-not-an-object",
        {"kind": "complaint", "subject": "公交车甩站", "updated_at": "2024-11-26T10:21:00+08:00"},
        {"ticket_id": "JT-BAD-SUBJECT", "subject": 42, "updated_at": "2024-11-26T10:21:00+08:00"},
    ):
        await platform.control("POST", "/_sim/orders/raw", {"item": item})
    connector = platform.connector()
    items, _ = await drain(connector, limit=10)
    outcomes = {}
    for polled in items:
        try:
            outcomes[polled.item.payload] = connector.map(polled.item.payload).source_id
        except MappingError as e:
            outcomes[polled.item.payload] = str(e)
    assert sorted(outcomes.values()) == sorted(
        [
            good,
            "work order must be a JSON object, got string",
            "ticket_id: missing",
            "subject: must be text, got number",
        ]
    )
    assert sum(p.item.source_id.startswith("unidentified:") for p in items) == 2
    assert "JT-BAD-SUBJECT" in {p.item.source_id for p in items}


@pytest.mark.parametrize(
    "drift", ["drift_unknown_fields", "drift_missing_optional", "drift_bad_dates", "drift_wrong_types"]
)
async def test_drifting_tickets_still_map_or_are_refused_with_a_reason(platform, drift):
    await platform.knobs(**{drift: 1.0})
    await platform.orders(30)
    connector = platform.connector()
    items, _ = await drain(connector, limit=100)
    assert len(items) == 30
    mapped = 0
    for polled in items:
        try:
            record = normalized(connector.map(polled.item.payload))
        except (MappingError, NormalizationError) as e:
            field, _, reason = str(e).partition(": ")
            assert field and reason
        else:
            mapped += 1
            assert record.source_id == polled.item.source_id
    if drift != "drift_wrong_types":
        assert mapped == 30
    else:
        assert mapped >= 20


async def test_unknown_fields_from_drift_become_warnings(platform):
    await platform.knobs(drift_unknown_fields=1.0)
    await platform.orders(5)
    connector = platform.connector()
    items, _ = await drain(connector, limit=10)
    for polled in items:
        assert any(w.endswith("unknown field ignored") for w in connector.map(polled.item.payload).warnings)


async def test_drift_is_the_same_on_a_repoll(platform):
    await platform.knobs(drift_wrong_types=0.5, drift_bad_dates=0.5)
    await platform.orders(10)
    connector = platform.connector()
    once, _ = await drain(connector, limit=100)
    twice, _ = await drain(connector, limit=100)
    assert [p.item for p in once] == [p.item for p in twice]
