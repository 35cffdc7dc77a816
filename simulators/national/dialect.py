"""The per-platform part of the national interconnect protocol, as the platform (server) sees it.

The simulator engine keeps platform-neutral `WorkOrder`s and knows signing, paging, knobs and the control
API; a `ServerDialect` renders work orders and envelopes in one platform's own field names and codes.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Party:
    """A person or organisation named in a work order."""

    name: str | None = None
    phone: str | None = None
    id_number: str | None = None
    credit_code: str | None = None
    address: str | None = None


@dataclass
class WorkOrder:
    """A platform-neutral work order, as the simulator stores it."""

    id: str
    type: str  # consultation | help | complaint | report | suggestion | praise
    title: str
    content: str
    citizen: Party
    created_at: datetime  # aware
    updated_at: datetime  # aware
    occurred_at: datetime | None = None
    division_code: str | None = None
    address: str | None = None
    category: str | None = None  # the platform's own business category
    subject: Party | None = None  # the business complained about / the employer / the operator
    details: dict[str, Any] = field(default_factory=dict)  # amount, plate number, route, people involved ...
    status: str = "registered"  # registered, or one of huiju's words: accepted, dispatched, ... revisited
    reply: str | None = None  # the handling unit's reply (答复), once there is one
    unit: str | None = None  # the unit handling it at the platform (承办单位), once dispatched


@dataclass(frozen=True, slots=True)
class FeedQuery:
    """A poll request, unpacked: work orders at or after (updated_at, id), oldest first."""

    since: datetime | None
    after_id: str
    limit: int


@dataclass(frozen=True, slots=True)
class ReceivedEvent:
    """A status or reply event the gateway pushed back."""

    event_id: str
    order_id: str
    kind: str  # status | reply
    status: str
    text: str | None
    unit: str | None
    at: str
    raw: dict[str, Any]


class ServerDialect(ABC):
    """How one national platform spells the shared protocol (server side)."""

    name: str  # "12315", "12333", "12328"
    poll_method: str  # "GET" or "POST"
    poll_path: str
    deliver_path: str  # may contain "{order_id}"
    check_path: str  # served for GET and POST

    # Optional hints for the engine (class attributes; the defaults keep it working without them).
    id_field: str | None = None  # top-level key of the work-order id: a raw item is keyed by it when readable
    optional_fields: tuple[str, ...] = ()  # dotted paths the platform may leave out (drift_missing_optional)
    date_fields: tuple[str, ...] = ()  # dotted paths holding dates (drift_bad_dates)
    protected_fields: tuple[str, ...] = ()  # dotted paths drift never touches, e.g. the id and the update time
    drift_field_names: tuple[str, ...] = ()  # names for keys the platform "added" (drift_unknown_fields)
    # The kind of unit that answers the platform's work orders, as simulators/hotline/units.py names departments:
    # replies are written in the words of real ones by units of that kind.
    reply_department: str = "government"
    unit_title: str | None = None  # that unit's name after its place, e.g. 市场监督管理局

    @abstractmethod
    def parse_feed_query(self, query: dict[str, str], body: bytes) -> FeedQuery:
        """Read a poll request; raise ValueError for a malformed one."""

    @abstractmethod
    def render_item(self, order: WorkOrder) -> dict[str, Any]:
        """One work order in the platform's own field names and codes."""

    @abstractmethod
    def render_page(self, items: list[dict[str, Any]], has_more: bool, server_time: datetime) -> dict[str, Any]:
        """The poll response envelope."""

    @abstractmethod
    def render_error(self, status: int, message: str) -> dict[str, Any]:
        """The platform's error envelope."""

    @abstractmethod
    def parse_event(self, order_id: str | None, body: bytes) -> ReceivedEvent:
        """Read a delivered status or reply event; raise ValueError for a malformed one."""

    @abstractmethod
    def render_receipt(self, event: ReceivedEvent, duplicate: bool) -> dict[str, Any]:
        """The answer to a delivered event."""

    @abstractmethod
    def generate(self, n: int, now: datetime, seed: int) -> WorkOrder:
        """The n-th realistic work order of this platform (deterministic for a seed)."""

    def place(self, division_code: str | None) -> tuple[str, str] | None:
        """(city, district) of a division code the platform serves, to name its units; None when unknown."""
        return None

    def handling_unit(self, order: WorkOrder) -> str:
        """The unit (承办单位) the platform dispatches a work order to: its department in the order's district."""
        from simulators.hotline import units  # here: the simulators.hotline package imports simulators.national

        place = self.place(order.division_code)
        if place is None or self.unit_title is None:
            return units.unit_for(self.reply_department, order.division_code, None).name
        city, district = place
        # A county-level city's bureau signs without the prefecture: 瑞金市交通运输局.
        return f"{district}{self.unit_title}" if district.endswith("市") else f"{city}{district}{self.unit_title}"

    def reply_text(self, order: WorkOrder, unit: str, at: datetime, rng: random.Random) -> str:
        """The unit's reply (答复) to a work order: a real reply by a unit of the same kind, made the unit's."""
        from simulators.hotline import replies, units  # here: the simulators.hotline package imports this one

        sample = replies.choose(rng, self.reply_department)
        return replies.adapt(sample, units.Unit("", unit), order.division_code, at)

    def render_check(self, server_time: datetime) -> dict[str, Any]:
        """The answer to the check endpoint (default: an empty page)."""
        return self.render_page([], False, server_time)
