"""12333's own progress on a work order: `zt`, `hfnr` and `cbdw`, read as huiju's channel status.

The spec is docs/channels/12333.md ("Your progress on a work order"); the status words are huiju's.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.base import ChannelStatus
from connectors.hrss12333 import Hrss12333Connector, map_work_order
from tests.connectors.national_support import any_json, mapping_connector

GUIDE = (Path(__file__).resolve().parents[3] / "docs" / "channels" / "12333.md").read_text(encoding="utf-8")
connector = mapping_connector(Hrss12333Connector, "hrss")
GXSJ = 1732761000000  # 2024-11-28 10:30:00 Beijing time
AT = datetime(2024, 11, 28, 2, 30, tzinfo=UTC)
REPLY = "经调查，已责令用人单位于12月10日前足额支付拖欠工资。"
UNIT = "赣州市章贡区人力资源和社会保障局"
STATUSES = {"accepted", "dispatched", "returned", "extended", "replied", "closed", "revisited"}


def status_of(**fields: Any) -> ChannelStatus | None:
    """What the connector reads from a stored work order with these fields (and a number and gxsj)."""
    item = {"gdbh": "RS202411250000118", "gxsj": GXSJ} | fields
    return connector.channel_status(json.dumps(item, ensure_ascii=False))


@pytest.mark.parametrize(
    ("zt", "status"),
    [
        ("20", "accepted"),
        ("30", "dispatched"),
        ("35", "returned"),
        ("40", "extended"),
        ("50", "replied"),
        ("60", "closed"),
        ("70", "revisited"),
    ],
)
def test_each_zt_code_is_read_as_huijus_status_at_gxsj(zt, status):
    assert status_of(zt=zt) == ChannelStatus(status, AT)


def test_a_registered_work_order_has_no_channel_status_yet():
    assert status_of(zt="10") is None


def test_the_reply_and_the_handling_unit_are_read_as_sent():
    assert status_of(zt="50", hfnr=REPLY, cbdw=UNIT) == ChannelStatus("replied", AT, REPLY, UNIT)


def test_a_transferred_work_order_names_its_unit_without_a_reply():
    assert status_of(zt="30", cbdw=UNIT) == ChannelStatus("dispatched", AT, None, UNIT)


def test_a_code_sent_as_a_number_is_read_as_that_code():
    assert status_of(zt=60).status == "closed"


@pytest.mark.parametrize("value", ["80", "05", "closed", "", None, False, 50.5, ["50"], {"zt": "50"}])
def test_an_unknown_or_unreadable_zt_is_no_channel_status(value):
    assert status_of(zt=value) is None


def test_a_work_order_without_zt_has_no_channel_status():
    assert status_of() is None


@pytest.mark.parametrize("value", ["", " \u3000", 386400, ["回复"], {"dwmc": UNIT}, True, None])
def test_a_reply_or_unit_that_is_not_text_is_left_out_and_the_status_kept(value):
    assert status_of(zt="50", hfnr=value, cbdw=value) == ChannelStatus("replied", AT)


@pytest.mark.parametrize("value", [-1, 99_999_999_999_999_999, "2024-13-45", [GXSJ], None])
def test_an_unreadable_gxsj_leaves_the_time_out_and_the_status_kept(value):
    assert status_of(zt="40", gxsj=value) == ChannelStatus("extended", None)


@pytest.mark.parametrize("payload", ["", "{", "[]", "null", '"50"', "50", '{"gdbh": "RS1", "zt": "50"'])
def test_a_payload_that_is_not_a_work_order_has_no_channel_status(payload):
    assert connector.channel_status(payload) is None


def test_the_documented_replied_work_order_is_read_with_its_reply_and_unit():
    block = re.search(r"<!-- example-progress[^>]*-->\s*```json\n(.*?)\n```", GUIDE, re.S)
    assert block, "no example-progress block in docs/channels/12333.md"
    item = json.loads(block.group(1))
    assert connector.channel_status(block.group(1)) == ChannelStatus("replied", AT, item["hfnr"], item["cbdw"])
    assert map_work_order(item).warnings == []


json_values = any_json(
    st.sampled_from(["10", "20", "50", "70", "99", REPLY, UNIT, "", " "]),
    st.integers(min_value=1_600_000_000_000, max_value=1_800_000_000_000),
)
progress_fields = st.fixed_dictionaries(
    {}, optional={key: json_values for key in ("gdbh", "zt", "gxsj", "hfnr", "cbdw")}
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(progress_fields, json_values))
def test_channel_status_never_raises_on_any_json_item(item):
    result = connector.channel_status(json.dumps(item))
    assert result is None or result.status in STATUSES
