"""The return path: huiju POSTs status and replies to the channel's callback_url, signed with its secret.

Every delivery goes over loopback to the simulated channel system (simulators/api_channel.py), which checks the
signature and the event as docs/channels/api.md says a channel system must.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.api import ApiConnector
from connectors.api.callback import CallbackHeaders, callback_body, parse_answer
from connectors.api.protocol import EVENT_FIELDS, KINDS, SIGNATURE_HEADER, STATUSES, TIMESTAMP_HEADER
from connectors.base import OutboundEvent, Receipt
from core.config import ChannelSettings
from core.errors import AuthError, PermanentError, TransientError
from core.http import HttpClient
from core.signing import verify_body
from simulators.api_channel import CHANNEL, ChannelSystem, build_channel, parse_event, running
from tests.helpers import API_SECRET

REPLY = OutboundEvent(
    event_id="evt-0001",
    source_id="ZWFW-2024112500318",
    kind="reply",
    status="replied",
    at=datetime(2024, 11, 26, 2, 15, tzinfo=UTC),
    text="您好，社保卡丢失后可携带身份证到市政务服务中心社保窗口办理挂失补办。",
    unit="瑞金市人力资源和社会保障局",
    extra={"work_order_no": "WO20241125000318"},
)


def connector(http: HttpClient | None, callback_url: str | None, secret: str = API_SECRET) -> ApiConnector:
    """The API channel "web" with this secret and callback_url (none: the setting is left out)."""
    settings = {"secret": secret} | ({"callback_url": callback_url} if callback_url else {})
    return ApiConnector(ChannelSettings(id="web", kind="api", mode="hotline_flow", settings=settings), http)


@dataclass
class Loopback:
    """The simulated channel system, served on loopback, and an HTTP client to reach it."""

    system: ChannelSystem
    base_url: str
    http: HttpClient

    @property
    def callback_url(self) -> str:
        """Where the simulated channel system takes callbacks."""
        return f"{self.base_url}/callbacks"

    def connector(self, secret: str = API_SECRET) -> ApiConnector:
        """The channel's connector, pointing at the simulator's callback URL."""
        return connector(self.http, self.callback_url, secret)

    def attempts(self) -> list[int]:
        """The status of every callback request the channel answered, in order."""
        return [a["status"] for a in self.system.attempts]


@pytest.fixture
async def channel() -> AsyncIterator[Loopback]:
    app = build_channel(API_SECRET)
    async with running(app) as url, aiohttp.ClientSession() as session:
        yield Loopback(app[CHANNEL], url, HttpClient(session))


async def test_a_delivered_event_reaches_the_channel_signed_with_the_channel_secret(channel):
    receipt = await channel.connector().deliver(REPLY)

    assert receipt == Receipt("RCV-000001", False, {"status": "received", "reference": "RCV-000001"})
    assert list(channel.system.events) == ["evt-0001"]
    assert channel.attempts() == [200]


async def test_the_channel_records_every_field_with_the_time_at_plus_eight_hours(channel):
    await channel.connector().deliver(REPLY)

    [entry] = channel.system.events.values()
    assert entry.event == {
        "event_id": "evt-0001",
        "source_id": "ZWFW-2024112500318",
        "kind": "reply",
        "status": "replied",
        "at": "2024-11-26T10:15:00+08:00",
        "text": REPLY.text,
        "unit": "瑞金市人力资源和社会保障局",
        "extra": {"work_order_no": "WO20241125000318"},
    }


async def test_a_retry_of_the_same_event_is_answered_as_a_duplicate_with_the_same_reference(channel):
    first = await channel.connector().deliver(REPLY)
    again = await channel.connector().deliver(REPLY)

    assert (first.duplicate, again.duplicate) == (False, True)
    assert again.reference == first.reference
    assert [e.deliveries for e in channel.system.events.values()] == [2]


async def test_a_wrong_secret_is_an_auth_error_and_nothing_is_recorded(channel):
    with pytest.raises(AuthError) as raised:
        await channel.connector(secret="not-the-channel-secret-0000").deliver(REPLY)

    assert raised.value.status == 401
    assert channel.system.events == {}


async def test_without_a_callback_url_deliver_is_a_permanent_error_that_says_so():
    with pytest.raises(PermanentError, match="no callback_url"):
        await connector(None, None).deliver(REPLY)


def test_only_a_channel_with_a_callback_url_delivers_now():
    assert connector(None, "https://zwfw.example/huiju/callbacks").delivers_now()
    assert not connector(None, None).delivers_now()


async def test_a_503_from_the_channel_is_retried_within_the_call(channel):
    channel.system.knobs.fail_next = 2

    receipt = await channel.connector().deliver(REPLY)

    assert not receipt.duplicate
    assert channel.attempts() == [503, 503, 200]
    assert list(channel.system.events) == ["evt-0001"]


async def test_a_channel_that_keeps_answering_503_gives_a_transient_error(channel):
    channel.system.knobs.outage = True

    with pytest.raises(TransientError):
        await channel.connector().deliver(REPLY)

    assert channel.attempts() == [503] * channel.http.attempts


async def test_a_400_from_the_channel_is_a_permanent_error(channel):
    wrong = replace(REPLY, source_id="")  # the channel refuses an event without the appeal's id

    with pytest.raises(PermanentError) as raised:
        await channel.connector().deliver(wrong)

    assert raised.value.status == 400
    assert channel.attempts() == [400]


async def test_the_control_api_lists_each_received_event_once_with_its_deliveries(channel):
    await channel.connector().deliver(REPLY)
    await channel.connector().deliver(REPLY)

    async with channel.http.session.get(f"{channel.base_url}/_sim/events") as resp:
        listed = await resp.json()

    assert [(e["reference"], e["deliveries"], e["event"]["event_id"]) for e in listed] == [
        ("RCV-000001", 2, "evt-0001")
    ]


async def test_an_outage_switched_on_through_the_control_api_makes_deliveries_fail_as_transient(channel):
    async with channel.http.session.put(f"{channel.base_url}/_sim/knobs", json={"outage": True}) as resp:
        assert (await resp.json())["outage"] is True

    with pytest.raises(TransientError):
        await channel.connector().deliver(REPLY)


def test_every_attempt_is_signed_afresh_with_the_time_it_is_sent():
    body = callback_body(REPLY)
    moments = iter([1732587303.2, 1732587304.9, 1732587309.0])  # construction, then two attempts
    headers = CallbackHeaders(API_SECRET, body, clock=lambda: next(moments))

    first, second = dict(headers.items()), dict(headers.items())

    assert (first[TIMESTAMP_HEADER], second[TIMESTAMP_HEADER]) == ("1732587304", "1732587309")
    for sent in (first, second):
        now = int(sent[TIMESTAMP_HEADER])
        verify_body(API_SECRET, body, sent[TIMESTAMP_HEADER], sent[SIGNATURE_HEADER], 300, now=now)


def test_a_reply_without_text_is_refused_before_it_is_sent():
    with pytest.raises(PermanentError, match="reply event needs its text"):
        callback_body(replace(REPLY, text="  "))


def test_a_status_the_protocol_does_not_have_is_refused_before_it_is_sent():
    with pytest.raises(PermanentError, match="'escalated' is not one of"):
        callback_body(replace(REPLY, kind="status", status="escalated"))


@pytest.mark.parametrize(
    "answer",
    [b"", b"OK", b"[]", b'{"status": "ok"}', b'{"received": true}'],
    ids=["empty", "text", "array", "other-status", "no-status"],
)
def test_a_2xx_answer_outside_the_protocol_is_a_permanent_error(answer):
    with pytest.raises(PermanentError, match="callback answer"):
        parse_answer(answer)


# -- properties ---------------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


# Real instants, then written in any zone (a local time that a zone skips or repeats is not an instant).
instants = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


@st.composite
def events(draw: st.DrawFn) -> OutboundEvent:
    """Any event the protocol can carry: a reply always has text, other fields take any value of their type."""
    kind = draw(st.sampled_from(KINDS))
    text = st.text(min_size=1).filter(str.strip) if kind == "reply" else st.none() | st.text()
    return OutboundEvent(
        event_id=draw(st.text(min_size=1, max_size=80)),
        source_id=draw(st.text(min_size=1, max_size=128)),
        kind=kind,
        status=draw(st.sampled_from(sorted(STATUSES))),
        at=draw(instants).astimezone(draw(st.timezones())),
        text=draw(text),
        unit=draw(st.none() | st.text(max_size=60)),
        extra=draw(st.dictionaries(st.text(max_size=12), json_values, max_size=5)),
    )


async def recorded_after_delivery(event: OutboundEvent) -> dict[str, Any]:
    """Deliver one event to a fresh channel simulator over loopback; what the channel recorded."""
    app = build_channel(API_SECRET)
    async with running(app) as url, aiohttp.ClientSession() as session:
        await connector(HttpClient(session), f"{url}/callbacks").deliver(event)
    [entry] = app[CHANNEL].events.values()
    return entry.event


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=events())
def test_any_event_round_trips_through_the_callback_body(event):
    recorded = asyncio.run(recorded_after_delivery(event))

    at = datetime.fromisoformat(recorded.pop("at"))
    assert at == event.at and at.utcoffset() == timedelta(hours=8)
    assert recorded == {
        "event_id": event.event_id,
        "source_id": event.source_id,
        "kind": event.kind,
        "status": event.status,
        "text": event.text,
        "unit": event.unit,
        "extra": event.extra,
    }


any_json_text = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(st.sampled_from(EVENT_FIELDS), json_values, max_size=8).map(lambda v: json.dumps(v).encode()),
)


@settings(max_examples=300, deadline=None)
@given(body=any_json_text)
def test_the_channel_reads_any_body_or_refuses_it_with_a_reason(body):
    try:
        parse_event(body)
    except ValueError as e:
        assert str(e)


@settings(max_examples=300, deadline=None)
@given(body=any_json_text)
def test_any_answer_is_a_receipt_or_a_permanent_error_with_a_reason(body):
    try:
        receipt = parse_answer(body)
    except PermanentError as e:
        assert str(e)
    else:
        assert receipt.duplicate == (receipt.detail["status"] == "duplicate")
