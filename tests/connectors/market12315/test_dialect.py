"""12315's spelling of the interconnect: requests the gateway sends and how it reads the answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.base import Position
from connectors.market12315.dialect import Market12315Dialect
from core.errors import AuthError, PermanentError, TransientError
from tests.connectors.national_support import events

FIXTURES = Path(__file__).parent / "fixtures"
dialect = Market12315Dialect()


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


event = events(
    event_id="01JDHX3V6Q8K5T2M9R4W7Y1ZC0",
    source_id="SC202411253607020000318",
    at=datetime(2024, 11, 26, 7, 30, tzinfo=UTC),
    text="经核查，商家已同意退还剩余预付款2600元。",
    unit="赣州市章贡区市场监督管理局",
)


# -- polling ---------------------------------------------------------------------------------------------------


def test_the_first_poll_asks_for_everything_from_the_start():
    req = dialect.poll_request(None, 100)
    assert (req.method, req.path, req.query, req.body) == ("GET", "/open/v1/workorders", {"pageSize": "100"}, b"")


def test_a_poll_starts_at_the_cursor_in_beijing_time():
    req = dialect.poll_request(Position(datetime(2024, 11, 25, 1, 15, 2, tzinfo=UTC), "SC1"), 50)
    assert req.query == {"updateTimeStart": "2024-11-25 09:15:02", "lastId": "SC1", "pageSize": "50"}


def test_a_cursor_with_a_fraction_of_a_second_is_cut_down_never_rounded_up():
    req = dialect.poll_request(Position(datetime(2024, 11, 25, 1, 15, 2, 999_999, tzinfo=UTC), "SC1"), 50)
    assert req.query["updateTimeStart"] == "2024-11-25 09:15:02"


@pytest.mark.parametrize(("limit", "sent"), [(1000, "500"), (0, "1"), (500, "500")])
def test_the_page_size_stays_within_what_12315_accepts(limit, sent):
    assert dialect.poll_request(None, limit).query["pageSize"] == sent


def test_a_page_is_unpacked_from_the_envelope():
    page = dialect.parse_page(200, fixture("page_first.json"))
    assert [i["orderNo"] for i in page.items] == ["SC202411253607020000318", "SC202411253607810000319"]
    assert page.has_more is True
    assert page.server_time == datetime(2024, 11, 25, 2, 0, tzinfo=UTC)


def test_an_empty_page_has_no_items_and_no_more():
    page = dialect.parse_page(200, fixture("page_empty.json"))
    assert (page.items, page.has_more) == ([], False)


def test_an_item_position_is_its_update_time_and_order_number():
    item = json.loads(fixture("page_first.json"))["data"]["list"][0]
    assert dialect.item_position(item) == Position(datetime(2024, 11, 25, 1, 15, 2, tzinfo=UTC), item["orderNo"])
    assert dialect.item_id(item) == item["orderNo"]


@pytest.mark.parametrize("update_time", ["unknown", None, "2024-13-45 25:61:00", [1], "2999-01-01 00:00:00"])
def test_an_unreadable_update_time_gives_no_position(update_time):
    assert dialect.item_position({"orderNo": "SC1", "updateTime": update_time}) is None


def test_an_item_without_order_number_has_no_id_and_no_position():
    item = {"updateTime": "2024-11-25 09:52:00"}
    assert dialect.item_id(item) is None and dialect.item_position(item) is None


@pytest.mark.parametrize(
    ("name", "error", "status"),
    [
        ("error_signature.json", AuthError, 401),
        ("error_busy_in_200.json", TransientError, 503),
        ("error_bad_parameter.json", PermanentError, 400),
    ],
)
def test_an_error_code_in_a_2xx_answer_is_classified_by_its_http_status_digits(name, error, status):
    with pytest.raises(error) as caught:
        dialect.parse_page(200, fixture(name))
    assert caught.value.status == status
    assert json.loads(fixture(name))["msg"] in str(caught.value)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html>502 Bad Gateway</html>", "not JSON"),
        (b"[]", "not a JSON object"),
        (b'{"msg":"success"}', "no numeric code"),
        (b'{"code":0,"msg":"success"}', "data is not an object"),
        (b'{"code":0,"data":{"list":{},"hasMore":false}}', "data.list is not an array"),
        (b'{"code":0,"data":{"list":[]}}', "data.hasMore is not true or false"),
        (b'{"code":0,"data":{"list":[],"hasMore":"yes"}}', "data.hasMore is not true or false"),
    ],
)
def test_a_broken_page_is_a_permanent_error_that_says_what_is_wrong(body, reason):
    with pytest.raises(PermanentError, match=reason):
        dialect.parse_page(200, body)


def test_an_unknown_error_code_is_permanent():
    with pytest.raises(PermanentError, match="12315 code 7"):
        dialect.parse_page(200, b'{"code":7,"msg":"?"}')


def test_a_string_code_is_read_as_a_number():
    page = dialect.parse_page(200, b'{"code":"0","data":{"list":[],"hasMore":0}}')
    assert page.has_more is False


def test_an_unreadable_server_time_is_none():
    page = dialect.parse_page(200, b'{"code":0,"data":{"list":[],"hasMore":false,"serverTime":"soon"}}')
    assert page.server_time is None


# -- delivering ------------------------------------------------------------------------------------------------


def test_a_reply_is_posted_to_the_order_feedback_path():
    req = dialect.deliver_request(event())
    assert (req.method, req.path, req.query) == (
        "POST", "/open/v1/workorders/SC202411253607020000318/feedback", {}
    )
    assert json.loads(req.body) == {
        "eventId": "01JDHX3V6Q8K5T2M9R4W7Y1ZC0",
        "eventType": "2",
        "status": "40",
        "content": "经核查，商家已同意退还剩余预付款2600元。",
        "org": "赣州市章贡区市场监督管理局",
        "time": "2024-11-26 15:30:00",
    }


@pytest.mark.parametrize(
    ("status", "code"),
    [("accepted", "20"), ("dispatched", "30"), ("returned", "31"), ("extended", "32"), ("closed", "50"),
     ("revisited", "60")],
)
def test_each_status_event_has_its_12315_status_code(status, code):
    body = json.loads(dialect.deliver_request(event(kind="status", status=status, text=None, unit=None)).body)
    assert (body["eventType"], body["status"], body["content"], body["org"]) == ("1", code, "", "")


def test_an_order_number_is_quoted_in_the_path():
    assert dialect.deliver_request(event(source_id="SC 1/2")).path == "/open/v1/workorders/SC%201%2F2/feedback"


def test_a_status_without_12315_code_is_refused_before_sending():
    with pytest.raises(PermanentError, match="no 12315 status code"):
        dialect.deliver_request(event(status="teleported"))


def test_a_reply_without_text_is_refused_before_sending():
    with pytest.raises(PermanentError, match="needs text"):
        dialect.deliver_request(event(text="  "))


def test_a_receipt_gives_the_receipt_number():
    receipt = dialect.parse_receipt(200, fixture("receipt_first.json"))
    assert (receipt.reference, receipt.duplicate) == ("FK3A0C5E1B7D924F06", False)


def test_a_repeated_event_is_a_duplicate_receipt():
    receipt = dialect.parse_receipt(200, fixture("receipt_duplicate.json"))
    assert (receipt.reference, receipt.duplicate) == ("FK3A0C5E1B7D924F06", True)


def test_a_refused_event_raises_its_classified_error():
    with pytest.raises(PermanentError, match="40401"):
        dialect.parse_receipt(200, '{"code":40401,"msg":"资源不存在：work order not found"}'.encode())


def test_the_check_is_a_get_of_ping_and_its_error_envelope_raises():
    req = dialect.check_request()
    assert (req.method, req.path) == ("GET", "/open/v1/ping")
    dialect.parse_check(200, b'{"code":0,"msg":"success","data":{"serverTime":"2024-11-25 10:00:00"}}')
    with pytest.raises(AuthError):
        dialect.parse_check(200, fixture("error_signature.json"))
