"""The case-assignment step of the pipeline.

An assigner decides, for each newly stored appeal, which case it belongs to. It runs inside the ingest
transaction, so its decision, the appeal, the case, the merge-log entry and the outbox message commit together.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from core.ids import new_id
from normalizer.record import AppealRecord


@dataclass(frozen=True, slots=True)
class Assignment:
    """One appeal's case decision, with what the merge log needs to explain it."""

    appeal_id: str
    case_id: uuid.UUID
    new_case: bool
    decision: str  # new | absorb | merge | link
    rule: str
    rule_version: str
    score: float | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


class CaseAssigner(Protocol):
    """Decides the case of each appeal in a batch (in arrival order)."""

    async def assign(self, conn: AsyncConnection, appeals: list[AppealRecord]) -> list[Assignment]:
        """One assignment per appeal, in the same order."""
        ...


class OneCasePerAppeal:
    """Every appeal opens its own case: the baseline until repeated appeals are recognised."""

    rule = "one-case-per-appeal"
    version = "1"

    async def assign(self, conn: AsyncConnection, appeals: list[AppealRecord]) -> list[Assignment]:
        """A new case for each appeal."""
        return [
            Assignment(a.id, new_id(), True, "new", self.rule, self.version, None, {"reason": "no matching"})
            for a in appeals
        ]
