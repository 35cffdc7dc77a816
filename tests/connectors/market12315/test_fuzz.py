"""No input makes the 12315 parsers fail in an unplanned way.

`map` gives a draft (which normalizes, or is refused by the normalizer with its own error) or refuses with a
MappingError that names the field; `parse_page`, `parse_receipt` and `parse_check` give a result or raise a
classified core.errors exception with a reason; the id and position readers never raise.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.base import MappingError
from connectors.market12315 import Market12315Connector
from connectors.market12315.dialect import Market12315Dialect
from connectors.market12315.mapping import KNOWN_FIELDS, map_work_order
from core.errors import ChannelError
from normalizer import NormalizationError, NormalizeContext, normalize
from normalizer.record import AppealDraft, IntegrationMode
from tests.connectors.national_support import any_json, assert_says_why, mapping_connector

dialect = Market12315Dialect()
connector = mapping_connector(Market12315Connector, "m12315")
NOW = datetime(2024, 11, 25, 3, 0, tzinfo=UTC)
CTX = NormalizeContext("a", "m12315", IntegrationMode.INTERCONNECT, NOW, "r")
FIELD_NAMES = [*sorted(KNOWN_FIELDS), "consumer", "merchant", "orderType"]

json_values = any_json(
    st.sampled_from(["1", "2", "3", "4", "9", "10", "40", "食品", "1299.00", "2024-11-25 09:15:02", "", " "]),
)
SUB_KEYS = ["name", "mobile", "idCard", "uscc", "address", "regionCode", "x"]
sub_objects = st.dictionaries(st.sampled_from(SUB_KEYS), json_values, max_size=6)
work_orders = st.dictionaries(
    st.sampled_from([*sorted(KNOWN_FIELDS), "extInfo"]),
    st.one_of(json_values, sub_objects),
    max_size=len(KNOWN_FIELDS) + 1,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(work_orders, json_values))
def test_map_gives_a_draft_or_refuses_naming_the_field(item):
    try:
        draft = map_work_order(item)
    except MappingError as e:
        reason = str(e)
        assert reason.split(":")[0] in FIELD_NAMES or reason.startswith("work order must be"), reason
        return
    assert isinstance(draft, AppealDraft)
    try:
        normalize(draft, CTX, now=NOW)
    except NormalizationError as e:
        assert_says_why(e)


@settings(max_examples=200, deadline=None)
@given(st.one_of(work_orders, json_values))
def test_the_connector_maps_the_stored_text_of_any_item_the_same_way(item):
    text = json.dumps(item, ensure_ascii=False, separators=(",", ":"))
    try:
        direct = map_work_order(item)
    except MappingError as e:
        direct = str(e)
    try:
        stored = connector.map(text)
    except MappingError as e:
        stored = str(e)
    if isinstance(item, float) or (isinstance(direct, AppealDraft) and "nan" in text.lower()):
        return  # NaN never equals itself; the equality below would say nothing
    assert stored == direct


@settings(max_examples=200, deadline=None)
@given(work_orders)
def test_reading_an_id_or_a_position_never_raises(item):
    dialect.item_id(item)
    dialect.item_position(item)


pages = st.fixed_dictionaries(
    {"code": st.one_of(st.just(0), json_values)},
    optional={
        "msg": json_values,
        "data": st.one_of(
            json_values,
            st.fixed_dictionaries(
                {},
                optional={
                    "list": st.one_of(json_values, st.lists(work_orders, max_size=3)),
                    "hasMore": json_values,
                    "serverTime": json_values,
                },
            ),
        ),
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(pages.map(lambda p: json.dumps(p).encode()), st.binary(max_size=60)))
def test_parse_page_gives_a_page_or_a_classified_error_with_a_reason(body):
    for parse in (dialect.parse_page, dialect.parse_receipt, dialect.parse_check):
        try:
            parse(200, body)
        except ChannelError as e:
            assert_says_why(e)
