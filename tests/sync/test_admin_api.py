"""The admin API of sync (the outbox, deliveries, one case), the review API of merged-mode channels, and the
platform's signed callback endpoint, on a running gateway with the platform simulator on loopback."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from core.models import Appeal, CaseEvent, Delivery, OutboxMessage, PlatformEvent, utcnow
from core.signing import SignedHeaders
from tests.helpers import CALLBACK_SECRET
from tests.sync.support import (
    ADMIN_TOKEN,
    CALLBACK_KEY,
    REVIEWER_TOKEN,
    World,
    complaint,
    eventually,
    sync_world,
)

ADMIN = "token:test-admin"
STILL = {"auto_advance": False}  # work orders stand still: no events unless a test sends them
REFUSING = {**STILL, "error_rate": 1, "error_statuses": [400]}


async def sent(w: World, appeal_id: uuid.UUID) -> Any:
    """Wait until the appeal's case has its work order; its outbox message."""
    return await _message(w, appeal_id, "sent")


async def dead(w: World, appeal_id: uuid.UUID) -> Any:
    """Wait until the create of the appeal's case is a dead letter; the message."""
    return await _message(w, appeal_id, "dead")


async def _message(w: World, appeal_id: uuid.UUID, status: str) -> Any:
    async def check() -> Any:
        rows = await w.rows(
            select(OutboxMessage)
            .join(Appeal, Appeal.case_id == OutboxMessage.case_id)
            .where(Appeal.id == appeal_id)
        )
        return rows[0] if rows and rows[0].status == status else None

    return await eventually(check)


async def timeline(w: World, case_id: uuid.UUID, kind: str) -> list[Any]:
    """The case's timeline lines of one kind."""
    return await w.rows(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == kind))


async def creates_of(w: World, case_id: uuid.UUID) -> list[dict[str, Any]]:
    """The create requests the platform received for a case."""
    received = await w.sim("/_sim/requests")
    return [
        r
        for r in received
        if r["path"] == "/api/v1/work-orders" and r["method"] == "POST" and r["body"]["case_id"] == str(case_id)
    ]


# -- the outbox -------------------------------------------------------------------------------------------------


async def test_the_outbox_lists_messages_newest_first_and_filters_by_status_and_case(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, knobs=STILL) as w:
        first, second = [await sent(w, await w.push(complaint(f"LIST-{i}"))) for i in range(2)]
        await w.sim("/_sim/knobs", "PUT", json={"error_rate": 1, "error_statuses": [400]})
        third = await dead(w, await w.push(complaint("LIST-2")))

        status, body = await w.call("GET", "/admin/v1/outbox")
        assert status == 200
        assert [m["id"] for m in body["messages"]] == [third.id, second.id, first.id]
        _, body = await w.call("GET", "/admin/v1/outbox?status=dead")
        [listed] = body["messages"]
        assert listed["id"] == third.id and listed["attempts"] == 1 and "HTTP 400" in listed["last_error"]
        _, body = await w.call("GET", "/admin/v1/outbox?status=sent")
        assert [m["id"] for m in body["messages"]] == [second.id, first.id]
        _, body = await w.call("GET", f"/admin/v1/outbox?case_id={first.case_id}")
        [listed] = body["messages"]
        assert listed["id"] == first.id and listed["response"]["work_order_no"] == first.response["work_order_no"]
        _, body = await w.call("GET", "/admin/v1/outbox?limit=1")
        assert [m["id"] for m in body["messages"]] == [third.id]


async def test_the_outbox_list_shows_that_a_request_is_frozen_but_never_the_request(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, knobs=STILL) as w:
        await sent(w, await w.push(complaint("PRIVATE-1")))
        status, body = await w.call("GET", "/admin/v1/outbox")
        assert status == 200 and body["messages"][0]["frozen"] is True
        text = json.dumps(body, ensure_ascii=False)
        assert "13800138000" not in text and "张三" not in text


async def test_a_dead_message_retried_is_sent_once_the_platform_recovers(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, knobs=REFUSING) as w:
        appeal_id = await w.push(complaint("RETRY-1"))
        message = await dead(w, appeal_id)
        await w.sim("/_sim/knobs", "PUT", json={"error_rate": 0})

        status, body = await w.call("POST", "/admin/v1/outbox/retry", json={"ids": [message.id]})
        assert status == 200 and body == {"requeued": [message.id]}
        message = await sent(w, appeal_id)
        assert message.attempts == 1  # counted again from zero
        [order] = await w.sim("/_sim/work-orders")
        assert (await w.case_of(appeal_id)).work_order_no == order["work_order_no"]
        [retried] = await timeline(w, message.case_id, "outbox_retried")
        assert retried.detail == {"message_id": message.id, "was": "dead", "by": ADMIN}


