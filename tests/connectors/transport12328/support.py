"""What the 12328 tests share: the saved pages and a draft normalized the way the pipeline does it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from normalizer import NormalizeContext, normalize
from normalizer.record import AppealDraft, AppealRecord, IntegrationMode

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2024, 11, 26, 4, 0, tzinfo=UTC)


def fixture_bytes(name: str) -> bytes:
    """A saved response body, byte for byte."""
    return (FIXTURES / name).read_bytes()


def fixture(name: str) -> Any:
    """A saved response body, parsed."""
    return json.loads(fixture_bytes(name))


def first_page_tickets() -> list[dict[str, Any]]:
    """The three tickets of the saved first page."""
    return fixture("page_first.json")["tickets"]


def normalized(draft: AppealDraft, now: datetime = NOW) -> AppealRecord:
    """The record the pipeline would store for a draft from a 12328 channel."""
    ctx = NormalizeContext("appeal-1", "jt12328", IntegrationMode.INTERCONNECT, now, "raw-1")
    return normalize(draft, ctx, now=now)
