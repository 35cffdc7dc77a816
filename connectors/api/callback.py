"""The generic API channel's return path: status and replies POSTed to the channel's callback_url.

One JSON event per request, signed like the channel's own pushes to huiju (HMAC-SHA256 over
`<unix seconds>.<body>` with the channel secret, in X-Huiju-Timestamp and X-Huiju-Signature), and answered
200 `{"status": "received" | "duplicate"}`. Protocol: docs/channels/api.md, "Replies and status back to your
system".
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from connectors.api.protocol import ANSWERS, BEIJING, KINDS, SIGNATURE_HEADER, STATUSES, TIMESTAMP_HEADER
from connectors.base import OutboundEvent, Receipt
from core.errors import PermanentError
from core.signing import FreshHeaders, sign_body


def callback_event(event: OutboundEvent) -> dict[str, Any]:
    """The event as the channel receives it; PermanentError for an event the protocol cannot carry."""
    if event.kind not in KINDS:
        raise PermanentError(f"event kind {event.kind!r} is not one of {', '.join(KINDS)}")
    if event.status not in STATUSES:
        raise PermanentError(f"status {event.status!r} is not one of {', '.join(STATUSES)}")
    if event.kind == "reply" and not (event.text or "").strip():
        raise PermanentError("a reply event needs its text")
    if event.at.tzinfo is None:
        raise PermanentError("event time has no time zone")
    return {
        "event_id": event.event_id,
        "source_id": event.source_id,
        "kind": event.kind,
        "status": event.status,
        "at": event.at.astimezone(BEIJING).isoformat(),
        "text": event.text,
        "unit": event.unit,
        "extra": event.extra,
    }


def callback_body(event: OutboundEvent) -> bytes:
    """The request body: the event as compact UTF-8 JSON, exactly the bytes that are signed and sent."""
    try:
        text = json.dumps(callback_event(event), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        return text.encode("utf-8")
    except (TypeError, ValueError) as e:  # extra not JSON (NaN, a set, ...), or a lone surrogate in a text
        raise PermanentError(f"event {event.event_id!r} cannot be sent as JSON: {e}") from None


class CallbackHeaders(FreshHeaders):
    """The callback's headers, signed afresh (a new timestamp) each time the HTTP library reads them.

    `core.http.HttpClient` retries a failed call with the same headers object, and the channel refuses a
    timestamp more than 300 s off its clock, so every attempt is signed anew.
    """

    def __init__(self, secret: str, body: bytes, clock: Callable[[], float] = time.time) -> None:
        self._secret = secret
        self._body = body
        self._clock = clock
        self.fresh()

    def sign(self) -> dict[str, str]:
        """The two headers, signed now."""
        timestamp, signature = sign_body(self._secret, self._body, int(self._clock()))
        return {
            "Content-Type": "application/json",
            "Accept": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature,
        }


def parse_answer(body: bytes) -> Receipt:
    """The channel's 2xx answer as a receipt; PermanentError for an answer the protocol does not allow."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        raise PermanentError(f"callback answer is not JSON: {body[:200].decode('utf-8', 'replace')!r}") from None
    status = doc.get("status") if isinstance(doc, dict) else None
    if status not in ANSWERS:
        raise PermanentError(
            f"callback answer must be an object with status {' or '.join(ANSWERS)}, got {str(doc)[:200]!r}"
        )
    reference = doc.get("reference")
    return Receipt(
        reference=reference if isinstance(reference, str) and reference else None,
        duplicate=status == "duplicate",
        detail=doc,
    )
