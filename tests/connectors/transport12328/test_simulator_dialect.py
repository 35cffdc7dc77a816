"""The simulated 12328 platform's side, and that it and huiju's side read the protocol the same way."""

from __future__ import annotations

import contextlib
import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import MappingError, OutboundEvent, Position
from connectors.transport12328 import Transport12328Dialect
from connectors.transport12328.protocol import CATEGORIES, EVENT_STATUSES, KINDS
from core.errors import AuthError, PermanentError, TransientError
from normalizer.fields import FieldError, check_credit_code, check_division_code, normalize_phone
from simulators.national.dialect import FeedQuery
from simulators.national.transport12328 import REGIONS, Transport12328ServerDialect
from tests.connectors.transport12328.support import normalized

SERVER = Transport12328ServerDialect()
CLIENT = Transport12328Dialect()
NOW = datetime(2024, 11, 25, 1, 30, tzinfo=UTC)
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def lookup(item: dict, path: str) -> tuple[dict, str] | None:
    """The object holding a dotted path's last key, and that key; None when the path is not there."""
    *parents, last = path.split(".")
    node = item
    for part in parents:
        node = node.get(part) if isinstance(node, dict) else None
    return (node, last) if isinstance(node, dict) and last in node else None


def orders(count: int = 400, seed: int = 0):
    return [SERVER.generate(n, NOW, seed) for n in range(count)]


def rendered(count: int = 400, seed: int = 0) -> list[dict]:
    return [SERVER.render_item(o) for o in orders(count, seed)]


# -- the generator ------------------------------------------------------------------------------------------------


def test_generation_is_deterministic_for_a_seed():
    assert rendered(50, seed=3) == rendered(50, seed=3)
    assert rendered(50, seed=3) != rendered(50, seed=4)


def test_ticket_ids_are_unique():
    ids = [o.id for o in orders(2000)]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"JT20241125[0-9]{8}", i) for i in ids)


def test_every_kind_and_category_occurs_with_complaints_the_most_common():
    generated = orders(2000)
    kinds = Counter(o.type for o in generated)
    assert set(kinds) == set(KINDS)
    assert kinds.most_common(1)[0][0] == "complaint"
    assert {o.category for o in generated} == set(CATEGORIES)


def test_tickets_are_chinese_text_about_transport():
    for order in orders(300):
        assert CHINESE.search(order.title) and CHINESE.search(order.content)
        assert len(order.content) >= 20


def test_most_phones_are_valid_and_some_are_not():
    valid = 0
    for order in orders(1000):
        with contextlib.suppress(FieldError):
            valid += normalize_phone(order.citizen.phone) is not None
    assert 850 <= valid < 1000


def test_operator_credit_codes_are_valid_most_of_the_time():
    codes = [o.subject.credit_code for o in orders(1000) if o.subject and o.subject.credit_code]
    valid = 0
    for code in codes:
        with contextlib.suppress(FieldError):
            check_credit_code(code)
            valid += 1
    assert len(codes) > 300
    assert valid >= 0.9 * len(codes)


def test_division_codes_are_real_county_codes_from_the_table():
    known = {r.adcode for r in REGIONS}
    for order in orders(500):
        assert order.division_code in known
        check_division_code(order.division_code)


def test_metro_tickets_are_only_in_cities_with_a_metro():
    metro_cities = {r.adcode for r in REGIONS if r.metro}
    assert all(o.division_code in metro_cities for o in orders(2000) if o.category == "rail")


def test_times_are_ordered_created_before_updated_and_occurred_before_created():
    for order in orders(500):
        assert order.created_at <= order.updated_at
        if order.occurred_at is not None:
            assert order.occurred_at < order.created_at


# -- rendering, read back by huiju --------------------------------------------------------------------------------


def test_rendered_times_are_iso_8601_at_plus_eight():
    item = SERVER.render_item(SERVER.generate(0, NOW, 0))
    assert item["updated_at"] == "2024-11-25T09:30:00+08:00"
    assert re.fullmatch(r"2024-11-2[0-9]T[0-9:]{8}\+08:00", item["created_at"])


