"""Escalation (督办): near-due and overdue cases on the timeline, and supervision raised once per reason, both
from the scan (with an injected clock, on a real database) and end to end from the platform's events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from core.config import SyncSettings
from core.ingest import Pipeline
from core.models import Case, CaseEvent, Flag, OutboxMessage
from sync.deadlines import scan
from sync.targets.base import RAISE_FLAG
from tests.sync.ingested import ingest_case, make_pipeline
from tests.sync.support import REVIEWER_TOKEN, complaint, eventually, sync_world

SETTINGS = SyncSettings()  # near due in the last 20% of the time; 多次催办 from three repeat appeals


@pytest.fixture
def pipeline(tmp_path, db_url) -> Pipeline:
    return make_pipeline(tmp_path, db_url)


@pytest.fixture
async def at_platform(engine, pipeline) -> Any:
    """A 7-day complaint received now, stored by the ingest pipeline, with its work order at the platform."""
    case = await ingest_case(engine, pipeline, "E-1", datetime.now(UTC).replace(microsecond=0))
    await set_case(engine, case, work_order_no="WO20261125000001", platform_status="created")
    return await reload(engine, case)


@pytest.fixture
async def case(engine, at_platform) -> Any:
    """The complaint's work order, accepted ten minutes after receipt."""
    await set_case(engine, at_platform, accepted_at=at_platform.created_at + timedelta(minutes=10))
    return await reload(engine, at_platform)


async def reload(engine, case) -> Any:
    """The case as stored now."""
    async with engine.connect() as conn:
        return (await conn.execute(select(Case).where(Case.id == case.id))).one()


async def scan_at(engine, now: datetime) -> dict[str, int]:
    """One escalation scan, in its own transaction, as if the clock said `now`."""
    async with engine.begin() as conn:
        return await scan(conn, SETTINGS, now)


async def timeline_lines(engine, case, kind: str) -> list[Any]:
    """The case's timeline lines of one kind."""
    async with engine.connect() as conn:
        query = select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == kind)
        return list((await conn.execute(query)).all())


async def flags_of(engine, case) -> list[Any]:
    """The flags raised on a case."""
    async with engine.connect() as conn:
        return list((await conn.execute(select(Flag).where(Flag.case_id == case.id))).all())


async def flag_messages(engine, case) -> list[Any]:
    """The raise_flag messages the case owes the platform."""
    async with engine.connect() as conn:
        query = select(OutboxMessage).where(OutboxMessage.case_id == case.id, OutboxMessage.kind == RAISE_FLAG)
        return list((await conn.execute(query)).all())


async def set_case(engine, case, **values) -> None:
    """Change stored columns of a case (what other parts of huiju would have recorded)."""
    async with engine.begin() as conn:
        await conn.execute(update(Case).where(Case.id == case.id).values(**values))


def last_fifth_starts(case) -> datetime:
    """When the last 20% of the time between receipt (the case opened then) and the reply deadline begins."""
    return case.reply_due_at - (case.reply_due_at - case.created_at) * SETTINGS.near_due_fraction


# -- near due ------------


async def test_a_case_is_not_near_due_before_the_last_fifth_of_its_time(engine, case):
    counts = await scan_at(engine, last_fifth_starts(case) - timedelta(hours=1))
    assert counts["near_due"] == 0
    assert (await reload(engine, case)).due_state == "ok"
    assert await timeline_lines(engine, case, "near_due") == []


async def test_a_case_in_the_last_fifth_of_its_time_is_near_due(engine, case):
    counts = await scan_at(engine, last_fifth_starts(case) + timedelta(hours=1))
    assert counts["near_due"] == 1
    assert (await reload(engine, case)).due_state == "near_due"


async def test_near_due_is_recorded_once_on_the_timeline_however_often_the_scan_runs(engine, case):
    start = last_fifth_starts(case)
    for hours in (1, 2, 3):
        await scan_at(engine, start + timedelta(hours=hours))
    [line] = await timeline_lines(engine, case, "near_due")
    assert line.source == "gateway"
    assert await flags_of(engine, case) == []  # near due is a warning on the timeline, not supervision


