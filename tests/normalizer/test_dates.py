"""parse_datetime: the date-time shapes channels send, always to aware UTC."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from normalizer import FieldError, parse_datetime
from tests.normalizer.support import NOW


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2019/2/28 11:25:05", utc(2019, 2, 28, 3, 25, 5)),
        ("2017-06-08 17:31:20", utc(2017, 6, 8, 9, 31, 20)),
        ("2017-06-08 17:31", utc(2017, 6, 8, 9, 31)),
        ("2017-06-08", utc(2017, 6, 7, 16)),
        ("2019年2月28日 11:25", utc(2019, 2, 28, 3, 25)),
        ("2019年2月28日11时25分", utc(2019, 2, 28, 3, 25)),
        ("2019年2月28日", utc(2019, 2, 27, 16)),
        ("20190228", utc(2019, 2, 27, 16)),
        ("20190228112505", utc(2019, 2, 28, 3, 25, 5)),
    ],
)
def test_chinese_and_slashed_local_times_are_beijing_time(written, expected):
    assert parse_datetime(written, now=NOW) == expected


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2017-06-08T17:31:20+08:00", utc(2017, 6, 8, 9, 31, 20)),
        ("2017-06-08T09:31:20Z", utc(2017, 6, 8, 9, 31, 20)),
        ("2017-06-08T09:31:20.250Z", utc(2017, 6, 8, 9, 31, 20, 250000)),
        ("2017-06-08T04:31:20-05:00", utc(2017, 6, 8, 9, 31, 20)),
        ("2017-06-08T17:31:20.123456", utc(2017, 6, 8, 9, 31, 20, 123456)),
        ("2017-06-08T17:31:20+0800", utc(2017, 6, 8, 9, 31, 20)),
    ],
)
def test_iso_8601_offsets_and_fractions_are_respected(written, expected):
    assert parse_datetime(written, now=NOW) == expected


@pytest.mark.parametrize(
    "stamp", [1496914280, 1496914280.0, "1496914280", 1496914280000, "1496914280000", 1496914280000.0]
)
def test_unix_seconds_and_milliseconds_are_told_apart_by_magnitude(stamp):
    assert parse_datetime(stamp, now=NOW) == utc(2017, 6, 8, 9, 31, 20)


def test_fractional_unix_seconds_keep_the_fraction():
    assert parse_datetime("1496914280.5", now=NOW) == utc(2017, 6, 8, 9, 31, 20, 500000)


def test_surrounding_whitespace_and_full_width_digits_are_accepted():
    assert parse_datetime("\n\t ２０１９／２／２８　１１：２５：０５ ", now=NOW) == utc(2019, 2, 28, 3, 25, 5)


def test_a_naive_datetime_is_beijing_time():
    assert parse_datetime(datetime(2019, 2, 28, 11, 25), now=NOW) == utc(2019, 2, 28, 3, 25)


def test_an_aware_datetime_is_converted_to_utc():
    tokyo = timezone(timedelta(hours=9))
    parsed = parse_datetime(datetime(2019, 2, 28, 12, 25, tzinfo=tokyo), now=NOW)
    assert parsed == utc(2019, 2, 28, 3, 25)
    assert parsed.tzinfo is UTC


def test_a_date_is_midnight_in_beijing():
    assert parse_datetime(date(2019, 2, 28), now=NOW) == utc(2019, 2, 27, 16)


def test_the_result_is_always_utc():
    assert parse_datetime("2019/2/28 11:25:05", now=NOW).utcoffset() == timedelta(0)


def test_a_time_before_1990_is_rejected():
    with pytest.raises(FieldError, match="before 1990"):
        parse_datetime("1989-12-31 23:59:59", now=NOW)


def test_a_time_more_than_a_day_ahead_of_now_is_rejected():
    with pytest.raises(FieldError, match="future"):
        parse_datetime(NOW + timedelta(days=1, seconds=1), now=NOW)


def test_a_time_less_than_a_day_ahead_of_now_is_accepted_for_clock_skew():
    assert parse_datetime(NOW + timedelta(hours=23), now=NOW) == NOW + timedelta(hours=23)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "yesterday",
        "2019/2/30 10:00",
        "2019-13-01",
        "2019-02-28 25:00",
        "2019-02-28T10:00+25:00",
        "1" * 200,
        True,
        math.nan,
        -math.inf,
        10**30,
        None,
        [2019, 2, 28],
    ],
)
def test_anything_else_raises_a_field_error(bad):
    with pytest.raises(FieldError) as e:
        parse_datetime(bad, now=NOW)
    assert e.value.field == "occurred_at"


def test_the_field_name_in_the_error_can_be_chosen():
    with pytest.raises(FieldError, match=r"^received_at: "):
        parse_datetime("nonsense", now=NOW, field="received_at")


anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(),
    st.from_regex(r"\s*[0-9]{1,4}[-/年.][0-9]{1,2}[-/月.][0-9]{1,2}日?( [0-9]{1,2}:[0-9]{1,2}(:[0-9]{1,2})?)?\s*"),
    st.datetimes(timezones=st.none() | st.timezones()),
    st.dates(),
    st.lists(st.integers(), max_size=3),
)


# Loading a zone's rules the first time can take longer than Hypothesis' default deadline.
@settings(deadline=None)
@given(anything)
def test_parse_datetime_raises_nothing_but_field_error(value):
    try:
        parsed = parse_datetime(value, now=NOW)
    except FieldError:
        return
    assert parsed.tzinfo is UTC


moments = st.datetimes(
    min_value=datetime(1990, 1, 2), max_value=datetime(2024, 5, 30), timezones=st.timezones()
)


# Compared in UTC: Python never finds an ambiguous wall time (a DST fold) equal to a time in another zone.
@settings(deadline=None)
@given(moments)
def test_an_aware_datetime_round_trips_through_isoformat(moment):
    assert parse_datetime(moment.isoformat(), now=NOW) == moment.astimezone(UTC)


@settings(deadline=None)
@given(moments)
def test_an_aware_datetime_round_trips_through_unix_milliseconds(moment):
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    millis = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
    assert parse_datetime(millis, now=NOW) == moment.astimezone(UTC)
    assert parse_datetime(str(millis), now=NOW) == moment.astimezone(UTC)
