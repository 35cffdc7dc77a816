"""The documents are the contract: the 12345 OpenAPI document and guide say what the simulator does.

The platform's operator implements from the documents alone, and huiju's dispatcher is written against them;
a change on either side that the other does not follow fails here.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.signing import body_digest, canonical_request, sign_request
from simulators.cli import HOTLINE_PORT
from simulators.hotline import app as platform_app
from simulators.hotline import build_platform
from simulators.hotline.platform import Knobs
from tests.simulators.hotline.schema import Validator
from tests.simulators.hotline.support import APP_KEY, APP_SECRET, case

ROOT = Path(__file__).resolve().parents[3]
OPENAPI = ROOT / "docs" / "openapi" / "platform12345.yaml"
GUIDE = (ROOT / "docs" / "platform12345.md").read_text(encoding="utf-8")
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))


def example(spec: dict[str, Any], name: str) -> Any:
    return spec["components"]["examples"][name]["value"]


def assert_valid(spec: dict[str, Any], value: Any, schema: str) -> None:
    errors = Validator(spec, closed=True).errors(value, {"$ref": f"#/components/schemas/{schema}"})
    assert errors == [], f"{schema}: {errors}"


# -- the OpenAPI document -------------------------------------------------------------------------------------


def test_the_openapi_document_parses_as_openapi_3_1(spec):
    assert spec["openapi"] == "3.1.0"
    assert spec["paths"] and spec["components"]["schemas"] and spec["webhooks"]["workOrderEvent"]


def test_every_reference_in_the_document_resolves(spec):
    refs = re.findall(r'\$ref: "(#/[^"]+)"', OPENAPI.read_text(encoding="utf-8"))
    assert refs
    for ref in refs:
        node: Any = spec
        for part in ref.removeprefix("#/").split("/"):
            assert part in node, f"{ref} does not resolve"
            node = node[part]


def test_every_route_the_simulator_serves_is_documented_and_every_documented_one_is_served(spec):
    app = build_platform(APP_KEY, APP_SECRET)
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        if not route.resource.canonical.startswith("/_sim/")
    }
    documented = {(m, path) for path, item in spec["paths"].items() for m in item if m in HTTP_METHODS}
    assert served == documented


def test_every_documented_path_parameter_is_declared(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            declared = {
                (p.get("name") or spec["components"]["parameters"][p["$ref"].rsplit("/", 1)[-1]]["name"])
                for p in operation.get("parameters", [])
            }
            assert set(re.findall(r"{(\w+)}", path)) <= declared, f"{method} {path}"


def test_every_operation_documents_the_signature_and_transient_failures(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            assert {"401", "429", "503"} <= set(operation["responses"]), f"{method} {path}"


def test_the_documented_examples_fit_their_schemas(spec):
    for name, schema in [
        ("create_complaint", "CreateWorkOrder"),
        ("create_confidential_report", "CreateWorkOrder"),
        ("attach_repeat", "AttachRepeat"),
        ("share_12315", "ShareRecord"),
        ("create_board_message", "CreateWorkOrder"),
        ("return_review", "ReturnWorkOrder"),
        ("update_12315_dispatched", "UpdateSharedRecord"),
        ("update_12315_replied", "UpdateSharedRecord"),
        ("event_dispatched", "Event"),
        ("event_returned", "Event"),
        ("event_returned_by_review", "Event"),
        ("event_replied", "Event"),
        ("event_page", "EventPage"),
    ]:
        assert_valid(spec, example(spec, name), schema)


def test_the_documented_confidential_example_carries_no_identity(spec):
    report = example(spec, "create_confidential_report")["appeal"]
    assert report["type"] == "report" and report["confidential"] is True and report["citizen"] is None


# -- the simulator does what the document says ------------------------------------------------------------------


async def test_the_documented_requests_are_accepted_and_the_answers_fit_the_document(spec, platform):
    client = await platform(return_rate=1.0, extend_rate=1.0)
    created = await client.post("/api/v1/work-orders", example(spec, "create_complaint"))
    assert created.status == 201
    assert_valid(spec, created.body, "WorkOrderCreated")
    no = created.body["work_order_no"]
    report = await client.post("/api/v1/work-orders", example(spec, "create_confidential_report"))
    assert report.status == 201
    repeat = await client.post(f"/api/v1/work-orders/{no}/repeats", example(spec, "attach_repeat"))
    assert repeat.status == 201
    assert_valid(spec, repeat.body, "RepeatAnswer")
    flags = spec["paths"]["/api/v1/work-orders/{work_order_no}/flags"]["post"]["requestBody"]["content"]
    for flag in flags["application/json"]["examples"].values():
        answer = await client.post(f"/api/v1/work-orders/{no}/flags", flag["value"])
        assert answer.status == 201, answer.body
        assert_valid(spec, answer.body, "FlagAnswer")
    record = await client.post("/api/v1/shared-records", example(spec, "share_12315"))
    assert record.status == 201
    assert_valid(spec, record.body, "SharedRecordAnswer")
    ping = await client.get("/api/v1/ping")
    assert_valid(spec, ping.body, "Ping")
    for _ in range(10):  # returned twice and extended: every kind of event
        await client.control("POST", f"/_sim/work-orders/{no}/advance")
    view = await client.get(f"/api/v1/work-orders/{no}")
    assert_valid(spec, view.body, "WorkOrder")
    assert {e["type"] for e in view.body["events"]} == {
        "accepted",
        "dispatched",
        "returned",
        "extended",
        "replied",
        "closed",
        "revisited",
    }
    page = await client.get("/api/v1/work-orders/events", {"limit": "3"})
    assert_valid(spec, page.body, "EventPage")


async def test_a_documented_return_and_documented_updates_are_accepted_and_answered_as_documented(spec, platform):
    client = await platform(return_rate=0.0, extend_rate=0.0)
    board = example(spec, "create_board_message")
    no = (await client.post("/api/v1/work-orders", board)).body["work_order_no"]
    for _ in range(3):  # accepted, dispatched, replied
        await client.control("POST", f"/_sim/work-orders/{no}/advance")
    returned = await client.post(f"/api/v1/work-orders/{no}/returns", example(spec, "return_review"))
    assert returned.status == 201, returned.body
    assert_valid(spec, returned.body, "ReturnAnswer")
    for _ in range(4):  # dispatched, replied, closed, revisited
        await client.control("POST", f"/_sim/work-orders/{no}/advance")
    view = await client.get(f"/api/v1/work-orders/{no}")
    assert_valid(spec, view.body, "WorkOrder")
    review = view.body["events"][3]
    assert (review["type"], review["by"]) == ("returned", "review")
    record_no = (await client.post("/api/v1/shared-records", example(spec, "share_12315"))).body["record_no"]
    for name in ("update_12315_dispatched", "update_12315_replied"):
        update = await client.post(f"/api/v1/shared-records/{record_no}/updates", example(spec, name))
        assert update.status == 201, update.body
        assert_valid(spec, update.body, "RecordUpdateAnswer")


def test_the_guides_json_examples_are_the_openapi_examples(spec):
    for marker, name in [
        ("return-request", "return_review"),
        ("event-returned-by-review", "event_returned_by_review"),
        ("update-request:", "update_12315_replied"),
    ]:
        assert json.loads(block_after(marker)) == example(spec, name), marker


@pytest.mark.parametrize("marker", ["event-returned-by-unit", "event-returned-by-review"])
def test_the_guides_returned_events_fit_the_event_schema(spec, marker):
    assert_valid(spec, json.loads(block_after(marker)), "Event")


async def test_the_error_answers_fit_the_document(spec, platform):
    client = await platform()
    answers = [
        await client.post("/api/v1/work-orders", case(1, confidential=True, type="report")),
        await client.request("POST", "/api/v1/work-orders", raw=b"[]"),
        await client.get("/api/v1/work-orders/WO-unknown"),
        await client.get("/api/v1/nothing"),
    ]
    second = (await client.post("/api/v1/work-orders", case(2))).body["work_order_no"]
    answers.append(await client.post("/api/v1/work-orders", case(2, title="改")))
    board = example(spec, "create_board_message")
    board_no = (await client.post("/api/v1/work-orders", board)).body["work_order_no"]
    answers.append(await client.post(f"/api/v1/work-orders/{board_no}/returns", example(spec, "return_review")))
    answers.append(await client.post(f"/api/v1/work-orders/{second}/returns", example(spec, "return_review")))
    answers.append(
        await client.post("/api/v1/shared-records/SR-unknown/updates", example(spec, "update_12315_replied"))
    )
    await client.control("PUT", "/_sim/knobs", {"error_rate": 1.0, "error_statuses": [429]})
    answers.append(await client.get("/api/v1/ping"))
    await client.control("PUT", "/_sim/knobs", {"error_rate": 0.0, "outage": True})
    answers.append(await client.get("/api/v1/ping"))
    assert [a.status for a in answers] == [400, 400, 404, 404, 409, 409, 409, 404, 429, 503]
    assert [a.body["error"] for a in answers[5:8]] == ["not_replied", "case_mismatch", "record_not_found"]
    for answer in answers:
        assert_valid(spec, answer.body, "Error")


async def test_callbacks_carry_documented_events(spec, platform, receiver):
    r, url = receiver
    client = await platform(callback_url=url, return_rate=1.0)
    no = (await client.post("/api/v1/work-orders", case(1))).body["work_order_no"]
    for _ in range(4):
        await client.control("POST", f"/_sim/work-orders/{no}/advance")
    from tests.simulators.hotline.support import eventually

    for event in await eventually(lambda: len(r.events) == 4 and r.events):
        assert_valid(spec, event, "Event")


def codes_raised_by_the_simulator() -> set[str]:
    """The error codes the simulator's handlers answer by name (besides the generic ones of injected errors)."""
    source = Path(platform_app.__file__).read_text(encoding="utf-8")
    used = set(re.findall(r'error\(\s*\d+,\s*"(\w+)"', source)) | set(re.findall(r'BodyError\(\s*"(\w+)"', source))
    return used | {"invalid_json", "validation_failed"}  # raised in simulators/hotline/protocol.py