# -- overdue ------------


async def test_a_case_is_not_overdue_at_its_deadline(engine, case):
    counts = await scan_at(engine, case.reply_due_at)
    assert counts["overdue"] == 0
    assert (await reload(engine, case)).due_state != "overdue"


async def test_an_unreplied_case_past_its_deadline_is_overdue(engine, case):
    counts = await scan_at(engine, case.reply_due_at + timedelta(minutes=1))
    assert counts["overdue"] == 1
    assert (await reload(engine, case)).due_state == "overdue"


async def test_overdue_is_recorded_once_on_the_timeline_however_often_the_scan_runs(engine, case):
    for minutes in (1, 60, 600):
        await scan_at(engine, case.reply_due_at + timedelta(minutes=minutes))
    [line] = await timeline_lines(engine, case, "overdue")
    assert line.source == "gateway"


async def test_overdue_raises_one_supervision_flag_however_often_the_scan_runs(engine, case):
    await scan_at(engine, last_fifth_starts(case) + timedelta(hours=1))
    for minutes in (1, 60, 600):
        await scan_at(engine, case.reply_due_at + timedelta(minutes=minutes))

    [flag] = await flags_of(engine, case)
    assert (flag.kind, flag.reason) == ("supervision", "overdue")
    [message] = await flag_messages(engine, case)
    assert message.payload["kind"] == "supervision" and message.payload["reason"] == "overdue"
    assert message.payload["flag_id"] == flag.flag_id
    assert len(await timeline_lines(engine, case, "supervision_raised")) == 1


@pytest.mark.parametrize("due_state", ["met", "late"])
async def test_a_replied_case_is_never_flagged_overdue(engine, case, due_state):
    replied = case.reply_due_at + (timedelta(hours=-2) if due_state == "met" else timedelta(hours=2))
    await set_case(engine, case, replied_at=replied, due_state=due_state)
    for days in (1, 30):
        await scan_at(engine, case.reply_due_at + timedelta(days=days))

    assert (await reload(engine, case)).due_state == due_state
    assert await timeline_lines(engine, case, "overdue") == []
    assert await flags_of(engine, case) == []
    assert await flag_messages(engine, case) == []


# -- not accepted in time ------------


async def test_a_work_order_not_accepted_within_an_hour_raises_overdue_supervision_once(engine, at_platform):
    for minutes in (61, 90, 600):
        await scan_at(engine, at_platform.created_at + timedelta(minutes=minutes))

    assert len(await timeline_lines(engine, at_platform, "accept_overdue")) == 1
    [flag] = await flags_of(engine, at_platform)
    assert (flag.kind, flag.reason) == ("supervision", "overdue")
    assert len(await flag_messages(engine, at_platform)) == 1


async def test_a_work_order_is_not_accept_overdue_within_its_hour(engine, at_platform):
    await scan_at(engine, at_platform.created_at + timedelta(minutes=59))
    assert await timeline_lines(engine, at_platform, "accept_overdue") == []
    assert await flags_of(engine, at_platform) == []


async def test_an_accepted_work_order_is_never_accept_overdue(engine, case):
    await scan_at(engine, case.created_at + timedelta(hours=5))
    assert await timeline_lines(engine, case, "accept_overdue") == []
    assert await flags_of(engine, case) == []


# -- urged again and again (多次催办) ------------


async def test_a_case_urged_three_times_raises_repeatedly_urged_once(engine, case):
    await set_case(engine, case, appeal_count=4)  # the first appeal and three repeats
    now = case.created_at + timedelta(minutes=5)
    first, again = await scan_at(engine, now), await scan_at(engine, now + timedelta(minutes=1))

    assert (first["repeatedly_urged"], again["repeatedly_urged"]) == (1, 0)
    [flag] = await flags_of(engine, case)
    assert (flag.kind, flag.reason) == ("supervision", "repeatedly_urged")
    [message] = await flag_messages(engine, case)
    assert message.payload["reason"] == "repeatedly_urged"


async def test_a_case_urged_twice_is_not_repeatedly_urged(engine, case):
    await set_case(engine, case, appeal_count=3)
    counts = await scan_at(engine, case.created_at + timedelta(minutes=5))
    assert counts["repeatedly_urged"] == 0
    assert await flags_of(engine, case) == []


