"""The connector contract: every polling connector, present and future, passes these against its simulator.

Each test runs for every national platform (12315, 12333, 12328) on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from connectors.base import OutboundEvent, Position
from core import channels
from core.models import Appeal, ChannelState, Counter, RawItem, utcnow


async def count(harness, model, *where) -> int:
    async with harness.engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


async def state(harness, channel_id: str = "hotline"):
    async with harness.engine.connect() as conn:
        return (await conn.execute(select(ChannelState).where(ChannelState.channel_id == channel_id))).one()


async def forget_backoff(harness, channel_id: str = "hotline") -> None:
    """Let time pass: the back-off after a failure is over."""
    async with harness.engine.begin() as conn:
        await conn.execute(
            update(ChannelState)
            .where(ChannelState.channel_id == channel_id)
            .values(backoff_until=utcnow() - timedelta(seconds=1))
        )


async def test_a_tick_stores_every_item_across_pages_and_moves_the_cursor(harness):
    harness.sim.generate(35)
    handed = await harness.runner().tick()
    assert handed == 35
    assert await count(harness, Appeal) == 35
    st = await state(harness)
    assert st.health == "ok" and st.cursor is not None and st.items_total == 35


async def test_re_polling_the_same_items_stores_nothing_twice(harness):
    harness.sim.generate(12)
    runner = harness.runner()
    await runner.tick()
    await channels.apply(harness.engine, harness.config, "hotline", "reset-cursor", "test")
    await runner.tick()
    assert await count(harness, Appeal) == 12
    assert await count(harness, RawItem) == 12
    async with harness.engine.connect() as conn:
        redeliveries = (await conn.execute(select(Counter.value).where(Counter.name == "redeliveries"))).scalar()
    assert redeliveries == 12


async def test_a_crash_in_the_middle_resumes_from_the_last_committed_page_with_nothing_lost(harness, monkeypatch):
    harness.sim.generate(30, age_seconds=30)
    runner = harness.runner()
    real_write = harness.pipeline.write
    pages = []

    async def crash_on_second_page(conn, prepared):
        pages.append(len(prepared))
        if len(pages) == 2:
            raise RuntimeError("power cut")
        return await real_write(conn, prepared)

    monkeypatch.setattr(harness.pipeline, "write", crash_on_second_page)
    await runner.tick()
    assert await count(harness, Appeal) == 10
    committed = Position.from_json((await state(harness)).cursor)

    monkeypatch.setattr(harness.pipeline, "write", real_write)
    await forget_backoff(harness)
    await runner.tick()
    assert await count(harness, Appeal) == 30
    assert Position.from_json((await state(harness)).cursor) > committed


async def test_the_look_back_window_catches_items_that_arrive_late_with_older_times(harness):
    harness.sim.generate(10)
    runner = harness.runner()
    await runner.tick()
    harness.sim.generate(4, age_seconds=60)  # committed late at the source, stamped a minute ago
    await runner.tick()
    assert await count(harness, Appeal) == 14


async def test_the_cursor_never_passes_the_sources_clock_when_the_tick_began(harness):
    harness.sim.generate(5, age_seconds=30)
    harness.sim.generate(5)  # changed in the very second the tick begins: may still be arriving
    await harness.runner().tick()
    cursor = Position.from_json((await state(harness)).cursor)
    assert cursor == Position(harness.sim.now(), "") or cursor.updated_at < harness.sim.now()
    assert await count(harness, Appeal) == 10


async def test_one_malformed_item_is_quarantined_and_the_others_are_stored(harness):
    harness.sim.generate(3)
    harness.sim.add_raw({"this is": "not a work order"})
    harness.sim.generate(3)
    await harness.runner().tick()
    assert await count(harness, Appeal) == 6
    assert await count(harness, RawItem, RawItem.status == "quarantined") == 1
    assert (await state(harness)).health == "ok"


async def test_an_auth_failure_pauses_only_that_channel(harness):
    harness.sim.generate(4)
    bad, good = harness.runner("hotline-badkey"), harness.runner("hotline")
    await bad.tick()
    await good.tick()
    bad_state, good_state = await state(harness, "hotline-badkey"), await state(harness, "hotline")
    assert bad_state.paused and "auth" in bad_state.paused_reason and bad_state.health == "paused"
    assert good_state.health == "ok" and not good_state.paused
    assert await count(harness, Appeal) == 4


async def test_transient_errors_back_off_and_recover_by_themselves(harness):
    harness.sim.generate(6)
    runner = harness.runner()
    harness.sim.knobs.outage = True
    await runner.tick()
    failing = await state(harness)
    assert failing.health == "failing" and failing.consecutive_failures == 1 and "transient" in failing.last_error

    harness.sim.knobs.outage = False
    await forget_backoff(harness)
    await runner.tick()
    recovered = await state(harness)
    assert recovered.health == "ok" and recovered.consecutive_failures == 0
    assert await count(harness, Appeal) == 6


async def test_a_second_instance_does_not_poll_a_channel_whose_lease_is_held(harness):
    harness.sim.generate(5)
    first, second = harness.runner(owner="instance-a"), harness.runner(owner="instance-b")
    await first.tick()
    harness.sim.generate(5)
    assert await second.tick() == 0
    assert (await state(harness)).lease_owner == "instance-a"


async def test_deliver_reaches_the_platform_and_is_idempotent(harness):
    [order_id] = harness.sim.generate(1)
    event = OutboundEvent(
        event_id="evt-0001",
        source_id=order_id,
        kind="reply",
        status="replied",
        at=utcnow(),
        text="经核查，商家已同意退款。",
        unit="章贡区市场监督管理局",
    )
    connector = harness.connector()
    first = await connector.deliver(event)
    again = await connector.deliver(event)
    assert not first.duplicate and again.duplicate
    assert list(harness.sim.events) == ["evt-0001"]


async def test_check_accepts_good_credentials_and_refuses_bad_ones(harness):
    from core.errors import AuthError

    await harness.connector("hotline").check()
    with pytest.raises(AuthError):
        await harness.connector("hotline-badkey").check()


async def test_health_is_logged_when_it_changes_not_on_every_failed_tick(harness, caplog):
    caplog.set_level(logging.INFO, logger="core.runner")
    harness.sim.generate(2)
    runner = harness.runner()
    harness.sim.knobs.outage = True
    for _ in range(3):
        await runner.tick()
        await forget_backoff(harness)
    harness.sim.knobs.outage = False
    await runner.tick()
    messages = [r.getMessage() for r in caplog.records if r.name == "core.runner"]
    assert sum("failing" in m for m in messages) == 1
    assert sum("recovered after 3 failed polls" in m for m in messages) == 1


async def test_a_tick_that_stops_at_the_page_cap_goes_on_where_it_stopped(harness):
    harness.sim.generate(30, age_seconds=10)  # one look-back window holding more than a tick's pages
    runner = harness.runner()
    runner.schedule = runner.schedule.model_copy(update={"max_pages_per_tick": 2})
    await runner.tick()
    assert await count(harness, Appeal) == 20
    await runner.tick()
    assert await count(harness, Appeal) == 30


async def test_an_item_whose_id_cannot_be_stored_is_quarantined_and_the_page_goes_on(harness):
    ids = harness.sim.generate(3)
    long_id = "9" * 200
    order = harness.sim.order(ids[0])
    harness.sim.add_raw({**harness.sim.dialect.render_item(order), harness.sim.dialect.id_field: long_id})
    harness.sim.generate(2)
    await harness.runner().tick()
    assert await count(harness, Appeal) == 5
    assert await count(harness, RawItem, RawItem.status == "quarantined") == 1
