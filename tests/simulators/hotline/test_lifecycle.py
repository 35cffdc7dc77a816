"""A work order lives on its own: events by signed callback and by feed, and the knobs that make it misbehave."""

from __future__ import annotations

import itertools
import re
import time
from datetime import datetime

from tests.simulators.hotline.conftest import FAST, FAST_SCALE
from tests.simulators.hotline.support import case, eventually

FULL_LIFE = ["accepted", "dispatched", "replied", "closed", "revisited"]


def of(events: list[dict], no: str) -> list[dict]:
    return [e for e in events if e["work_order_no"] == no]


async def create(client, n: int = 1, **changes) -> str:
    answer = await client.post("/api/v1/work-orders", case(n, **changes))
    assert answer.status == 201, answer.body
    return answer.body["work_order_no"]


async def test_the_full_event_sequence_arrives_signed_at_the_callback_in_order(platform, receiver):
    r, url = receiver
    client = await platform(callback_url=url, clock_scale=FAST_SCALE, auto_advance=True, **FAST)
    no = await create(client)
    events = await eventually(lambda: len(r.events) == 5 and r.events)
    assert [e["type"] for e in events] == FULL_LIFE
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5]
    assert {e["work_order_no"] for e in events} == {no}
    assert {e["case_id"] for e in events} == {case(1)["case_id"]}
    assert len({e["event_id"] for e in events}) == 5
    assert r.refused == []  # every callback carried the platform's valid signature


async def test_events_carry_what_their_type_says(platform, receiver):
    r, url = receiver
    client = await platform(callback_url=url, clock_scale=FAST_SCALE, auto_advance=True, **FAST)
    await create(client)
    accepted, dispatched, replied, closed, revisited = await eventually(lambda: len(r.events) == 5 and r.events)
    assert accepted["deadline"]
    assert dispatched["unit"] == {"code": "360702011", "name": "章贡区住建局"}  # 物业 in 章贡区 (360702)
    assert replied["unit"] == dispatched["unit"]
    assert "章贡区住建局" in replied["text"]
    assert isinstance(closed["resolved"], bool)
    assert revisited["satisfaction"] in ("satisfied", "basically_satisfied", "unsatisfied")


async def test_a_reply_reads_like_a_real_one_adapted_to_the_work_order(platform):
    client = await platform()
    no = await create(client, 1, location={"division_code": "360781", "township": None, "address": None})
    for _ in range(3):
        await client.control("POST", f"/_sim/work-orders/{no}/advance")
    [order] = await client.control("GET", "/_sim/work-orders")
    replied = order["events"][2]
    assert replied["type"] == "replied" and replied["unit"]["name"].startswith("瑞金市")
    text = replied["text"]
    assert replied["unit"]["name"] in text
    assert not re.search(r"[A-Z]\d*[市县区]|UU\d{3,}|西地省", text)  # the data set's placeholders are gone
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日$", text)


async def test_clock_scale_compresses_business_time(platform, receiver):
    r, url = receiver
    client = await platform(callback_url=url, clock_scale=FAST_SCALE, auto_advance=True, **FAST)
    started = time.monotonic()
    await create(client)
    events = await eventually(lambda: len(r.events) == 5 and r.events)
    wall = time.monotonic() - started
    at = [datetime.fromisoformat(e["at"]) for e in events]
    business = [(b - a).total_seconds() for a, b in itertools.pairwise(at)]
    assert business == [
        FAST["dispatch_delay_s"],
        FAST["reply_delay_s"],
        FAST["close_delay_s"],
        FAST["revisit_delay_s"],
    ]
    assert (at[-1] - at[0]).total_seconds() > 2 * 86_400  # two business days...
    assert wall < 5  # ...in a few wall seconds


