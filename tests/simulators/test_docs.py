"""The national-platform documents say what the code does: signature examples, 12315's fields, knobs, events.

docs/channels/national-protocol.md and docs/channels/12315.md are the contract a platform operator implements
from; a change on either side that the other does not follow fails here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.base import OutboundEvent
from connectors.market12315.dialect import Market12315Dialect
from connectors.market12315.mapping import EVENT_STATUS_CODES, KNOWN_FIELDS, STATUS_LABELS, map_work_order
from core.signing import body_digest, canonical_request, sign_request
from simulators.national.engine import KNOB_NAMES
from simulators.national.market12315 import MESSAGES

DOCS = Path(__file__).resolve().parents[2] / "docs" / "channels"
PROTOCOL = (DOCS / "national-protocol.md").read_text(encoding="utf-8")
GUIDE_12315 = (DOCS / "12315.md").read_text(encoding="utf-8")


def block_after(text: str, marker: str) -> str:
    """The fenced code block that follows an HTML comment marker."""
    match = re.search(rf"<!-- {re.escape(marker)}[^>]*-->\s*```[a-z]*\n(.*?)\n```", text, re.S)
    assert match, f"no code block after <!-- {marker} -->"
    return match.group(1)


def example_values(marker: str) -> dict[str, str]:
    return {
        k.strip(): v.strip()
        for k, v in (line.split(":", 1) for line in block_after(PROTOCOL, marker).splitlines())
    }


def table_after(text: str, marker: str) -> list[list[str]]:
    """The rows (cells without backticks) of the markdown table after a marker."""
    start = text.index(f"<!-- {marker}")
    rows = []
    for line in text[start:].splitlines()[1:]:
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [c.strip().strip("`") for c in line.strip("|").split("|")]
        if not set(cells[0]) <= {"-", " "}:
            rows.append(cells)
    return rows[1:]


KEYS = {"hmac-sha256": ("sha256 body", "hmac-sha256"), "sm3": ("sm3 body", "hmac-sm3")}


def query_of(text: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in text.split(", "))


@pytest.mark.parametrize("method", ["hmac-sha256", "sm3"])
def test_the_get_signing_example_is_what_core_signing_computes(method):
    v = example_values("signing-example:")
    body = b""
    digest_key, signature_key = KEYS[method]
    assert v[digest_key] == body_digest(method, body)
    assert v[signature_key] == sign_request(
        method, v["secret"], v["method"], v["path"], query_of(v["query"]), v["app key"], v["timestamp"],
        v["nonce"], body,
    )


def test_the_canonical_request_shown_is_what_core_signing_builds():
    v = example_values("signing-example:")
    pattern = r"The canonical request of the `hmac-sha256` signature.*?```text\n(.*?)\n```"
    shown = re.search(pattern, PROTOCOL, re.S)
    built = canonical_request(
        v["method"], v["path"], query_of(v["query"]), v["app key"], v["timestamp"], v["nonce"], v["sha256 body"]
    )
    assert shown and shown.group(1).encode() == built


@pytest.mark.parametrize("method", ["hmac-sha256", "sm3"])
def test_the_post_signing_example_is_what_core_signing_computes(method):
    v = example_values("signing-example-post")
    body = v["body"].encode()
    digest_key, signature_key = KEYS[method]
    assert f"the body is {len(body)} bytes" in PROTOCOL
    assert v[digest_key] == body_digest(method, body)
    assert v[signature_key] == sign_request(
        method, v["secret"], v["method"], v["path"], {}, v["app key"], v["timestamp"], v["nonce"], body
    )


def test_the_post_example_body_is_what_huiju_sends_for_that_reply():
    body = example_values("signing-example-post")["body"]
    assert body == block_after(GUIDE_12315, "example-feedback")
    sent = Market12315Dialect().deliver_request(OutboundEvent(
        "01JDHX3V6Q8K5T2M9R4W7Y1ZC0", "SC202411253607020000318", "reply", "replied",
        datetime(2024, 11, 26, 7, 30, tzinfo=UTC),
        text="经核查，商家已同意退还剩余预付款。", unit="赣州市章贡区市场监督管理局",
    ))
    assert sent.body.decode() == body
    assert sent.path == example_values("signing-example-post")["path"]


def test_every_knob_is_documented():
    section = PROTOCOL.split("### Knobs", 1)[1].split("###", 1)[0]
    assert set(re.findall(r"^\| `([a-z_]+)` \|", section, re.M)) == KNOB_NAMES


def test_the_12315_example_page_is_read_and_mapped_by_the_connector():
    dialect = Market12315Dialect()
    page = dialect.parse_page(200, block_after(GUIDE_12315, "example-page").encode())
    assert page.has_more is True and len(page.items) == 2
    drafts = [map_work_order(item) for item in page.items]
    assert [d.type for d in drafts] == ["complaint", "report"]
    assert all(d.warnings == [] for d in drafts)


def test_every_12315_work_order_field_is_in_the_table():
    assert {row[0] for row in table_after(GUIDE_12315, "fields")} == KNOWN_FIELDS


def test_the_status_table_matches_the_codes_and_the_event_statuses():
    section = GUIDE_12315.split("### Status codes", 1)[1]
    rows = re.findall(r"^\| `(\d\d)` \| (\S+) [^|]*\| (?:`(\w+)`|\(never sent\)) \|", section, re.M)
    assert {code for code, _, _ in rows} == set(STATUS_LABELS)
    assert {code: label for code, label, _ in rows} == STATUS_LABELS
    assert {event: code for code, _, event in rows if event} == EVENT_STATUS_CODES


def test_the_error_code_table_matches_the_simulator():
    section = GUIDE_12315.split("### Error codes", 1)[1]
    rows = re.findall(r"^\| `(\d{5})` \| (\d{3}) \| (\S+) \|", section, re.M)
    assert {int(status): label for _, status, label in rows} == MESSAGES
    assert all(int(code) == int(status) * 100 + 1 for code, status, _ in rows)
