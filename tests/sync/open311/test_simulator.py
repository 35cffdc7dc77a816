"""The Open311 simulator answers as GeoReport v2 says: services, validation, filters, tokens, errors, knobs."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import aiohttp
import pytest

from simulators.open311 import build_open311, running
from simulators.open311.services import SERVICES
from tests.sync.open311.conftest import FAST, FAST_SCALE
from tests.sync.open311.support import API_KEY, JURISDICTION, schema, schema_errors
from tests.sync.support import eventually

PLACE = {"address_string": "章贡区红旗大道88号"}


def z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- services ---------------------------------------------------------------------------------------------------


async def test_the_service_list_matches_the_specs_schema(open311):
    server = await open311()
    status, services = await server.call("GET", "/services.json")
    assert status == 200 and len(services) == len(SERVICES) >= 8
    for service in services:
        assert schema_errors(service, schema("service.json")) == []
    assert {s["type"] for s in services} == {"realtime"}


async def test_a_service_definition_matches_the_specs_schema(open311):
    server = await open311()
    status, definition = await server.call("GET", "/services/007.json")
    assert status == 200 and schema_errors(definition, schema("service-definition.json")) == []
    plate = next(a for a in definition["attributes"] if a["code"] == "plate")
    assert plate["required"] is True


async def test_an_unknown_service_definition_is_404_in_the_error_list(open311):
    server = await open311()
    assert await server.call("GET", "/services/999.json") == (
        404,
        [{"code": 404, "description": "service_code '999' was not found."}],
    )


async def test_services_are_batch_while_tokens_are_on(open311):
    server = await open311(async_tokens=True)
    _, services = await server.call("GET", "/services.json")
    assert {s["type"] for s in services} == {"batch"}


async def test_every_answer_is_also_served_as_xml(open311):
    server = await open311()
    await server.post(service_code="001", **PLACE)
    async with server.session.get(server.url + "/requests.xml") as r:
        assert r.status == 200 and r.content_type == "text/xml"
        root = ET.fromstring(await r.text())
    assert root.tag == "service_requests"
    assert [e.tag for e in root] == ["request"] and root.find("request/service_code").text == "001"
    async with server.session.get(server.url + "/services/404.xml") as r:
        root = ET.fromstring(await r.text())
    assert r.status == 404 and root.tag == "errors" and root.find("error/code").text == "404"


# -- POST /requests ---------------------------------------------------------------------------------------------


async def test_a_request_is_created_with_its_id_and_service_notice(open311):
    server = await open311()
    status, [created] = await server.post(service_code="001", lat="25.83", long="114.93")
    assert status == 200
    assert set(created) == {"service_request_id", "service_notice", "account_id"}
    assert "道路破损" in created["service_notice"]


async def test_a_created_request_reads_back_as_the_specs_schema_describes(open311):
    server = await open311()
    _, [created] = await server.post(service_code="001", description="路面坑洼", first_name="明", **PLACE)
    status, [doc] = await server.call("GET", f"/requests/{created['service_request_id']}.json")
    assert status == 200 and schema_errors(doc, schema("request.json")) == []
    assert (doc["status"], doc["description"], doc["address"]) == ("open", "路面坑洼", PLACE["address_string"])
    assert "first_name" not in doc  # what the citizen submitted about themselves is never published


@pytest.mark.parametrize("api_key", [None, "", "wrong"])
async def test_a_missing_or_wrong_api_key_is_403_with_the_specs_description(open311, api_key):
    server = await open311()
    form = {"service_code": "001", **PLACE} | ({"api_key": api_key} if api_key is not None else {})
    status, body = await server.call("POST", "/requests.json", data=form)
    assert (status, body) == (
        403,
        [{"code": 403, "description": "Invalid api_key received -- can't proceed with create_request."}],
    )
    assert await server.held() == []


@pytest.mark.parametrize(
    ("form", "status", "says"),
    [
        ({**PLACE}, 400, "service_code was not provided"),
        ({"service_code": "999", **PLACE}, 404, "service_code '999' was not found"),
        ({"service_code": "001"}, 400, "A location is required"),
        ({"service_code": "001", "lat": "25.8"}, 400, "lat and long must both be sent"),
        ({"service_code": "001", "lat": "north", "long": "114.9"}, 400, "is not a number"),
        ({"service_code": "001", "lat": "95", "long": "114.9"}, 400, "out of range"),
        ({"service_code": "001", "description": "坑" * 4001, **PLACE}, 400, "longer than 4000"),
        ({"service_code": "007", **PLACE}, 400, "attribute[plate] is required"),
        (
            {"service_code": "007", "attribute[plate]": "赣B1", "attribute[vehicle_type]": "tank", **PLACE},
            400,
            "one of",
        ),
        ({"service_code": "001", "jurisdiction_id": "elsewhere.gov", **PLACE}, 404, "jurisdiction_id"),
    ],
)
async def test_a_request_the_spec_refuses_is_answered_with_the_error_list(open311, form, status, says):
    server = await open311()
    answered, errors = await server.post(**form)
    assert answered == status
    assert all(e["code"] == status for e in errors) and any(says in e["description"] for e in errors)
    assert await server.held() == []


async def test_every_problem_of_a_form_is_listed_at_once(open311):
    server = await open311()
    status, errors = await server.post(service_code="007", lat="95", long="200")
    assert status == 400 and len(errors) == 3  # lat, long, and the plate


async def test_an_address_id_alone_is_a_location_and_attributes_are_kept(open311):
    server = await open311()
    status, _ = await server.post(service_code="007", address_id="A-545483", **{"attribute[plate]": "赣B12345"})
    assert status == 200
    [held] = await server.held()
    assert held["address_id"] == "A-545483" and held["attributes"] == {"plate": ["赣B12345"]}


async def test_a_body_that_is_not_a_form_is_refused(open311):
    server = await open311()
    status, errors = await server.call("POST", "/requests.json", json={"api_key": API_KEY, "service_code": "001"})
    assert status == 400 and "x-www-form-urlencoded" in errors[0]["description"]


async def test_the_jurisdiction_served_is_accepted_and_none_is_too(open311):
    server = await open311()
    assert (await server.post(service_code="001", jurisdiction_id=JURISDICTION, **PLACE))[0] == 200
    assert (await server.call("GET", "/requests.json", params={"jurisdiction_id": JURISDICTION}))[0] == 200
    assert (await server.call("GET", "/services.json", params={"jurisdiction_id": "x.gov"}))[0] == 404


# -- GET /requests ----------------------------------------------------------------------------------------------


async def ids(server, **params) -> list[str]:
    status, body = await server.call("GET", "/requests.json", params=params)
    assert status == 200, body
    return [r["service_request_id"] for r in body]


async def test_requests_are_listed_newest_first(open311):
    server = await open311()
    made = [(await server.post(service_code="001", **PLACE))[1][0]["service_request_id"] for _ in range(3)]
    assert await ids(server) == made[::-1]


async def test_requests_are_filtered_by_service_code_declared_once_or_many_times(open311):
    server = await open311()
    for code in ("001", "002", "003"):
        await server.post(service_code=code, **PLACE)
    codes = {"001": "1000001", "002": "1000002", "003": "1000003"}
    assert await ids(server, service_code="002") == [codes["002"]]
    assert sorted(await ids(server, service_code="001,003")) == [codes["001"], codes["003"]]
    _, body = await server.call("GET", "/requests.json?service_code=001&service_code=002")
    assert sorted(r["service_request_id"] for r in body) == [codes["001"], codes["002"]]


async def test_requests_are_filtered_by_status(open311):
    server = await open311()
    for _ in range(2):
        await server.post(service_code="001", **PLACE)
    for _ in range(2):
        await server.call("POST", "/_sim/service-requests/1000002/advance")
    assert await ids(server, status="closed") == ["1000002"]
    assert await ids(server, status="open") == ["1000001"]
    assert len(await ids(server, status="open,closed")) == 2
    status, errors = await server.call("GET", "/requests.json", params={"status": "pending"})
    assert status == 400 and "open or closed" in errors[0]["description"]


async def test_requests_are_filtered_by_requested_datetime(open311):
    server = await open311()
    await server.post(service_code="001", **PLACE)
    now = server.city.clock.now()
    assert await ids(server, start_date=z(now - timedelta(hours=1)), end_date=z(now + timedelta(hours=1))) == [
        "1000001"
    ]
    assert await ids(server, start_date=z(now + timedelta(hours=1))) == []
    assert await ids(server, end_date=z(now - timedelta(hours=1))) == []


async def test_without_dates_the_most_recent_90_days_are_listed(open311):
    server = await open311()
    await server.post(service_code="001", **PLACE)
    await server.post(service_code="001", **PLACE)
    server.city.requests["1000001"].requested_at -= timedelta(days=91)
    assert await ids(server) == ["1000002"]


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"start_date": "2024-01-01T00:00:00Z", "end_date": "2024-05-01T00:00:00Z"}, "more than 90 days"),
        ({"start_date": "2024-05-01T00:00:00Z", "end_date": "2024-04-01T00:00:00Z"}, "before start_date"),
        ({"start_date": "2024-05-01"}, "with a timezone"),
        ({"end_date": "May 1st"}, "W3C date-time"),
    ],
)
async def test_a_bad_date_window_is_400(open311, params, says):
    server = await open311()
    status, errors = await server.call("GET", "/requests.json", params=params)
    assert status == 400 and says in errors[0]["description"]


async def test_service_request_ids_override_every_other_argument(open311):
    server = await open311()
    for _ in range(3):
        await server.post(service_code="001", **PLACE)
    found = await ids(server, service_request_id="1000003,1000001,404", service_code="999", status="closed")
    assert found == ["1000003", "1000001"]


async def test_at_most_1000_requests_are_answered_by_default_and_max_results_lowers_it(open311):
    server = await open311(max_results=2)
    for _ in range(3):
        await server.post(service_code="001", **PLACE)
    assert len(await ids(server)) == 2
    assert (await server.knobs(max_results=1000))["max_results"] == 1000
    assert len(await ids(server)) == 3
    status, body = await server.call("PUT", "/_sim/knobs", json={"max_results": 1001})
    assert status == 400 and "max_results" in body["error"]


async def test_one_request_is_read_by_id_and_an_unknown_one_is_404(open311):
    server = await open311()
    await server.post(service_code="001", **PLACE)
    assert (await server.call("GET", "/requests/1000001.json"))[1][0]["service_request_id"] == "1000001"
    assert await server.call("GET", "/requests/999.json") == (
        404,
        [{"code": 404, "description": "service_request_id '999' was not found."}],
    )


# -- tokens and the life of a request -------------------------------------------------------------------------


async def test_a_token_has_no_id_until_the_back_office_has_made_the_request(open311):
    server = await open311(clock_scale=1e-3, async_tokens=True, token_delay_s=200.0)  # 0.2 s
    _, [created] = await server.post(service_code="001", **PLACE)
    token = created["token"]
    assert "service_request_id" not in created
    assert await server.call("GET", f"/tokens/{token}.json") == (200, [{"token": token}])
    assert await ids(server) == []  # not listed before it exists
    await asyncio.sleep(0.25)
    assert await server.call("GET", f"/tokens/{token}.json") == (
        200,
        [{"service_request_id": "1000001", "token": token}],
    )
    assert await ids(server) == ["1000001"]
    assert (await server.call("GET", "/tokens/nope.json"))[0] == 404


async def test_a_blackbox_answer_carries_neither_id_nor_token(open311):
    server = await open311(blackbox=True)
    _, [created] = await server.post(service_code="001", **PLACE)
    assert set(created) == {"service_notice", "account_id"}


async def test_a_request_is_assigned_then_closed_with_a_reply_on_business_time(open311):
    server = await open311(clock_scale=FAST_SCALE, auto_advance=True, **FAST)
    await server.post(service_code="006", **PLACE)  # 噪声扰民: the environment bureau

    async def closed():
        _, [doc] = await server.call("GET", "/requests/1000001.json")
        return doc if doc["status"] == "closed" else None

    doc = await eventually(closed)
    assert doc["agency_responsible"] == "章贡区生态环境局"
    assert "章贡区生态环境局" in doc["status_notes"] and len(doc["status_notes"]) > 50
    requested, updated = (datetime.fromisoformat(doc[k]) for k in ("requested_datetime", "updated_datetime"))
    assert updated - requested == timedelta(seconds=FAST["assign_delay_s"] + FAST["close_delay_s"])


async def test_an_assigned_request_says_so_in_interim_notes_unless_turned_off(open311):
    server = await open311()
    for _ in range(2):
        await server.post(service_code="001", **PLACE)
    await server.call("POST", "/_sim/service-requests/1000001/advance")
    await server.knobs(interim_notes=False)
    await server.call("POST", "/_sim/service-requests/1000002/advance")
    _, docs = await server.call("GET", "/requests.json", params={"service_request_id": "1000001,1000002"})
    assert [(d["status"], d["agency_responsible"], d["status_notes"]) for d in docs] == [
        ("open", "章贡区城管局", "已转交章贡区城管局办理。"),
        ("open", "章贡区城管局", None),
    ]


async def test_the_same_seed_gives_the_same_replies(open311):
    notes = []
    for _ in range(2):
        server = await open311()
        await server.post(service_code="009", **PLACE)
        for _ in range(2):
            await server.call("POST", "/_sim/service-requests/1000001/advance")
        notes.append((await server.call("GET", "/requests/1000001.json"))[1][0]["status_notes"])
    assert notes[0] == notes[1]


async def test_advancing_a_closed_request_is_409_and_an_unknown_one_404(open311):
    server = await open311()
    await server.post(service_code="001", **PLACE)
    steps = [(await server.call("POST", "/_sim/service-requests/1000001/advance"))[0] for _ in range(3)]
    assert steps == [200, 200, 409]
    assert (await server.call("POST", "/_sim/service-requests/42/advance"))[0] == 404


# -- failures and the control API -----------------------------------------------------------------------------


async def test_an_outage_answers_every_api_request_503_with_retry_after(open311):
    server = await open311(outage=True)
    async with server.session.get(server.url + "/services.json") as r:
        assert r.status == 503 and r.headers["Retry-After"] == "1"
        assert (await r.json())[0]["code"] == 503
    assert (await server.call("GET", "/_sim/knobs"))[0] == 200  # the control API is never down


async def test_error_rate_answers_the_chosen_statuses(open311):
    server = await open311(error_rate=1.0, error_statuses=[429])
    assert (await server.call("GET", "/services.json"))[0] == 429


async def test_a_lost_answer_still_creates_the_request(open311):
    server = await open311(lost_answer_rate=1.0)
    assert (await server.post(service_code="001", **PLACE))[0] == 500
    assert len(await server.held()) == 1


async def test_the_wire_log_has_every_api_request_with_the_api_key_masked(open311):
    server = await open311()
    await server.post(service_code="001", **PLACE)
    await server.call("GET", "/requests.json", params={"status": "open"})
    post, get = await server.wire()
    assert (post["method"], post["path"], post["status"]) == ("POST", "/requests.json", 200)
    assert post["form"]["api_key"] == ["***"] and post["form"]["service_code"] == ["001"]
    assert (get["query"], get["form"]) == ({"status": "open"}, None)


async def test_an_unknown_knob_is_refused_at_build_and_at_run_time(open311):
    with pytest.raises(TypeError, match="unknown knob"):
        build_open311(API_KEY, assync_tokens=True)
    server = await open311()
    status, body = await server.call("PUT", "/_sim/knobs", json={"assync_tokens": True})
    assert status == 400 and "assync_tokens" in body["error"]


async def test_an_unknown_path_is_404_in_the_error_list(open311):
    server = await open311()
    status, errors = await server.call("GET", "/requests/1/notes.json")
    assert status == 404 and errors[0]["code"] == 404


async def test_stats_count_requests_by_route_and_status(open311):
    server = await open311()
    await server.post(service_code="001", **PLACE)
    await server.post(service_code="999", **PLACE)
    _, stats = await server.call("GET", "/_sim/stats")
    assert stats["requests"]["POST /requests.{fmt}"] == {"200": 1, "404": 1}
    assert stats["service_requests"] == {"open": 1, "pending_tokens": 0}


async def test_running_serves_it_on_a_free_loopback_port():
    async with running(build_open311(API_KEY)) as url:
        assert url.startswith("http://127.0.0.1:")
        async with aiohttp.ClientSession() as session, session.get(url + "/services.json") as r:
            assert r.status == 200
