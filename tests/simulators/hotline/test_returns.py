"""Returns after a review: a merged channel's managing body rejected the reply, and the work order goes back."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.simulators.hotline.conftest import FAST, FAST_SCALE
from tests.simulators.hotline.support import Client, appeal, case, eventually

BOARD = "leaderboard-ganzhou"
MERGED = {"mode": "merged", "channel_id": BOARD}
QUIET = {"return_rate": 0.0, "extend_rate": 0.0}  # lives without returns by units or extensions
COMMENT = "答复未说明整改时限，请承办单位核实后重新答复。"


def rejection(n: int = 1, return_id: str = "r-1", **changes) -> dict:
    """huiju's return of case n's reply, rejected by the board's office."""
    doc = {
        "return_id": return_id,
        "case_id": case(n)["case_id"],
        "appeal_id": appeal(n)["appeal_id"],
        "channel_id": BOARD,
        "comment": COMMENT,
        "returned_at": "2024-11-28T09:40:00+08:00",
    }
    return doc | changes


async def advance(client: Client, no: str, times: int = 1) -> list[dict]:
    return [await client.control("POST", f"/_sim/work-orders/{no}/advance") for _ in range(times)]


async def created(client: Client, n: int = 1, **changes) -> str:
    answer = await client.post("/api/v1/work-orders", case(n, **(MERGED | changes)))
    assert answer.status == 201, answer.body
    return answer.body["work_order_no"]


async def replied(client: Client, n: int = 1, **changes) -> str:
    """A work order of the merged board, advanced to its reply (accepted, dispatched, replied)."""
    no = await created(client, n, **changes)
    assert [e["type"] for e in await advance(client, no, 3)] == ["accepted", "dispatched", "replied"]
    return no


async def events(client: Client, no: str) -> list[dict]:
    return (await client.get(f"/api/v1/work-orders/{no}")).body["events"]


async def test_a_rejected_reply_is_returned_with_201(platform):
    client = await platform(**QUIET)
    no = await replied(client)
    answer = await client.post(f"/api/v1/work-orders/{no}/returns", rejection())
    assert answer.status == 201
    assert answer.body == {"return_id": "r-1", "work_order_no": no, "status": "returned"}


async def test_the_return_emits_at_once_a_returned_event_by_the_reviewing_body(platform):
    client = await platform(**QUIET)
    no = await replied(client)
    await client.post(f"/api/v1/work-orders/{no}/returns", rejection())
    event = (await events(client, no))[-1]
    assert (event["seq"], event["type"], event["by"]) == (4, "returned", "review")
    assert event["unit"] == {"code": None, "name": f"{BOARD} 审核"}
    assert event["reason"] == COMMENT
    assert (event["return_id"], event["appeal_id"], event["channel_id"]) == ("r-1", appeal(1)["appeal_id"], BOARD)
    assert "basis" not in event and "suggested_unit" not in event


async def test_the_work_order_view_lists_the_return_with_the_seq_of_its_event(platform):
    client = await platform(**QUIET)
    no = await replied(client)
    await client.post(f"/api/v1/work-orders/{no}/returns", rejection())
    view = (await client.get(f"/api/v1/work-orders/{no}")).body
    assert view["status"] == "returned"
    assert view["review_returns"] == [
        {
            "return_id": "r-1",
            "appeal_id": appeal(1)["appeal_id"],
            "channel_id": BOARD,
            "returned_at": "2024-11-28T09:40:00+08:00",
            "seq": 4,
        }
    ]


async def test_after_a_review_return_the_same_unit_replies_anew_and_the_life_goes_on(platform):
    client = await platform(**QUIET)
    no = await replied(client)
    await client.post(f"/api/v1/work-orders/{no}/returns", rejection())
    after = await advance(client, no, 4)
    assert [e["type"] for e in after] == ["dispatched", "replied", "closed", "revisited"]
    first_dispatch, first_reply = (await events(client, no))[1:3]
    assert after[0]["unit"] == first_dispatch["unit"]
    assert after[1]["unit"] == first_reply["unit"]
    assert after[1]["text"] != first_reply["text"]


async def test_the_new_dispatch_has_a_whole_time_limit_from_itself(platform):
    client = await platform(**QUIET)
    no = await replied(client)  # a 7d work order
    await client.post(f"/api/v1/work-orders/{no}/returns", rejection())
    [dispatched] = await advance(client, no)
    deadline, at = datetime.fromisoformat(dispatched["deadline"]), datetime.fromisoformat(dispatched["at"])
    assert deadline - at == timedelta(days=7)


async def test_the_same_return_again_is_200_and_changes_nothing_whatever_the_status_now(platform):
    client = await platform(**QUIET)
    no = await replied(client)
    first = await client.post(f"/api/v1/work-orders/{no}/returns", rejection())
    await advance(client, no)  # dispatched again: no reply to return now
    again = await client.post(f"/api/v1/work-orders/{no}/returns", rejection())
    assert (first.status, again.status) == (201, 200)
    assert again.body == first.body
    assert [e["type"] for e in await events(client, no)] == [
        "accepted",
        "dispatched",
        "replied",
        "returned",
        "dispatched",
    ]


