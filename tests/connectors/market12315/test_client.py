"""The shared national client (connectors/national/client.py), shown through the 12315 connector."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from connectors.market12315 import Market12315Connector
from connectors.national.client import START, SignedHeaders
from connectors.national.settings import NationalSettings
from core.config import ChannelSettings
from core.http import HttpClient
from core.signing import sign_request
from simulators.national.engine import SIMULATOR, Knobs, Simulator
from simulators.national.run import build_simulator, running

APP_KEY = "huiju"
SECRET = "sim-secret-0123456789abcdef"
SETTINGS = NationalSettings(base_url="http://127.0.0.1:1", app_key=APP_KEY, app_secret=SECRET)


@pytest.fixture
async def served() -> AsyncIterator[tuple[Simulator, Market12315Connector]]:
    app = build_simulator("12315", app_key=APP_KEY, app_secret=SECRET)
    async with running(app) as url, aiohttp.ClientSession() as session:
        channel = ChannelSettings(
            id="m", kind="12315", mode="interconnect",
            settings={"base_url": url, "app_key": APP_KEY, "app_secret": SECRET},
        )
        yield app[SIMULATOR], Market12315Connector(channel, HttpClient(session))


def test_signed_headers_carry_a_new_timestamp_nonce_and_signature_each_time_they_are_read():
    headers = SignedHeaders(SETTINGS, "GET", "/open/v1/ping", {}, b"")
    first, second = dict(headers.items()), dict(headers.items())
    assert first["X-Nonce"] != second["X-Nonce"] and len(first["X-Nonce"]) == 32
    keys = list(headers)  # a third reading ...
    looked_up = {k: headers[k] for k in keys}  # ... and lookups that agree with it
    assert looked_up["X-Nonce"] not in (first["X-Nonce"], second["X-Nonce"])
    assert looked_up["X-Signature"] == sign_request(
        "hmac-sha256", SECRET, "GET", "/open/v1/ping", {}, APP_KEY, looked_up["X-Timestamp"],
        looked_up["X-Nonce"], b"",
    )


def test_signed_headers_sign_the_canonical_request():
    headers = dict(SignedHeaders(SETTINGS, "GET", "/open/v1/workorders", {"pageSize": "5"}, b"").items())
    assert headers["X-App-Key"] == APP_KEY and headers["X-Sign-Method"] == "hmac-sha256"
    assert headers["X-Signature"] == sign_request(
        "hmac-sha256", SECRET, "GET", "/open/v1/workorders", {"pageSize": "5"}, APP_KEY, headers["X-Timestamp"],
        headers["X-Nonce"], b"",
    )
    assert "Content-Type" not in headers


def test_a_request_with_a_body_says_it_is_json():
    headers = dict(SignedHeaders(SETTINGS, "POST", "/x", {}, b"{}").items())
    assert headers["Content-Type"] == "application/json; charset=utf-8"


def test_a_connector_without_an_http_client_cannot_send():
    connector = Market12315Connector(ChannelSettings(
        id="m", kind="12315", mode="interconnect", settings=SETTINGS.model_dump()
    ))
    with pytest.raises(RuntimeError, match="without an HTTP client"):
        _ = connector.http


async def test_an_unreadable_first_item_of_the_feed_is_placed_at_the_start(served):
    sim, connector = served
    sim.add_raw({"orderNo": "SC-BAD", "updateTime": "garbage"})
    page = await connector.poll(None, 10)
    assert page.items[0].item.source_id == "SC-BAD"
    assert page.items[0].position == START


async def test_a_full_page_that_does_not_move_the_cursor_ends_the_run(served):
    sim, connector = served
    sim.knobs = Knobs(page_size_max=1)
    sim.add_raw({"title": "no number, no time"})
    sim.generate(1)
    page = await connector.poll(None, 10)
    assert len(page.items) == 1 and page.next is None  # not START again and again


async def test_a_page_ends_with_next_at_its_last_item_while_the_platform_has_more(served):
    sim, connector = served
    sim.generate(3)
    page = await connector.poll(None, 2)
    assert page.next == page.items[-1].position
    rest = await connector.poll(page.next, 2)
    assert len(rest.items) == 1 and rest.next is None
