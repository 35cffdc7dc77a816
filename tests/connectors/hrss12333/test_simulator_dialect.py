"""The simulated 12333 platform speaks the same dialect as the connector, and its work orders are realistic.

The simulator writes its code tables out separately from the connector on purpose: these round trips are what
catch a slip on either side.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import MappingError, Position
from connectors.hrss12333 import Hrss12333Dialect
from connectors.hrss12333.codes import APPEAL_TYPES, BUSINESS_CATEGORIES
from core.errors import AuthError, PermanentError, TransientError
from normalizer import NormalizeContext, normalize
from normalizer.fields import FieldError, check_credit_code, check_id_number, normalize_phone
from normalizer.record import IntegrationMode
from simulators.national.dialect import FeedQuery, WorkOrder
from simulators.national.engine import Knobs, Simulator
from simulators.national.hrss12333 import REGIONS, Hrss12333ServerDialect
from tests.connectors.national_support import events

NOW = datetime(2024, 11, 25, 2, 0, 0, tzinfo=UTC)
server = Hrss12333ServerDialect()
client = Hrss12333Dialect()


def wire(obj) -> bytes:
    """What travels: the server's JSON as bytes."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def orders(count: int = 400, seed: int = 1) -> list[WorkOrder]:
    return [server.generate(n, NOW, seed) for n in range(count)]


def served(order: WorkOrder) -> dict:
    return json.loads(wire(server.render_item(order)))


def valid(check, value) -> bool:
    try:
        check(value)
    except FieldError:
        return False
    return True


# -- polling ---------------------------------------------------------------------------------------------------


def test_the_clients_poll_request_reads_back_as_the_same_place():
    position = Position(datetime(2024, 11, 25, 1, 12, 31, 407000, tzinfo=UTC), "RS202411250000118")
    request = client.poll_request(position, 50)
    assert (request.method, request.path) == (server.poll_method, server.poll_path)
    assert server.parse_feed_query(request.query, request.body) == FeedQuery(position.updated_at, position.id, 50)


def test_a_poll_from_the_start_reads_back_as_no_since():
    request = client.poll_request(None, 100)
    assert server.parse_feed_query(request.query, request.body) == FeedQuery(None, "", 100)


def test_an_empty_poll_body_asks_for_a_default_page_from_the_start():
    assert server.parse_feed_query({}, b"") == FeedQuery(None, "", 100)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"kssj=0", "不是合法的JSON"),
        (b"[]", "必须为JSON对象"),
        (b'{"kssj": "1732497151407"}', "kssj"),
        (b'{"kssj": -5}', "kssj"),
        (b'{"zhgdbh": 42}', "zhgdbh"),
        (b'{"mys": 0}', "mys"),
        (b'{"mys": 1001}', "mys"),
        (b'{"mys": true}', "mys"),
    ],
)
def test_a_malformed_poll_is_refused_naming_the_field(body, words):
    with pytest.raises(ValueError, match=words):
        server.parse_feed_query({}, body)


def test_a_served_page_reads_back_with_its_items_has_more_and_clock():
    items = [served(o) for o in orders(3)]
    page = client.parse_page(200, wire(server.render_page(items, True, NOW)))
    assert page.items == items and page.has_more is True and page.server_time == NOW
    assert client.parse_page(200, wire(server.render_page([], False, NOW))).has_more is False


def test_every_served_item_has_the_id_and_position_the_engine_stored():
    for order in orders(50):
        item = served(order)
        assert client.item_id(item) == order.id
        assert client.item_position(item) == Position(order.updated_at, order.id)


# -- the work orders -------------------------------------------------------------------------------------------


def test_every_generated_work_order_maps_and_normalizes():
    ctx = NormalizeContext("a", "hrss", IntegrationMode.INTERCONNECT, NOW, "r")
    for order in orders():
        record = normalize(client.map(served(order)), ctx, now=NOW + timedelta(hours=1))
        assert record.source_id == order.id
        assert record.type.value == order.type
        assert (record.title, record.content) == (order.title, order.content)
        assert record.location.division_code == order.division_code
        assert record.channel_category == order.category


