"""The documents are part of the contract: docs/ must say what the code does.

docs/openapi/api-channel.yaml documents every route, the appeal object and its example, and the callback event
sent back to a channel; docs/channels/api.md explains the signature both ways with worked examples and shows the
channel configuration. A change on either side that the other does not follow fails here.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import tomllib
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from connectors.api.callback import callback_body, callback_event
from connectors.api.connector import CITIZEN, ENTERPRISE, LOCATION, TOP_LEVEL, ApiConnector
from connectors.api.protocol import ANSWERS, EVENT_FIELDS, KINDS, SIGNATURE_HEADER, STATUSES, TIMESTAMP_HEADER
from connectors.base import OutboundEvent
from core.config import ChannelSettings, GatewaySettings, load_config
from core.models import Appeal
from core.signing import sign_body, verify_body
from normalizer.record import AppealType, Attachment
from simulators.api_channel import parse_event
from sync.render import appeal_object
from tests.helpers import API_SECRET, PLATFORM_SECRET, load_test_config
from web.app import create_app
from web.context import CTX

DOCS = Path(__file__).resolve().parents[2] / "docs"
OPENAPI = DOCS / "openapi" / "api-channel.yaml"
GUIDE = DOCS / "channels" / "api.md"
APPEALS_PATH = "/api/v1/channels/{channel_id}/appeals"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
CHINESE_TYPES = {"咨询", "求助", "投诉", "举报", "建议", "表扬", "其他"}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))


def component(spec: dict[str, Any], ref_or_name: str) -> dict[str, Any]:
    """A schema by name or by "#/components/schemas/<name>" reference."""
    return spec["components"]["schemas"][ref_or_name.rsplit("/", 1)[-1]]


def resolved(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    return component(spec, node["$ref"]) if "$ref" in node else node


def noise_complaint(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["components"]["examples"]["noise_complaint"]["value"]


def guide_block(marker: str, language: str) -> str:
    """The first fenced block of `language` after `marker` in docs/channels/api.md."""
    text = GUIDE.read_text(encoding="utf-8")
    m = re.search(re.escape(marker) + r".*?```" + language + r"\n(.*?)\n```", text, re.S)
    assert m, f"docs/channels/api.md has no ```{language} block after {marker!r}"
    return m.group(1)


def guide_section(heading: str) -> str:
    """The text under one heading of docs/channels/api.md, up to the next heading of any level."""
    text = GUIDE.read_text(encoding="utf-8")
    m = re.search(rf"^{re.escape(heading)}\n(.*?)(?=^#+ |\Z)", text, re.S | re.M)
    assert m, f"docs/channels/api.md has no section {heading!r}"
    return m.group(1)


def table_rows(section: str) -> list[list[str]]:
    """The cells of a section's Markdown table, without backticks; the header and separator rows left out."""
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| ---")]
    return [[cell.strip().strip("`") for cell in row.split("|")[1:-1]] for row in rows[1:]]


def worked_example(marker: str) -> dict[str, str]:
    """The `name: value` lines of the worked-example block after marker."""
    lines = guide_block(marker, "text").splitlines()
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in lines)}


def event_from_json(doc: dict[str, Any]) -> OutboundEvent:
    """The outbound event a callback body describes."""
    return OutboundEvent(**{**doc, "at": datetime.fromisoformat(doc["at"])})


def signed_as_documented(spec: dict[str, Any], secret: str, body: bytes) -> dict[str, str]:
    """Request headers built from the documented recipe alone, independently of core.signing."""
    schemes = spec["components"]["securitySchemes"]
    ts = str(int(time.time()))
    signature = hmac.new(secret.encode("utf-8"), ts.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        schemes["timestamp"]["name"]: ts,
        schemes["signature"]["name"]: signature,
    }


@pytest.fixture
async def client(aiohttp_client, tmp_path, db_url):
    config = load_test_config(tmp_path, db_url).config
    return await aiohttp_client(create_app(config))


async def post_documented(client, spec: dict[str, Any], appeal: dict[str, Any]):
    body = json.dumps(appeal, ensure_ascii=False).encode("utf-8")
    return await client.post(
        APPEALS_PATH.format(channel_id="web"), data=body, headers=signed_as_documented(spec, API_SECRET, body)
    )