async def test_a_return_id_reused_with_another_comment_is_a_409_naming_the_work_order(platform):
    client = await platform(**QUIET)
    no = await replied(client)
    await client.post(f"/api/v1/work-orders/{no}/returns", rejection())
    answer = await client.post(f"/api/v1/work-orders/{no}/returns", rejection(comment="另一条审核意见"))
    assert answer.status == 409
    assert (answer.body["error"], answer.body["work_order_no"]) == ("idempotency_conflict", no)


async def test_a_return_id_reused_for_another_work_order_is_a_409_naming_the_first(platform):
    client = await platform(**QUIET)
    first, second = await replied(client, 1), await replied(client, 2)
    await client.post(f"/api/v1/work-orders/{first}/returns", rejection(1))
    answer = await client.post(f"/api/v1/work-orders/{second}/returns", rejection(2))
    assert answer.status == 409
    assert (answer.body["error"], answer.body["work_order_no"]) == ("idempotency_conflict", first)


@pytest.mark.parametrize(("steps", "status"), [(0, "created"), (1, "accepted"), (2, "dispatched")])
async def test_a_work_order_without_a_reply_cannot_be_returned(platform, steps, status):
    client = await platform(**QUIET)
    no = await created(client)
    await advance(client, no, steps)
    answer = await client.post(f"/api/v1/work-orders/{no}/returns", rejection())
    assert answer.status == 409
    assert (answer.body["error"], answer.body["work_order_no"]) == ("not_replied", no)
    assert status in answer.body["reason"]


async def test_a_work_order_handled_again_after_a_return_cannot_be_returned_until_it_replies(platform):
    client = await platform(**QUIET)
    no = await replied(client)
    await client.post(f"/api/v1/work-orders/{no}/returns", rejection())
    refused = await client.post(f"/api/v1/work-orders/{no}/returns", rejection(return_id="r-2"))
    assert refused.status == 409 and refused.body["error"] == "not_replied"
    await advance(client, no, 2)  # dispatched, replied
    again = await client.post(f"/api/v1/work-orders/{no}/returns", rejection(return_id="r-2"))
    assert again.status == 201


@pytest.mark.parametrize(("steps", "status"), [(1, "closed"), (2, "revisited")])
async def test_a_closed_or_revisited_work_order_can_be_returned(platform, steps, status):
    client = await platform(**QUIET)
    no = await replied(client)
    assert (await advance(client, no, steps))[-1]["type"] == status
    answer = await client.post(f"/api/v1/work-orders/{no}/returns", rejection())
    assert answer.status == 201
    [dispatched] = await advance(client, no)
    assert dispatched["type"] == "dispatched"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"case_id": case(9)["case_id"]}, "case_mismatch"),
        ({"appeal_id": appeal(9)["appeal_id"]}, "appeal_mismatch"),  # not an appeal of this work order
        ({"channel_id": "web-api"}, "appeal_mismatch"),  # not the channel the appeal came from
    ],
)
async def test_a_return_naming_what_the_work_order_does_not_have_is_refused_naming_it(platform, changes, code):
    client = await platform(**QUIET)
    no = await replied(client)
    answer = await client.post(f"/api/v1/work-orders/{no}/returns", rejection(**changes))
    assert answer.status == 409
    assert (answer.body["error"], answer.body["work_order_no"]) == (code, no)
    assert len(await events(client, no)) == 3


async def test_only_the_reply_to_a_merged_channel_is_reviewed(platform):
    client = await platform(**QUIET)
    no = await replied(client, mode="hotline_flow", channel_id="web-api")
    answer = await client.post(f"/api/v1/work-orders/{no}/returns", rejection(channel_id="web-api"))
    assert answer.status == 409 and answer.body["error"] == "appeal_mismatch"
    assert "hotline_flow" in answer.body["reason"]


def merged_repeat(n: int, of_case: int = 1) -> dict:
    return {"case_id": case(of_case)["case_id"], "appeal": appeal(n, **MERGED)}


async def test_the_review_of_a_merged_repeat_returns_the_work_order(platform):
    client = await platform(**QUIET)
    no = await replied(client, 1, mode="hotline_flow", channel_id="web-api")
    assert (await client.post(f"/api/v1/work-orders/{no}/repeats", merged_repeat(2))).status == 201
    answer = await client.post(f"/api/v1/work-orders/{no}/returns", rejection(1, appeal_id=appeal(2)["appeal_id"]))
    assert answer.status == 201
    assert (await events(client, no))[-1]["appeal_id"] == appeal(2)["appeal_id"]


