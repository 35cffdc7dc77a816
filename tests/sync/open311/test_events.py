"""Events from a server that has none: the ladder a request's state has reached, the same on every poll."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from core.errors import PermanentError
from sync.targets.base import FrozenRequest
from sync.targets.open311 import LADDER, ladder
from tests.sync.open311.conftest import FAST, FAST_SCALE
from tests.sync.open311.support import CASE_ID, context
from tests.sync.support import eventually

REQUESTED = "2024-11-25T10:00:00+08:00"


def request(**changes) -> dict:
    doc = {
        "service_request_id": "1000042",
        "status": "open",
        "status_notes": None,
        "service_code": "009",
        "description": f"电梯坏了\n[huiju-case:{CASE_ID}]",
        "agency_responsible": None,
        "requested_datetime": REQUESTED,
        "updated_datetime": REQUESTED,
        "expected_datetime": "2024-12-02T10:00:00+08:00",
    }
    return doc | changes


async def create(client) -> str:
    frozen = client.render(context())
    assert isinstance(frozen, FrozenRequest)
    return (await client.send(frozen, resent=False))["work_order_no"]


# -- the ladder ------------------------------------------------------------------------------------------------


def test_a_new_request_is_accepted_with_its_expected_time_as_the_deadline():
    [accepted] = ladder(request())
    assert accepted == {
        "event_id": "1000042:accepted",
        "work_order_no": "1000042",
        "case_id": str(CASE_ID),
        "seq": 1,
        "type": "accepted",
        "at": "2024-11-25T10:00:00.000+08:00",
        "deadline": "2024-12-02T10:00:00.000+08:00",
    }


def test_an_agency_taking_it_is_the_dispatch_to_that_unit():
    events = ladder(request(agency_responsible="章贡区住建局", updated_datetime="2024-11-25T03:00:00Z"))
    assert [e["type"] for e in events] == ["accepted", "dispatched"]
    assert events[1]["unit"] == {"code": None, "name": "章贡区住建局"}
    assert events[1]["at"] == "2024-11-25T11:00:00.000+08:00"


def test_the_notes_of_an_open_request_are_interim_and_carried_nowhere():
    events = ladder(request(agency_responsible="章贡区住建局", status_notes="已转交章贡区住建局办理。"))
    assert [e["type"] for e in events] == ["accepted", "dispatched"]


def test_a_closed_request_is_replied_with_its_notes_and_closed_resolved():
    closed = request(
        status="closed",
        agency_responsible="章贡区住建局",
        status_notes="经核实，电梯已于11月27日修复。",
        updated_datetime="2024-11-27T16:30:00+08:00",
    )
    _, dispatched, replied, done = ladder(closed)
    assert replied["text"] == "经核实，电梯已于11月27日修复。" and replied["unit"] == dispatched["unit"]
    assert done["resolved"] is True
    assert replied["at"] == done["at"] == "2024-11-27T16:30:00.000+08:00"


def test_a_request_closed_without_an_agency_still_has_every_rung():
    events = ladder(request(status="closed", status_notes="Duplicate request."))
    assert [e["seq"] for e in events] == [1, 2, 3, 4]
    assert events[1]["unit"] is None and events[2]["text"] == "Duplicate request."


def test_a_numeric_id_is_kept_as_text_and_a_missing_marker_leaves_the_case_unknown():
    [accepted] = ladder(request(service_request_id=638344, description=None))
    assert accepted["work_order_no"] == "638344" and accepted["case_id"] is None


@pytest.mark.parametrize(
    "changes",
    [
        {"service_request_id": None},
        {"service_request_id": "x" * 65},
        {"requested_datetime": None},
        {"requested_datetime": "yesterday"},
    ],
)
def test_a_malformed_request_has_no_ladder(changes):
    with pytest.raises(ValueError):
        ladder(request(**changes))


moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.sampled_from([UTC])
).map(lambda t: t.isoformat())
requests = st.fixed_dictionaries(
    {
        "service_request_id": st.one_of(
            st.integers(min_value=0, max_value=10**12), st.text(string.ascii_letters + string.digits, min_size=1)
        ),
        "status": st.sampled_from(["open", "closed", "Closed", "acknowledged", None]),
        "status_notes": st.one_of(st.none(), st.text()),
        "agency_responsible": st.one_of(st.none(), st.text()),
        "requested_datetime": moments,
        "updated_datetime": st.one_of(st.none(), moments),
        "description": st.one_of(st.none(), st.text(), st.uuids().map(lambda u: f"x\n[huiju-case:{u}]")),
    }
)


@given(requests)
def test_any_state_gives_consecutive_seqs_from_one_with_stable_ids(doc):
    events = ladder(doc)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert [e["type"] for e in events] == list(LADDER[: len(events)])
    no = str(doc["service_request_id"])
    assert [e["event_id"] for e in events] == [f"{no}:{e['type']}" for e in events]
    assert ladder(dict(doc)) == events  # stateless: the same state, the same events
    times = [datetime.fromisoformat(e["at"]) for e in events]
    assert times == sorted(times) and all(len(e["event_id"]) <= 80 for e in events)


@given(requests, st.text(min_size=1).filter(str.strip), st.text())
def test_a_later_state_only_adds_rungs(doc, agency, notes):
    later = timedelta(hours=5)
    opened = ladder(doc | {"status": "open", "agency_responsible": None})
    requested = datetime.fromisoformat(doc["requested_datetime"])
    assigned = ladder(
        doc | {"status": "open", "agency_responsible": agency, "updated_datetime": str(requested + later)}
    )
    closed = ladder(doc | {"status": "closed", "agency_responsible": agency, "status_notes": notes})
    assert (len(opened), len(assigned), len(closed)) == (1, 2, 4)
    assert assigned[:1] == opened
    assert [e["event_id"] for e in closed[:2]] == [e["event_id"] for e in assigned]


# -- reading them from a server -------------------------------------------------------------------------------


async def test_read_events_follows_a_request_through_its_compressed_life(open311, target):
    server = await open311(clock_scale=FAST_SCALE, auto_advance=True, **FAST)
    client = target(server)
    no = await create(client)

    async def closed():
        page = await client.read_events(None, [no])
        return page if len(page.events) == 4 else None

    page = await eventually(closed)
    assert page.cursor is None and page.has_more is False
    accepted, dispatched, replied, done = page.events
    assert {e["work_order_no"] for e in page.events} == {no}
    assert {e["case_id"] for e in page.events} == {str(CASE_ID)}
    assert dispatched["unit"] == {"code": None, "name": "章贡区住建局"}  # 物业服务纠纷 in 章贡区
    assert "章贡区住建局" in replied["text"] and len(replied["text"]) > 50  # a real reply, adapted
    assert done["resolved"] is True
    # Seen only once closed, every later rung is stamped with the close (the request's updated_datetime).
    assert dispatched["at"] == replied["at"] == done["at"]
    life = datetime.fromisoformat(done["at"]) - datetime.fromisoformat(accepted["at"])
    assert life == timedelta(seconds=FAST["assign_delay_s"] + FAST["close_delay_s"])


async def test_polling_again_gives_the_same_events(open311, target):
    server = await open311()
    client = target(server)
    no = await create(client)
    await server.call("POST", f"/_sim/service-requests/{no}/advance")
    first = await client.read_events(None, [no])
    second = await client.read_events(None, [no])
    assert first.events == second.events and len(first.events) == 2


async def test_each_step_of_a_life_adds_rungs_and_keeps_the_ones_before(open311, target):
    server = await open311()
    client = target(server)
    no = await create(client)
    seen = [(await client.read_events(None, [no])).events]
    for _ in range(2):
        await server.call("POST", f"/_sim/service-requests/{no}/advance")
        seen.append((await client.read_events(None, [no])).events)
    assert [len(events) for events in seen] == [1, 2, 4]
    assert seen[1][:1] == seen[0] and [e["event_id"] for e in seen[2][:2]] == [e["event_id"] for e in seen[1]]


async def test_many_open_work_orders_are_read_in_chunks_of_fifty(open311, target):
    server = await open311()
    client = target(server)
    nos = [(await server.post(service_code="001", address_string=f"红旗大道{n}号"))[1][0] for n in range(120)]
    nos = [doc["service_request_id"] for doc in nos]
    page = await client.read_events(None, [*nos, nos[0], "no-such-request"])
    assert sorted(e["work_order_no"] for e in page.events) == sorted(nos)
    reads = [w["query"]["service_request_id"].split(",") for w in await server.wire() if w["method"] == "GET"]
    assert sorted(len(ids) for ids in reads) == [21, 50, 50]


async def test_a_request_the_server_did_not_ask_about_is_ignored(aiohttp_server, target):
    async def answer(request: web.Request) -> web.Response:
        return web.json_response([request_doc("7"), request_doc("8")])

    app = web.Application()
    app.router.add_get("/requests.json", answer)
    server = await aiohttp_server(app)
    page = await target(Url(str(server.make_url("")).rstrip("/"))).read_events(None, ["7"])
    assert {e["work_order_no"] for e in page.events} == {"7"}


async def test_a_malformed_request_in_an_answer_is_skipped_and_the_others_are_read(aiohttp_server, target):
    async def answer(request: web.Request) -> web.Response:
        return web.json_response([request_doc("7") | {"requested_datetime": "soon"}, request_doc("8"), "junk"])

    app = web.Application()
    app.router.add_get("/requests.json", answer)
    server = await aiohttp_server(app)
    page = await target(Url(str(server.make_url("")).rstrip("/"))).read_events(None, ["7", "8"])
    assert [e["event_id"] for e in page.events] == ["8:accepted"]


async def test_work_order_events_reads_one_request(open311, target):
    server = await open311()
    client = target(server)
    no = await create(client)
    await server.call("POST", f"/_sim/service-requests/{no}/advance")
    events = await client.work_order_events(no)
    assert [e["event_id"] for e in events] == [f"{no}:accepted", f"{no}:dispatched"]


async def test_work_order_events_of_an_unknown_request_is_a_permanent_error(open311, target):
    server = await open311()
    with pytest.raises(PermanentError, match="was not found"):
        await target(server).work_order_events("4242")


class Url:
    """Just the address of a server that is not the simulator."""

    def __init__(self, url: str) -> None:
        self.url = url


def request_doc(no: str) -> dict:
    return request(service_request_id=no)