def test_every_generated_ticket_maps_and_normalizes_to_what_was_generated():
    for order in orders(500):
        item = SERVER.render_item(order)
        draft = CLIENT.map(item)
        record = normalized(draft, now=NOW)
        assert record.source_id == order.id
        assert record.type.value == order.type
        assert (record.title, record.content) == (order.title, order.content)
        assert record.channel_category == order.category
        assert record.location.division_code == order.division_code
        assert record.enterprise is None
        assert draft.extra.get("plate_number") == order.details.get("plate_no")
        assert draft.extra.get("route") == order.details.get("route")
        if order.subject:
            assert draft.extra["operator"]["name"] == order.subject.name
        assert all(w.startswith("citizen.phone:") for w in record.warnings), record.warnings


def test_the_position_huiju_reads_is_the_orders_place_in_the_feed():
    for order in orders(50):
        assert CLIENT.item_position(SERVER.render_item(order)) == Position(order.updated_at, order.id)


def test_a_rendered_page_reads_back():
    items = rendered(3)
    page = CLIENT.parse_page(200, json.dumps(SERVER.render_page(items, True, NOW), ensure_ascii=False).encode())
    assert (page.items, page.has_more, page.server_time) == (items, True, NOW)


def test_the_check_answer_reads_back():
    CLIENT.parse_check(200, json.dumps(SERVER.render_check(NOW)).encode())


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (400, "invalid_request", PermanentError),
        (401, "unauthorized", AuthError),
        (404, "not_found", PermanentError),
        (429, "rate_limited", TransientError),
        (500, "internal_error", TransientError),
        (503, "service_unavailable", TransientError),
    ],
)
def test_error_envelopes_carry_a_string_code_huiju_classifies(status, code, error):
    envelope = SERVER.render_error(status, "why")
    assert envelope == {"error": {"code": code, "message": "why"}}
    with pytest.raises(error):
        CLIENT.parse_page(status, json.dumps(envelope).encode())


def test_an_unlisted_status_still_gets_a_code():
    assert SERVER.render_error(418, "x")["error"]["code"] == "invalid_request"
    assert SERVER.render_error(599, "x")["error"]["code"] == "internal_error"


# -- reading requests ---------------------------------------------------------------------------------------------


def test_huiju_poll_requests_read_back_as_the_same_feed_query():
    position = Position(datetime(2024, 11, 25, 1, 31, 47, tzinfo=UTC), "JT2024112500000018")
    request = CLIENT.poll_request(position, 50)
    assert SERVER.parse_feed_query(request.query, request.body) == FeedQuery(
        position.updated_at, position.id, 50
    )
    first = CLIENT.poll_request(None, 100)
    assert SERVER.parse_feed_query(first.query, first.body) == FeedQuery(None, "", 100)


def test_feed_query_defaults_and_other_offsets():
    query = SERVER.parse_feed_query({"since": "2024-11-25T01:31:47Z"}, b"")
    assert query == FeedQuery(datetime(2024, 11, 25, 1, 31, 47, tzinfo=UTC), "", 100)


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ({"since": "2024-11-25 09:31:47"}, "since: needs a UTC offset"),
        ({"since": "yesterday"}, "since: not an ISO 8601 time"),
        ({"limit": "ten"}, "limit: must be a whole number"),
        ({"limit": "0"}, "limit: must be between 1 and 1000"),
        ({"limit": "1001"}, "limit: must be between 1 and 1000"),
        ({"after": "J" * 129}, "after: longer than 128 characters"),
    ],
)
def test_a_malformed_poll_request_is_refused_with_the_reason(query, reason):
    with pytest.raises(ValueError, match=reason):
        SERVER.parse_feed_query(query, b"")


