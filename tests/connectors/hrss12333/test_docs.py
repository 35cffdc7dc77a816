"""docs/channels/12333.md is the specification the 12333 operator builds from: it must say what the code does."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.base import OutboundEvent
from connectors.hrss12333 import Hrss12333Dialect
from connectors.hrss12333 import codes as client_codes
from connectors.hrss12333.mapping import APPLICANT, ATTACHMENT_KEYS, EMPLOYER, TOP_LEVEL
from core.signing import body_digest, canonical_request, sign_request
from normalizer import NormalizeContext, normalize
from normalizer.record import IntegrationMode
from simulators.national import hrss12333 as server

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "channels" / "12333.md"
dialect = Hrss12333Dialect()


@pytest.fixture(scope="module")
def guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


def block(text: str, marker: str, language: str, nth: int = 0) -> str:
    """The nth fenced block of `language` after `marker`."""
    start = text.index(marker)
    blocks = re.findall(r"```" + language + r"\n(.*?)\n```", text[start:], re.S)
    return blocks[nth]


def table_after(text: str, heading: str) -> list[list[str]]:
    """The rows (cells stripped) of the first markdown table after a heading or marker."""
    rest = text[text.index(heading):]
    lines = rest.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[first + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def ticked(cell: str) -> str:
    """The first `code` in a cell."""
    return re.search(r"`([^`]+)`", cell).group(1)


def example_values(guide: str) -> dict[str, str]:
    lines = block(guide, "signing-example", "text").splitlines()
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in lines)}


# -- signatures ------------------------------------------------------------------------------------------------


def test_the_worked_signing_example_matches_the_code(guide):
    v = example_values(guide)
    method, path = v["request"].split(" ")
    body = v["body"].encode()
    for sign_method, digest_key, signature_key in (
        ("hmac-sha256", "body sha256", "signature (hmac-sha256)"),
        ("sm3", "body sm3", "signature (sm3)"),
    ):
        assert body_digest(sign_method, body) == v[digest_key]
        assert sign_request(sign_method, v["secret"], method, path, {}, v["app key"], v["timestamp"], v["nonce"],
                            body) == v[signature_key]


def test_the_documented_canonical_request_is_the_one_signed(guide):
    v = example_values(guide)
    documented = block(guide, "For `hmac-sha256` the canonical request", "text")
    assert documented.encode() == canonical_request(
        "POST", "/api/gd/query", {}, v["app key"], v["timestamp"], v["nonce"], v["body sha256"]
    )


def test_the_documented_recipe_alone_gives_the_signature(guide):
    v = example_values(guide)
    digest = hashlib.sha256(v["body"].encode()).hexdigest()
    message = "\n".join(["POST", "/api/gd/query", "", v["app key"], v["timestamp"], v["nonce"], digest])
    assert hmac.new(v["secret"].encode(), message.encode(), hashlib.sha256).hexdigest() == v[
        "signature (hmac-sha256)"
    ]


def test_the_signing_example_body_is_what_the_connector_sends_for_that_position(guide):
    v = example_values(guide)
    sent = json.loads(v["body"])
    position = dialect.item_position({"gdbh": sent["zhgdbh"], "gxsj": sent["kssj"]})
    assert dialect.poll_request(position, sent["mys"]).body == v["body"].encode()


# -- fields and codes ------------------------------------------------------------------------------------------


def test_the_field_table_lists_exactly_the_fields_the_mapping_reads(guide):
    names = [ticked(row[0]) for row in table_after(guide, "<!-- fields:")]
    assert {n for n in names if "." not in n} == set(TOP_LEVEL)
    assert {n[4:] for n in names if n.startswith("sqr.")} == set(APPLICANT)
    assert {n[3:] for n in names if n.startswith("dw.")} == set(EMPLOYER)
    assert {n[7:] for n in names if n.startswith("fjlb[].")} == set(ATTACHMENT_KEYS)


def test_the_simulator_writes_only_documented_fields(guide):
    names = {ticked(row[0]) for row in table_after(guide, "<!-- fields:")}
    now = datetime(2024, 11, 25, 2, tzinfo=UTC)
    sim = server.Hrss12333ServerDialect()
    for n in range(500):
        item = sim.render_item(sim.generate(n, now, 3))
        for key, value in item.items():
            assert key in names
            if isinstance(value, dict):
                assert {f"{key}.{k}" for k in value} <= names
            if key == "fjlb":
                assert {f"fjlb[].{k}" for f in value for k in f} <= names


def test_the_appeal_type_codes_are_the_mappings(guide):
    rows = table_after(guide, "### `sqlx`")
    assert {ticked(r[0]): r[2].split()[0] for r in rows} == client_codes.APPEAL_TYPES
    assert {ticked(r[0]) for r in rows} == set(server.TYPE_CODES.values())


def test_the_business_categories_are_the_mappings(guide):
    rows = table_after(guide, "### `ywlb`")
    assert {r[0]: r[1] for r in rows} == client_codes.BUSINESS_CATEGORIES


def test_the_status_codes_are_the_mappings_on_both_sides(guide):
    rows = table_after(guide, "### `zt`")
    documented = {ticked(r[0]): r[2] for r in rows}
    assert documented == client_codes.STATUS_NAMES == server.STATUS_NAMES


def test_the_error_codes_are_the_ones_both_sides_use(guide):
    rows = table_after(guide, "### Errors")
    documented = {int(r[0]): ticked(r[1]) for r in rows}
    assert documented == {status: code for code, (status, _) in client_codes.ERROR_CODES.items()}
    assert documented == server.ERROR_CODES


# -- examples --------------------------------------------------------------------------------------------------


def test_the_example_page_maps_and_normalizes_without_warnings(guide):
    page = dialect.parse_page(200, block(guide, "example-page", "json").encode())
    assert page.has_more is True
    ctx = NormalizeContext("a", "hrss12333", IntegrationMode.INTERCONNECT, datetime(2024, 11, 25, 3, tzinfo=UTC),
                           "r")
    for item in page.items:
        record = normalize(dialect.map(item), ctx, now=datetime(2024, 11, 25, 3, tzinfo=UTC))
        assert record.warnings == ()


def test_the_documented_next_request_is_the_one_the_connector_sends(guide):
    page = dialect.parse_page(200, block(guide, "example-page", "json").encode())
    documented = re.search(r"huiju's next request is then `(\{.*?\})`", guide).group(1)
    request = dialect.poll_request(dialect.item_position(page.items[-1]), 100)
    assert json.loads(request.body) == json.loads(documented)


def test_the_feedback_example_is_byte_for_byte_what_the_connector_sends(guide):
    documented = block(guide, "example-feedback", "json")
    body = json.loads(documented)
    event = OutboundEvent(
        event_id=body["sjid"], source_id=body["gdbh"], kind="reply", status="replied",
        at=datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=body["sj"]),
        text=body["hfnr"], unit=body["hfdw"],
    )
    assert dialect.deliver_request(event).body == documented.encode()


def test_the_documented_answers_are_read_as_documented(guide):
    receipt = json.loads(block(guide, "The answer:", "json"))
    assert dialect.parse_receipt(200, json.dumps(receipt).encode()).reference == receipt["jg"]["jsbh"]
    check = block(guide, "## 3. 系统探测", "json")
    dialect.parse_check(200, check.encode())
