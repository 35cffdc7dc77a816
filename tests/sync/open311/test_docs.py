"""docs/targets/open311.md is the contract: its configuration, knobs and routes are the code's."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from core.config import Open311Settings, PlatformSettings
from simulators.open311 import build_open311
from simulators.open311.city import Knobs
from sync.targets.base import CREATE_WORK_ORDER
from sync.targets.open311 import SKIP_REASONS
from tests.sync.open311.support import API_KEY

GUIDE = (Path(__file__).resolve().parents[3] / "docs" / "targets" / "open311.md").read_text(encoding="utf-8")


def table_after(marker: str) -> list[list[str]]:
    """The rows of the first Markdown table after a line containing `marker` (header and rule left out)."""
    at = GUIDE.index(marker)
    lines = GUIDE[GUIDE.rindex("\n", 0, at) + 1 :].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows


def test_the_configuration_example_is_a_valid_platform_table():
    example = re.search(r"```toml\n(.*?)```", GUIDE, re.S)
    assert example
    platform = tomllib.loads(example.group(1))["platform"]
    settings = PlatformSettings.model_validate(platform)
    assert settings.kind == "open311" and settings.open311 is not None
    assert settings.open311.service_codes["物业管理"] == "009"


def test_every_configuration_key_is_documented():
    documented = {row[0].strip("`") for row in table_after("| key | default | meaning |")}
    assert set(Open311Settings.model_fields) <= documented
    assert {"kind", "base_url", "timeout_seconds"} <= documented


def test_the_knobs_table_is_the_simulators_knobs_with_their_defaults():
    rows = table_after("knobs-table")
    documented = {row[0].strip("`"): row[1] for row in rows}
    defaults = Knobs().model_dump()
    assert set(documented) == set(defaults)
    for name, value in defaults.items():
        shown = documented[name]
        if isinstance(value, bool):
            assert shown == str(value).lower(), name
        elif isinstance(value, list):
            assert shown == f"`{value}`", name
        else:
            assert float(shown) == float(value), name


def test_every_route_the_simulator_serves_is_documented():
    app = build_open311(API_KEY)
    for route in app.router.routes():
        if route.method == "HEAD":  # aiohttp's twin of each GET
            continue
        path = route.resource.canonical
        written = re.sub(r"\{(\w+)(:[^}]*)?\}", r"{\1}", path).replace(".{fmt}", ".json")
        written = written.replace("{service_code}", "{code}").replace("{service_request_id}", "{id}")
        assert f"{route.method} {written}" in GUIDE, written


def test_every_message_kind_the_target_skips_is_in_the_table_of_what_cannot_be_expressed():
    documented = {row[0].strip("`"): row[2] for row in table_after("| message | at the 12345 platform |")}
    assert set(documented) == {*SKIP_REASONS, CREATE_WORK_ORDER}
    assert all(documented[kind].startswith("skipped") for kind in SKIP_REASONS)
