"""The 12328 dialect, client side: the requests huiju sends and how it reads the platform's answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from connectors.base import Position
from connectors.transport12328 import Transport12328Connector, Transport12328Dialect
from connectors.transport12328.dialect import iso
from core.errors import AuthError, PermanentError, TransientError
from tests.connectors.national_support import events
from tests.connectors.transport12328.support import first_page_tickets, fixture_bytes

DIALECT = Transport12328Dialect()
BEIJING = timezone(timedelta(hours=8))


event = events(
    event_id="6a1f0c9e-3b7d-4e52-9a0f-2d8c4b1e7f35",
    source_id="JT2024112500000010",
    at=datetime(2024, 11, 26, 7, 5, 30, tzinfo=UTC),
    text="经核查，该驾驶员拒载属实，已按规定处理。",
    unit="瑞金市交通运输局",
)


# -- the connector ------------------------------------------------------------------------------------------------


def test_connector_is_kind_12328_with_the_12328_dialect():
    assert Transport12328Connector.kind == "12328"
    assert isinstance(Transport12328Connector.dialect, Transport12328Dialect)
    assert Transport12328Connector.polls and Transport12328Connector.delivers


# -- polling ------------------------------------------------------------------------------------------------------


def test_first_poll_asks_from_the_beginning_with_only_a_limit():
    request = DIALECT.poll_request(None, 100)
    assert (request.method, request.path, request.body) == ("GET", "/v2/tickets", b"")
    assert request.query == {"limit": "100"}


def test_poll_from_a_position_sends_since_at_beijing_time_and_after_the_ticket_id():
    position = Position(datetime(2024, 11, 25, 1, 31, 47, tzinfo=UTC), "JT2024112500000018")
    request = DIALECT.poll_request(position, 50)
    assert request.query == {
        "since": "2024-11-25T09:31:47+08:00",
        "after": "JT2024112500000018",
        "limit": "50",
    }


def test_since_keeps_fractions_of_a_second_so_paging_never_repeats_a_page():
    position = Position(datetime(2024, 11, 25, 1, 31, 47, 250000, tzinfo=UTC), "JT1")
    assert DIALECT.poll_request(position, 10).query["since"] == "2024-11-25T09:31:47.250000+08:00"


def test_position_without_an_id_sends_no_after():
    position = Position(datetime(2024, 11, 25, 1, 0, tzinfo=UTC))
    assert "after" not in DIALECT.poll_request(position, 10).query


def test_parse_page_unpacks_tickets_has_more_and_server_time():
    page = DIALECT.parse_page(200, fixture_bytes("page_first.json"))
    assert [t["ticket_id"] for t in page.items] == [
        "JT2024112500000010",
        "JT2024112500000012",
        "JT2024112500000018",
    ]
    assert page.has_more is True
    assert page.server_time == datetime(2024, 11, 25, 1, 40, tzinfo=UTC)


def test_parse_page_of_the_last_page_says_no_more():
    page = DIALECT.parse_page(200, fixture_bytes("page_last.json"))
    assert len(page.items) == 1
    assert page.has_more is False


def test_parse_page_of_an_empty_feed():
    page = DIALECT.parse_page(200, fixture_bytes("page_empty.json"))
    assert (page.items, page.has_more) == ([], False)


def test_parse_page_keeps_items_that_are_not_objects_for_quarantine():
    page = DIALECT.parse_page(200, fixture_bytes("page_broken_items.json"))
    assert len(page.items) == 5
    assert page.items[1] == "JT2024112600000241"


def test_unreadable_server_time_is_none_not_an_error():
    body = json.dumps({"tickets": [], "has_more": False, "server_time": "yesterday"}).encode()
    assert DIALECT.parse_page(200, body).server_time is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html>502 Bad Gateway</html>", "body is not JSON"),
        (b"[]", "expected a JSON object, got array"),
        (b'{"has_more": false}', "tickets must be an array, got null"),
        (b'{"tickets": {}, "has_more": false}', "tickets must be an array, got object"),
        (b'{"tickets": [], "has_more": "false"}', "has_more must be true or false, got string"),
        (b'{"tickets": []}', "has_more must be true or false, got null"),
    ],
)
def test_a_body_that_breaks_the_protocol_is_a_permanent_error_saying_what_is_wrong(body, reason):
    with pytest.raises(PermanentError, match=reason):
        DIALECT.parse_page(200, body)


def test_error_envelope_in_a_2xx_answer_is_classified_by_its_code():
    with pytest.raises(AuthError, match=r"unauthorized.*signature does not match"):
        DIALECT.parse_page(200, fixture_bytes("error_unauthorized.json"))
    with pytest.raises(TransientError, match="rate_limited"):
        DIALECT.parse_page(200, b'{"error": {"code": "rate_limited", "message": "slow down"}}')
    with pytest.raises(PermanentError, match="invalid_request"):
        DIALECT.parse_page(200, b'{"error": {"code": "invalid_request", "message": "limit: too big"}}')


def test_error_envelope_without_a_code_is_permanent():
    with pytest.raises(PermanentError, match="no code"):
        DIALECT.parse_page(200, b'{"error": "oops"}')


# -- ids and positions --------------------------------------------------------------------------------------------


def test_item_id_is_the_ticket_id():
    assert DIALECT.item_id(first_page_tickets()[0]) == "JT2024112500000010"


@pytest.mark.parametrize("value", [None, "", " JT1", "JT1\n", 36078120241125000010, True, ["JT1"], "x" * 129])
def test_item_id_is_none_when_the_ticket_id_is_unusable(value):
    assert DIALECT.item_id({"ticket_id": value}) is None


def test_item_id_of_a_ticket_without_ticket_id_is_none():
    assert DIALECT.item_id({"subject": "公交车甩站"}) is None


def test_item_position_is_update_time_and_ticket_id():
    position = DIALECT.item_position(first_page_tickets()[2])
    assert position == Position(datetime(2024, 11, 25, 1, 31, 47, tzinfo=UTC), "JT2024112500000018")


def test_item_position_reads_any_offset_and_fractions():
    item = {"ticket_id": "JT1", "updated_at": "2024-11-25T01:31:47.125Z"}
    assert DIALECT.item_position(item) == Position(datetime(2024, 11, 25, 1, 31, 47, 125000, tzinfo=UTC), "JT1")


@pytest.mark.parametrize("value", [None, "0000-00-00 00:00:00", "unknown", "", "2024-13-45T25:61:00+08:00", [1]])
def test_item_position_is_none_when_the_update_time_is_unreadable(value):
    assert DIALECT.item_position({"ticket_id": "JT1", "updated_at": value}) is None


def test_item_position_is_none_without_a_usable_ticket_id():
    assert DIALECT.item_position({"ticket_id": 7, "updated_at": "2024-11-25T09:31:47+08:00"}) is None


def test_a_position_round_trips_through_the_poll_request():
    position = DIALECT.item_position(first_page_tickets()[0])
    query = DIALECT.poll_request(position, 10).query
    assert DIALECT.item_position({"ticket_id": query["after"], "updated_at": query["since"]}) == position


# -- delivering events --------------------------------------------------------------------------------------------


def test_deliver_posts_the_event_to_the_tickets_events():
    request = DIALECT.deliver_request(event())
    assert (request.method, request.path, request.query) == (
        "POST",
        "/v2/tickets/JT2024112500000010/events",
        {},
    )
    assert json.loads(request.body) == {
        "event_id": "6a1f0c9e-3b7d-4e52-9a0f-2d8c4b1e7f35",
        "type": "reply",
        "status": "replied",
        "text": "经核查，该驾驶员拒载属实，已按规定处理。",
        "unit": "瑞金市交通运输局",
        "at": "2024-11-26T15:05:30+08:00",
    }


def test_deliver_body_is_compact_utf8_json():
    body = DIALECT.deliver_request(event()).body
    assert "瑞金市交通运输局".encode() in body
    assert b", " not in body and b": " not in body


def test_a_status_event_without_text_or_unit_sends_nulls():
    request = DIALECT.deliver_request(event(kind="status", status="dispatched", text=None, unit=None))
    doc = json.loads(request.body)
    assert (doc["type"], doc["status"], doc["text"], doc["unit"]) == ("status", "dispatched", None, None)


def test_a_ticket_id_with_reserved_characters_is_quoted_in_the_path():
    assert DIALECT.deliver_request(event(source_id="JT/1 2")).path == "/v2/tickets/JT%2F1%202/events"


def test_parse_receipt_of_a_new_event():
    receipt = DIALECT.parse_receipt(200, fixture_bytes("receipt_created.json"))
    assert receipt.reference == "RC97BBE92CF89C37A8AE"
    assert receipt.duplicate is False
    assert receipt.detail["ticket_id"] == "JT2024112500000010"


def test_parse_receipt_of_a_repeated_event_is_a_duplicate_with_the_same_reference():
    first = DIALECT.parse_receipt(200, fixture_bytes("receipt_created.json"))
    again = DIALECT.parse_receipt(200, fixture_bytes("receipt_duplicate.json"))
    assert again.duplicate is True
    assert again.reference == first.reference


@pytest.mark.parametrize(
    ("body", "error", "reason"),
    [
        (b"", PermanentError, "not JSON"),
        (b'"ok"', PermanentError, "expected a JSON object, got string"),
        (b'{"receipt_id": "RC1", "duplicate": "no"}', PermanentError, "duplicate must be true or false"),
        (b'{"error": {"code": "not_found", "message": "ticket JT9 not found"}}', PermanentError, "not_found"),
        (b'{"error": {"code": "service_unavailable", "message": "busy"}}', TransientError, "service_unavailable"),
    ],
)
def test_parse_receipt_refuses_what_is_not_a_receipt(body, error, reason):
    with pytest.raises(error, match=reason):
        DIALECT.parse_receipt(200, body)


# -- checking credentials -----------------------------------------------------------------------------------------


def test_check_is_a_signed_get_of_health_auth():
    request = DIALECT.check_request()
    assert (request.method, request.path, request.query, request.body) == ("GET", "/v2/health/auth", {}, b"")


def test_parse_check_accepts_status_ok():
    DIALECT.parse_check(200, fixture_bytes("health_ok.json"))


def test_parse_check_refuses_an_error_envelope_or_another_status():
    with pytest.raises(AuthError):
        DIALECT.parse_check(200, fixture_bytes("error_unauthorized.json"))
    with pytest.raises(PermanentError, match="not 'ok'"):
        DIALECT.parse_check(200, b'{"status": "degraded"}')


def test_times_are_written_at_plus_eight():
    assert iso(datetime(2024, 11, 25, 16, 0, tzinfo=UTC)) == "2024-11-26T00:00:00+08:00"
    assert iso(datetime(2024, 11, 26, 0, 0, tzinfo=BEIJING)) == "2024-11-26T00:00:00+08:00"