async def test_retrying_with_no_ids_retries_every_dead_message(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, knobs=REFUSING) as w:
        ids = [await w.push(complaint(f"ALLDEAD-{i}")) for i in range(2)]
        messages = [await dead(w, i) for i in ids]
        await w.sim("/_sim/knobs", "PUT", json={"error_rate": 0})

        status, body = await w.call("POST", "/admin/v1/outbox/retry", json={})
        assert status == 200 and sorted(body["requeued"]) == sorted(m.id for m in messages)
        for i in ids:
            await sent(w, i)


async def test_a_message_refused_again_after_a_retry_shows_both_deaths_on_the_timeline(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, knobs=REFUSING) as w:
        appeal_id = await w.push(complaint("TWICE-DEAD-1"))
        message = await dead(w, appeal_id)
        await w.call("POST", "/admin/v1/outbox/retry", json={"ids": [message.id]})

        async def refused_twice() -> bool:
            [again] = await w.rows(select(OutboxMessage).where(OutboxMessage.id == message.id))
            return len(await creates_of(w, message.case_id)) == 2 and again.status == "dead"

        await eventually(refused_twice)
        kinds = [
            e.kind
            for e in await w.rows(
                select(CaseEvent).where(CaseEvent.case_id == message.case_id).order_by(CaseEvent.at, CaseEvent.id)
            )
        ]
        assert [k for k in kinds if k in ("message_dead", "outbox_retried")] == [
            "message_dead",
            "outbox_retried",
            "message_dead",
        ]


async def test_retrying_an_unknown_message_is_404(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, knobs=STILL) as w:
        status, body = await w.call("POST", "/admin/v1/outbox/retry", json={"ids": [987654]})
        assert status == 404 and body["error"] == "not_found" and "987654" in body["reason"]


async def test_a_message_being_sent_right_now_is_neither_retried_nor_discarded(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, knobs={**STILL, "latency_ms": 3000}) as w:
        appeal_id = await w.push(complaint("SLOW-1"))

        async def in_flight():
            rows = await w.rows(select(OutboxMessage).where(OutboxMessage.claimed_until.is_not(None)))
            return rows[0] if rows else None

        message = await in_flight() or await eventually(in_flight)
        for path, body in (
            ("/admin/v1/outbox/retry", {"ids": [message.id], "rerender": True}),
            ("/admin/v1/outbox/discard", {"ids": [message.id], "reason": "stuck?"}),
        ):
            status, answer = await w.call("POST", path, json=body)
            assert status == 409 and "being sent right now" in answer["reason"]
        done = await sent(w, appeal_id)  # the send in flight went through, untouched
        assert done.id == message.id and done.attempts == 1
        assert len(await w.sim("/_sim/work-orders")) == 1


async def test_a_replayed_message_is_sent_again_and_the_platform_answers_200_with_the_same_work_order(
    tmp_path, db_url
):
    async with sync_world(tmp_path, db_url, knobs=STILL) as w:
        appeal_id = await w.push(complaint("REPLAY-1"))
        message = await sent(w, appeal_id)

        status, body = await w.call("POST", f"/admin/v1/outbox/{message.id}/replay")
        assert status == 200 and body == {"requeued": [message.id]}

        async def resent() -> list[dict[str, Any]] | None:
            creates = await creates_of(w, message.case_id)
            return creates if len(creates) == 2 else None

        creates = await eventually(resent)
        assert [r["status"] for r in creates] == [201, 200] and creates[0]["body"] == creates[1]["body"]
        again = await sent(w, appeal_id)
        assert again.response["work_order_no"] == message.response["work_order_no"]
        assert len(await w.sim("/_sim/work-orders")) == 1
        [replayed] = await timeline(w, message.case_id, "outbox_replayed")
        assert replayed.detail["by"] == ADMIN and replayed.detail["message_id"] == message.id


async def test_replaying_an_unknown_message_is_404(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, knobs=STILL) as w:
        status, body = await w.call("POST", "/admin/v1/outbox/987654/replay")
        assert status == 404 and body["error"] == "not_found"


# -- deliveries -------------------------------------------------------------------------------------------------


