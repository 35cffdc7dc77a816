"""Time limits (办理时限): accept within an hour; reply within 2 or 24 hours, or by the end of the 7th or 15th
Beijing day after the day of receipt, whatever zone the receipt time is written in."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from core.ingest import Pipeline
from sync.deadlines import case_deadlines, tier_deadlines
from tests.sync.ingested import ingest_case, make_pipeline

BEIJING = ZoneInfo("Asia/Shanghai")
TIERS = ("2h", "24h", "7d", "15d")
DAY_TIERS = {"7d": 7, "15d": 15}
RECEIVED = datetime(2024, 11, 25, 9, 15, 2, tzinfo=BEIJING)


def beijing_midnight(year: int, month: int, day: int) -> datetime:
    """The start of a Beijing day."""
    return datetime(year, month, day, tzinfo=BEIJING)


@pytest.mark.parametrize("tier", TIERS)
def test_a_case_must_be_accepted_within_one_hour_of_receipt(tier):
    accept, _ = tier_deadlines(RECEIVED, tier)
    assert accept == RECEIVED + timedelta(hours=1)


@pytest.mark.parametrize(("tier", "hours"), [("2h", 2), ("24h", 24)])
def test_an_hour_tier_is_replied_exactly_that_many_hours_after_receipt(tier, hours):
    _, reply = tier_deadlines(RECEIVED, tier)
    assert reply == RECEIVED + timedelta(hours=hours)


def test_a_7_day_case_ends_at_midnight_after_the_7th_beijing_day():
    _, reply = tier_deadlines(RECEIVED, "7d")
    assert reply == beijing_midnight(2024, 12, 3)  # received on the 25th: the 26th is day 1, 2 December day 7


def test_a_15_day_case_ends_at_midnight_after_the_15th_beijing_day():
    _, reply = tier_deadlines(RECEIVED, "15d")
    assert reply == beijing_midnight(2024, 12, 11)


@pytest.mark.parametrize(
    ("received", "tier", "end"),
    [
        # 17:00 UTC is 01:00 on the 26th in Beijing: the days count from the 26th
        (datetime(2024, 11, 25, 17, 0, tzinfo=UTC), "7d", beijing_midnight(2024, 12, 4)),
        (datetime(2024, 11, 25, 17, 0, tzinfo=UTC), "15d", beijing_midnight(2024, 12, 12)),
        # 15:59 UTC is 23:59 on the 25th in Beijing: the days count from the 25th
        (datetime(2024, 11, 25, 15, 59, tzinfo=UTC), "7d", beijing_midnight(2024, 12, 3)),
        (datetime(2024, 11, 25, 15, 59, tzinfo=UTC), "15d", beijing_midnight(2024, 12, 11)),
    ],
)
def test_a_day_tier_counts_from_the_beijing_day_of_receipt_not_the_utc_day(received, tier, end):
    _, reply = tier_deadlines(received, tier)
    assert reply == end


def test_the_zone_a_receipt_time_is_written_in_does_not_change_its_deadlines():
    elsewhere = RECEIVED.astimezone(timezone(timedelta(hours=-5)))
    for tier in TIERS:
        assert tier_deadlines(elsewhere, tier) == tier_deadlines(RECEIVED, tier)


def test_a_new_case_starts_in_due_state_ok_with_both_deadlines():
    assert case_deadlines(RECEIVED, "24h") == {
        "accept_due_at": RECEIVED + timedelta(hours=1),
        "reply_due_at": RECEIVED + timedelta(hours=24),
        "due_state": "ok",
    }


aware_times = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2099, 12, 31),
    timezones=st.timezones(),
    allow_imaginary=False,
)


def absolute(t: datetime) -> datetime:
    """The instant of an aware time, so that arithmetic does not follow a zone's wall clock."""
    return t.astimezone(UTC)


# 01:30 on the night New York leaves summer time: an hour of wall clock later is two hours later in fact.
NEW_YORK_FALL_BACK = datetime(2024, 11, 3, 1, 30, tzinfo=ZoneInfo("America/New_York"))


@given(aware_times, st.sampled_from(TIERS))
@example(NEW_YORK_FALL_BACK, "7d")
def test_any_receipt_is_accepted_exactly_one_hour_later(received, tier):
    accept, _ = tier_deadlines(received, tier)
    assert absolute(accept) - absolute(received) == timedelta(hours=1)


@given(aware_times, st.sampled_from(["2h", "24h"]))
@example(NEW_YORK_FALL_BACK, "2h")
def test_any_receipt_in_an_hour_tier_is_replied_exactly_that_many_hours_later(received, tier):
    _, reply = tier_deadlines(received, tier)
    assert absolute(reply) - absolute(received) == timedelta(hours=int(tier.removesuffix("h")))


@given(aware_times, st.sampled_from(sorted(DAY_TIERS)))
def test_any_receipt_in_a_day_tier_is_replied_by_a_beijing_midnight_within_n_to_n_plus_1_days(received, tier):
    n = DAY_TIERS[tier]
    _, reply = tier_deadlines(received, tier)
    in_beijing = reply.astimezone(BEIJING)
    assert in_beijing.time() == time(0)
    assert in_beijing.date() == received.astimezone(BEIJING).date() + timedelta(days=n + 1)
    assert timedelta(days=n) < absolute(reply) - absolute(received) <= timedelta(days=n + 1)


@given(aware_times, st.sampled_from(TIERS))
def test_any_reply_deadline_comes_after_receipt(received, tier):
    _, reply = tier_deadlines(received, tier)
    assert absolute(reply) > absolute(received)


# -- a case stored by the ingest pipeline ------------


@pytest.fixture
def pipeline(tmp_path, db_url) -> Pipeline:
    return make_pipeline(tmp_path, db_url)


async def test_a_case_stored_by_the_pipeline_carries_its_deadlines_from_receipt(engine, pipeline):
    case = await ingest_case(engine, pipeline, "D-1", RECEIVED.astimezone(UTC))
    assert case.time_tier == "7d"
    assert case.accept_due_at == RECEIVED + timedelta(hours=1)
    assert case.reply_due_at == beijing_midnight(2024, 12, 3)
    assert case.due_state == "ok"


async def test_a_water_outage_stored_by_the_pipeline_is_due_24_hours_after_receipt(engine, pipeline):
    case = await ingest_case(
        engine,
        pipeline,
        "D-2",
        RECEIVED.astimezone(UTC),
        title="小区停水",
        content="幸福小区从昨晚开始停水，至今没有恢复。",
    )
    assert case.time_tier == "24h"
    assert case.reply_due_at == RECEIVED + timedelta(hours=24)
    assert case.due_state == "ok"
