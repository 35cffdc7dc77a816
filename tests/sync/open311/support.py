"""What the Open311 tests share: an appeal row as the dispatcher reads it, settings, the JSON Schemas."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.config import Open311Settings, PlatformSettings
from sync.targets.base import CREATE_WORK_ORDER, RenderContext

API_KEY = "test-open311-key-0123"
JURISDICTION = "ganzhou.gov.cn"
SCHEMAS = Path(__file__).parent / "fixtures" / "georeport_v2_jsonschema"
CASE_ID = uuid.UUID("0193605e-8f2a-7c41-9d3e-5b8a1c2f4e60")
SERVICE_CODES = {"物业管理": "009", "市容环境": "004", "供水": "008"}


def appeal(**changes: Any) -> dict[str, Any]:
    """A stored appeal (core.models.Appeal's columns): a property complaint in 章贡区, not confidential."""
    row: dict[str, Any] = {
        "id": uuid.UUID("0193605e-9a00-7000-8000-000000000001"),
        "case_id": CASE_ID,
        "channel_id": "web",
        "source_id": "W-20241125-0042",
        "mode": "hotline_flow",
        "received_at": datetime(2024, 11, 25, 2, 0, tzinfo=UTC),
        "occurred_at": None,
        "type": "投诉",
        "title": "小区电梯长期故障无人维修",
        "content": "我住在章贡区红旗大道88号阳光小区3栋，电梯坏了两个星期，物业一直不修。联系电话13807970042。",
        "citizen_name": "欧阳明",
        "phone": "13807970042",
        "id_number": "360702199001011234",
        "openid": None,
        "unionid": None,
        "user_id": None,
        "confidential": False,
        "enterprise": False,
        "enterprise_name": None,
        "credit_code": None,
        "address": "章贡区红旗大道88号阳光小区",
        "division_code": "360702",
        "township": "解放街道",
        "lat": 25.8311,
        "lon": 114.9332,
        "channel_category": "住房",
        "category": "物业管理",
        "time_tier": "7d",
        "tier_reason": "ordinary",
        "emergency": None,
        "attachments": [],
        "sources": {},
        "extra": {},
        "warnings": [],
        "match_title": "",
        "match_content": "",
    }
    return row | changes


def report(**changes: Any) -> dict[str, Any]:
    """A whistle-blower's report (举报): confidential, naming the reporter in its own text."""
    return appeal(
        type="举报",
        confidential=True,
        citizen_name="李建国",
        phone="13912345678",
        title="举报李建国所在单位旁的餐馆违规排污（李建国）",
        content="本人李建国，电话139-1234-5678，身份证360702199001011234，举报某餐馆夜间向雨水管排放油污。",
        category="市容环境",
        **changes,
    )


def context(row: dict[str, Any] | None = None, kind: str = CREATE_WORK_ORDER) -> RenderContext:
    """What the dispatcher renders a message from."""
    row = appeal() if row is None else row
    return RenderContext(kind, {}, {"id": row["case_id"]}, row, None)


def settings(base_url: str = "http://127.0.0.1:9", **open311: Any) -> PlatformSettings:
    """[platform] kind = "open311" with a [platform.open311] table (changes on top of the tests' defaults)."""
    table = {
        "api_key": API_KEY,
        "jurisdiction_id": JURISDICTION,
        "default_service_code": "010",
        "service_codes": SERVICE_CODES,
    } | open311
    return PlatformSettings(kind="open311", base_url=base_url, timeout_seconds=5, open311=Open311Settings(**table))


def schema(name: str) -> dict[str, Any]:
    """One of the spec's JSON Schemas (fixtures/georeport_v2_jsonschema)."""
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


TYPES = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}


def schema_errors(value: Any, node: dict[str, Any], where: str = "$") -> list[str]:
    """What the spec's schemas use (type, enum, required, properties, anyOf, maxLength, items, format
    date-time), with objects closed: a key the schema does not name is an error."""
    if "anyOf" in node:
        if all(schema_errors(value, option, where) for option in node["anyOf"]):
            return [f"{where}: matches none of anyOf"]
        return []
    errors: list[str] = []
    kind = node.get("type")
    if kind and not TYPES[kind](value):
        return [f"{where}: {value!r} is not {kind}"]
    if "enum" in node and value not in node["enum"]:
        errors.append(f"{where}: {value!r} not in {node['enum']}")
    if isinstance(value, str) and "maxLength" in node and len(value) > node["maxLength"]:
        errors.append(f"{where}: longer than {node['maxLength']}")
    if isinstance(value, str) and node.get("format") == "date-time":
        try:
            if datetime.fromisoformat(value).tzinfo is None:
                errors.append(f"{where}: {value!r} has no timezone")
        except ValueError:
            errors.append(f"{where}: {value!r} is not a date-time")
    if "properties" in node or "required" in node:
        if not isinstance(value, dict):
            return [f"{where}: not an object"]
        properties = node.get("properties", {})
        errors += [f"{where}: missing {k}" for k in node.get("required", []) if k not in value]
        errors += [f"{where}: {k} is not in the schema" for k in value if k not in properties]
        for k, sub in properties.items():
            if k in value:
                errors += schema_errors(value[k], sub, f"{where}.{k}")
    if "items" in node and isinstance(value, list):
        for i, item in enumerate(value):
            errors += schema_errors(item, node["items"], f"{where}[{i}]")
    return errors
