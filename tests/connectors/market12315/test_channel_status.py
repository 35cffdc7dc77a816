"""12315's own progress on a work order: `status`, `replyContent` and `handleOrg`, read as huiju's channel status.

The spec is docs/channels/12315.md ("12315's progress on a work order"); the status words are huiju's.
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
from connectors.market12315 import Market12315Connector
from connectors.market12315.mapping import map_work_order
from tests.connectors.national_support import any_json, mapping_connector

GUIDE = (Path(__file__).resolve().parents[3] / "docs" / "channels" / "12315.md").read_text(encoding="utf-8")
connector = mapping_connector(Market12315Connector, "m12315")
UPDATED = "2024-11-28 16:40:00"  # Beijing time
AT = datetime(2024, 11, 28, 8, 40, tzinfo=UTC)
REPLY = "经核查，经营者已同意退还剩余预付款。"
UNIT = "赣州市章贡区市场监督管理局"
STATUSES = {"accepted", "dispatched", "returned", "extended", "replied", "closed", "revisited"}


def status_of(**fields: Any) -> ChannelStatus | None:
    """What the connector reads from a stored work order with these fields (and a number and update time)."""
    item = {"orderNo": "SC202411253607020000318", "updateTime": UPDATED} | fields
    return connector.channel_status(json.dumps(item, ensure_ascii=False))


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("20", "accepted"),
        ("30", "dispatched"),
        ("31", "returned"),
        ("32", "extended"),
        ("40", "replied"),
        ("50", "closed"),
        ("60", "revisited"),
    ],
)
def test_each_status_code_is_read_as_huijus_status_at_the_update_time(code, status):
    assert status_of(status=code) == ChannelStatus(status, AT)


def test_a_work_order_waiting_to_be_accepted_has_no_channel_status_yet():
    assert status_of(status="10") is None


def test_the_reply_and_the_handling_unit_are_read_as_sent():
    assert status_of(status="40", replyContent=REPLY, handleOrg=UNIT) == ChannelStatus("replied", AT, REPLY, UNIT)


def test_a_closed_work_order_keeps_its_reply():
    assert status_of(status="50", replyContent=REPLY, handleOrg=UNIT) == ChannelStatus("closed", AT, REPLY, UNIT)


def test_a_code_sent_as_a_number_or_with_spaces_is_read_as_the_code():
    assert status_of(status=50).status == "closed"
    assert status_of(status=" 30 ").status == "dispatched"


@pytest.mark.parametrize("value", ["70", "99", "", "replied", None, True, 40.0, ["40"], {"code": "40"}])
def test_an_unknown_or_unreadable_status_is_no_channel_status(value):
    assert status_of(status=value) is None


def test_a_work_order_without_a_status_has_no_channel_status():
    assert status_of() is None


@pytest.mark.parametrize("value", ["", "  ", 42, ["办结"], {"name": UNIT}, False, None])
def test_a_reply_or_unit_that_is_not_text_is_left_out_and_the_status_kept(value):
    assert status_of(status="40", replyContent=value, handleOrg=value) == ChannelStatus("replied", AT)


@pytest.mark.parametrize("value", ["2024-13-45 25:61:00", "unknown", -1, None])
def test_an_unreadable_update_time_leaves_the_time_out_and_the_status_kept(value):
    assert status_of(status="30", updateTime=value) == ChannelStatus("dispatched", None)


@pytest.mark.parametrize("payload", ["", "not json", "{", "[]", "null", '"40"', "40"])
def test_a_payload_that_is_not_a_work_order_has_no_channel_status(payload):
    assert connector.channel_status(payload) is None


def test_the_documented_replied_work_order_is_read_with_its_reply_and_unit():
    block = re.search(r"<!-- example-progress[^>]*-->\s*```json\n(.*?)\n```", GUIDE, re.S)
    assert block, "no example-progress block in docs/channels/12315.md"
    item = json.loads(block.group(1))
    assert connector.channel_status(block.group(1)) == ChannelStatus(
        "replied", datetime(2024, 11, 28, 8, 40, tzinfo=UTC), item["replyContent"], item["handleOrg"]
    )
    assert map_work_order(item).warnings == []


json_values = any_json(st.sampled_from(["10", "20", "40", "60", "70", UPDATED, REPLY, "", " "]))
progress_fields = st.fixed_dictionaries(
    {},
    optional={key: json_values for key in ("orderNo", "status", "updateTime", "replyContent", "handleOrg")},
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(progress_fields, json_values))
def test_channel_status_never_raises_on_any_json_item(item):
    result = connector.channel_status(json.dumps(item))
    assert result is None or result.status in STATUSES