async def test_a_dead_delivery_retried_is_delivered_once_the_channel_recovers(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, callback_channels=("board",)) as w:
        receiver = w.receivers["board"]
        await w.sim("/_sim/knobs", "PUT", base=receiver, json={"error_rate": 1, "error_statuses": [400]})
        appeal_id = await w.push(complaint("DELIVER-1"), channel="board")

        async def a_dead_one() -> list[dict[str, Any]] | None:
            _, body = await w.call("GET", "/admin/v1/deliveries?state=dead&channel_id=board")
            return body["deliveries"] or None

        [dead_one] = await eventually(a_dead_one)
        assert dead_one["appeal_id"] == str(appeal_id) and dead_one["status"] == "accepted"
        assert "HTTP 400" in dead_one["last_error"]
        await w.sim("/_sim/knobs", "PUT", base=receiver, json={"error_rate": 0})

        status, body = await w.call("POST", "/admin/v1/deliveries/retry", json={"ids": [dead_one["id"]]})
        assert status == 200 and body == {"requeued": [dead_one["id"]]}

        async def all_delivered() -> list[dict[str, Any]] | None:
            _, body = await w.call("GET", f"/admin/v1/deliveries?case_id={dead_one['case_id']}")
            rows = body["deliveries"]
            return rows if len(rows) == 5 and all(d["state"] == "delivered" for d in rows) else None

        rows = await eventually(all_delivered)
        assert [d["status"] for d in reversed(rows)] == [
            "accepted",
            "dispatched",
            "replied",
            "closed",
            "revisited",
        ]
        received = [e["event"]["status"] for e in await w.sim("/_sim/events", base=receiver)]
        assert received == ["accepted", "dispatched", "replied", "closed", "revisited"]
        [retried] = await timeline(w, uuid.UUID(dead_one["case_id"]), "delivery_retried")
        assert retried.detail == {"delivery_id": dead_one["id"], "by": ADMIN}


async def test_a_delivery_refused_again_after_a_retry_shows_both_deaths_on_the_timeline(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, callback_channels=("board",)) as w:
        receiver = w.receivers["board"]
        await w.sim("/_sim/knobs", "PUT", base=receiver, json={"error_rate": 1, "error_statuses": [400]})
        appeal_id = await w.push(complaint("DELIVER-2"), channel="board")

        async def dead_delivery(tries: int) -> Any:
            rows = await w.rows(select(Delivery).where(Delivery.appeal_id == appeal_id, Delivery.state == "dead"))
            attempts = await w.sim("/_sim/attempts", base=receiver)
            return rows[0] if rows and len(attempts) == tries else None

        first = await eventually(lambda: dead_delivery(1))
        await w.call("POST", "/admin/v1/deliveries/retry", json={"ids": [first.id]})
        await eventually(lambda: dead_delivery(2))
        lines = await w.rows(
            select(CaseEvent)
            .where(CaseEvent.case_id == first.case_id, CaseEvent.kind.in_(["delivery_dead", "delivery_retried"]))
            .order_by(CaseEvent.at, CaseEvent.id)
        )
        assert [line.kind for line in lines] == ["delivery_dead", "delivery_retried", "delivery_dead"]


async def test_retrying_an_unknown_delivery_is_404(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, knobs=STILL) as w:
        status, body = await w.call("POST", "/admin/v1/deliveries/retry", json={"ids": [987654]})
        assert status == 404 and body["error"] == "not_found"


# -- one case ---------------------------------------------------------------------------------------------------


async def test_a_case_shows_its_timeline_outbox_and_appeals_with_the_phone_masked(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, knobs=STILL) as w:
        appeal_id = await w.push(complaint("CASE-1"))
        message = await sent(w, appeal_id)

        status, case = await w.call("GET", f"/admin/v1/cases/{message.case_id}")
        assert status == 200 and case["id"] == str(message.case_id)
        assert case["work_order_no"] == message.response["work_order_no"]
        [appeal] = case["appeals"]
        assert appeal["id"] == str(appeal_id) and appeal["source_id"] == "CASE-1"
        assert appeal["citizen"]["name"] == "张三" and appeal["citizen"]["phone"] == "+86138****8000"
        assert "13800138000" not in json.dumps(case)
        kinds = [line["kind"] for line in case["timeline"]]
        assert kinds[0] == "appeal_received" and "create_work_order_sent" in kinds
        assert [m["id"] for m in case["outbox"]] == [message.id]


async def test_a_confidential_appeal_shows_no_identity_in_its_case(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, knobs=STILL) as w:
        appeal_id = await w.push(complaint("REPORT-1", type="举报"))
        message = await sent(w, appeal_id)

        status, case = await w.call("GET", f"/admin/v1/cases/{message.case_id}")
        assert status == 200
        [appeal] = case["appeals"]
        assert appeal["confidential"] is True and appeal["citizen"] is None
        text = json.dumps(case, ensure_ascii=False)
        assert "张三" not in text and "13800138000" not in text and "8000" not in text


