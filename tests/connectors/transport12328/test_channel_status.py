"""12328's own progress on a ticket: `status`, `reply_text` and `handling_unit`, read as huiju's channel status.

The spec is docs/channels/12328.md ("12328's progress on a ticket"); the status words are huiju's.
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
from connectors.transport12328 import Transport12328Connector
from connectors.transport12328.mapping import map_ticket
from tests.connectors.national_support import any_json, mapping_connector

GUIDE = (Path(__file__).resolve().parents[3] / "docs" / "channels" / "12328.md").read_text(encoding="utf-8")
connector = mapping_connector(Transport12328Connector, "jt12328")
UPDATED = "2024-11-26T15:05:30+08:00"
AT = datetime(2024, 11, 26, 7, 5, 30, tzinfo=UTC)
REPLY = "经核查，该驾驶员拒载属实，已按规定处理。"
UNIT = "瑞金市交通运输局"
STATUSES = {"accepted", "dispatched", "returned", "extended", "replied", "closed", "revisited"}


def status_of(**fields: Any) -> ChannelStatus | None:
    """What the connector reads from a stored ticket with these fields (and an id and update time)."""
    item = {"ticket_id": "JT2024112500000010", "updated_at": UPDATED} | fields
    return connector.channel_status(json.dumps(item, ensure_ascii=False))


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("received", "accepted"),
        ("assigned", "dispatched"),
        ("processing", "dispatched"),
        ("returned", "returned"),
        ("extended", "extended"),
        ("replied", "replied"),
        ("closed", "closed"),
        ("revisited", "revisited"),
    ],
)
def test_each_ticket_status_is_read_as_huijus_status_at_updated_at(value, status):
    assert status_of(status=value) == ChannelStatus(status, AT)


def test_the_reply_and_the_handling_unit_are_read_as_sent():
    assert status_of(status="replied", reply_text=REPLY, handling_unit=UNIT) == ChannelStatus(
        "replied", AT, REPLY, UNIT
    )


def test_an_assigned_ticket_names_its_unit_without_a_reply():
    assert status_of(status="assigned", handling_unit=UNIT) == ChannelStatus("dispatched", AT, None, UNIT)


@pytest.mark.parametrize("value", ["Replied", " closed", "done", "accepted", "", None, 40, True, ["replied"]])
def test_an_unknown_or_unreadable_status_is_no_channel_status(value):
    assert status_of(status=value) is None


def test_a_ticket_without_a_status_has_no_channel_status():
    assert status_of() is None


@pytest.mark.parametrize("value", ["", "   ", 12328, ["已处理"], {"name": UNIT}, False, None])
def test_a_reply_or_unit_that_is_not_text_is_left_out_and_the_status_kept(value):
    assert status_of(status="replied", reply_text=value, handling_unit=value) == ChannelStatus("replied", AT)


@pytest.mark.parametrize("value", ["2024-11-26 25:61", "unknown", 0, None])
def test_an_unreadable_updated_at_leaves_the_time_out_and_the_status_kept(value):
    assert status_of(status="closed", updated_at=value) == ChannelStatus("closed", None)


@pytest.mark.parametrize("payload", ["", "{", "[]", "null", '"replied"', "true", '{"status": "replied"'])
def test_a_payload_that_is_not_a_ticket_has_no_channel_status(payload):
    assert connector.channel_status(payload) is None


def test_the_documented_replied_ticket_is_read_with_its_reply_and_unit():
    block = re.search(r"<!-- example-progress[^>]*-->\s*```json\n(.*?)\n```", GUIDE, re.S)
    assert block, "no example-progress block in docs/channels/12328.md"
    item = json.loads(block.group(1))
    assert connector.channel_status(block.group(1)) == ChannelStatus(
        "replied", AT, item["reply_text"], item["handling_unit"]
    )
    assert map_ticket(item).warnings == []


json_values = any_json(st.sampled_from(["received", "processing", "replied", "revisited", UPDATED, REPLY, ""]))
progress_fields = st.fixed_dictionaries(
    {}, optional={key: json_values for key in ("ticket_id", "status", "updated_at", "reply_text", "handling_unit")}
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(progress_fields, json_values))
def test_channel_status_never_raises_on_any_json_item(item):
    result = connector.channel_status(json.dumps(item))
    assert result is None or result.status in STATUSES
