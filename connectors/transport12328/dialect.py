"""How huiju speaks the 12328 interconnect (client side): requests, envelopes, positions and receipts."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import quote

from connectors.base import ChannelStatus, OutboundEvent, Position, Receipt
from connectors.national.dialect import (
    Dialect,
    FeedPage,
    Request,
    channel_status_of,
    feed_position,
    json_body,
    readable_time,
)
from connectors.national.mapping import json_type
from connectors.transport12328.mapping import map_ticket, short, ticket_id
from connectors.transport12328.protocol import (
    AFTER,
    BEIJING,
    EVENTS_PATH,
    HEALTH_AUTH_PATH,
    LIMIT,
    SINCE,
    TICKET_PROGRESS,
    TICKETS_PATH,
)
from core.errors import AuthError, ChannelError, PermanentError, TransientError
from normalizer.record import AppealDraft

# An error envelope inside a 2xx answer is classified by its code; unknown codes are permanent.
_ERROR_CODE_CLASS: dict[str, type[ChannelError]] = {
    "unauthorized": AuthError,
    "forbidden": AuthError,
    "rate_limited": TransientError,
    "internal_error": TransientError,
    "bad_gateway": TransientError,
    "service_unavailable": TransientError,
    "gateway_timeout": TransientError,
}


def iso(moment: datetime) -> str:
    """A time as the platform writes it: ISO 8601 at +08:00, microseconds only when there are some."""
    return moment.astimezone(BEIJING).isoformat()


def _parse_json(body: bytes, what: str) -> Any:
    """The parsed JSON of a response body; PermanentError when it is not JSON."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as e:
        raise PermanentError(f"12328 {what}: body is not JSON ({type(e).__name__})") from None


def _raise_for_error_envelope(doc: dict[str, Any], status: int, what: str) -> None:
    """Raise the classified error for an `{"error": {...}}` envelope, whatever the HTTP status said."""
    error = doc.get("error")
    if error is None:
        return
    code = error.get("code") if isinstance(error, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    cls = _ERROR_CODE_CLASS.get(code, PermanentError) if isinstance(code, str) else PermanentError
    text = f"12328 {what}: error {short(code) if code is not None else '(no code)'}"
    if isinstance(message, str) and message:
        text += f": {short(message)}"
    raise cls(text, status=status)


class Transport12328Dialect(Dialect):
    """The 12328 spelling of the national interconnect (see docs/channels/12328.md)."""

    def poll_request(self, position: Position | None, limit: int) -> Request:
        """GET /v2/tickets?since=<ISO 8601 +08:00>&after=<ticket id>&limit=<n>; no since on the first poll."""
        query = {LIMIT: str(limit)}
        if position is not None:
            query[SINCE] = iso(position.updated_at)
            if position.id:
                query[AFTER] = position.id
        return Request("GET", TICKETS_PATH, query)

    def parse_page(self, status: int, body: bytes) -> FeedPage:
        """`{"tickets": [...], "has_more": bool, "server_time": ISO}`; an error envelope raises."""
        doc = _parse_json(body, "poll")
        if not isinstance(doc, dict):
            raise PermanentError(f"12328 poll: expected a JSON object, got {json_type(doc)}")
        _raise_for_error_envelope(doc, status, "poll")
        tickets = doc.get("tickets")
        if not isinstance(tickets, list):
            raise PermanentError(f"12328 poll: tickets must be an array, got {json_type(tickets)}")
        has_more = doc.get("has_more")
        if not isinstance(has_more, bool):
            raise PermanentError(f"12328 poll: has_more must be true or false, got {json_type(has_more)}")
        # A ticket that is not an object stays in the list: the client gives it an unidentified source id
        # and map() quarantines it, instead of the whole page being refused again on every poll.
        server_time = readable_time(doc.get("server_time"), "server_time")
        return FeedPage(items=tickets, has_more=has_more, server_time=server_time)

    def item_id(self, item: dict[str, Any]) -> str | None:
        """The ticket_id when it is usable text."""
        return ticket_id(item)

    def item_position(self, item: dict[str, Any]) -> Position | None:
        """(updated_at, ticket_id); None when either is unreadable, so the ticket keeps its neighbour's place."""
        return feed_position(ticket_id(item), item.get("updated_at"), "updated_at")

    def map(self, item: dict[str, Any]) -> AppealDraft:
        """One ticket as a draft (connectors/transport12328/mapping.py)."""
        return map_ticket(item)

    def channel_status(self, item: dict[str, Any]) -> ChannelStatus | None:
        """status in huiju's words, at updated_at, with reply_text and handling_unit."""
        status = item.get("status")
        progress = TICKET_PROGRESS.get(status) if isinstance(status, str) else None
        return channel_status_of(
            progress, item.get("updated_at"), "updated_at", item.get("reply_text"), item.get("handling_unit")
        )

    def deliver_request(self, event: OutboundEvent) -> Request:
        """POST /v2/tickets/{ticket_id}/events with {event_id, type, status, text, unit, at}."""
        payload = {
            "event_id": event.event_id,
            "type": event.kind,
            "status": event.status,
            "text": event.text,
            "unit": event.unit,
            "at": iso(event.at),
        }
        path = EVENTS_PATH.format(ticket_id=quote(event.source_id, safe=""))
        return Request("POST", path, {}, json_body(payload))

    def parse_receipt(self, status: int, body: bytes) -> Receipt:
        """`{"receipt_id", "event_id", "ticket_id", "duplicate", "received_at"}`; an error envelope raises."""
        doc = _parse_json(body, "event")
        if not isinstance(doc, dict):
            raise PermanentError(f"12328 event: expected a JSON object, got {json_type(doc)}")
        _raise_for_error_envelope(doc, status, "event")
        duplicate = doc.get("duplicate", False)
        if not isinstance(duplicate, bool):
            raise PermanentError(f"12328 event: duplicate must be true or false, got {json_type(duplicate)}")
        reference = doc.get("receipt_id")
        reference = reference if isinstance(reference, str) else None
        return Receipt(reference=reference, duplicate=duplicate, detail=doc)

    def check_request(self) -> Request:
        """GET /v2/health/auth: answers 200 only to a correctly signed request from a known app key."""
        return Request("GET", HEALTH_AUTH_PATH, {})

    def parse_check(self, status: int, body: bytes) -> None:
        """`{"status": "ok", "server_time": ISO}`; an error envelope or any other status raises."""
        doc = _parse_json(body, "health/auth")
        if not isinstance(doc, dict):
            raise PermanentError(f"12328 health/auth: expected a JSON object, got {json_type(doc)}")
        _raise_for_error_envelope(doc, status, "health/auth")
        if doc.get("status") != "ok":
            raise PermanentError(f"12328 health/auth: status is {short(doc.get('status'))}, not 'ok'")
