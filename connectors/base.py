"""The connector contract: what every channel plug-in declares and implements.

A connector knows one channel kind's protocol and nothing else: it never touches the database, dedup or
the outbox. Received or polled items are handed on as `InboundItem`s (a source id and the payload kept
verbatim); `map()` turns one payload into an `AppealDraft`, as a pure function, so that a quarantined item
can be mapped again later without the channel.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from core.config import ChannelSettings
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


class Connector(ABC):
    """One channel instance of one connector kind."""

    kind: ClassVar[str]
    Settings: ClassVar[type[BaseModel]] = NoSettings
    polls: ClassVar[bool] = False
    receives: ClassVar[bool] = False
    delivers: ClassVar[bool] = False

    def __init__(self, channel: ChannelSettings) -> None:
        self.channel = channel
        self.settings: Any = self.Settings.model_validate(channel.settings)

    @abstractmethod
    def map(self, payload: str) -> AppealDraft:
        """Map one verbatim payload to a draft; raise MappingError for a malformed one."""