def test_the_simulator_uses_only_documented_error_codes(spec):
    used = codes_raised_by_the_simulator() | set(platform_app.ERROR_CODES.values())
    documented = set(spec["components"]["schemas"]["Error"]["properties"]["error"]["enum"])
    assert used <= documented, used - documented


def table_after(marker: str) -> list[list[str]]:
    """The body rows (cells, backticks removed) of the markdown table right after a marker."""
    lines = GUIDE[GUIDE.index(f"<!-- {marker}") :].splitlines()[1:]
    rows = []
    for line in lines:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows[2:]


def test_the_guide_error_table_names_every_code_the_simulator_answers_by_name():
    codes = {code for row in table_after("error-table") for code in re.findall(r"`([a-z_]+)`", row[1])}
    assert codes_raised_by_the_simulator() <= codes, codes_raised_by_the_simulator() - codes


def test_the_guide_error_table_names_only_documented_codes(spec):
    rows = table_after("error-table")
    codes = {code for row in rows for code in re.findall(r"`([a-z_]+)`", row[1])}
    assert {"validation_failed", "bad_signature", "idempotency_conflict", "rate_limited"} <= codes
    documented = set(spec["components"]["schemas"]["Error"]["properties"]["error"]["enum"])
    assert codes <= documented


# -- the guide ------------------------------------------------------------------------------------------------


