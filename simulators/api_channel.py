"""The receiving side of a channel system on the generic API channel: where huiju POSTs status and replies.

`POST /callbacks` checks, in this order, and the first failure answers: an outage (503), the signature with the
channel secret and a 300-second window (401), an injected error (`fail_next`, then `error_rate`), the content
type (415) and the event (400). Then the event is recorded once by event id and answered 200
`{"status": "received" | "duplicate", "reference": ...}`, as docs/channels/api.md says a channel system must.

The unsigned control API: `GET /_sim/events` (what was recorded, once per event id), `GET /_sim/attempts`
(every request and its answer) and `GET|PUT /_sim/knobs`. Serve it with `running(build_channel(secret))`.
"""

from __future__ import annotations

import json
import random
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from connectors.api.protocol import EVENT_FIELDS, KINDS, SIGNATURE_HEADER, STATUSES, TIMESTAMP_HEADER
from core.signing import SignatureError, verify_body
from simulators.http import json_response, patched_knobs
from simulators.national.engine import Rate
from simulators.national.run import running

__all__ = ["CHANNEL", "ChannelSystem", "Knobs", "build_channel", "parse_event", "running"]

CALLBACK_PATH = "/callbacks"
SIGNATURE_WINDOW_S = 300
ATTEMPTS_KEPT = 10_000


class Knobs(BaseModel):
    """What the channel system does besides answering correctly; changed at run time by PUT /_sim/knobs."""

    model_config = ConfigDict(extra="forbid")

    error_rate: Rate = 0.0  # fraction of signed callbacks answered with one of error_statuses, not recorded
    error_statuses: Annotated[list[Annotated[int, Field(ge=400, le=599)]], Field(min_length=1)] = [500, 503]
    outage: bool = False  # every callback 503
    fail_next: Annotated[int, Field(ge=0)] = 0  # the next n signed callbacks 503 (counts down), not recorded


@dataclass(slots=True)
class Received:
    """One event as first recorded, the channel's reference for it, and how often it arrived."""

    reference: str
    event: dict[str, Any]
    deliveries: int = 1

    def as_json(self) -> dict[str, Any]:
        """The entry as GET /_sim/events lists it."""
        return {"reference": self.reference, "deliveries": self.deliveries, "event": self.event}


class ChannelSystem:
    """The state of one simulated channel system: its secret, knobs, recorded events and request log."""

    def __init__(self, secret: str, *, seed: int = 0, knobs: Knobs | None = None) -> None:
        self.secret = secret
        self.knobs = knobs or Knobs()
        self.events: dict[str, Received] = {}  # by event id, in arrival order
        self.attempts: deque[dict[str, Any]] = deque(maxlen=ATTEMPTS_KEPT)
        self._errors = random.Random(f"{seed}:errors")

    def record(self, event: dict[str, Any]) -> tuple[Received, bool]:
        """Keep an event once by its id: (the entry, whether this arrival is a duplicate)."""
        seen = self.events.get(event["event_id"])
        if seen is not None:
            seen.deliveries += 1
            return seen, True
        entry = Received(f"RCV-{len(self.events) + 1:06d}", event)
        self.events[event["event_id"]] = entry
        return entry, False

    def injected_error(self) -> int | None:
        """An error status to answer instead of recording (fail_next first, then error_rate), or None."""
        k = self.knobs
        if k.fail_next > 0:
            k.fail_next -= 1
            return 503
        if k.error_rate > 0 and self._errors.random() < k.error_rate:
            return self._errors.choice(k.error_statuses)
        return None