async def test_nothing_moves_without_auto_advance_until_advanced(platform):
    client = await platform(clock_scale=FAST_SCALE)
    no = await create(client)
    first = await client.control("POST", f"/_sim/work-orders/{no}/advance")
    assert (first["type"], first["seq"]) == ("accepted", 1)
    [order] = await client.control("GET", "/_sim/work-orders")
    assert order["status"] == "accepted" and order["next_step"] == "dispatched"
    for _ in range(4):
        await client.control("POST", f"/_sim/work-orders/{no}/advance")
    async with client.session.post(f"{client.url}/_sim/work-orders/{no}/advance") as over:
        assert over.status == 409


async def test_a_return_carries_reason_basis_and_suggested_unit_and_is_dispatched_again(platform):
    client = await platform(return_rate=1.0)
    no = await create(client)
    types = []
    for _ in range(7):
        types.append((await client.control("POST", f"/_sim/work-orders/{no}/advance"))["type"])
    assert types == ["accepted", "dispatched", "returned", "dispatched", "returned", "dispatched", "replied"]
    events = (await client.get(f"/api/v1/work-orders/{no}")).body["events"]
    first_return, second_dispatch = events[2], events[3]
    assert first_return["unit"] == events[1]["unit"]
    assert first_return["reason"] and "三定方案" in first_return["basis"]
    assert first_return["suggested_unit"] == second_dispatch["unit"]
    assert first_return["suggested_unit"]["name"] == "章贡区解放街道办事处"  # 物业: the street office


async def test_an_extension_moves_the_deadline_by_the_time_tier(platform):
    client = await platform(extend_rate=1.0, return_rate=0.0)
    no = await create(client)
    events = [await client.control("POST", f"/_sim/work-orders/{no}/advance") for _ in range(3)]
    assert [e["type"] for e in events] == ["accepted", "dispatched", "extended"]
    old, new = datetime.fromisoformat(events[1]["deadline"]), datetime.fromisoformat(events[2]["deadline"])
    assert (new - old).total_seconds() == 7 * 86_400
    assert events[2]["reason"]


async def test_duplicate_callbacks_send_an_acknowledged_event_again(platform, receiver):
    r, url = receiver
    client = await platform(
        callback_url=url, clock_scale=FAST_SCALE, auto_advance=True, duplicate_callbacks=1.0, **FAST
    )
    await create(client)
    events = await eventually(lambda: len(r.events) == 10 and r.events)
    assert [e["seq"] for e in events] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert events[0] == events[1]  # the same event id and content, signed anew
    assert r.refused == []


async def test_out_of_order_callbacks_deliver_a_later_event_before_an_earlier_one(platform, receiver):
    r, url = receiver
    client = await platform(callback_url=url, out_of_order_callbacks=1.0)
    no = await create(client)
    for _ in range(5):
        await client.control("POST", f"/_sim/work-orders/{no}/advance")
    events = await eventually(lambda: len(r.events) == 5 and r.events)
    assert [e["seq"] for e in events] == [2, 1, 4, 3, 5]
    assert sorted(e["seq"] for e in events) == [1, 2, 3, 4, 5]  # nothing lost


async def test_failed_callbacks_are_retried_by_the_platform_until_acknowledged(platform, receiver):
    r, url = receiver
    r.fail_next = 3  # huiju answers 503 three times
    client = await platform(callback_url=url, callback_retry_initial_s=0.01, callback_retry_max_s=0.02)
    no = await create(client)
    await client.control("POST", f"/_sim/work-orders/{no}/advance")
    [event] = await eventually(lambda: r.events)
    assert event["seq"] == 1
    assert r.attempts == ["1", "2", "3", "4"]
    stats = await client.control("GET", "/_sim/stats")
    assert stats["callbacks"]["delivered"] == 1 and stats["callbacks"]["retried"] == 3


async def test_callback_failures_knob_drops_attempts_on_the_platform_side_and_retries_them(platform, receiver):
    r, url = receiver
    client = await platform(
        callback_url=url, callback_failures=0.8, callback_retry_initial_s=0.01, callback_retry_max_s=0.02
    )
    no = await create(client)
    for _ in range(5):
        await client.control("POST", f"/_sim/work-orders/{no}/advance")
    events = await eventually(lambda: len(r.events) == 5 and r.events)
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5]  # retried in place: the order holds
    log = await client.control("GET", "/_sim/callbacks")
    failed = [a for a in log if a["outcome"] == "failed before sending (simulated)"]
    assert failed, "with a 0.8 rate some attempts fail"
    assert len(log) == 5 + len(failed)


