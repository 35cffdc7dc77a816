"""The connector the three national platforms share: signed requests, keyset paging, classified errors.

A platform's connector is this class with its `Dialect` (see docs/channels/national-protocol.md):

    class Market12315Connector(NationalConnector):
        kind = "12315"
        dialect = Market12315Dialect()
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel

from connectors.base import (
    ChannelStatus,
    DeliveringConnector,
    InboundItem,
    MappingError,
    OutboundEvent,
    Page,
    PolledItem,
    PollingConnector,
    Position,
    Receipt,
    unidentified_source_id,
)
from connectors.national.dialect import Dialect, Request
from connectors.national.mapping import json_type
from connectors.national.settings import NationalSettings
from core.http import Response
from core.signing import SignedHeaders
from normalizer.record import AppealDraft

log = logging.getLogger(__name__)

START = Position(datetime(1970, 1, 1, tzinfo=UTC), "")
"""The place before every item: where an unreadable first item of a feed read from the start is put."""


def item_text(item: Any) -> str:
    """The payload text kept for one item of a page: compact JSON that keeps every key and value."""
    return json.dumps(item, ensure_ascii=False, separators=(",", ":"))


class NationalConnector(PollingConnector, DeliveringConnector):
    """A national platform's interconnect: poll work orders, push status and replies back, check credentials."""

    dialect: ClassVar[Dialect]
    Settings: ClassVar[type[BaseModel]] = NationalSettings

    def map(self, payload: str) -> AppealDraft:
        """One stored work order (the JSON text of one page item) as a draft."""
        try:
            item = json.loads(payload)
        except (json.JSONDecodeError, RecursionError) as e:
            raise MappingError(f"payload is not valid JSON: {e}") from None
        if not isinstance(item, dict):
            raise MappingError(f"work order must be a JSON object, got {json_type(item)}")
        return self.dialect.map(item)

    def channel_status(self, payload: str) -> ChannelStatus | None:
        """The work order's own status at the platform (the dialect reads it); None for anything unreadable."""
        try:
            item = json.loads(payload)
        except (json.JSONDecodeError, RecursionError, TypeError):
            return None
        return self.dialect.channel_status(item) if isinstance(item, dict) else None

    async def check(self) -> None:
        """One signed call to the platform's check endpoint."""
        response = await self.send(self.dialect.check_request())
        self.dialect.parse_check(response.status, response.body)

    async def poll(self, position: Position | None, limit: int) -> Page:
        """One page of work orders changed at or after position, oldest first."""
        response = await self.send(self.dialect.poll_request(position, max(1, limit)))
        feed = self.dialect.parse_page(response.status, response.body)
        items: list[PolledItem] = []
        last = position or START
        for raw in feed.items:
            text = item_text(raw)
            source_id = self.dialect.item_id(raw) if isinstance(raw, dict) else None
            place = self.dialect.item_position(raw) if isinstance(raw, dict) else None
            # An item without a readable place keeps the one before it: it is still stored (and quarantined by
            # map), and the next page starts no later than it did, so nothing after it can be skipped.
            last = place or last
            items.append(PolledItem(InboundItem(source_id or unidentified_source_id(text), text), last))
        return Page(items, self._next(position, items, feed.has_more), feed.server_time)

    def _next(self, position: Position | None, items: list[PolledItem], has_more: bool) -> Position | None:
        """Where the next page starts: after the last item while the platform has more, else None."""
        if not has_more or not items:
            return None
        last = items[-1].position
        if last <= (position or START):
            # A full page that does not move the cursor (all its places unreadable or earlier) would be asked
            # for again and again; stop here and let the next scheduled poll try.
            log.warning(
                "%s: a full page of %d items did not move past %s; waiting for the next poll",
                self.channel.id, len(items), position,
            )
            return None
        return last

    async def deliver(self, event: OutboundEvent) -> Receipt:
        """Push one status or reply event; the platform answers a repeated event id as a duplicate."""
        response = await self.send(self.dialect.deliver_request(event))
        return self.dialect.parse_receipt(response.status, response.body)

    async def send(self, request: Request) -> Response:
        """Sign and send one request; a 2xx response or a classified core.errors exception."""
        base = self.settings.base_url.rstrip("/")
        # The signature covers the path as the platform's server sees it: with the base URL's prefix, and
        # percent-decoded (an order number in the path is sent quoted).
        signed_path = unquote(urlsplit(base).path) + unquote(request.path)
        headers = SignedHeaders(self.settings, request.method.upper(), signed_path, request.query, request.body)
        return await self.http.request(
            request.method.upper(),
            base + request.path,
            headers=headers,  # type: ignore[arg-type]  # a Mapping, read once per attempt
            data=request.body or None,
            params=request.query or None,
            max_bytes=self.settings.max_response_bytes,
            timeout_s=self.settings.timeout_seconds,
        )
