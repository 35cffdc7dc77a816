"""Shared values and builders for the normalizer tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from normalizer import NormalizeContext
from normalizer.fields import credit_check_char, id_check_char
from normalizer.record import AppealDraft, IntegrationMode

NOW = datetime(2024, 6, 1, 4, 0, tzinfo=UTC)
RECEIVED_AT = datetime(2024, 6, 1, 9, 30, tzinfo=UTC)
CTX = NormalizeContext(
    appeal_id="0190a1b2-0000-7000-8000-000000000001",
    channel_id="board",
    mode=IntegrationMode.INTERCONNECT,
    received_at=RECEIVED_AT,
    raw_ref="raw-1",
)

VALID_ID = "11010519491231002X"
VALID_CREDIT_CODE = "91350100M000100Y43"
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def draft(**fields: Any) -> AppealDraft:
    """A usable draft (a source id and some content) with the given fields on top."""
    fields.setdefault("source_id", "M-1")
    fields.setdefault("content", "小区路灯坏了一个月，晚上出行不便，请尽快维修。")
    return AppealDraft(**fields)


def id_number(region: str = "110105", born: date = date(1949, 12, 31), sequence: str = "002") -> str:
    """A resident ID with a correct check character."""
    first17 = f"{region}{born:%Y%m%d}{sequence}"
    return first17 + id_check_char(first17)


def credit_code(first17: str) -> str:
    """A credit code with a correct check character."""
    return first17 + credit_check_char(first17)