async def stored_appeal(client, gateway_id: str):
    async with client.app[CTX].engine.connect() as conn:
        return (await conn.execute(select(Appeal).where(Appeal.id == uuid.UUID(gateway_id)))).one()


def test_every_registered_route_is_documented_and_every_documented_route_exists(tmp_path):
    config = load_test_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/huiju.db").config
    routes = {(r.method.lower(), r.resource.canonical) for r in create_app(config).router.routes()}
    # aiohttp answers HEAD beside every GET on its own; the spec says so in the GET operation instead.
    registered = {(m, p) for m, p in routes if not (m == "head" and ("get", p) in routes)}
    documented = {
        (m, p)
        for path in sorted((DOCS / "openapi").glob("*.yaml"))
        # Documents of other systems' interfaces (the 12345 platform's) say who implements them.
        if (doc := yaml.safe_load(path.read_text(encoding="utf-8"))).get("x-implemented-by", "huiju") == "huiju"
        for p, item in doc["paths"].items()
        for m in item
        if m in HTTP_METHODS
    }
    assert registered == documented


def test_the_documented_signature_headers_are_the_ones_the_endpoint_reads(spec):
    schemes = spec["components"]["securitySchemes"]
    assert (schemes["timestamp"]["in"], schemes["timestamp"]["name"]) == ("header", TIMESTAMP_HEADER)
    assert (schemes["signature"]["in"], schemes["signature"]["name"]) == ("header", SIGNATURE_HEADER)
    assert spec["paths"][APPEALS_PATH]["post"]["security"] == [{"timestamp": [], "signature": []}]


def test_the_documented_appeal_fields_are_the_ones_the_connector_maps(spec):
    appeal = component(spec, "Appeal")["properties"]
    assert set(appeal) == TOP_LEVEL
    assert set(resolved(spec, appeal["citizen"])["properties"]) == set(CITIZEN)
    assert set(resolved(spec, appeal["enterprise"])["properties"]) == set(ENTERPRISE)
    assert set(resolved(spec, appeal["location"])["properties"]) == set(LOCATION)
    attachment = resolved(spec, appeal["attachments"]["items"])
    assert set(attachment["properties"]) == {f.name for f in Attachment.__dataclass_fields__.values()}


def test_every_appeal_type_is_documented_in_chinese_and_as_its_code(spec):
    documented = set(component(spec, "AppealType")["enum"])
    assert documented == CHINESE_TYPES | {t.value for t in AppealType}


def test_the_noise_complaint_example_uses_only_documented_fields(spec):
    def check(value: Any, schema: dict[str, Any], where: str) -> None:
        schema = resolved(spec, schema)
        if isinstance(value, dict) and "properties" in schema:
            assert set(schema.get("required", ())) <= set(value), f"{where}: a required field is missing"
            for key, item in value.items():
                assert key in schema["properties"], f"{where}.{key} is not documented"
                check(item, schema["properties"][key], f"{where}.{key}")
        elif isinstance(value, list) and "items" in schema:
            for i, item in enumerate(value):
                check(item, schema["items"], f"{where}[{i}]")

    example = noise_complaint(spec)
    check(example, component(spec, "Appeal"), "noise_complaint")
    assert example["type"] in component(spec, "AppealType")["enum"]


async def test_the_documented_example_signed_as_documented_is_accepted(client, spec):
    resp = await post_documented(client, spec, noise_complaint(spec))

    assert resp.status == 202
    body = await resp.json()
    accepted = component(spec, "Accepted")
    assert set(body) == set(accepted["properties"])
    assert body["status"] == accepted["properties"]["status"]["const"]
    assert uuid.UUID(body["id"])


