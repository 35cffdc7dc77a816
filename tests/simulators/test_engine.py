"""The simulator engine: what every simulated national platform does, whatever its dialect.

These run the engine with a plain test dialect (tests/simulators/support.py) on loopback, through aiohttp's
test client, and sign requests as the protocol says.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from simulators.national.engine import Knobs, Simulator, create_app
from simulators.signing import SIGNATURE_WINDOW_MS
from tests.simulators.support import APP_KEY, APP_SECRET, PlainDialect, Signer, aware, now_ms, signed


def make_sim(**knobs) -> Simulator:
    return Simulator(PlainDialect(), app_key=APP_KEY, app_secret=APP_SECRET, seed=7, knobs=Knobs(**knobs))


@pytest.fixture
async def client(aiohttp_client):
    """A factory: a test client of a fresh simulator with these knobs."""

    async def make(sim: Simulator | None = None, **knobs):
        return await aiohttp_client(create_app(sim or make_sim(**knobs)))

    return make


async def feed(client, query: dict[str, str] | None = None) -> dict:
    resp = await signed(client, "GET", "/feed", query)
    assert resp.status == 200, await resp.text()
    return await resp.json()


# -- signatures ------------------------------------------------------------------------------------------------


async def test_a_signed_request_is_served(client):
    c = await client()
    resp = await signed(c, "GET", "/check")
    assert resp.status == 200
    assert (await resp.json())["items"] == []


async def test_the_check_endpoint_takes_post_too(client):
    c = await client()
    assert (await signed(c, "POST", "/check", body=b"{}")).status == 200


@pytest.mark.parametrize(
    ("signer", "reason"),
    [
        (Signer(secret="another-secret-0123456789"), "signature does not match"),
        (Signer(app_key="someone-else"), "unknown app key"),
        (Signer(method="sm3"), "sign method"),
        (Signer(overrides={"X-Signature": ""}), "missing header(s) X-Signature"),
    ],
)
async def test_a_request_not_signed_by_the_configured_app_is_refused_with_401(client, signer, reason):
    c = await client()
    resp = await signed(c, "GET", "/check", signer=signer)
    assert resp.status == 401
    body = await resp.json()
    assert body["error"] == 401 and reason in body["message"]


async def test_the_signature_covers_the_query(client):
    c = await client()
    headers = Signer().headers("GET", "/feed", {"limit": "5"})
    resp = await c.get("/feed", params={"limit": "6"}, headers=headers)
    assert resp.status == 401


async def test_the_signature_covers_the_body(client):
    sim = make_sim()
    sim.generate(1)
    c = await client(sim)
    headers = Signer().headers("POST", "/orders/O00000/events", body=b'{"id":"e1"}')
    resp = await c.post("/orders/O00000/events", data=b'{"id":"e2"}', headers=headers)
    assert resp.status == 401


@pytest.mark.parametrize(
    ("offset_ms", "status"), [(-299_000, 200), (299_000, 200), (-301_000, 401), (301_000, 401)]
)
async def test_a_timestamp_more_than_300_seconds_off_is_refused(client, offset_ms, status):
    c = await client()
    resp = await signed(c, "GET", "/check", timestamp=str(now_ms() + offset_ms))
    assert resp.status == status


async def test_a_nonce_is_accepted_once_in_ten_minutes(client):
    c = await client()
    assert (await signed(c, "GET", "/check", nonce="n" * 16)).status == 200
    again = await signed(c, "GET", "/check", nonce="n" * 16)
    assert again.status == 401
    assert "nonce already used" in (await again.json())["message"]


def test_a_nonce_is_forgotten_after_ten_minutes():
    sim = make_sim()
    signer = Signer()
    start = now_ms()
    first = signer.headers("GET", "/check", timestamp=str(start), nonce="n" * 16)
    sim.verify(first, "GET", "/check", {}, b"", start)
    later = start + 601_000
    headers = signer.headers("GET", "/check", timestamp=str(later), nonce="n" * 16)
    sim.verify(headers, "GET", "/check", {}, b"", later)  # no SignatureRefused


async def test_a_nonce_shorter_than_16_characters_is_refused(client):
    c = await client()
    assert (await signed(c, "GET", "/check", nonce="short")).status == 401


async def test_a_refused_request_does_not_use_up_its_nonce(client):
    c = await client()
    forged = await signed(c, "GET", "/check", signer=Signer(secret="wrong-secret-0123456789"), nonce="x" * 20)
    assert forged.status == 401
    assert (await signed(c, "GET", "/check", nonce="x" * 20)).status == 200


async def test_a_simulator_started_with_sm3_checks_hmac_sm3_signatures(aiohttp_client):
    sim = Simulator(PlainDialect(), app_key=APP_KEY, app_secret=APP_SECRET, sign_method="sm3")
    c = await aiohttp_client(create_app(sim))
    assert (await signed(c, "GET", "/check", signer=Signer(method="sm3"))).status == 200
    assert (await signed(c, "GET", "/check")).status == 401


def test_the_window_is_300_seconds():
    assert SIGNATURE_WINDOW_MS == 300_000


# -- the feed --------------------------------------------------------------------------------------------------


async def test_the_feed_is_ordered_by_update_time_then_id(client):
    sim = make_sim()
    sim.generate(3, age_seconds=60)
    sim.generate(2, age_seconds=120)
    c = await client(sim)
    items = (await feed(c))["items"]
    keys = [(aware(i["updated"]), i["id"]) for i in items]
    assert keys == sorted(keys)
    assert [i["id"] for i in items] == ["O00003", "O00004", "O00000", "O00001", "O00002"]


async def test_a_page_starts_after_the_given_update_time_and_id(client):
    sim = make_sim()
    sim.generate(4)
    c = await client(sim)
    first = (await feed(c))["items"]
    since = first[1]["updated"]
    rest = (await feed(c, {"since": since, "after": first[1]["id"]}))["items"]
    assert [i["id"] for i in rest] == [first[2]["id"], first[3]["id"]]


async def test_a_page_includes_later_items_whatever_their_id(client):
    sim = make_sim()
    sim.generate(1, age_seconds=30)  # O00000
    sim.generate(1)  # O00001, later
    c = await client(sim)
    older = (await feed(c))["items"][0]
    rest = (await feed(c, {"since": older["updated"], "after": "ZZZZ"}))["items"]
    assert [i["id"] for i in rest] == ["O00001"]


async def test_pages_hold_at_most_page_size_max_and_say_there_is_more(client):
    sim = make_sim(page_size_max=2)
    sim.generate(3)
    c = await client(sim)
    page = await feed(c, {"limit": "100"})
    assert len(page["items"]) == 2 and page["more"] is True
    last = page["items"][-1]
    page = await feed(c, {"since": last["updated"], "after": last["id"]})
    assert len(page["items"]) == 1 and page["more"] is False


async def test_a_touched_order_moves_to_the_end_of_the_feed(client):
    sim = make_sim()
    sim.generate(2, age_seconds=10)
    c = await client(sim)
    resp = await c.post("/_sim/orders/O00000/touch")
    assert resp.status == 200
    items = (await feed(c))["items"]
    assert [i["id"] for i in items] == ["O00001", "O00000"]
    assert aware(items[1]["updated"]) > aware(items[0]["updated"])


async def test_touching_an_unknown_order_is_404(client):
    c = await client()
    assert (await c.post("/_sim/orders/nope/touch")).status == 404


async def test_generated_orders_get_update_times_in_whole_seconds_at_the_given_age(client):
    sim = make_sim()
    c = await client(sim)
    resp = await c.post("/_sim/orders", json={"count": 3, "age_seconds": 3600})
    assert (await resp.json())["ids"] == ["O00000", "O00001", "O00002"]
    updated = aware((await feed(c))["items"][0]["updated"])
    assert updated.microsecond == 0
    assert abs((datetime.now(UTC) - timedelta(hours=1) - updated).total_seconds()) < 5


@pytest.mark.parametrize("body", [{"count": "3"}, {"count": -1}, {"age_seconds": -5}, [1]])
async def test_a_bad_generate_request_is_400(client, body):
    c = await client()
    assert (await c.post("/_sim/orders", json=body)).status == 400


async def test_a_raw_item_is_served_verbatim_under_its_own_id(client):
    sim = make_sim()
    sim.generate(1, age_seconds=10)
    c = await client(sim)
    raw = {"id": "R-1", "title": ["not", "text"], "updated": "garbage"}
    resp = await c.post("/_sim/orders/raw", json={"item": raw})
    assert (await resp.json()) == {"id": "R-1"}
    items = (await feed(c))["items"]
    assert items[-1] == raw


async def test_a_raw_item_without_a_readable_id_gets_one(client):
    c = await client()
    resp = await c.post("/_sim/orders/raw", json={"item": "not an object"})
    assert (await resp.json())["id"].startswith("RAW")
    assert (await feed(c))["items"] == ["not an object"]


async def test_a_bad_feed_query_is_400_in_the_platform_envelope(client):
    c = await client()
    resp = await signed(c, "GET", "/feed", {"since": "yesterday"})
    assert resp.status == 400
    assert (await resp.json())["error"] == 400


# -- events ----------------------------------------------------------------------------------------------------


async def test_an_event_is_recorded_once_and_a_repeat_is_answered_as_duplicate(client):
    sim = make_sim()
    sim.generate(1)
    c = await client(sim)
    body = b'{"id":"ev-1","status":"replied"}'
    first = await signed(c, "POST", "/orders/O00000/events", body=body)
    second = await signed(c, "POST", "/orders/O00000/events", body=body)
    assert (await first.json()) == {"event": "ev-1", "duplicate": False}
    assert (await second.json()) == {"event": "ev-1", "duplicate": True}
    events = await (await c.get("/_sim/events")).json()
    assert [e["event_id"] for e in events] == ["ev-1"]
    assert events[0]["order_id"] == "O00000" and events[0]["raw"] == {"id": "ev-1", "status": "replied"}


async def test_a_repeated_event_id_keeps_the_first_event(client):
    sim = make_sim()
    sim.generate(1)
    c = await client(sim)
    await signed(c, "POST", "/orders/O00000/events", body=b'{"id":"ev-1","status":"a"}')
    await signed(c, "POST", "/orders/O00000/events", body=b'{"id":"ev-1","status":"b"}')
    assert sim.events["ev-1"].status == "a"


async def test_an_event_for_an_unknown_order_is_404(client):
    c = await client()
    resp = await signed(c, "POST", "/orders/nope/events", body=b'{"id":"ev-1"}')
    assert resp.status == 404
    assert "not found" in (await resp.json())["message"]


async def test_a_malformed_event_is_400(client):
    sim = make_sim()
    sim.generate(1)
    c = await client(sim)
    resp = await signed(c, "POST", "/orders/O00000/events", body=b"[]")
    assert resp.status == 400


# -- knobs -----------------------------------------------------------------------------------------------------


async def test_knobs_are_read_and_changed_partially(client):
    c = await client()
    knobs = await (await c.get("/_sim/knobs")).json()
    assert knobs["error_statuses"] == [429, 500, 503] and knobs["outage"] is False
    changed = await (await c.put("/_sim/knobs", json={"latency_ms": 5})).json()
    assert changed == knobs | {"latency_ms": 5.0}


@pytest.mark.parametrize(
    "patch", [{"error_rate": 2}, {"nonsense": 1}, {"error_statuses": [200]}, {"page_size_max": 0}]
)
async def test_a_bad_knob_is_refused_with_400_and_nothing_changes(client, patch):
    c = await client()
    before = await (await c.get("/_sim/knobs")).json()
    resp = await c.put("/_sim/knobs", json=patch)
    assert resp.status == 400
    assert (await resp.json())["error"]
    assert await (await c.get("/_sim/knobs")).json() == before


async def test_an_outage_answers_every_platform_request_503(client):
    c = await client(outage=True)
    resp = await signed(c, "GET", "/check")
    assert resp.status == 503 and resp.headers["Retry-After"] == "1"
    assert (await c.get("/_sim/knobs")).status == 200  # the control API still works


async def test_reject_auth_answers_every_platform_request_401(client):
    c = await client(reject_auth=True)
    assert (await signed(c, "GET", "/check")).status == 401


async def test_latency_delays_the_answer(client):
    c = await client(latency_ms=150)
    start = asyncio.get_running_loop().time()
    await signed(c, "GET", "/check")
    assert asyncio.get_running_loop().time() - start >= 0.14


async def test_error_rate_answers_with_the_configured_statuses(client):
    c = await client(error_rate=1.0, error_statuses=[429])
    resp = await signed(c, "GET", "/check")
    assert resp.status == 429
    assert (await resp.json())["message"] == "simulated error 429"


def test_injected_errors_follow_the_seed():
    a, b = make_sim(error_rate=0.5), make_sim(error_rate=0.5)
    assert [a.injected_error() for _ in range(50)] == [b.injected_error() for _ in range(50)]
    assert {a.injected_error() for _ in range(200)} == {None, 429, 500, 503}


async def test_an_injected_error_uses_up_the_nonce_like_a_failure_behind_the_gateway(client):
    sim = make_sim(error_rate=1.0, error_statuses=[500])
    c = await client(sim)
    assert (await signed(c, "GET", "/check", nonce="q" * 16)).status == 500
    sim.knobs = Knobs()
    assert (await signed(c, "GET", "/check", nonce="q" * 16)).status == 401


# -- schema drift ----------------------------------------------------------------------------------------------

DRIFT_ALL = {
    "drift_unknown_fields": 1.0,
    "drift_missing_optional": 1.0,
    "drift_bad_dates": 1.0,
    "drift_wrong_types": 1.0,
}


async def test_drift_is_the_same_on_every_poll(client):
    sim = make_sim(**{k: 0.5 for k in DRIFT_ALL})
    sim.generate(30)
    c = await client(sim)
    assert (await feed(c))["items"] == (await feed(c))["items"]


def test_no_drift_by_default():
    sim = make_sim()
    sim.generate(1)
    order = sim.order("O00000")
    assert sim.served("O00000") == PlainDialect().render_item(order)


def test_unknown_fields_drift_adds_keys():
    sim = make_sim(drift_unknown_fields=1.0)
    sim.generate(1)
    item = sim.served("O00000")
    assert set(item) - set(PlainDialect().render_item(sim.order("O00000")))


def test_missing_optional_drift_drops_only_optional_keys():
    sim = make_sim(drift_missing_optional=1.0)
    sim.generate(20)
    for n in range(20):
        item = sim.served(f"O{n:05d}")
        assert {"id", "title", "amount", "occurred", "updated"} <= set(item)
        assert "phone" not in item or "name" not in item["party"]


def test_bad_dates_drift_garbles_a_date_but_never_the_protected_update_time():
    sim = make_sim(drift_bad_dates=1.0)
    sim.generate(20)
    for n in range(20):
        order = sim.order(f"O{n:05d}")
        item = sim.served(order.id)
        assert item["updated"] == order.updated_at.isoformat()
        assert item["occurred"] != order.created_at.isoformat()


def test_wrong_types_drift_changes_one_value_type_and_never_the_id():
    sim = make_sim(drift_wrong_types=1.0)
    sim.generate(20)
    for n in range(20):
        order = sim.order(f"O{n:05d}")
        clean = PlainDialect().render_item(order)
        item = sim.served(order.id)
        assert item["id"] == order.id and item["updated"] == clean["updated"]
        changed = [
            k
            for k in clean
            if type(item[k]) is not type(clean[k])
            or (
                isinstance(clean[k], dict)
                and any(type(item[k].get(s)) is not type(v) for s, v in clean[k].items())
            )
        ]
        assert len(changed) == 1


# -- generation, stats -----------------------------------------------------------------------------------------


async def test_orders_are_generated_in_the_background_at_the_configured_rate(client):
    sim = make_sim(rate_per_second=40)
    await client(sim)
    await asyncio.sleep(0.6)
    assert 8 <= sim.count() <= 40


async def test_stats_count_requests_by_route_and_status(client):
    sim = make_sim()
    sim.generate(2)
    c = await client(sim)
    await feed(c)
    await signed(c, "GET", "/check", signer=Signer(secret="wrong-secret-0123456789"))
    stats = await (await c.get("/_sim/stats")).json()
    assert stats["requests"]["GET /feed"] == {"200": 1}
    assert stats["requests"]["GET /check"] == {"401": 1}
    assert stats["orders"] == 2 and stats["events"] == 0


async def test_an_unknown_platform_path_is_answered_in_the_platform_envelope(client):
    c = await client()
    resp = await c.get("/nothing-here")
    assert resp.status == 404
    assert (await resp.json())["error"] == 404
