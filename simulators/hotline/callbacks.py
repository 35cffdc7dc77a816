"""Signed callbacks from the simulated platform to huiju: one POST per event, retried until acknowledged.

Events of one work order go out one after another, in seq order, each retried with doubling back-off until the
receiver answers 2xx; different work orders do not wait for each other. Knobs make it misbehave as real
platforms do: a callback sent twice, a callback held back until the work order's next one was sent, an attempt
that fails on the platform's side and is retried later.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import secrets
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import aiohttp

from core.signing import SIGN_METHODS, sign_request
from simulators.hotline.platform import Event, Platform
from simulators.signing import (
    APP_KEY_HEADER,
    NONCE_HEADER,
    SIGN_METHOD_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
)

ATTEMPT_HEADER = "X-Delivery-Attempt"
LOG_MAX = 100_000


@dataclass(frozen=True, slots=True)
class CallbackTarget:
    """Where callbacks go and how they are signed (the platform's own app key and secret)."""

    url: str
    app_key: str
    secret: str
    sign_method: str = "hmac-sha256"

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"callback_url must be an http(s) URL, got {self.url!r}")
        if self.sign_method not in SIGN_METHODS:
            raise ValueError(f"sign method must be one of {', '.join(SIGN_METHODS)}")
        if not self.app_key or not self.secret:
            raise ValueError("a callback URL needs callback_app_key and callback_secret")

    def headers(self, body: bytes) -> dict[str, str]:
        """The five signature headers of one attempt (a fresh timestamp and nonce each time)."""
        parts = urlsplit(self.url)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        timestamp = str(time.time_ns() // 1_000_000)
        nonce = secrets.token_hex(16)
        path = unquote(parts.path) or "/"
        signature = sign_request(
            self.sign_method, self.secret, "POST", path, query, self.app_key, timestamp, nonce, body
        )
        return {
            APP_KEY_HEADER: self.app_key,
            TIMESTAMP_HEADER: timestamp,
            NONCE_HEADER: nonce,
            SIGN_METHOD_HEADER: self.sign_method,
            SIGNATURE_HEADER: signature,
        }


def event_body(event: Event) -> bytes:
    """The callback body: the event as JSON, UTF-8, compact."""
    return json.dumps(event.as_json(), ensure_ascii=False, separators=(",", ":")).encode()


class Callbacks:
    """Delivers every event of the platform to the callback URL (one lane of deliveries per work order)."""

    def __init__(self, platform: Platform, target: CallbackTarget) -> None:
        self.platform = platform
        self.target = target
        self.session: aiohttp.ClientSession | None = None
        self.log: deque[dict[str, Any]] = deque(maxlen=LOG_MAX)
        self.stats: Counter[str] = Counter()
        self._lanes: dict[str, deque[Event]] = {}
        self._held: dict[str, Event] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        platform.sinks.append(self.submit)

    def submit(self, event: Event, has_next: bool) -> None:
        """Queue an event's callback (held back for a while when out_of_order_callbacks says so)."""
        no = event.work_order_no
        held = self._held.pop(no, None)
        if held is not None:
            self._queue(event)
            self._queue(held)  # the earlier event goes after the later one
            return
        rate = self.platform.knobs.out_of_order_callbacks
        if has_next and rate > 0 and self._roll(event, "out_of_order") < rate:
            self._held[no] = event
            self.stats["held_back"] += 1
            return
        self._queue(event)

    def pending(self) -> int:
        """Events not yet acknowledged (queued, being retried or held back)."""
        return sum(len(lane) for lane in self._lanes.values()) + len(self._held)

    def _roll(self, event: Event, what: str, attempt: int = 0) -> float:
        serial = self.platform.orders[event.work_order_no].serial
        return random.Random(f"{self.platform.seed}:{serial}:{event.seq}:{what}:{attempt}").random()

    def _queue(self, event: Event) -> None:
        no = event.work_order_no
        lane = self._lanes.get(no)
        if lane is not None:
            lane.append(event)
            return
        self._lanes[no] = deque([event])
        task = asyncio.create_task(self._drain(no), name=f"callbacks-{no}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain(self, no: str) -> None:
        lane = self._lanes[no]
        try:
            while lane:
                event = lane[0]
                await self._deliver(event, duplicate=False)
                if self._roll(event, "duplicate") < self.platform.knobs.duplicate_callbacks:
                    self.stats["duplicates"] += 1
                    await self._deliver(event, duplicate=True)
                lane.popleft()
        finally:
            if not lane:
                self._lanes.pop(no, None)

    async def _deliver(self, event: Event, duplicate: bool) -> None:
        """Send one event until the receiver answers 2xx, with doubling back-off between attempts."""
        body = event_body(event)
        attempt = 0
        while True:
            attempt += 1
            knobs = self.platform.knobs
            outcome = await self._attempt(event, body, attempt, duplicate)
            if isinstance(outcome, int) and 200 <= outcome < 300:
                self.stats["delivered"] += 1
                return
            self.stats["retried"] += 1
            backoff = min(knobs.callback_retry_max_s, knobs.callback_retry_initial_s * 2 ** (attempt - 1))
            await asyncio.sleep(backoff)

    async def _attempt(self, event: Event, body: bytes, attempt: int, duplicate: bool) -> int | str:
        knobs = self.platform.knobs
        self.stats["attempts"] += 1
        if self._roll(event, "failure", attempt + (1000 if duplicate else 0)) < knobs.callback_failures:
            outcome: int | str = "failed before sending (simulated)"
            self.stats["injected_failures"] += 1
        else:
            headers = self.target.headers(body) | {
                "Content-Type": "application/json; charset=utf-8",
                "Accept": "application/json",
                ATTEMPT_HEADER: str(attempt),
            }
            assert self.session is not None, "callbacks are sent only while the app runs"
            try:
                timeout = aiohttp.ClientTimeout(total=knobs.callback_timeout_s)
                async with self.session.post(self.target.url, data=body, headers=headers, timeout=timeout) as r:
                    await r.read()
                    outcome = r.status
            except (aiohttp.ClientError, TimeoutError) as e:
                outcome = f"{type(e).__name__}: {e}"[:200]
        self.log.append(
            {
                "event_id": event.event_id,
                "work_order_no": event.work_order_no,
                "seq": event.seq,
                "type": event.type,
                "attempt": attempt,
                "duplicate": duplicate,
                "outcome": outcome,
                "sent_at": time.time(),
            }
        )
        return outcome

    async def close(self) -> None:
        """Stop delivering (what is not yet acknowledged is dropped, as the simulator stops)."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