async def test_the_feed_pages_by_global_sequence(platform):
    client = await platform()
    first, second = await create(client, 1), await create(client, 2)
    for _ in range(3):
        await client.control("POST", f"/_sim/work-orders/{first}/advance")
        await client.control("POST", f"/_sim/work-orders/{second}/advance")
    page1 = (await client.get("/api/v1/work-orders/events", {"limit": "4"})).body
    assert page1["has_more"] is True and len(page1["events"]) == 4
    page2 = (
        await client.get("/api/v1/work-orders/events", {"after_seq": str(page1["next_after_seq"]), "limit": "4"})
    ).body
    assert page2["has_more"] is False and len(page2["events"]) == 2
    events = page1["events"] + page2["events"]
    assert [e["global_seq"] for e in events] == sorted({e["global_seq"] for e in events})
    assert [e["seq"] for e in of(events, first)] == [1, 2, 3]
    assert [e["seq"] for e in of(events, second)] == [1, 2, 3]
    empty = (await client.get("/api/v1/work-orders/events", {"after_seq": str(page2["next_after_seq"])})).body
    assert empty == {"events": [], "has_more": False, "next_after_seq": page2["next_after_seq"]}


async def test_the_feed_and_the_callbacks_carry_the_same_events(platform, receiver):
    r, url = receiver
    client = await platform(callback_url=url, clock_scale=FAST_SCALE, auto_advance=True, **FAST)
    await create(client)
    called = await eventually(lambda: len(r.events) == 5 and r.events)
    fed = (await client.get("/api/v1/work-orders/events")).body["events"]
    assert fed == called


async def test_the_feed_refuses_a_bad_cursor(platform):
    client = await platform()
    for query in ({"after_seq": "-1"}, {"limit": "0"}, {"limit": "1001"}, {"after_seq": "abc"}):
        answer = await client.get("/api/v1/work-orders/events", query)
        assert answer.status == 400 and answer.body["field"] == next(iter(query))


async def test_an_emergency_goes_to_its_service(platform):
    client = await platform()
    no = await create(client, 1, emergency="119", time_tier="2h", title="楼道起火", content="三楼楼道有烟")
    events = [await client.control("POST", f"/_sim/work-orders/{no}/advance") for _ in range(2)]
    assert events[1]["unit"]["name"] == "章贡区消防救援大队"
    deadline = datetime.fromisoformat(events[0]["deadline"])
    [order] = await client.control("GET", "/_sim/work-orders")
    assert (deadline - datetime.fromisoformat(order["created_at"])).total_seconds() == 2 * 3600


async def test_an_overdue_reply_comes_after_the_deadline(platform, receiver):
    r, url = receiver
    knobs = FAST | {"overdue_rate": 1.0}
    client = await platform(callback_url=url, clock_scale=FAST_SCALE, auto_advance=True, **knobs)
    await create(client, 1, time_tier="24h")
    events = await eventually(lambda: len(r.events) >= 3 and r.events)
    deadline = datetime.fromisoformat(events[0]["deadline"])
    assert events[2]["type"] == "replied" and datetime.fromisoformat(events[2]["at"]) > deadline


async def life(client, no: str) -> list[str]:
    """The types of a work order's events, advanced by hand to the end."""
    types = []
    while True:
        async with client.session.post(f"{client.url}/_sim/work-orders/{no}/advance") as r:
            if r.status == 409:
                return types
            types.append((await r.json())["type"])


async def test_the_same_seed_gives_the_same_life(platform):
    lives = []
    for _ in range(2):
        client = await platform(return_rate=0.5, extend_rate=0.5)
        lives.append([await life(client, await create(client, n)) for n in range(1, 6)])
    assert lives[0] == lives[1]
    assert len({tuple(one) for one in lives[0]}) > 1  # and the lives differ between work orders
