"""The loop the reform exists for, end to end on loopback: a channel's appeal becomes one work order at the
12345 platform, and the platform's events come back onto the case's timeline and out to the channels."""

from __future__ import annotations

from sqlalchemy import select

from connectors.market12315.dialect import EVENT_STATUS_CODES
from core.models import Appeal, Case, CaseEvent, Delivery, OutboxMessage, RawItemVersion
from tests.sync.support import REVIEWER_TOKEN, complaint, eventually, sync_world


async def test_an_appeal_becomes_one_work_order_and_its_whole_life_comes_back_on_the_timeline(tmp_path, db_url):
    async with sync_world(tmp_path, db_url) as w:
        appeal_id = await w.push(complaint("BOARD-1"))

        async def revisited():
            case = await w.case_of(appeal_id)
            return case if case.platform_status == "revisited" else None

        case = await eventually(revisited)
        orders = await w.sim("/_sim/work-orders")
        assert [o["case_id"] for o in orders] == [str(case.id)]
        assert case.work_order_no == orders[0]["work_order_no"]
        kinds = [
            e.kind
            for e in await w.rows(
                select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.at, CaseEvent.id)
            )
        ]
        assert kinds[0] == "appeal_received"
        platform = [k for k in kinds if k in ("accepted", "dispatched", "replied", "closed", "revisited")]
        assert platform == ["accepted", "dispatched", "replied", "closed", "revisited"]
        assert case.unit_name and case.replied_at is not None and case.due_state == "met"
        [message] = await w.rows(select(OutboxMessage))
        assert message.status == "sent" and message.response["work_order_no"] == case.work_order_no


async def _one_case_done(w, status="revisited"):
    async def done():
        cases = await w.rows(select(Case).where(Case.platform_status == status))
        return cases or None

    return await eventually(done)


async def test_a_reply_reaches_the_channel_the_appeal_came_from_in_its_own_protocol(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, national_mode="hotline_flow", national_orders=1) as w:
        [case] = await _one_case_done(w)
        [appeal] = await w.rows(select(Appeal).where(Appeal.case_id == case.id))

        async def delivered():
            rows = await w.rows(select(Delivery).where(Delivery.appeal_id == appeal.id))
            return rows if rows and all(d.state == "delivered" for d in rows) and len(rows) == 5 else None

        deliveries = await eventually(delivered)
        received = await w.sim("/_sim/events", base=w.national)
        mine = [e for e in received if e["order_id"] == appeal.source_id]
        life = ["accepted", "dispatched", "replied", "closed", "revisited"]
        assert [e["status"] for e in mine] == [EVENT_STATUS_CODES[s] for s in life]  # 12315's own codes
        reply = next(e for e in mine if e["kind"] == "reply")
        [platform_reply] = [d for d in deliveries if d.kind == "reply"]
        assert reply["text"] == platform_reply.payload["text"] and reply["text"]
        assert all(d.receipt and d.receipt["reference"] for d in deliveries)


async def test_while_the_platform_is_down_nothing_is_lost_and_the_backlog_drains_after(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, knobs={"outage": True, "auto_advance": False}) as w:
        ids = [await w.push(complaint(f"DOWN-{i}")) for i in range(12)]

        async def all_retried():
            rows = await w.rows(select(OutboxMessage))
            return len(rows) == 12 and all(r.attempts >= 2 and r.status == "pending" for r in rows)

        await eventually(all_retried)
        await w.sim("/_sim/knobs", "PUT", json={"outage": False})

        async def all_sent():
            rows = await w.rows(select(OutboxMessage))
            return rows if all(r.status == "sent" for r in rows) else None

        sent = await eventually(all_sent)
        orders = await w.sim("/_sim/work-orders")
        assert len(orders) == 12 == len({o["case_id"] for o in orders})
        assert {r.response["work_order_no"] for r in sent} == {o["work_order_no"] for o in orders}
        assert {(await w.case_of(i)).work_order_no for i in ids} == {o["work_order_no"] for o in orders}


