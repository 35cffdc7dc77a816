"""The documents are part of the contract: docs/ must say what the code does.

docs/openapi/api-channel.yaml documents every route, the appeal object and its example; docs/channels/api.md
explains the signature with a worked example and shows the channel configuration. A change on either side
that the other does not follow fails here.
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

from connectors.api.connector import CITIZEN, ENTERPRISE, LOCATION, TOP_LEVEL
from connectors.api.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER
from core.config import GatewaySettings, load_config
from core.models import Appeal
from core.signing import sign_body, verify_body
from normalizer.record import AppealType, Attachment
from sync.outbox import work_order_payload
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
    work_order = work_order_payload(appeal.case_id, appeal._mapping)
    assert appeal.confidential is True
    assert work_order["citizen"] is None
    assert "13812345678" not in json.dumps(work_order, ensure_ascii=False, default=str)


def test_the_worked_signature_example_matches_core_signing():
    example = dict(line.split(":", 1) for line in guide_block("<!-- signing-example", "text").splitlines())
    example = {k.strip(): v.strip() for k, v in example.items()}
    body = example["body"].encode("utf-8")

    assert example["message"] == f"{example['timestamp']}.{example['body']}"
    assert sign_body(example["secret"], body, int(example["timestamp"])) == (
        example["timestamp"],
        example["signature"],
    )
    verify_body(
        example["secret"], body, example["timestamp"], example["signature"], 300, now=int(example["timestamp"])
    )


def test_the_configuration_shown_in_the_guide_is_valid_and_states_the_default_limits(tmp_path):
    snippet = guide_block("## Configuration", "toml")
    shown = tomllib.loads(snippet)
    defaults = GatewaySettings()
    assert shown["gateway"]["max_body_bytes"] == defaults.max_body_bytes == 1024 * 1024
    assert shown["gateway"]["signature_window_seconds"] == defaults.signature_window_seconds == 300

    path = tmp_path / "config.toml"
    path.write_text(snippet + '\n[platform]\napp_secret = "${PLATFORM_SECRET}"\n', encoding="utf-8")
    config = load_config(
        path, environ={"HUIJU_WEB_API_SECRET": API_SECRET, "PLATFORM_SECRET": PLATFORM_SECRET}
    ).config
    [channel] = config.channels
    assert (channel.kind, channel.settings["secret"]) == ("api", API_SECRET)