def test_generated_work_orders_map_without_warnings_except_for_planted_bad_values():
    reasons = Counter()
    ctx = NormalizeContext("a", "hrss", IntegrationMode.INTERCONNECT, NOW, "r")
    for order in orders(1000):
        for warning in normalize(client.map(served(order)), ctx, now=NOW + timedelta(hours=1)).warnings:
            reasons[warning] += 1
    assert set(reasons) <= {
        "citizen.phone: not a valid number; dropped",
        "citizen.id_number: bad check digit; dropped",
    }
    assert sum(reasons.values()) < 80  # a few percent of 1000


def test_the_same_seed_and_number_give_the_same_work_order():
    assert server.generate(7, NOW, 3) == server.generate(7, NOW, 3)
    assert server.generate(7, NOW, 3) != server.generate(7, NOW, 4)
    assert server.generate(7, NOW, 3) != server.generate(8, NOW, 3)


def test_work_order_numbers_are_unique_and_in_the_platforms_format():
    ids = [o.id for o in orders()]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith("RS20241125") and len(i) == 17 for i in ids)


def test_most_phones_and_id_numbers_are_valid():
    generated = orders(1000)
    phones = [o.citizen.phone for o in generated]
    ids = [o.citizen.id_number for o in generated if o.citizen.id_number]
    assert sum(valid(normalize_phone, p) for p in phones) / len(phones) > 0.94
    assert sum(valid(lambda v: check_id_number(v, today=NOW.date()), i) for i in ids) / len(ids) > 0.95
    assert len(ids) > 300


def test_every_employer_credit_code_is_valid():
    codes = [o.subject.credit_code for o in orders() if o.subject and o.subject.credit_code]
    assert codes and all(valid(check_credit_code, c) for c in codes)


def test_work_orders_cover_every_type_and_business_category_the_platform_has():
    generated = orders(1000)
    served_codes = Counter(served(o)["sqlx"] for o in generated)
    assert set(served_codes) == set(APPEAL_TYPES) - {"99"}
    assert {o.category for o in generated} == set(BUSINESS_CATEGORIES)


def test_unpaid_wages_are_mostly_about_construction_sites_with_an_amount_and_head_count():
    wage_orders = [served(o) for o in orders(1000) if o.category == "欠薪" and o.type != "praise"]
    assert len(wage_orders) > 200
    assert sum("工地" in (i.get("sfdz") or "") for i in wage_orders) > len(wage_orders) / 3
    with_amount = [i for i in wage_orders if "qxje" in i]
    assert all(isinstance(i["qxje"], int) and i["qxje"] > 0 and i["sjrs"] >= 1 for i in with_amount)


def test_division_codes_come_from_the_regions_table():
    assert {o.division_code for o in orders()} <= {r.code for r in REGIONS}


def test_some_appellants_are_units_and_their_appeals_are_enterprise_appeals():
    units = [served(o) for o in orders(1000) if o.details.get("applicant_unit_name")]
    assert units
    for item in units:
        assert item["sqrlx"] == "2"
        assert client.map(item).enterprise is True


def test_reports_are_sent_as_confidential():
    reports = [served(o) for o in orders(1000) if o.type == "report"]
    assert reports and all(i["bmbz"] == "1" for i in reports)


def test_real_message_board_language_is_used_for_some_work_orders():
    titles = {o.title for o in orders(1000)}
    assert "A市男职工生育保险怎么报销？" in titles or any("A7县" in t or "A市" in t for t in titles)


# -- drift hints -----------------------------------------------------------------------------------------------


def test_the_drift_hints_name_fields_the_platform_writes():
    written: set[str] = set()
    for order in orders(1000):
        item = served(order)
        written |= set(item) | {f"{k}.{s}" for k, v in item.items() if isinstance(v, dict) for s in v}
    hints = {server.id_field, *server.optional_fields, *server.date_fields, *server.protected_fields}
    assert hints <= written