def parse_event(body: bytes) -> dict[str, Any]:
    """The callback body as an event, checked as the protocol says; ValueError with the reason otherwise."""
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise ValueError(f"body is not UTF-8 JSON: {e}") from None
    if not isinstance(doc, dict):
        raise ValueError("body must be a JSON object")
    missing = [name for name in EVENT_FIELDS if name not in doc]
    if missing:
        raise ValueError(f"missing field(s) {', '.join(missing)}")
    for name in ("event_id", "source_id"):
        if not isinstance(doc[name], str) or not doc[name]:
            raise ValueError(f"{name} must be a non-empty string")
    if doc["kind"] not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    if not isinstance(doc["status"], str) or doc["status"] not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    for name in ("text", "unit"):
        if doc[name] is not None and not isinstance(doc[name], str):
            raise ValueError(f"{name} must be a string or null")
    if doc["kind"] == "reply" and not (doc["text"] or "").strip():
        raise ValueError("a reply needs its text")
    if not isinstance(doc["extra"], dict):
        raise ValueError("extra must be an object")
    try:
        at = datetime.fromisoformat(doc["at"]) if isinstance(doc["at"], str) else None
    except ValueError:
        at = None
    if at is None or at.utcoffset() is None:
        raise ValueError("at must be an RFC 3339 time with an offset")
    return doc


def _error(status: int, code: str, reason: str) -> web.Response:
    return json_response({"error": code, "reason": reason}, status)


CHANNEL = web.AppKey("api_channel_system", ChannelSystem)


async def _callback(request: web.Request) -> web.StreamResponse:
    system = request.app[CHANNEL]
    body = await request.read()
    response, event_id = await _answer(system, request, body)
    system.attempts.append(
        {
            "status": response.status,
            "event_id": event_id,
            "timestamp": request.headers.get(TIMESTAMP_HEADER),
            "signature": request.headers.get(SIGNATURE_HEADER),
        }
    )
    return response


async def _answer(system: ChannelSystem, request: web.Request, body: bytes) -> tuple[web.Response, str | None]:
    """The answer to one callback, and the event id it was about (None if it was not read)."""
    if system.knobs.outage:
        return _error(503, "unavailable", "service unavailable (simulated outage)"), None
    try:
        verify_body(
            system.secret,
            body,
            request.headers.get(TIMESTAMP_HEADER),
            request.headers.get(SIGNATURE_HEADER),
            SIGNATURE_WINDOW_S,
        )
    except SignatureError as e:
        return _error(401, "bad_signature", str(e)), None
    if (status := system.injected_error()) is not None:
        return _error(status, "simulated", f"simulated error {status}"), None
    if request.content_type != "application/json":
        reason = f"Content-Type must be application/json, not {request.content_type!r}"
        return _error(415, "unsupported_media_type", reason), None
    try:
        event = parse_event(body)
    except ValueError as e:
        return _error(400, "bad_event", str(e)), None
    entry, duplicate = system.record(event)
    answer = {"status": "duplicate" if duplicate else "received", "reference": entry.reference}
    return json_response(answer), event["event_id"]


async def _control_events(request: web.Request) -> web.StreamResponse:
    return json_response([e.as_json() for e in request.app[CHANNEL].events.values()])


async def _control_attempts(request: web.Request) -> web.StreamResponse:
    return json_response(list(request.app[CHANNEL].attempts))


async def _control_knobs(request: web.Request) -> web.StreamResponse:
    system = request.app[CHANNEL]
    system.knobs = await patched_knobs(request, system.knobs)
    return json_response(system.knobs.model_dump())


def build_channel(secret: str, *, path: str = CALLBACK_PATH, seed: int = 0, **knobs: Any) -> web.Application:
    """The channel system's receiving side as an aiohttp application; knobs as in `Knobs`."""
    app = web.Application()
    app[CHANNEL] = ChannelSystem(secret, seed=seed, knobs=Knobs.model_validate(knobs))
    app.router.add_post(path, _callback)
    app.router.add_get("/_sim/events", _control_events)
    app.router.add_get("/_sim/attempts", _control_attempts)
    app.router.add_get("/_sim/knobs", _control_knobs)
    app.router.add_put("/_sim/knobs", _control_knobs)
    return app
