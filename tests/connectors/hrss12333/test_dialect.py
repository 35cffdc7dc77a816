"""The 12333 dialect, client side: the requests it builds and how it reads the platform's answers.

The saved answers under fixtures/ are what the 12333 platform sends (docs/channels/12333.md).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.base import Position
from connectors.hrss12333 import Hrss12333Dialect
from connectors.hrss12333.dialect import to_ms
from core.errors import AuthError, PermanentError, TransientError
from tests.connectors.national_support import events

FIXTURES = Path(__file__).parent / "fixtures"
dialect = Hrss12333Dialect()


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def body_of(request) -> dict:
    return json.loads(request.body)


event = events(
    event_id="8f9d2c1e-5a7b-4c3d-9e1f-2a3b4c5d6e7f",
    source_id="RS202411250000118",
    at=datetime(2024, 11, 26, 2, 30, tzinfo=UTC),
    text="经章贡区劳动保障监察大队调查，已责令赣州宏远建筑工程有限公司于12月10日前足额支付拖欠工资。",
    unit="章贡区人力资源和社会保障局",
)


# -- requests --------------------------------------------------------------------------------------------------


def test_poll_from_the_start_asks_from_time_zero_with_no_last_id():
    request = dialect.poll_request(None, 100)
    assert (request.method, request.path, request.query) == ("POST", "/api/gd/query", {})
    assert body_of(request) == {"kssj": 0, "zhgdbh": "", "mys": 100}


def test_poll_from_a_position_sends_its_update_time_in_unix_ms_and_its_id():
    position = Position(datetime(2024, 11, 25, 1, 12, 31, 407000, tzinfo=UTC), "RS202411250000118")
    assert body_of(dialect.poll_request(position, 50)) == {
        "kssj": 1732497151407,
        "zhgdbh": "RS202411250000118",
        "mys": 50,
    }


def test_sub_millisecond_positions_are_rounded_down_so_nothing_is_skipped():
    moment = datetime(2024, 11, 25, 1, 12, 31, 407999, tzinfo=UTC)
    assert to_ms(moment) == 1732497151407


def test_request_bodies_are_compact_utf8_json():
    request = dialect.deliver_request(event())
    assert request.body == json.dumps(body_of(request), ensure_ascii=False, separators=(",", ":")).encode()
    assert "章贡区人力资源和社会保障局".encode() in request.body


def test_a_reply_is_pushed_with_the_documented_fields_and_codes():
    request = dialect.deliver_request(event())
    assert (request.method, request.path) == ("POST", "/api/gd/fk")
    assert body_of(request) == {
        "gdbh": "RS202411250000118",
        "sjid": "8f9d2c1e-5a7b-4c3d-9e1f-2a3b4c5d6e7f",
        "sjlx": "02",
        "zt": "50",
        "hfnr": "经章贡区劳动保障监察大队调查，已责令赣州宏远建筑工程有限公司于12月10日前足额支付拖欠工资。",
        "hfdw": "章贡区人力资源和社会保障局",
        "sj": 1732588200000,
    }


@pytest.mark.parametrize(
    ("status", "code"),
    [("accepted", "20"), ("dispatched", "30"), ("returned", "35"), ("extended", "40"), ("replied", "50"),
     ("closed", "60"), ("revisited", "70")],
)
def test_each_status_has_its_code(status, code):
    assert body_of(dialect.deliver_request(event(kind="status", status=status)))["zt"] == code


def test_a_status_event_without_text_or_unit_leaves_them_out():
    body = body_of(dialect.deliver_request(event(kind="status", status="accepted", text=None, unit=None)))
    assert body["sjlx"] == "01"
    assert "hfnr" not in body and "hfdw" not in body


def test_a_status_the_platform_has_no_code_for_is_a_permanent_error():
    with pytest.raises(PermanentError, match="no code"):
        dialect.deliver_request(event(status="escalated"))


def test_the_check_is_a_post_to_the_system_probe():
    request = dialect.check_request()
    assert (request.method, request.path, request.body) == ("POST", "/api/gd/xt", b"{}")


# -- pages -----------------------------------------------------------------------------------------------------


def test_a_page_gives_its_work_orders_in_order_and_has_more():
    page = dialect.parse_page(200, fixture("page_first.json"))
    assert [item["gdbh"] for item in page.items] == ["RS202411250000118", "RS202411250000121", "RS202411250000125"]
    assert page.has_more is True
    assert page.server_time == datetime(2024, 11, 25, 2, 5, tzinfo=UTC)


def test_the_last_page_says_there_is_no_more():
    page = dialect.parse_page(200, fixture("page_last.json"))
    assert len(page.items) == 1 and page.has_more is False


def test_an_empty_page_may_write_the_list_as_null():
    page = dialect.parse_page(200, fixture("page_empty.json"))
    assert page.items == [] and page.has_more is False


def test_items_that_are_not_objects_stay_in_the_page_to_be_quarantined():
    page = dialect.parse_page(200, fixture("page_damaged.json"))
    assert len(page.items) == 5
    assert "数据异常" in page.items


def test_an_unreadable_server_time_is_not_fatal():
    body = b'{"fhm":"0000","fhxx":"\xe6\x88\x90\xe5\x8a\x9f","jg":{"gdlb":[],"sfyxy":"0","fwqsj":"soon"}}'
    assert dialect.parse_page(200, body).server_time is None


def test_a_byte_order_mark_is_tolerated():
    assert dialect.parse_page(200, b"\xef\xbb\xbf" + fixture("page_empty.json")).items == []


@pytest.mark.parametrize(
    ("name", "error", "words"),
    [
        ("error_auth.json", AuthError, "4001: 签名校验失败"),
        ("error_maintenance.json", TransientError, "5003: 系统维护中"),
        ("error_params.json", PermanentError, "4000: 请求参数错误"),
    ],
)
def test_an_error_envelope_with_http_200_is_classified_by_its_code(name, error, words):
    with pytest.raises(error, match=words):
        dialect.parse_page(200, fixture(name))


def test_an_unknown_5xxx_code_is_transient_and_an_unknown_4xxx_code_permanent():
    with pytest.raises(TransientError):
        dialect.parse_page(200, '{"fhm":"5999","fhxx":"数据库连接超时"}'.encode())
    with pytest.raises(PermanentError):
        dialect.parse_page(200, '{"fhm":"4999","fhxx":"未知错误"}'.encode())


def test_a_rate_limit_code_is_transient():
    with pytest.raises(TransientError):
        dialect.parse_page(200, '{"fhm":"4029","fhxx":"请求过于频繁"}'.encode())


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<html>502 Bad Gateway</html>", "not JSON"),
        (b'["fhm", "0000"]', "not a JSON object"),
        (b'{"fhxx": "ok"}', "no fhm"),
        (b'{"fhm": "0000", "jg": []}', "jg .* must be an object"),
        (b'{"fhm": "0000", "jg": {"gdlb": {}, "sfyxy": "0"}}', "gdlb must be a list"),
        (b'{"fhm": "0000", "jg": {"gdlb": [], "sfyxy": "maybe"}}', "sfyxy must be"),
        (b'{"fhm": "0000", "jg": {"gdlb": []}}', "sfyxy must be"),
        (b"\xff\xfe\x00", "not JSON"),
    ],
)
def test_a_broken_page_is_a_permanent_error_that_says_what_is_wrong(body, words):
    with pytest.raises(PermanentError, match=words):
        dialect.parse_page(200, body)


# -- item ids and positions ------------------------------------------------------------------------------------


def test_an_items_position_is_its_update_time_and_number():
    item = json.loads(fixture("page_first.json"))["jg"]["gdlb"][0]
    assert dialect.item_position(item) == Position(
        datetime(2024, 11, 25, 1, 12, 31, 407000, tzinfo=UTC), "RS202411250000118"
    )


def test_a_numeric_work_order_number_is_read_as_its_digits():
    assert dialect.item_id({"gdbh": 2024112500001}) == "2024112500001"


@pytest.mark.parametrize("gdbh", [None, "", "   ", True, ["RS1"], "R" * 129])
def test_an_unusable_work_order_number_has_no_id(gdbh):
    assert dialect.item_id({"gdbh": gdbh}) is None


@pytest.mark.parametrize("gxsj", ["2024-13-45 25:61:00", -1, 0, None, "unknown", 99_999_999_999_999_999, [1]])
def test_an_unreadable_update_time_has_no_position(gxsj):
    assert dialect.item_position({"gdbh": "RS1", "gxsj": gxsj}) is None


def test_an_item_without_a_number_has_no_position():
    assert dialect.item_position({"gxsj": 1732497151407}) is None


# -- receipts and the check ------------------------------------------------------------------------------------


def test_a_receipt_carries_the_platforms_reference():
    receipt = dialect.parse_receipt(200, fixture("feedback_ok.json"))
    assert (receipt.reference, receipt.duplicate) == ("FK3C9A1F0B7E2D4C58", False)


def test_a_repeated_event_is_answered_as_a_duplicate():
    receipt = dialect.parse_receipt(200, fixture("feedback_duplicate.json"))
    assert (receipt.reference, receipt.duplicate) == ("FK3C9A1F0B7E2D4C58", True)


def test_a_receipt_without_the_duplicate_flag_is_a_permanent_error():
    with pytest.raises(PermanentError, match="sfcf"):
        dialect.parse_receipt(200, b'{"fhm":"0000","jg":{"jsbh":"FK1"}}')


def test_feedback_for_an_unknown_work_order_is_permanent():
    with pytest.raises(PermanentError, match="4004"):
        dialect.parse_receipt(200, '{"fhm":"4004","fhxx":"工单不存在"}'.encode())


def test_a_good_check_answer_is_accepted():
    assert dialect.parse_check(200, fixture("check_ok.json")) is None


def test_a_check_refused_in_the_envelope_is_an_auth_error():
    with pytest.raises(AuthError):
        dialect.parse_check(200, fixture("error_auth.json"))
