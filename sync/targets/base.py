"""The target contract: the system huiju pushes cases to (the 12345 platform, or an Open311 server).

The dispatcher owns the outbox, its retries and its transactions; a target knows one protocol and nothing
else. For each outbox message it:

1. `render`s the request from the message, its case and its appeal: pure, no I/O. The dispatcher stores the
   result with the message before the first attempt and sends exactly that request on every attempt, so
   a request the platform already took is recognised by its idempotency key and never answered 409.
2. `send`s the frozen request and returns the answer as a dict, or raises a `core.errors` class: transient
   (retried later), auth (the credentials), permanent (dead letter). `resent` is true when an earlier attempt
   may have reached the platform: a target without idempotency keys must look before it creates again.

It reads the work orders' events back, in the 12345 platform's event shape (docs/platform12345.md § Events):
`read_events` for a feed or for polling, `work_order_events` to fill a gap in one work order's sequence.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from core.config import PlatformSettings
from core.http import HttpClient

# Outbox message kinds (sync/outbox.py builds them).
CREATE_WORK_ORDER = "create_work_order"
SHARE_RECORD = "share_record"
ATTACH_REPEAT = "attach_repeat"
DETACH_REPEAT = "detach_repeat"
RAISE_FLAG = "raise_flag"
RETURN_REPLY = "return_reply"
UPDATE_SHARED_RECORD = "update_shared_record"
MERGE_WORK_ORDER = "merge_work_order"


@dataclass(frozen=True, slots=True)
class FrozenRequest:
    """A rendered request, stored with its outbox message and sent unchanged on every attempt."""

    method: str
    path: str  # relative to the target's base URL, already quoted
    body: str = ""  # the exact body text
    content_type: str = "application/json; charset=utf-8"
    query: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """As stored in outbox.request."""
        return {
            "method": self.method,
            "path": self.path,
            "body": self.body,
            "content_type": self.content_type,
            "query": dict(self.query),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FrozenRequest:
        """A stored request."""
        return cls(data["method"], data["path"], data["body"], data["content_type"], dict(data.get("query") or {}))


@dataclass(frozen=True, slots=True)
class Skip:
    """This target has no request for this kind of message (e.g. Open311 has no repeats); say why."""

    reason: str


@dataclass(frozen=True, slots=True)
class RenderContext:
    """What a message is rendered from: the message, its case, and its appeal (if it names one)."""

    kind: str
    payload: Mapping[str, Any]
    case: Mapping[str, Any]
    appeal: Mapping[str, Any] | None
    work_order_no: str | None  # the case's work order, once created
    record_no: str | None = None  # the appeal's shared record, once shared (for updates of it)
    into_work_order_no: str | None = None  # a merge's other work order (the case it is merged into)


@dataclass(frozen=True, slots=True)
class EventPage:
    """Events read from the target, oldest first, and the cursor to read on from."""

    events: list[dict[str, Any]]
    cursor: dict[str, Any] | None
    has_more: bool = False


class Target(ABC):
    """One platform huiju pushes cases to."""

    kind: ClassVar[str]

    def __init__(self, settings: PlatformSettings, http: HttpClient) -> None:
        self.settings = settings
        self.http = http

    @abstractmethod
    def render(self, ctx: RenderContext) -> FrozenRequest | Skip:
        """The request for one message (pure)."""

    @abstractmethod
    async def send(self, request: FrozenRequest, *, resent: bool) -> dict[str, Any]:
        """Send a frozen request; the answer, or a core.errors exception."""

    @abstractmethod
    async def read_events(self, cursor: dict[str, Any] | None, open_work_orders: Sequence[str]) -> EventPage:
        """The next events after the cursor (a feed), or the changes of the open work orders (polling)."""

    @abstractmethod
    async def work_order_events(self, work_order_no: str) -> list[dict[str, Any]]:
        """Every event of one work order so far, in seq order."""

    @staticmethod
    def answer_effects(kind: str, answer: Mapping[str, Any]) -> dict[str, Any]:
        """What the dispatcher records from a successful answer: the work order or record number."""
        keep = ("work_order_no", "record_no", "status", "repeat_count", "update_count")
        return {k: answer[k] for k in keep if k in answer}