async def test_the_example_is_stored_as_the_field_reference_says(client, spec):
    resp = await post_documented(client, spec, noise_complaint(spec))
    appeal = await stored_appeal(client, (await resp.json())["id"])

    assert appeal.type == "complaint"
    assert appeal.phone == "+8613812345678"  # E.164
    assert appeal.id_number == "360781198503122048"  # check digit verified, kept
    assert appeal.occurred_at == datetime(2024, 11, 25, 15, 40, tzinfo=UTC)  # no offset: Asia/Shanghai
    assert appeal.division_code == "360781"
    assert appeal.channel_category == "城乡建设/建筑施工"
    assert appeal.extra == noise_complaint(spec)["extra"]
    assert appeal.enterprise is False and appeal.confidential is False


async def test_a_doubtful_optional_value_is_dropped_with_a_warning_not_the_appeal(client, spec):
    example = noise_complaint(spec)
    citizen = {**example["citizen"], "id_number": example["citizen"]["id_number"][:17] + "0"}  # check digit is 8
    appeal = {**example, "source_id": "ZWFW-bad-id", "citizen": citizen}
    resp = await post_documented(client, spec, appeal)

    assert resp.status == 202 and (await resp.json())["status"] == "accepted"
    stored = await stored_appeal(client, (await resp.json())["id"])
    assert stored.id_number is None
    assert "citizen.id_number: bad check digit; dropped" in stored.warnings


async def test_a_body_just_under_the_documented_limit_is_accepted(client, spec):
    limit = GatewaySettings().max_body_bytes
    appeal = {**noise_complaint(spec), "source_id": "ZWFW-large", "extra": {"transcript": ""}}
    room = limit - len(json.dumps(appeal, ensure_ascii=False).encode("utf-8")) - 16
    appeal["extra"]["transcript"] = "x" * room
    resp = await post_documented(client, spec, appeal)

    assert resp.status == 202
    assert (await resp.json())["status"] == "accepted"


async def test_a_report_is_confidential_whatever_the_sender_says(client, spec):
    report = {**noise_complaint(spec), "source_id": "ZWFW-report-1", "type": "举报", "confidential": False}
    resp = await post_documented(client, spec, report)
    assert resp.status == 202

    appeal = await stored_appeal(client, (await resp.json())["id"])
    work_order = appeal_object(appeal._mapping)
    assert appeal.confidential is True
    assert work_order["citizen"] is None
    assert "13812345678" not in json.dumps(work_order, ensure_ascii=False, default=str)


def test_the_worked_signature_example_matches_core_signing():
    example = worked_example("<!-- signing-example")
    body = example["body"].encode("utf-8")

    assert example["message"] == f"{example['timestamp']}.{example['body']}"
    assert sign_body(example["secret"], body, int(example["timestamp"])) == (
        example["timestamp"],
        example["signature"],
    )
    verify_body(
        example["secret"], body, example["timestamp"], example["signature"], 300, now=int(example["timestamp"])
    )


def guide_channel(tmp_path: Path) -> ChannelSettings:
    """The one channel of the guide's configuration, loaded as the gateway loads config.toml."""
    path = tmp_path / "config.toml"
    snippet = guide_block("## Configuration", "toml")
    path.write_text(snippet + '\n[platform]\napp_secret = "${PLATFORM_SECRET}"\n', encoding="utf-8")
    config = load_config(
        path, environ={"HUIJU_WEB_API_SECRET": API_SECRET, "PLATFORM_SECRET": PLATFORM_SECRET}
    ).config
    [channel] = config.channels
    return channel


def test_the_configuration_shown_in_the_guide_is_valid_and_states_the_default_limits(tmp_path):
    snippet = guide_block("## Configuration", "toml")
    shown = tomllib.loads(snippet)
    defaults = GatewaySettings()
    assert shown["gateway"]["max_body_bytes"] == defaults.max_body_bytes == 1024 * 1024
    assert shown["gateway"]["signature_window_seconds"] == defaults.signature_window_seconds == 300

    channel = guide_channel(tmp_path)
    assert (channel.kind, channel.settings["secret"]) == ("api", API_SECRET)


def test_the_configuration_shown_in_the_guide_gives_a_channel_that_delivers(tmp_path):
    channel = guide_channel(tmp_path)

    assert channel.settings["callback_url"] == "https://zwfw.example/huiju/callbacks"
    assert ApiConnector(channel).delivers_now()


