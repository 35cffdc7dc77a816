"""The 12315 simulator's side of the protocol: what it accepts, what it answers, what it generates."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime

import pytest

from normalizer.fields import check_credit_code, check_id_number, normalize_phone
from simulators.national.market12315 import Market12315ServerDialect

dialect = Market12315ServerDialect()
NOW = datetime(2024, 11, 25, 2, 0, tzinfo=UTC)


def feedback(**changes) -> bytes:
    body = {"eventId": "ev-1", "eventType": "2", "status": "40", "content": "已处理", "org": "章贡区市场监管局",
            "time": "2024-11-26 15:30:00"}
    return json.dumps(body | changes, ensure_ascii=False).encode()


def test_a_feed_query_reads_beijing_time_last_id_and_page_size():
    query = {"updateTimeStart": "2024-11-25 09:15:02", "lastId": "SC1", "pageSize": "50"}
    q = dialect.parse_feed_query(query, b"")
    assert (q.since, q.after_id, q.limit) == (datetime(2024, 11, 25, 1, 15, 2, tzinfo=UTC), "SC1", 50)


def test_a_feed_query_without_start_is_everything_and_ignores_last_id():
    q = dialect.parse_feed_query({"lastId": "SC1"}, b"")
    assert (q.since, q.after_id, q.limit) == (None, "", 100)


@pytest.mark.parametrize(
    "query",
    [{"pageSize": "0"}, {"pageSize": "501"}, {"pageSize": "ten"}, {"updateTimeStart": "2024-11-25T09:15:02"},
     {"updateTimeStart": "2024-02-30 00:00:00"}],
)
def test_a_bad_feed_query_is_refused_with_a_reason(query):
    with pytest.raises(ValueError, match=r"pageSize|updateTimeStart"):
        dialect.parse_feed_query(query, b"")


def test_errors_are_coded_http_status_times_100_plus_1():
    assert dialect.render_error(401, "signature does not match") == {
        "code": 40101, "msg": "鉴权失败：signature does not match"
    }
    assert dialect.render_error(503, "")["code"] == 50301


def test_feedback_is_read_as_a_reply_event():
    event = dialect.parse_event("SC1", feedback())
    assert (event.event_id, event.order_id, event.kind, event.status, event.text, event.unit, event.at) == (
        "ev-1", "SC1", "reply", "40", "已处理", "章贡区市场监管局", "2024-11-26 15:30:00"
    )


@pytest.mark.parametrize(
    "changes",
    [{"eventId": ""}, {"eventType": "3"}, {"status": "99"}, {"eventType": "2", "content": ""},
     {"time": "2024/11/26"}, {"content": 5}, {"eventId": "x" * 65}],
)
def test_bad_feedback_is_refused(changes):
    with pytest.raises(ValueError):
        dialect.parse_event("SC1", feedback(**changes))


def test_a_status_event_may_have_no_content():
    event = dialect.parse_event("SC1", feedback(eventType="1", status="30", content=""))
    assert (event.kind, event.text) == ("status", None)


def test_a_receipt_number_is_the_same_for_the_same_event():
    event = dialect.parse_event("SC1", feedback())
    first, again = dialect.render_receipt(event, False), dialect.render_receipt(event, True)
    assert first["data"]["receiptNo"] == again["data"]["receiptNo"]
    assert (first["data"]["duplicate"], again["data"]["duplicate"]) == (False, True)
    assert again["msg"] == "重复推送，已忽略"


def test_generation_is_deterministic_for_a_seed():
    assert dialect.generate(5, NOW, 1) == dialect.generate(5, NOW, 1)
    assert dialect.generate(5, NOW, 1) != dialect.generate(5, NOW, 2)


def test_generated_orders_have_unique_numbers_and_the_four_12315_types():
    orders = [dialect.generate(n, NOW, 0) for n in range(300)]
    assert len({o.id for o in orders}) == 300
    assert {dialect.render_item(o)["orderType"] for o in orders} == {"1", "2", "3", "4"}


def test_generated_personal_data_and_credit_codes_are_valid_most_of_the_time():
    orders = [dialect.generate(n, NOW, 0) for n in range(400)]

    def valid(check, values):
        values = [v for v in values if v]
        ok = 0
        for v in values:
            with contextlib.suppress(ValueError):
                check(v)
                ok += 1
        return ok / len(values)

    assert valid(normalize_phone, [o.citizen.phone for o in orders]) > 0.94
    assert valid(check_id_number, [o.citizen.id_number for o in orders]) > 0.94
    assert valid(check_credit_code, [o.subject.credit_code for o in orders if o.subject]) > 0.94


def test_a_generated_item_renders_in_12315_field_names():
    item = dialect.render_item(dialect.generate(0, NOW, 0))
    required = {"orderNo", "orderType", "title", "content", "consumer", "createTime", "updateTime", "status"}
    assert required <= set(item)
    assert item["updateTime"] == "2024-11-25 10:00:00"
