"""No input makes the 12333 parsers fail in an unplanned way.

`map` either gives a draft or refuses with a MappingError that says what was wrong; `parse_page` and
`parse_receipt` either give a result or raise a classified core.errors exception with a message; the item
id and position readers never raise.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.base import MappingError
from connectors.hrss12333 import Hrss12333Connector, Hrss12333Dialect
from core.errors import ChannelError
from normalizer import NormalizationError, NormalizeContext, normalize
from normalizer.record import AppealDraft, IntegrationMode
from tests.connectors.national_support import any_json, assert_says_why, mapping_connector

dialect = Hrss12333Dialect()
connector = mapping_connector(Hrss12333Connector, "hrss")
NOW = datetime(2024, 11, 25, 3, 0, tzinfo=UTC)
CTX = NormalizeContext("a", "hrss", IntegrationMode.INTERCONNECT, NOW, "r")

json_values = any_json(
    st.sampled_from(["01", "03", "04", "99", "1", "2", "10", "60", "欠薪", "社会保险", "", " "]),
    st.integers(min_value=1_600_000_000_000, max_value=1_800_000_000_000),
)
KEYS = ["gdbh", "sqlx", "ywlb", "bt", "nr", "sqrlx", "sqr", "bmbz", "dw", "xzqhdm", "sfdz", "qxje", "sjrs",
        "fjlb", "fssj", "cjsj", "gxsj", "zt", "kzzd1"]
SUB_KEYS = ["xm", "sjhm", "sfzhm", "dwmc", "tyshxydm", "dwdz", "wjmc", "wjlj", "wjlx", "wjdx", "x"]
sub_objects = st.dictionaries(st.sampled_from(SUB_KEYS), json_values, max_size=6)
work_orders = st.dictionaries(
    st.sampled_from(KEYS),
    st.one_of(json_values, sub_objects, st.lists(sub_objects | json_values, max_size=3)),
    max_size=len(KEYS),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(work_orders, json_values))
def test_map_gives_a_draft_or_a_reasoned_refusal(item):
    try:
        draft = dialect.map(item)
    except MappingError as e:
        assert_says_why(e)
        return
    assert isinstance(draft, AppealDraft)
    assert all(isinstance(w, str) and w for w in draft.warnings)
    assert all(isinstance(k, str) and v.startswith("payload.") for k, v in draft.sources.items())
    json.dumps(draft.extra, allow_nan=True)  # extra stays plain JSON


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(work_orders)
def test_a_mapped_draft_normalizes_or_is_refused_with_a_reason(item):
    try:
        draft = dialect.map(item)
    except MappingError:
        return
    try:
        normalize(draft, CTX, now=NOW)
    except NormalizationError as e:
        assert e.field != "draft", f"the normalizer failed internally: {e}"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200) | st.from_regex(r'\{"gdbh": ?"[A-Z0-9]{0,8}"(, ?"nr": ?.{0,10})?\}', fullmatch=True))
def test_the_connector_maps_any_stored_text_or_refuses_it(payload):
    try:
        connector.map(payload)
    except MappingError as e:
        assert_says_why(e)


@settings(max_examples=200, deadline=None)
@given(work_orders | json_values)
def test_reading_an_items_id_and_position_never_raises(item):
    if isinstance(item, dict):
        dialect.item_id(item)
        dialect.item_position(item)


pages = st.fixed_dictionaries(
    {"fhm": st.sampled_from(["0000", "4001", "5003", "4000", "9999"]) | json_values},
    optional={
        "fhxx": json_values,
        "jg": st.fixed_dictionaries(
            {}, optional={"gdlb": st.lists(work_orders | json_values, max_size=4) | json_values,
                          "sfyxy": st.sampled_from(["0", "1", 1, True]) | json_values,
                          "fwqsj": json_values, "jsbh": json_values, "sfcf": st.sampled_from(["0", "1"])},
        ) | json_values,
    },
)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=200, max_value=299), pages.map(lambda p: json.dumps(p).encode()) | st.binary())
def test_parse_page_gives_a_page_or_a_classified_error(status, body):
    try:
        page = dialect.parse_page(status, body)
    except ChannelError as e:
        assert_says_why(e)
        return
    assert isinstance(page.items, list) and isinstance(page.has_more, bool)


@settings(max_examples=150, deadline=None)
@given(pages.map(lambda p: json.dumps(p).encode()) | st.binary())
def test_parse_receipt_and_check_give_a_result_or_a_classified_error(body):
    for parse in (dialect.parse_receipt, dialect.parse_check):
        try:
            parse(200, body)
        except ChannelError as e:
            assert_says_why(e)