async def test_a_detached_repeat_cannot_return_the_work_order(platform):
    client = await platform(**QUIET)
    no = await replied(client, 1, mode="hotline_flow", channel_id="web-api")
    await client.post(f"/api/v1/work-orders/{no}/repeats", merged_repeat(2))
    await client.request("DELETE", f"/api/v1/work-orders/{no}/repeats/{appeal(2)['appeal_id']}")
    answer = await client.post(f"/api/v1/work-orders/{no}/returns", rejection(1, appeal_id=appeal(2)["appeal_id"]))
    assert answer.status == 409 and answer.body["error"] == "appeal_mismatch"


async def test_a_review_return_does_not_count_toward_the_two_returns_by_units(platform):
    client = await platform(return_rate=1.0, extend_rate=0.0)
    no = await created(client)
    life = [e["type"] for e in await advance(client, no, 7)]
    assert life == ["accepted", "dispatched", "returned", "dispatched", "returned", "dispatched", "replied"]
    assert (await client.post(f"/api/v1/work-orders/{no}/returns", rejection())).status == 201
    after = await advance(client, no, 2)
    assert [e["type"] for e in after] == ["dispatched", "replied"]  # no return by the unit this time
    everything = await events(client, no)
    assert [e["by"] for e in everything if e["type"] == "returned"] == ["unit", "unit", "review"]
    assert after[0]["unit"] == everything[5]["unit"]  # the third unit, which replied, not a fourth


async def test_a_unit_handling_the_work_order_again_neither_returns_nor_extends_it(platform):
    client = await platform(**QUIET)
    no = await replied(client)
    await client.control("PUT", "/_sim/knobs", {"return_rate": 1.0, "extend_rate": 1.0})
    await client.post(f"/api/v1/work-orders/{no}/returns", rejection())
    assert [e["type"] for e in await advance(client, no, 2)] == ["dispatched", "replied"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"comment": ""}, "comment"),
        ({"comment": "长" * 1001}, "comment"),
        ({"returned_at": "2024-11-28 09:40:00"}, "returned_at"),
        ({"return_id": "r 1"}, "return_id"),
        ({"return_id": "r" * 65}, "return_id"),
        ({"channel_id": "Leader Board"}, "channel_id"),
        ({"reviewer": "市委办"}, "reviewer"),
    ],
)
async def test_a_malformed_return_is_refused_naming_the_field_and_nothing_happens(platform, changes, field):
    client = await platform(**QUIET)
    no = await replied(client)
    answer = await client.post(f"/api/v1/work-orders/{no}/returns", rejection(**changes))
    assert answer.status == 400
    assert (answer.body["error"], answer.body["field"]) == ("validation_failed", field)
    assert len(await events(client, no)) == 3


async def test_a_return_without_its_appeal_is_refused_naming_it(platform):
    client = await platform(**QUIET)
    no = await replied(client)
    doc = rejection()
    del doc["appeal_id"]
    answer = await client.post(f"/api/v1/work-orders/{no}/returns", doc)
    assert answer.status == 400 and answer.body["field"] == "appeal_id"


async def test_a_return_for_an_unknown_work_order_is_a_404(platform):
    answer = await (await platform()).post("/api/v1/work-orders/WO20990101999999/returns", rejection())
    assert answer.status == 404 and answer.body["error"] == "work_order_not_found"


async def test_a_return_signed_with_the_wrong_secret_is_refused_and_nothing_happens(platform):
    client = await platform(**QUIET)
    no = await replied(client)
    wrong = Client(client.session, client.url, secret="not-the-secret-0123456789")
    answer = await wrong.post(f"/api/v1/work-orders/{no}/returns", rejection())
    assert answer.status == 401 and answer.body["error"] == "bad_signature"
    assert len(await events(client, no)) == 3


async def test_a_return_is_logged_with_its_body_and_status(platform):
    client = await platform(**QUIET)
    no = await replied(client)
    await client.post(f"/api/v1/work-orders/{no}/returns", rejection())
    logged = (await client.control("GET", "/_sim/requests"))[-1]
    assert (logged["method"], logged["path"], logged["status"]) == (
        "POST",
        f"/api/v1/work-orders/{no}/returns",
        201,
    )
    assert logged["body"] == rejection()


async def test_the_life_after_a_return_reaches_the_callback_in_order(platform, receiver):
    r, url = receiver
    client = await platform(callback_url=url, clock_scale=FAST_SCALE, auto_advance=True, **FAST)
    no = await created(client)
    await eventually(lambda: len(r.events) >= 3)  # replied; perhaps closed or revisited already
    assert (await client.post(f"/api/v1/work-orders/{no}/returns", rejection())).status == 201
    called = await eventually(lambda: r.events[-1]["type"] == "revisited" and len(r.events) >= 8 and r.events)
    back = next(i for i, e in enumerate(called) if e.get("by") == "review")
    assert [e["type"] for e in called[back:]] == ["returned", "dispatched", "replied", "closed", "revisited"]
    assert [e["seq"] for e in called] == list(range(1, len(called) + 1))
    assert r.refused == []