async def test_an_unknown_case_is_404_and_a_case_id_that_is_no_uuid_is_400(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, knobs=STILL) as w:
        status, body = await w.call("GET", f"/admin/v1/cases/{uuid.uuid4()}")
        assert status == 404 and body["error"] == "not_found"
        status, body = await w.call("GET", "/admin/v1/cases/not-a-case")
        assert status == 400


# -- tokens and roles -------------------------------------------------------------------------------------------

ADMIN_ROUTES = [
    ("GET", "/admin/v1/outbox"),
    ("POST", "/admin/v1/outbox/retry"),
    ("POST", "/admin/v1/outbox/1/replay"),
    ("GET", "/admin/v1/deliveries"),
    ("POST", "/admin/v1/deliveries/retry"),
    ("GET", f"/admin/v1/cases/{uuid.UUID(int=1)}"),
]
REVIEW_ROUTES = [
    ("GET", "/review/v1/replies"),
    ("POST", "/review/v1/replies/1/approve"),
    ("POST", "/review/v1/replies/1/reject"),
]


async def test_every_admin_and_review_route_is_401_without_a_token_or_with_an_unknown_one(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, knobs=STILL) as w:
        for method, path in ADMIN_ROUTES + REVIEW_ROUTES:
            async with w.http.request(method, f"{w.gateway}{path}", json={}) as r:
                assert r.status == 401, (method, path)
            status, body = await w.call(method, path, token="not-a-token-of-this-gateway", json={})
            assert status == 401 and body["error"] == "unauthorized", (method, path)


async def test_a_reviewer_token_is_403_on_every_admin_route(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, knobs=STILL) as w:
        for method, path in ADMIN_ROUTES:
            status, body = await w.call(method, path, token=REVIEWER_TOKEN, json={})
            assert status == 403 and body["error"] == "forbidden", (method, path)


async def test_an_admin_token_is_403_on_every_review_route(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, knobs=STILL) as w:
        for method, path in REVIEW_ROUTES:
            status, body = await w.call(method, path, token=ADMIN_TOKEN, json={"comment": "不予通过"})
            assert status == 403 and body["error"] == "forbidden", (method, path)


# -- review of merged-mode replies ------------------------------------------------------------------------------


async def awaiting(w: World) -> list[dict[str, Any]]:
    """Wait until the reviewer has replies to review; them."""

    async def check() -> list[dict[str, Any]] | None:
        status, body = await w.call("GET", "/review/v1/replies", token=REVIEWER_TOKEN)
        assert status == 200
        return body["replies"] or None

    return await eventually(check)


async def reply_of_another_channel(w: World, reply: dict[str, Any]) -> int:
    """A reply awaiting review on the "off" channel (merged mode, not the reviewer's); its delivery id."""
    now = utcnow()
    payload = {"event_id": "WO-OTHER-003", "source_id": "OFF-1", "status": "replied", "text": "答复", "at": None}
    async with w.ctx.engine.begin() as conn:
        result = await conn.execute(
            insert(Delivery)
            .values(
                case_id=uuid.UUID(reply["case_id"]),
                appeal_id=uuid.UUID(reply["appeal_id"]),
                channel_id="off",
                kind="reply",
                idempotency_key=f"test-other-channel-{uuid.uuid4()}",
                payload=payload,
                state="awaiting_review",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
                event_id="WO-OTHER-003",
            )
            .returning(Delivery.id)
        )
        return result.scalar_one()


async def test_a_reviewer_sees_only_the_replies_of_their_own_channels(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, national_mode="merged", national_orders=1) as w:
        [reply] = await awaiting(w)
        other = await reply_of_another_channel(w, reply)

        _, body = await w.call("GET", "/review/v1/replies", token=REVIEWER_TOKEN)
        assert [r["id"] for r in body["replies"]] == [reply["id"]]
        assert reply["channel_id"] == "gz-12315" and reply["state"] == "awaiting_review" and reply["text"]
        _, body = await w.call("GET", "/admin/v1/deliveries?state=awaiting_review")
        assert {d["id"] for d in body["deliveries"]} == {reply["id"], other}


async def test_a_reviewer_cannot_review_a_reply_of_another_channel(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, national_mode="merged", national_orders=1) as w:
        [reply] = await awaiting(w)
        other = await reply_of_another_channel(w, reply)

        status, body = await w.call("POST", f"/review/v1/replies/{other}/approve", token=REVIEWER_TOKEN)
        assert status == 404 and body["error"] == "review_refused"
        [row] = await w.rows(select(Delivery.state).where(Delivery.id == other))
        assert row.state == "awaiting_review"