def test_the_worked_callback_example_is_signed_as_core_signing_signs():
    example = worked_example("<!-- callback-signing-example")
    body = example["body"].encode("utf-8")

    assert example["message"] == f"{example['timestamp']}.{example['body']}"
    assert f"the body is {len(body)} bytes" in GUIDE.read_text(encoding="utf-8")
    assert sign_body(example["secret"], body, int(example["timestamp"])) == (
        example["timestamp"],
        example["signature"],
    )
    verify_body(
        example["secret"], body, example["timestamp"], example["signature"], 300, now=int(example["timestamp"])
    )


def test_the_worked_callback_body_is_byte_for_byte_what_the_connector_sends():
    example = worked_example("<!-- callback-signing-example")
    body = example["body"].encode("utf-8")

    assert callback_body(event_from_json(json.loads(body))) == body
    assert guide_block("### The callback request", "").splitlines()[-1] == example["body"]


def test_the_documented_callback_event_fields_are_the_ones_the_connector_sends(spec):
    event = component(spec, "AppealEvent")
    assert tuple(event["properties"]) == EVENT_FIELDS
    assert tuple(event["required"]) == EVENT_FIELDS
    assert tuple(event["properties"]["kind"]["enum"]) == KINDS
    assert tuple(row[0] for row in table_rows(guide_section("### The event"))) == EVENT_FIELDS


def test_every_status_is_documented_with_its_chinese_name(spec):
    assert component(spec, "EventStatus")["enum"] == list(STATUSES)
    assert {row[0]: row[1] for row in table_rows(guide_section("#### Statuses"))} == STATUSES


def test_the_documented_answers_are_the_ones_the_connector_reads(spec):
    assert tuple(component(spec, "EventAnswer")["properties"]["status"]["enum"]) == ANSWERS
    post = spec["webhooks"]["appealEvent"]["post"]
    examples = post["responses"]["200"]["content"]["application/json"]["examples"]
    assert {e["value"]["status"] for e in examples.values()} == set(ANSWERS)
    assert post["security"] == [{"timestamp": [], "signature": []}]


def test_the_callback_examples_are_what_the_connector_sends_and_the_channel_accepts(spec):
    for name in ("reply_event", "dispatched_event"):
        value = spec["components"]["examples"][name]["value"]
        body = json.dumps(value, ensure_ascii=False).encode("utf-8")

        assert callback_event(event_from_json(value)) == value, name
        assert parse_event(body) == value, name


class _Store:
    """What the guide's receiver needs from storage: add an event once by its id."""

    def __init__(self) -> None:
        self.events: dict[str, dict[str, Any]] = {}

    def add(self, event_id: str, event: dict[str, Any]) -> tuple[str, bool]:
        new = event_id not in self.events
        self.events.setdefault(event_id, event)
        return f"R-{list(self.events).index(event_id) + 1}", new


def guide_receiver():
    """The handle_callback function the guide shows, defined from the guide's own text."""
    namespace: dict[str, Any] = {}
    exec(guide_block("#### Checking it in Python", "python"), namespace)
    return namespace["handle_callback"]


def test_the_guides_receiver_accepts_a_callback_signed_as_the_connector_signs_and_answers_a_retry_as_duplicate():
    handle_callback, store = guide_receiver(), _Store()
    body = callback_body(event_from_json(json.loads(worked_example("<!-- callback-signing-example")["body"])))
    ts, sig = sign_body(API_SECRET, body)

    assert handle_callback(API_SECRET, ts, sig, body, store) == (200, {"status": "received", "reference": "R-1"})
    assert handle_callback(API_SECRET, ts, sig, body, store) == (200, {"status": "duplicate", "reference": "R-1"})


def test_the_guides_receiver_refuses_a_wrong_signature_with_401():
    handle_callback, store = guide_receiver(), _Store()
    body = b'{"event_id":"e1"}'
    ts, sig = sign_body("another-secret-0123456789", body)

    status, answer = handle_callback(API_SECRET, ts, sig, body, store)
    assert (status, answer["error"]) == (401, "bad_signature")
    assert store.events == {}