def test_huiju_events_read_back_as_received_events():
    event = OutboundEvent(
        event_id="ev-1",
        source_id="JT2024112500000010",
        kind="reply",
        status="replied",
        at=datetime(2024, 11, 26, 7, 5, 30, tzinfo=UTC),
        text="已责令出租车公司对驾驶员进行教育。",
        unit="瑞金市交通运输局",
    )
    request = CLIENT.deliver_request(event)
    received = SERVER.parse_event(event.source_id, request.body)
    assert (received.event_id, received.order_id, received.kind, received.status) == (
        "ev-1",
        "JT2024112500000010",
        "reply",
        "replied",
    )
    assert (received.text, received.unit, received.at) == (event.text, event.unit, "2024-11-26T15:05:30+08:00")


@pytest.mark.parametrize("status", list(EVENT_STATUSES))
def test_every_event_status_huiju_sends_is_accepted(status):
    body = json.dumps({"event_id": "e", "type": "status", "status": status, "at": "2024-11-26T15:05:30+08:00"})
    assert SERVER.parse_event("JT1", body.encode()).status == status


GOOD_EVENT = {
    "event_id": "e1",
    "type": "reply",
    "status": "replied",
    "text": "已处理",
    "at": "2024-11-26T15:05:30+08:00",
}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"event_id": None}, "event_id: required text"),
        ({"event_id": "e" * 129}, "event_id: longer than 128"),
        ({"type": "note"}, "type: must be one of status, reply"),
        ({"status": "done"}, "status: must be one of"),
        ({"text": None}, "text: required for a reply"),
        ({"unit": 12}, "unit: must be text or null"),
        ({"at": "2024-11-26 15:05:30"}, "at: needs a UTC offset"),
        ({"at": 1732604730000}, "at: must be an ISO 8601 time"),
    ],
)
def test_a_malformed_event_is_refused_with_the_reason(changes, reason):
    body = json.dumps(GOOD_EVENT | changes).encode()
    with pytest.raises(ValueError, match=reason):
        SERVER.parse_event("JT1", body)


@pytest.mark.parametrize(("body", "reason"), [(b"{", "body: not JSON"), (b"[]", "body: must be a JSON object")])
def test_an_event_body_that_is_not_an_object_is_refused(body, reason):
    with pytest.raises(ValueError, match=reason):
        SERVER.parse_event("JT1", body)


def test_receipts_read_back_and_a_duplicate_has_the_same_reference():
    event = SERVER.parse_event("JT1", json.dumps(GOOD_EVENT).encode())
    first = CLIENT.parse_receipt(200, json.dumps(SERVER.render_receipt(event, False)).encode())
    again = CLIENT.parse_receipt(200, json.dumps(SERVER.render_receipt(event, True)).encode())
    assert (first.duplicate, again.duplicate) == (False, True)
    assert first.reference == again.reference
    assert first.reference and first.reference.startswith("RC")


# -- hints for the engine's schema drift --------------------------------------------------------------------------


def test_drift_hints_name_paths_the_rendered_tickets_have():
    items = rendered(300)
    for path in (*SERVER.optional_fields, *SERVER.date_fields, *SERVER.protected_fields):
        assert any(lookup(item, path) for item in items), path
    assert SERVER.id_field == "ticket_id"
    assert {"ticket_id", "updated_at"} <= set(SERVER.protected_fields)


def test_a_ticket_without_its_optional_fields_still_maps():
    item = SERVER.render_item(SERVER.generate(0, NOW, 0))
    for path in sorted(SERVER.optional_fields, key=len, reverse=True):
        if found := lookup(item, path):
            del found[0][found[1]]
    draft = CLIENT.map(item)
    assert draft.source_id and draft.title
    assert not [w for w in draft.warnings if "unknown" in w]


def test_a_rendered_ticket_with_a_numeric_subject_is_refused_with_the_reason():
    item = SERVER.render_item(SERVER.generate(1, NOW, 0)) | {"subject": 12}
    with pytest.raises(MappingError, match="subject: must be text, got number"):
        CLIENT.map(item)


def test_generated_times_lie_in_the_last_few_days():
    for order in orders(200):
        assert NOW - timedelta(days=4) < (order.occurred_at or order.created_at) <= NOW