# -- end to end: the platform receives the supervision ------------


async def platform_flags(w, reason: str) -> list[dict[str, Any]]:
    """The flags of one reason raised on any work order at the platform, with the work order's number."""
    return [
        {**flag, "work_order_no": order["work_order_no"]}
        for order in await w.sim("/_sim/work-orders")
        for flag in order["flags"]
        if flag["reason"] == reason
    ]


async def test_a_work_order_returned_twice_by_units_reaches_the_platform_flagged(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, knobs={"return_rate": 1}) as w:
        appeal_id = await w.push(complaint("RET-1"))

        [flag] = await eventually(lambda: platform_flags(w, "returned_twice"))
        case = await w.case_of(appeal_id)
        assert flag["work_order_no"] == case.work_order_no and flag["kind"] == "supervision"
        [order] = await w.sim("/_sim/work-orders")
        assert [e["by"] for e in order["events"] if e["type"] == "returned"] == ["unit", "unit"]


async def test_an_unsatisfied_revisit_reaches_the_platform_flagged(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, knobs={"unsatisfied_rate": 1, "basically_satisfied_rate": 0}) as w:
        appeal_id = await w.push(complaint("UNSAT-1"))

        [flag] = await eventually(lambda: platform_flags(w, "unsatisfied_revisit"))
        case = await w.case_of(appeal_id)
        assert flag["work_order_no"] == case.work_order_no and flag["kind"] == "supervision"


async def test_an_overdue_case_reaches_the_platform_flagged_and_is_overdue(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, knobs={"auto_advance": False}) as w:
        appeal_id = await w.push(complaint("LATE-1"))

        async def work_order():
            return (await w.case_of(appeal_id)).work_order_no

        work_order_no = await eventually(work_order)
        case = await w.case_of(appeal_id)
        async with w.ctx.engine.begin() as conn:
            await conn.execute(
                update(Case)
                .where(Case.id == case.id)
                .values(reply_due_at=datetime.now(UTC) - timedelta(minutes=1))
            )

        [flag] = await eventually(lambda: platform_flags(w, "overdue"))
        assert flag["work_order_no"] == work_order_no and flag["kind"] == "supervision"
        assert (await w.case_of(appeal_id)).due_state == "overdue"


async def test_a_review_return_is_not_counted_as_a_return_by_a_unit(tmp_path, db_url):
    knobs = {"auto_advance": False, "return_rate": 1}
    async with sync_world(tmp_path, db_url, knobs=knobs, national_mode="merged", national_orders=1) as w:

        async def the_order():
            orders = await w.sim("/_sim/work-orders")
            return orders[0]["work_order_no"] if orders else None

        no = await eventually(the_order)

        async def step(expected: str) -> None:
            event = await w.sim(f"/_sim/work-orders/{no}/advance", "POST")
            assert event["type"] == expected

        await step("accepted")
        await step("dispatched")  # the unit's return is planned now, with return_rate 1
        await w.sim("/_sim/knobs", "PUT", json={"return_rate": 0})
        await step("returned")
        await step("dispatched")
        await step("replied")

        async def awaiting():
            status, body = await w.call("GET", "/review/v1/replies", token=REVIEWER_TOKEN)
            assert status == 200
            return body["replies"] or None

        [reply] = await eventually(awaiting)
        status, _ = await w.call(
            "POST",
            f"/review/v1/replies/{reply['id']}/reject",
            token=REVIEWER_TOKEN,
            json={"comment": "答复未说明处理依据，请补充。"},
        )
        assert status == 200

        async def review_return_applied():
            [order] = await w.sim("/_sim/work-orders")
            if not any(e.get("by") == "review" for e in order["events"]):
                return None
            [case] = await w.rows(select(Case).where(Case.work_order_no == no))
            return case if case.last_event_seq == len(order["events"]) else None

        case = await eventually(review_return_applied)
        assert case.returns == 1
        assert [f.reason for f in await w.rows(select(Flag).where(Flag.case_id == case.id))] == []