@pytest.mark.parametrize("knob", ["drift_unknown_fields", "drift_missing_optional", "drift_bad_dates",
                                  "drift_wrong_types"])
def test_drifted_work_orders_still_map_or_are_refused_with_a_reason(knob):
    sim = Simulator(server, app_key="huiju", app_secret="s" * 32, seed=5, knobs=Knobs(**{knob: 1.0}),
                    clock=lambda: NOW)
    sim.generate(300)
    items, _ = sim.page(FeedQuery(None, "", 1000))
    refused = []
    for item in items:
        assert client.item_position(item) is not None  # the id and update time are never drifted
        try:
            client.map(item)
        except MappingError as e:
            refused.append(str(e))
    assert all(reason.startswith(("nr (诉求内容): must be text", "bt (标题)")) for reason in refused)
    assert len(refused) < len(items) / 5


# -- feedback --------------------------------------------------------------------------------------------------


reply = events(
    event_id="evt-0001-章贡区", source_id="RS202411250000118",
    at=datetime(2024, 11, 26, 2, 30, 0, 123000, tzinfo=UTC),
    text="已责令该公司于12月10日前足额支付拖欠工资。",
    unit="章贡区人力资源和社会保障局",
)


def test_a_delivered_event_reads_back_as_sent():
    request = client.deliver_request(reply())
    assert (request.method, request.path) == ("POST", server.deliver_path)
    event = server.parse_event(None, request.body)
    assert (event.event_id, event.order_id, event.kind, event.status) == (
        "evt-0001-章贡区", "RS202411250000118", "reply", "replied",
    )
    assert (event.text, event.unit) == ("已责令该公司于12月10日前足额支付拖欠工资。", "章贡区人力资源和社会保障局")
    assert datetime.fromisoformat(event.at) == datetime(2024, 11, 26, 2, 30, 0, 123000, tzinfo=UTC)


@pytest.mark.parametrize("status", ["accepted", "dispatched", "returned", "extended", "replied", "closed",
                                    "revisited"])
def test_every_status_reads_back(status):
    event = server.parse_event(None, client.deliver_request(reply(kind="status", status=status, text=None)).body)
    assert (event.kind, event.status, event.text) == ("status", status, None)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"gdbh": ""}, "gdbh"),
        ({"sjid": None}, "sjid"),
        ({"sjlx": "03"}, "sjlx"),
        ({"zt": "99"}, "zt"),
        ({"sj": "2024-11-26 10:30:00"}, "sj"),
        ({"hfnr": ""}, "hfnr"),
        ({"hfdw": 1}, "hfdw"),
    ],
)
def test_a_malformed_event_is_refused_naming_the_field(change, words):
    body = json.loads(client.deliver_request(reply()).body) | change
    with pytest.raises(ValueError, match=words):
        server.parse_event(None, wire(body))


def test_a_receipt_reads_back_and_a_duplicate_keeps_the_reference():
    event = server.parse_event(None, client.deliver_request(reply()).body)
    first = client.parse_receipt(200, wire(server.render_receipt(event, False)))
    again = client.parse_receipt(200, wire(server.render_receipt(event, True)))
    assert first.reference and first.reference == again.reference
    assert (first.duplicate, again.duplicate) == (False, True)


def test_the_check_answer_is_accepted():
    request = client.check_request()
    assert (request.method, request.path) == ("POST", server.check_path)
    client.parse_check(200, wire(server.render_check(NOW)))


# -- errors ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, PermanentError), (401, AuthError), (403, AuthError), (404, PermanentError), (413, PermanentError),
     (429, TransientError), (500, TransientError), (502, TransientError), (503, TransientError)],
)
def test_an_error_envelope_is_classified_like_its_http_status(status, error):
    with pytest.raises(error):
        client.parse_page(200, wire(server.render_error(status, "模拟错误")))