def block_after(marker: str) -> str:
    match = re.search(rf"<!-- {re.escape(marker)}[^>]*-->\s*```[a-z]*\n(.*?)\n```", GUIDE, re.S)
    assert match, f"no code block after <!-- {marker} -->"
    return match.group(1)


def values(marker: str) -> dict[str, str]:
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in block_after(marker).splitlines())}


@pytest.mark.parametrize(
    "marker", ["signing-example-create:", "signing-example-feed:", "signing-example-callback:"]
)
@pytest.mark.parametrize(
    ("method", "digest", "signature"),
    [("hmac-sha256", "sha256 body", "hmac-sha256"), ("sm3", "sm3 body", "hmac-sm3")],
)
def test_the_signing_examples_are_what_core_signing_computes(marker, method, digest, signature):
    v = values(marker)
    body = b"" if v["body"] == "(empty)" else v["body"].encode()
    query = dict(part.split("=", 1) for part in v["query"].split(", ")) if "query" in v else {}
    if digest in v:
        assert v[digest] == body_digest(method, body)
    expected = sign_request(
        method, v["secret"], v["method"], v["path"], query, v["app key"], v["timestamp"], v["nonce"], body
    )
    assert v[signature] == expected


def test_the_canonical_request_shown_is_what_core_signing_builds():
    v = values("signing-example-create:")
    built = canonical_request(
        v["method"], v["path"], {}, v["app key"], v["timestamp"], v["nonce"], v["sha256 body"]
    ).decode()
    assert block_after("canonical-create") == built


def test_the_signed_create_body_is_the_documented_example(spec):
    v = values("signing-example-create:")
    body = v["body"].encode()
    assert len(body) == 705 and "705 bytes" in GUIDE
    assert json.loads(body) == example(spec, "create_complaint")
    shown = re.search(r"A complaint from the generic API channel:\s*```json\n(.*?)\n```", GUIDE, re.S)
    assert shown and json.loads(shown.group(1)) == json.loads(body)


def test_the_signed_callback_is_the_documented_event(spec):
    body = values("signing-example-callback:")["body"].encode()
    assert len(body) == 301 and "(301 bytes)" in GUIDE
    assert json.loads(body) == example(spec, "event_dispatched")


def test_the_knob_table_lists_every_knob_with_its_default():
    rows = [[c.strip("`") for c in row] for row in table_after("knobs-table")]
    defaults = Knobs().model_dump()
    assert [r[0] for r in rows] == list(defaults)
    for name, default, _ in rows:
        assert json.loads(default.lower()) == defaults[name], name


def test_the_simulator_listens_where_config_toml_points_the_platform():
    config = tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))
    assert config["platform"]["base_url"].endswith(f":{HOTLINE_PORT}")
    assert f"`{HOTLINE_PORT}`" in GUIDE