@pytest.mark.parametrize("body", [{}, {"comment": ""}, {"comment": "   "}, {"comment": 42}])
async def test_rejecting_a_reply_without_a_comment_is_400_and_changes_nothing(tmp_path, db_url, body):
    async with sync_world(tmp_path, db_url, national_mode="merged", national_orders=1) as w:
        [reply] = await awaiting(w)

        status, answer = await w.call(
            "POST", f"/review/v1/replies/{reply['id']}/reject", token=REVIEWER_TOKEN, json=body
        )
        assert status == 400 and answer["error"] == "review_refused"
        [row] = await w.rows(select(Delivery.state).where(Delivery.id == reply["id"]))
        assert row.state == "awaiting_review"
        returns = await w.rows(select(OutboxMessage).where(OutboxMessage.kind == "return_reply"))
        assert returns == []


async def test_a_reply_is_reviewed_once_a_second_verdict_is_409(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, national_mode="merged", national_orders=1) as w:
        [reply] = await awaiting(w)
        path = f"/review/v1/replies/{reply['id']}"

        status, body = await w.call("POST", f"{path}/approve", token=REVIEWER_TOKEN)
        assert status == 200 and body == {"id": reply["id"], "verdict": "approve"}
        status, body = await w.call("POST", f"{path}/approve", token=REVIEWER_TOKEN)
        assert status == 409 and body["error"] == "review_refused"
        status, body = await w.call("POST", f"{path}/reject", token=REVIEWER_TOKEN, json={"comment": "不予通过"})
        assert status == 409
        approved = await timeline(w, uuid.UUID(reply["case_id"]), "reply_approved")
        assert [line.detail["by"] for line in approved] == ["token:board-office"]


# -- the platform's callbacks -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signer:
    """The platform's callback credentials (or wrong ones), as core.signing takes them."""

    app_key: str = CALLBACK_KEY
    app_secret: str = CALLBACK_SECRET
    sign_method: str = "hmac-sha256"


async def call_back(w: World, doc: dict[str, Any], signer: Signer = Signer()) -> tuple[int, Any]:
    """POST one event to the callback endpoint, signed as the platform signs it."""
    body = json.dumps(doc, ensure_ascii=False).encode()
    headers = dict(SignedHeaders(signer, "POST", "/api/v1/platform/events", {}, body))
    headers["Content-Type"] = "application/json"
    async with w.http.post(f"{w.gateway}/api/v1/platform/events", data=body, headers=headers) as r:
        return r.status, await r.json()


async def accepted_event(w: World) -> dict[str, Any]:
    """The `accepted` event of a new work order, as the platform would call it back."""
    appeal_id = await w.push(complaint("CALLBACK-1"))
    message = await sent(w, appeal_id)
    no = message.response["work_order_no"]
    return {
        "event_id": f"{no}-001",
        "global_seq": 1,
        "work_order_no": no,
        "case_id": str(message.case_id),
        "seq": 1,
        "type": "accepted",
        "at": datetime.now(UTC).isoformat(),
    }


async def stored_events(w: World) -> int:
    """How many platform events the gateway stored."""
    [row] = await w.rows(select(func.count()).select_from(PlatformEvent))
    return row[0]


async def test_a_callback_with_a_bad_signature_is_401_and_not_stored(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, knobs=STILL) as w:
        event = await accepted_event(w)
        status, body = await call_back(w, event, Signer(app_secret="not-the-callback-secret-0123456789"))
        assert status == 401 and body["error"] == "bad_signature"
        status, _ = await call_back(w, event, Signer(app_key="someone-else"))
        assert status == 401
        assert await stored_events(w) == 0


async def test_a_callback_without_an_event_id_is_400_and_not_stored(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, knobs=STILL) as w:
        event = await accepted_event(w)
        del event["event_id"]
        status, body = await call_back(w, event)
        assert status == 400 and "event_id" in body["reason"]
        assert await stored_events(w) == 0


async def test_the_same_event_called_back_twice_is_stored_once_and_answered_duplicate(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, knobs=STILL) as w:
        event = await accepted_event(w)
        first = await call_back(w, event)
        second = await call_back(w, event)  # signed anew: a new nonce, the same event
        assert first == (200, {"status": "stored", "event_id": event["event_id"]})
        assert second == (200, {"status": "duplicate", "event_id": event["event_id"]})
        assert await stored_events(w) == 1

        async def applied() -> list[Any]:
            return await timeline(w, uuid.UUID(event["case_id"]), "accepted")

        assert len(await eventually(applied)) == 1
