"""The per-platform part of the national interconnect protocol, as the gateway (client) sees it."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.base import ChannelStatus, OutboundEvent, Position, Receipt
from normalizer.dates import parse_datetime
from normalizer.fields import FieldError
from normalizer.record import AppealDraft


def json_body(obj: Any) -> bytes:
    """A request body as the platforms expect it: compact UTF-8 JSON, Chinese text unescaped."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def readable_time(value: Any, field: str) -> datetime | None:
    """A platform's time as an aware datetime, or None when it is missing or unreadable."""
    if value is None:
        return None
    try:
        return parse_datetime(value, field=field)
    except FieldError:
        return None


def feed_position(source_id: str | None, updated_at: Any, field: str) -> Position | None:
    """An item's place in the feed, (update time, id); None when either is missing or unreadable."""
    if source_id is None:
        return None
    moment = readable_time(updated_at, field)
    return None if moment is None else Position(moment, source_id)


def code_text(value: Any) -> str | None:
    """A code as text: a string without surrounding spaces, or the digits of an integer; None otherwise."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**18:
        return str(value)
    return None


def optional_text(value: Any) -> str | None:
    """A text field as it was sent; None when it is missing, blank or not text."""
    return value if isinstance(value, str) and value.strip() else None


def channel_status_of(
    status: str | None, updated_at: Any, field: str, text: Any, unit: Any
) -> ChannelStatus | None:
    """A work order's status in huiju's words with its update time, reply and unit; None without a status.

    The time, reply and unit are each read leniently (unreadable: None): a doubtful value must never keep the
    status itself from being passed on.
    """
    if status is None:
        return None
    return ChannelStatus(status, readable_time(updated_at, field), optional_text(text), optional_text(unit))


@dataclass(frozen=True, slots=True)
class Request:
    """An HTTP request before signing: the client adds the signature headers."""

    method: str
    path: str  # absolute path on the platform, e.g. "/open/v1/workorders"
    query: dict[str, str]
    body: bytes = b""  # JSON bytes for POST, empty for GET


@dataclass(frozen=True, slots=True)
class FeedPage:
    """A poll response, unpacked from the platform's envelope."""

    items: list[dict[str, Any]]  # the raw work orders, as JSON objects
    has_more: bool
    server_time: datetime | None


class Dialect(ABC):
    """How one national platform spells the shared protocol (client side)."""

    @abstractmethod
    def poll_request(self, position: Position | None, limit: int) -> Request:
        """The request for work orders changed at or after position (all when None), oldest first."""

    @abstractmethod
    def parse_page(self, status: int, body: bytes) -> FeedPage:
        """Unpack a 2xx poll response; raise a core.errors class for an error envelope or a broken body."""

    @abstractmethod
    def item_id(self, item: dict[str, Any]) -> str | None:
        """The platform's work-order id of a raw item (None if missing or unusable)."""

    @abstractmethod
    def item_position(self, item: dict[str, Any]) -> Position | None:
        """The item's place in the feed, (update time, id); None if its update time is unreadable."""

    @abstractmethod
    def map(self, item: dict[str, Any]) -> AppealDraft:
        """One raw work order as a draft; raise connectors.base.MappingError for a malformed one."""

    def channel_status(self, item: dict[str, Any]) -> ChannelStatus | None:
        """The work order's own status at the platform in huiju's words, with its reply and handling unit.

        None when the platform has no status field, when the status is only its intake state (registered,
        waiting to be accepted), or when the code is unknown or unreadable. Never raises: a malformed status
        must not keep the appeal from going on.
        """
        return None

    @abstractmethod
    def deliver_request(self, event: OutboundEvent) -> Request:
        """The request that pushes one status or reply event back to the platform."""

    @abstractmethod
    def parse_receipt(self, status: int, body: bytes) -> Receipt:
        """Unpack the platform's answer to a delivered event (raise for an error envelope)."""

    @abstractmethod
    def check_request(self) -> Request:
        """A cheap authenticated request that proves the credentials work."""

    def parse_check(self, status: int, body: bytes) -> None:
        """Raise a core.errors class if a 2xx check answer is an error envelope (default: accept it)."""
        return None
