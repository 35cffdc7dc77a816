"""The connector contract: what every channel plug-in declares and implements.

A connector knows one channel kind's protocol and nothing else: it never touches the database, dedup or the
outbox. It declares:

- `kind`, a name used in config.toml (`kind = "12315"`), and `Settings`, a pydantic model for its
  `[channels.settings]` table, validated when the config loads (unknown keys and bad values are errors);
- what it can do: `polls` (it implements `poll`), `receives` (pushes arrive at its webhook),
  `delivers` (it implements `deliver` for status and replies going back to the channel).

It implements:

- `map(payload)`: one verbatim payload to an `AppealDraft`. Pure: a quarantined item is mapped again later,
  without the channel. Raise `MappingError` for a malformed item (it is quarantined, the rest goes on).
- `check()`: one cheap authenticated call, to accept credentials before switching a channel on.
- `poll(position, limit)`: one page of items changed at or after `position`, oldest first, and where the
  next page starts. It returns what the channel said; the runner decides what is stored and moves the
  cursor only in the transaction that stores the items.
- `deliver(event)`: send one status or reply event back; idempotent by `event.event_id`.

Errors are raised as `core.errors` classes (transient, auth, permanent); `core.http.HttpClient` does
that for HTTP failures. See docs/connectors.md for a worked example.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from core.config import ChannelSettings
from core.http import HttpClient
from normalizer.record import AppealDraft


class NoSettings(BaseModel):
    """A connector without settings of its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True, slots=True)
class InboundItem:
    """One item a channel handed us: its id at the channel and the payload exactly as received."""

    source_id: str
    payload: str  # verbatim text (JSON, XML, ...) as the channel sent it
    content_type: str = "application/json"


class MappingError(ValueError):
    """This one payload cannot be mapped; the item goes to quarantine with this reason."""


@dataclass(frozen=True, slots=True, order=True)
class Position:
    """A place in a channel's change feed: items are ordered by (update time, id)."""

    updated_at: datetime
    id: str = ""

    def to_json(self) -> dict[str, str]:
        """The cursor as stored in channel_state."""
        return {"updated_at": self.updated_at.astimezone(UTC).isoformat(), "id": self.id}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Position | None:
        """A stored cursor, or None."""
        if not data:
            return None
        return cls(datetime.fromisoformat(data["updated_at"]).astimezone(UTC), str(data.get("id", "")))


@dataclass(frozen=True, slots=True)
class PolledItem:
    """An item of a polled page with its place in the feed."""

    item: InboundItem
    position: Position


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a channel's change feed."""

    items: list[PolledItem]
    next: Position | None  # where the next page starts; None when the feed is drained for now
    server_time: datetime | None = None  # the channel's clock when it answered


@dataclass(frozen=True, slots=True)
class OutboundEvent:
    """A status or reply event for one appeal, going back to the channel it came from."""

    event_id: str  # the channel sees each event id at most once in effect
    source_id: str  # the channel's own id of the appeal
    kind: Literal["status", "reply"]
    status: str  # accepted | dispatched | returned | extended | replied | closed | revisited
    at: datetime
    text: str | None = None
    unit: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChannelStatus:
    """Where a channel's own platform stands with an item it handles itself (an interconnect work order).

    huiju reads it from each new version of a polled item and passes a change on to the 12345 platform as an
    update of the shared record, so that both platforms see the appeal's progress.
    """

    status: str  # accepted | dispatched | returned | extended | replied | closed | revisited (as OutboundEvent)
    at: datetime | None = None  # when the channel's platform recorded it
    text: str | None = None  # the reply, for replied
    unit: str | None = None  # the unit handling it there


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the channel answered to a delivered event."""

    reference: str | None
    duplicate: bool = False  # the channel had seen this event id before
    detail: dict[str, Any] = field(default_factory=dict)


def unidentified_source_id(raw: str) -> str:
    """A stable source id for an item the channel sent without a usable id (so it can be quarantined once)."""
    return "unidentified:" + hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:40]


class Connector(ABC):
    """One channel instance of one connector kind."""

    kind: ClassVar[str]
    Settings: ClassVar[type[BaseModel]] = NoSettings
    polls: ClassVar[bool] = False
    receives: ClassVar[bool] = False
    delivers: ClassVar[bool] = False

    def __init__(self, channel: ChannelSettings, http: HttpClient | None = None) -> None:
        self.channel = channel
        self.settings: Any = self.Settings.model_validate(channel.settings)
        self._http = http

    @property
    def http(self) -> HttpClient:
        """The shared HTTP client (only connectors built by the runner have one)."""
        if self._http is None:
            raise RuntimeError(f"connector {self.channel.id} was built without an HTTP client")
        return self._http

    @abstractmethod
    def map(self, payload: str) -> AppealDraft:
        """Map one verbatim payload to a draft; raise MappingError for a malformed one."""

    @abstractmethod
    async def check(self) -> None:
        """One cheap authenticated call; raises a core.errors class when it fails."""

    def channel_status(self, payload: str) -> ChannelStatus | None:
        """The channel's own status of this item (pure, like map); None when the item carries none, or when
        it is only the platform's intake state (registered, waiting to be accepted)."""
        return None

    def delivers_now(self) -> bool:
        """Whether this channel instance takes status and replies back (a kind may need a setting for it)."""
        return self.delivers


class PollingConnector(Connector):
    """A channel huiju polls for new appeals."""

    polls: ClassVar[bool] = True
    default_page_size: ClassVar[int] = 100

    @property
    def page_size(self) -> int:
        """Items asked for per page: the channel's `page_size` setting if it has one."""
        return int(getattr(self.settings, "page_size", self.default_page_size))

    @abstractmethod
    async def poll(self, position: Position | None, limit: int) -> Page:
        """One page of items, oldest first, strictly after position in (update time, id) order.

        `Position(t, "")` therefore means "updated at t or later"; None means from the start of the feed.
        Ids compare as text: a channel with numeric ids should zero-pad them in positions.
        """


class DeliveringConnector(Connector):
    """A channel that takes status and replies back."""

    delivers: ClassVar[bool] = True

    @abstractmethod
    async def deliver(self, event: OutboundEvent) -> Receipt:
        """Send one status or reply event to the channel; idempotent by event id."""
