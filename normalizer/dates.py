"""Date-time parsing for the shapes channels send: Chinese, slashed, ISO 8601 and Unix time."""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from normalizer.fields import FieldError

__all__ = ["SHANGHAI", "parse_datetime"]

SHANGHAI = ZoneInfo("Asia/Shanghai")
"""Naive times from Chinese channels are Beijing time."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EARLIEST = datetime(1990, 1, 1, tzinfo=SHANGHAI)
_FUTURE_SLACK = timedelta(days=1)
# Unix seconds reach 1e11 only in the year 5138 and Unix milliseconds pass 1e11 in 1973, so magnitude alone
# tells them apart for any date we accept.
_MS_FROM = 1e11
_MS_UNTIL = 1e14

_LOCAL = re.compile(
    r"(?P<y>[0-9]{4})\s*[-/.年]\s*(?P<mo>[0-9]{1,2})\s*[-/.月]\s*(?P<d>[0-9]{1,2})\s*日?"
    r"(?:[T\s]*(?P<h>[0-9]{1,2})\s*[:时点]\s*(?P<mi>[0-9]{1,2})"
    r"(?:\s*[:分]\s*(?P<s>[0-9]{1,2})(?:[.,](?P<f>[0-9]{1,9}))?\s*秒?|\s*分)?)?"
    r"\s*(?P<tz>Z|[+-][0-9]{2}(?::?[0-9]{2})?)?"
)
# 8 or 14 digits as text are a compact date (20190228, 20190228112505), never Unix time before 1990.
_COMPACT = re.compile(
    r"(?P<y>[0-9]{4})(?P<mo>[0-9]{2})(?P<d>[0-9]{2})(?:(?P<h>[0-9]{2})(?P<mi>[0-9]{2})(?P<s>[0-9]{2}))?"
)
_DECIMAL = re.compile(r"[+-]?[0-9]+(?:\.[0-9]*)?")
_MAX_TEXT = 64


def parse_datetime(value: Any, *, now: datetime | None = None, field: str = "occurred_at") -> datetime:
    """An aware UTC datetime from text, a number (Unix s or ms) or a datetime; FieldError otherwise.

    Naive values are Asia/Shanghai. Values before 1990 or more than a day after `now` are rejected.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, bool):
        raise FieldError(field, "expected a date and time, got bool")
    elif isinstance(value, int | float):
        moment = _from_unix(value, field)
    elif isinstance(value, str):
        moment = _from_text(value, field)
    else:
        raise FieldError(field, f"expected a date and time, got {type(value).__name__}")
    try:
        if moment.tzinfo is None or moment.utcoffset() is None:
            moment = moment.replace(tzinfo=SHANGHAI)
        moment = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise FieldError(field, "date out of range") from None
    if moment < _EARLIEST:
        raise FieldError(field, "before 1990")
    reference = now or datetime.now(UTC)
    if reference.tzinfo is None:
        reference = reference.replace(tzinfo=SHANGHAI)
    if moment > reference + _FUTURE_SLACK:
        raise FieldError(field, "more than a day in the future")
    return moment


def _from_unix(value: int | float, field: str) -> datetime:
    """Unix seconds or milliseconds, told apart by magnitude."""
    if isinstance(value, float) and not math.isfinite(value):
        raise FieldError(field, "not a finite number")
    if abs(value) >= _MS_UNTIL:
        raise FieldError(field, "number too large for Unix seconds or milliseconds")
    try:
        if abs(value) >= _MS_FROM:
            return _EPOCH + timedelta(milliseconds=value)
        return _EPOCH + timedelta(seconds=value)
    except OverflowError:
        raise FieldError(field, "date out of range") from None


def _from_text(value: str, field: str) -> datetime:
    """One of the text shapes, tried from the most specific."""
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        raise FieldError(field, "empty")
    if len(text) > _MAX_TEXT:
        raise FieldError(field, "too long for a date and time")
    if text.isascii() and (m := _COMPACT.fullmatch(text)):
        return _build(m, field)
    if text.isascii() and _DECIMAL.fullmatch(text):
        number = float(text) if "." in text else int(text)
        return _from_unix(number, field)
    if m := _LOCAL.fullmatch(text):
        return _build(m, field)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise FieldError(field, f"unrecognised date and time {text[:32]!r}") from None


def _build(m: re.Match[str], field: str) -> datetime:
    """A datetime from the named groups of a match; FieldError when it is not a real date or time."""
    g = m.groupdict()
    fraction = (g.get("f") or "").ljust(6, "0")[:6]
    try:
        moment = datetime(
            int(g["y"]), int(g["mo"]), int(g["d"]),
            int(g["h"] or 0), int(g["mi"] or 0), int(g["s"] or 0), int(fraction),
        )
        offset = g.get("tz")
        if offset == "Z":
            return moment.replace(tzinfo=UTC)
        if offset:
            digits = offset[1:].replace(":", "")
            delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
            return moment.replace(tzinfo=timezone(-delta if offset[0] == "-" else delta))
    except ValueError:
        raise FieldError(field, "not a real date and time") from None
    return moment
