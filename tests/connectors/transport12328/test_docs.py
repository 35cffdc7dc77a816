"""docs/channels/12328.md is the contract the platform's operator builds from: it must say what the code does."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from connectors.base import OutboundEvent
from connectors.transport12328 import Transport12328Dialect
from connectors.transport12328.mapping import (
    ATTACHMENT,
    CALLER,
    EXTRA_TEXT,
    LOCATION,
    OPERATOR,
    TOP_LEVEL,
    map_ticket,
)
from connectors.transport12328.protocol import (
    CATEGORIES,
    ERROR_CODES,
    EVENT_STATUSES,
    EVENTS_PATH,
    HEALTH_AUTH_PATH,
    INTAKE_CHANNELS,
    KINDS,
    TICKET_STATUSES,
    TICKETS_PATH,
)
from core.signing import body_digest, canonical_request, sign_request
from simulators.national.transport12328 import Transport12328ServerDialect, receipt_id
from tests.connectors.transport12328.support import normalized

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "channels" / "12328.md"
TEXT = GUIDE.read_text(encoding="utf-8")
SERVER = Transport12328ServerDialect()


def blocks_after(marker: str) -> list[str]:
    """The fenced code blocks that follow an HTML comment starting with marker."""
    pattern = re.compile(r"<!-- " + re.escape(marker) + r"[^>]*-->\s*```[a-z]*\n(.*?)\n```", re.S)
    return pattern.findall(TEXT)


def signing_examples() -> list[dict[str, str]]:
    examples = []
    for block in blocks_after("signing-example"):
        values = {}
        for line in block.splitlines():
            key, _, value = line.partition(":")
            values[key.strip()] = value.strip()
        examples.append(values)
    return examples


def documented(name: str) -> bool:
    return f"`{name}`" in TEXT


def test_there_are_two_signing_examples():
    assert len(signing_examples()) == 2


@pytest.mark.parametrize("example", signing_examples(), ids=lambda e: e["method"])
def test_signing_examples_match_core_signing(example):
    query = dict(p.split("=", 1) for p in example["query"].split("&")) if example["query"] else {}
    signature = sign_request(
        example["sign method"],
        example["app secret"],
        example["method"],
        example["path"],
        query,
        example["app key"],
        example["timestamp"],
        example["nonce"],
        example["body"].encode(),
    )
    assert signature == example["signature"]


def test_the_canonical_request_shown_is_the_one_signed():
    example = signing_examples()[0]
    query = dict(p.split("=", 1) for p in example["query"].split("&"))
    expected = canonical_request(
        "GET", "/v2/tickets", query, example["app key"], example["timestamp"], example["nonce"],
        body_digest("hmac-sha256", b""),
    ).decode()
    assert f"```text\n{expected}\n```" in TEXT


def test_the_sm3_variant_of_the_poll_example_is_right():
    example = signing_examples()[0]
    query = dict(p.split("=", 1) for p in example["query"].split("&"))
    signature = sign_request(
        "sm3", example["app secret"], "GET", example["path"], query, example["app key"], example["timestamp"],
        example["nonce"], b"",
    )
    assert f"the signature is\n`{signature}`" in TEXT


def test_the_event_example_is_what_huiju_sends_and_the_signing_example_signs():
    [example] = blocks_after("event-example")
    doc = json.loads(example)
    event = OutboundEvent(
        event_id=doc["event_id"],
        source_id="JT2024112500000010",
        kind=doc["type"],
        status=doc["status"],
        at=datetime.fromisoformat(doc["at"]),
        text=doc["text"],
        unit=doc["unit"],
    )
    request = Transport12328Dialect().deliver_request(event)
    assert request.body.decode() == signing_examples()[1]["body"]
    assert request.path == signing_examples()[1]["path"]
    assert f"The body is {len(request.body)} bytes" in TEXT
    assert SERVER.parse_event("JT2024112500000010", request.body).raw == doc


def test_the_receipt_example_has_the_simulators_receipt_id():
    [example] = blocks_after("event-example")
    assert f'"receipt_id": "{receipt_id(json.loads(example)["event_id"])}"' in TEXT


def test_the_ticket_example_maps_and_normalizes_without_warnings():
    [example] = blocks_after("ticket-example")
    record = normalized(map_ticket(json.loads(example)))
    assert record.source_id == "JT2024112500000010"
    assert record.warnings == ()


def test_every_ticket_field_is_documented():
    names = set(TOP_LEVEL)
    names |= {f"caller.{k}" for k in CALLER} | {f"location.{k}" for k in LOCATION}
    names |= {f"operator.{k}" for k in OPERATOR} | {f"attachments[].{k}" for k in ATTACHMENT}
    missing = sorted(n for n in names if not documented(n) and not documented(n.replace("location.l", "l")))
    assert missing == []


def test_every_extra_key_is_documented():
    keys = {*EXTRA_TEXT.values(), "transport_category", "operator", "coordinate_system"}
    assert sorted(k for k in keys if not documented(k)) == []


@pytest.mark.parametrize(
    "values", [KINDS, CATEGORIES, INTAKE_CHANNELS, TICKET_STATUSES, EVENT_STATUSES], ids=lambda v: next(iter(v))
)
def test_every_enumeration_value_is_documented(values):
    assert sorted(v for v in values if not documented(v)) == []


def test_every_category_label_is_documented():
    assert sorted(label for label in CATEGORIES.values() if f"| {label} |" not in TEXT) == []


def test_every_error_code_is_documented_with_its_status():
    for status, code in ERROR_CODES.items():
        assert documented(code), code
        assert re.search(rf"^\| [0-9, ]*{status}[0-9, ]* \|", TEXT, re.M), status


def test_the_documented_paths_are_the_ones_both_sides_use():
    assert TICKETS_PATH == "/v2/tickets"
    assert EVENTS_PATH == "/v2/tickets/{ticket_id}/events"
    assert HEALTH_AUTH_PATH == "/v2/health/auth"
    assert SERVER.poll_path == TICKETS_PATH and SERVER.poll_method == "GET"
    assert SERVER.deliver_path == EVENTS_PATH.replace("{ticket_id}", "{order_id}")
    assert SERVER.check_path == HEALTH_AUTH_PATH
    for heading in ("`GET /v2/tickets`", "`POST /v2/tickets/{ticket_id}/events`", "`GET /v2/health/auth`"):
        assert re.search(rf"^## .*{re.escape(heading)}", TEXT, re.M), heading