async def test_duplicate_and_out_of_order_callbacks_make_one_clean_timeline(tmp_path, db_url):
    knobs = {"duplicate_callbacks": 0.5, "out_of_order_callbacks": 0.5, "return_rate": 0.5}
    async with sync_world(tmp_path, db_url, knobs=knobs) as w:
        for i in range(6):
            await w.push(complaint(f"ORDER-{i}"))

        async def all_revisited():
            cases = await w.rows(select(Case).where(Case.platform_status == "revisited"))
            return cases if len(cases) == 6 else None

        cases = await eventually(all_revisited, timeout=40)
        stats = await w.sim("/_sim/stats")
        assert stats["callbacks"]["duplicates"] > 0 and stats["callbacks"]["held_back"] > 0
        for case in cases:
            order = next(o for o in await w.sim("/_sim/work-orders") if o["case_id"] == str(case.id))
            lines = await w.rows(
                select(CaseEvent)
                .where(CaseEvent.case_id == case.id, CaseEvent.source == "platform")
                .order_by(CaseEvent.id)
            )
            assert [line.kind for line in lines] == [e["type"] for e in order["events"]]
            assert case.last_event_seq == len(order["events"])


async def test_a_merged_mode_reply_rejected_in_review_is_returned_not_published(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, national_mode="merged", national_orders=1) as w:

        async def awaiting():
            status, body = await w.call("GET", "/review/v1/replies", token=REVIEWER_TOKEN)
            assert status == 200
            return body["replies"] or None

        [first] = await eventually(awaiting)
        status, _ = await w.call(
            "POST",
            f"/review/v1/replies/{first['id']}/reject",
            token=REVIEWER_TOKEN,
            json={"comment": "答复未说明停车费的收费依据，请补充。"},
        )
        assert status == 200

        [second] = await eventually(awaiting)
        assert second["id"] != first["id"] and second["text"] != first["text"]
        status, _ = await w.call("POST", f"/review/v1/replies/{second['id']}/approve", token=REVIEWER_TOKEN)
        assert status == 200

        async def published():
            events = await w.sim("/_sim/events", base=w.national)
            return [e for e in events if e["kind"] == "reply"] or None

        [reply] = await eventually(published)
        assert reply["text"] == second["text"]
        [order] = await w.sim("/_sim/work-orders")
        [returned] = order["review_returns"]
        assert returned["channel_id"] == "gz-12315"
        returns = [e for e in order["events"] if e["type"] == "returned"]
        assert returns[0]["by"] == "review" and returns[0]["reason"] == "答复未说明停车费的收费依据，请补充。"


async def test_a_case_merged_from_three_channels_owes_each_of_them_the_reply(tmp_path, db_url):
    channels = ("web-a", "web-b", "web-c")
    async with sync_world(tmp_path, db_url, callback_channels=channels, merge=True) as w:
        ids = [await w.push(complaint(f"PARKING#{ch}"), channel=ch) for ch in channels]

        case = await eventually(lambda: _revisited_case(w, ids[0]))
        assert {(await w.case_of(i)).id for i in ids} == {case.id} and case.appeal_count == 3
        [order] = await w.sim("/_sim/work-orders")
        assert sorted(r["appeal_id"] for r in order["repeats"]) == sorted(str(i) for i in ids[1:])

        async def replies():
            got = {
                ch: [
                    r["event"]
                    for r in await w.sim("/_sim/events", base=w.receivers[ch])
                    if r["event"]["kind"] == "reply"
                ]
                for ch in channels
            }
            return got if all(got.values()) else None

        got = await eventually(replies)
        texts = {ch: [e["text"] for e in events] for ch, events in got.items()}
        assert all(t == texts["web-a"] for t in texts.values())  # one reply, to every channel used
        for ch, events in got.items():
            assert [e["source_id"] for e in events] == [f"PARKING#{ch}"]


async def _revisited_case(w, appeal_id):
    case = await w.case_of(appeal_id)
    return case if case.platform_status == "revisited" else None


