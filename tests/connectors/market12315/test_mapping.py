"""12315 work orders as appeals: the mapping of docs/channels/12315.md, on saved real-shaped pages."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.base import MappingError
from connectors.market12315 import Market12315Connector
from connectors.market12315.mapping import map_work_order
from normalizer import NormalizeContext, normalize
from normalizer.record import AppealType, IntegrationMode
from tests.connectors.national_support import mapping_connector, outcomes

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2024, 11, 25, 2, 0, tzinfo=UTC)


def items(name: str) -> list:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))["data"]["list"]


def record(item: dict):
    ctx = NormalizeContext("id-1", "m12315", IntegrationMode.INTERCONNECT, NOW, "raw-1")
    return normalize(map_work_order(item), ctx, now=NOW)


@pytest.fixture
def connector() -> Market12315Connector:
    return mapping_connector(Market12315Connector, "m12315")


@pytest.fixture
def complaint() -> dict:
    return items("page_first.json")[0]


def test_a_complaint_maps_to_a_complaint_with_the_consumer_as_citizen(complaint):
    rec = record(complaint)
    assert rec.source_id == "SC202411253607020000318"
    assert rec.type is AppealType.COMPLAINT
    assert rec.title.startswith("章贡区悦动健身会所突然关门")
    assert (rec.citizen.name, rec.citizen.phone, rec.citizen.id_number) == (
        "刘晓燕", "+8613879712345", "360702198805160028"
    )
    assert rec.occurred_at == datetime(2024, 11, 20, 1, 30, tzinfo=UTC)
    assert rec.location.division_code == "360702"
    assert rec.warnings == ()


def test_every_field_says_where_in_the_work_order_it_came_from(complaint):
    sources = record(complaint).sources
    assert sources["source_id"] == "payload.orderNo"
    assert sources["type"] == "payload.orderType"
    assert sources["phone"] == "payload.consumer.mobile"
    assert sources["id_number"] == "payload.consumer.idCard"
    assert sources["occurred_at"] == "payload.occurTime"
    assert sources["division_code"] == "payload.regionCode"
    assert sources["channel_category"] == "payload.serviceCategory"


def test_the_merchant_goes_to_extra_and_does_not_make_an_enterprise_appeal(complaint):
    rec = record(complaint)
    assert rec.enterprise is None
    assert rec.extra["merchant"] == {
        "name": "章贡区悦动健身会所",
        "credit_code": "92360702MA35L8XK0X",
        "address": "赣州市章贡区文清路88号",
        "division_code": "360702",
    }


def test_the_merchant_address_is_where_the_matter_is(complaint):
    rec = record(complaint)
    assert rec.location.address == "赣州市章贡区文清路88号"
    assert rec.sources["address"] == "payload.merchant.address"


def test_the_amount_is_kept_as_yuan_text(complaint):
    assert record(complaint).extra["amount_yuan"] == "3980.00"


def test_the_platform_category_is_kept_and_a_mapped_category_added(complaint):
    rec = record(complaint)
    assert rec.channel_category == "文化娱乐体育服务"
    assert rec.category == "市场监管/消费服务"
    assert rec.extra["service_category"] == "文化娱乐体育服务"


def test_food_goes_to_the_food_safety_category():
    rec = record(items("page_first.json")[1])
    assert (rec.channel_category, rec.category) == ("食品", "市场监管/食品安全")


def test_the_platform_times_and_status_are_kept_in_extra(complaint):
    extra = record(complaint).extra
    assert extra["registered_at"] == "2024-11-25 09:12:44"
    assert extra["platform_updated_at"] == "2024-11-25 09:15:02"
    assert extra["platform_status"] == {"code": "10", "label": "待受理"}
    assert extra["order_type"] == {"code": "1", "label": "投诉"}


def test_a_report_is_confidential():
    rec = record(items("page_first.json")[1])
    assert rec.type is AppealType.REPORT
    assert rec.confidential is True
    assert rec.citizen.name is None and rec.citizen.phone == "+8615907971234"


@pytest.mark.parametrize(
    ("code", "kind"), [("1", "complaint"), ("2", "report"), ("3", "consultation"), ("4", "suggestion")]
)
def test_each_order_type_code_maps_to_its_appeal_type(complaint, code, kind):
    assert map_work_order(complaint | {"orderType": code}).type == kind


def test_a_numeric_order_type_is_read_as_its_code(complaint):
    assert map_work_order(complaint | {"orderType": 2}).type == "report"


def test_an_unknown_order_type_is_a_warning_and_no_type(complaint):
    draft = map_work_order(complaint | {"orderType": "7"})
    assert draft.type is None
    assert "orderType: unknown code '7'; type left empty" in draft.warnings
    assert record(complaint | {"orderType": "7"}).type is AppealType.OTHER


def test_a_consultation_without_merchant_maps():
    rec = record(items("page_last.json")[0])
    assert rec.type is AppealType.CONSULTATION
    assert "merchant" not in rec.extra and rec.location.address is None
    assert rec.category == "市场监管/商品质量"


@pytest.mark.parametrize("order_no", [None, "", "   "])
def test_an_order_without_number_is_refused(complaint, order_no):
    with pytest.raises(MappingError, match=r"^orderNo: missing$"):
        map_work_order(complaint | {"orderNo": order_no})


def test_an_order_number_of_the_wrong_type_is_refused(complaint):
    with pytest.raises(MappingError, match=r"^orderNo: unusable array$"):
        map_work_order(complaint | {"orderNo": ["SC1"]})


def test_a_numeric_order_number_is_read_as_its_digits(complaint):
    assert map_work_order(complaint | {"orderNo": 12345}).source_id == "12345"


@pytest.mark.parametrize(("key", "value", "kind"), [("title", ["x"], "array"), ("content", {"a": 1}, "object"),
                                                    ("content", True, "boolean")])
def test_title_or_content_of_an_unusable_type_is_refused(complaint, key, value, kind):
    with pytest.raises(MappingError, match=f"^{key}: must be text, got {kind}$"):
        map_work_order(complaint | {key: value})


def test_a_numeric_title_is_taken_as_text_with_a_warning(complaint):
    draft = map_work_order(complaint | {"title": 12315})
    assert draft.title == "12315" and "title: a number, taken as text" in draft.warnings


def test_a_consumer_that_is_not_an_object_is_ignored_with_a_warning(complaint):
    draft = map_work_order(complaint | {"consumer": '{"name":"陈强"}'})
    assert draft.citizen_name is None and draft.phone is None
    assert "consumer: expected an object, got string; ignored" in draft.warnings


def test_a_merchant_credit_code_with_a_bad_check_character_is_dropped_with_a_warning(complaint):
    merchant = complaint["merchant"] | {"uscc": "92360702MA35L8XK0B"}
    draft = map_work_order(complaint | {"merchant": merchant})
    assert "credit_code" not in draft.extra["merchant"]
    assert "merchant.uscc: bad check character; dropped" in draft.warnings


def test_a_merchant_region_code_that_is_not_six_digits_is_dropped_with_a_warning(complaint):
    merchant = complaint["merchant"] | {"regionCode": "3607"}
    draft = map_work_order(complaint | {"merchant": merchant})
    assert "division_code" not in draft.extra["merchant"]
    assert any(w.startswith("merchant.regionCode:") and w.endswith("; dropped") for w in draft.warnings)


def test_a_numeric_amount_is_taken_as_yuan_with_a_warning(complaint):
    draft = map_work_order(complaint | {"amount": 1299.5})
    assert draft.extra["amount_yuan"] == "1299.50"
    assert "amount: a number instead of text; taken as yuan" in draft.warnings


@pytest.mark.parametrize("amount", ["12,99", "-5.00", "一千元", [1], "1.234"])
def test_an_amount_that_is_not_yuan_is_dropped_with_a_warning(complaint, amount):
    draft = map_work_order(complaint | {"amount": amount})
    assert "amount_yuan" not in draft.extra
    assert any(w.startswith("amount: not an amount of yuan") for w in draft.warnings)


def test_an_unknown_status_code_is_kept_with_a_warning(complaint):
    draft = map_work_order(complaint | {"status": "99"})
    assert draft.extra["platform_status"] == {"code": "99", "label": None}
    assert "status: unknown code '99'" in draft.warnings


def test_unknown_fields_are_warnings_not_errors(complaint):
    draft = map_work_order(complaint | {"extInfo": {"k": "v"}, "version": "v2"})
    assert {"extInfo: unknown field ignored", "version: unknown field ignored"} <= set(draft.warnings)


def test_a_bad_occur_time_is_passed_on_and_dropped_by_the_normalizer(complaint):
    rec = record(complaint | {"occurTime": "2024-13-45 25:61:00"})
    assert rec.occurred_at is None
    assert any(w.startswith("occurred_at:") for w in rec.warnings)


def test_the_drifted_page_maps_or_is_refused_with_a_reason():
    assert outcomes(items("page_drifted.json"), lambda item: record(item).source_id) == [
        "SC202411253607030000321",
        "title: must be text, got array",
        "orderNo: missing",
        "work order must be a JSON object, got string",
        "SC202411253607040000323",
    ]


def test_the_connector_refuses_a_payload_that_is_not_json(connector):
    with pytest.raises(MappingError, match=r"^payload is not valid JSON"):
        connector.map("{not json")


def test_the_connector_refuses_a_payload_that_is_not_an_object(connector):
    with pytest.raises(MappingError, match=r"^work order must be a JSON object, got array$"):
        connector.map("[1, 2]")


def test_the_connector_maps_the_stored_item_text(connector, complaint):
    text = json.dumps(complaint, ensure_ascii=False, separators=(",", ":"))
    assert connector.map(text) == map_work_order(complaint)