async def test_a_channel_that_is_down_delays_only_its_own_deliveries(tmp_path, db_url):
    channels = ("web-a", "web-b")
    async with sync_world(tmp_path, db_url, callback_channels=channels, merge=True) as w:
        await w.sim("/_sim/knobs", "PUT", base=w.receivers["web-b"], json={"outage": True})
        ids = [await w.push(complaint(f"LAMP#{ch}"), channel=ch) for ch in channels]

        async def delivered(appeal_id):
            rows = await w.rows(
                select(Delivery).where(Delivery.appeal_id == appeal_id, Delivery.state == "delivered")
            )
            return len(rows) == 5

        await eventually(lambda: delivered(ids[0]))
        waiting = await w.rows(select(Delivery).where(Delivery.appeal_id == ids[1]).order_by(Delivery.id))
        assert waiting and all(d.state == "pending" for d in waiting)
        assert waiting[0].attempts >= 1 and "503" in waiting[0].last_error  # the rest wait behind it, in order

        await w.sim("/_sim/knobs", "PUT", base=w.receivers["web-b"], json={"outage": False})

        async def caught_up():
            rows = await w.rows(select(Delivery).where(Delivery.appeal_id == ids[1]))
            return all(d.state == "delivered" for d in rows) and any(
                d.payload["status"] == "revisited" for d in rows
            )

        await eventually(caught_up)
        received = [r["event"]["status"] for r in await w.sim("/_sim/events", base=w.receivers["web-b"])]
        # web-b's appeal may have joined the case after its first events (then it is sent the reply and the
        # latest status at once): what it gets is the case's life, in order, reply and end included.
        life = ["accepted", "dispatched", "replied", "closed", "revisited"]
        assert received == [s for s in life if s in received] and {"replied", "revisited"} <= set(received)


async def test_an_interconnect_platforms_own_progress_reaches_the_12345_platform(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, national_mode="interconnect", national_orders=1) as w:

        async def shared():
            records = await w.sim("/_sim/shared-records")
            return records or None

        [record] = await eventually(shared)
        order_id = record["request"]["appeal"]["source_id"]
        answer = await w.sim(
            f"/_sim/orders/{order_id}/status",
            "POST",
            base=w.national,
            json={"status": "replied", "reply": "经调解，商家同意退还预付款。", "unit": "章贡区市场监督管理局"},
        )
        assert answer["id"] == order_id

        async def updated():
            [r] = await w.sim("/_sim/shared-records")
            return r["updates"] or None

        [update] = await eventually(updated)
        assert (update["status"], update["text"]) == ("replied", "经调解，商家同意退还预付款。")
        assert update["unit"]["name"] == "章贡区市场监督管理局"
        lines = await w.rows(select(CaseEvent).where(CaseEvent.kind == "channel_status"))
        assert [line.detail["status"] for line in lines] == ["replied"]
        versions = await w.rows(select(RawItemVersion))
        assert len(versions) == 1 and "经调解" in versions[0].payload


async def test_requests_and_callbacks_can_be_signed_with_sm3(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, sign_method="sm3") as w:
        appeal_id = await w.push(complaint("SM3-1"))
        case = await eventually(lambda: _revisited_case(w, appeal_id))
        requests = await w.sim("/_sim/requests")
        assert {r["headers"]["X-Sign-Method"] for r in requests if r["path"].startswith("/api/")} == {"sm3"}
        assert case.work_order_no


async def test_an_appeal_merged_after_the_reply_hears_the_reply_too(tmp_path, db_url):
    channels = ("web-a", "web-b")
    async with sync_world(tmp_path, db_url, callback_channels=channels, merge=True) as w:
        first = await w.push(complaint("FEE#web-a"), channel="web-a")
        case = await eventually(lambda: _revisited_case(w, first))
        late = await w.push(complaint("FEE#web-b"), channel="web-b")
        assert (await w.case_of(late)).id == case.id

        async def heard():
            got = [r["event"] for r in await w.sim("/_sim/events", base=w.receivers["web-b"])]
            return got if len(got) == 2 else None

        got = await eventually(heard)
        assert [e["status"] for e in got] == ["replied", "revisited"]
        [order] = await w.sim("/_sim/work-orders")
        assert [r["appeal_id"] for r in order["repeats"]] == [str(late)]
