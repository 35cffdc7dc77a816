"""A channel system that pushes appeals to huiju's generic API channel, signed as the protocol says.

Used by the demo (`make run`) so that appeals really arrive, and by tests and benchmarks as a client. The same
system's receiving side, where huiju sends status and replies back, is `simulators.api_channel`.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import logging
from collections.abc import Iterator
from typing import Any

import aiohttp

from connectors.api.protocol import SIGNATURE_HEADER, TIMESTAMP_HEADER
from core.signing import sign_body
from simulators.corpus import board_messages

log = logging.getLogger(__name__)

_TYPE_HINTS = (
    ("举报", "举报"),
    ("投诉", "投诉"),
    ("建议", "建议"),
    ("咨询", "咨询"),
    ("请问", "咨询"),
    ("感谢", "表扬"),
    ("表扬", "表扬"),
)


def appeal_from_board(msg: dict[str, str], serial: int = 0) -> dict[str, Any]:
    """A generic-API appeal made from one real board post (with a stable, made-up citizen phone)."""
    digest = hashlib.sha256(msg["user"].encode()).hexdigest()
    phone = "139" + str(int(digest[:12], 16))[-8:].rjust(8, "0")
    kind = next((t for hint, t in _TYPE_HINTS if hint in msg["title"]), "求助")
    return {
        "source_id": f"BOARD-{msg['id']}" + (f"-{serial}" if serial else ""),
        "type": kind,
        "title": msg["title"],
        "content": msg["content"],
        "occurred_at": msg["time"],
        "citizen": {"user_id": msg["user"], "phone": phone},
        "category": msg["category"],
    }


def signed_request(secret: str, appeal: dict[str, Any] | bytes) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a signed POST."""
    body = appeal if isinstance(appeal, bytes) else json.dumps(appeal, ensure_ascii=False).encode()
    ts, sig = sign_body(secret, body)
    return body, {"Content-Type": "application/json", TIMESTAMP_HEADER: ts, SIGNATURE_HEADER: sig}


class ApiChannelSender:
    """Posts signed appeals to one API channel of a running gateway."""

    def __init__(self, base_url: str, channel_id: str, secret: str, session: aiohttp.ClientSession) -> None:
        self.url = f"{base_url.rstrip('/')}/api/v1/channels/{channel_id}/appeals"
        self.secret = secret
        self.session = session

    async def post(self, appeal: dict[str, Any] | bytes) -> tuple[int, dict[str, Any]]:
        """Send one appeal; the HTTP status and JSON answer."""
        body, headers = signed_request(self.secret, appeal)
        async with self.session.post(self.url, data=body, headers=headers) as resp:
            return resp.status, await resp.json(content_type=None)

    def stream(self) -> Iterator[dict[str, Any]]:
        """Endless appeals from the board sample (each pass gets fresh source ids)."""
        for serial in itertools.count():
            for msg in board_messages():
                yield appeal_from_board(msg, serial)

    async def run(self, interval_s: float = 2.0, redeliver_every: int = 7) -> None:
        """Send an appeal every interval; now and then resend one, as real channels do after a timeout."""
        sent: dict[str, Any] | None = None
        for n, appeal in enumerate(self.stream(), start=1):
            try:
                if sent is not None and n % redeliver_every == 0:
                    status, answer = await self.post(sent)
                else:
                    status, answer = await self.post(appeal)
                    sent = appeal
                log.info("api sender: HTTP %s %s", status, answer.get("status"))
            except (aiohttp.ClientError, TimeoutError) as e:
                log.warning("api sender: gateway not reachable: %s", e)
            await asyncio.sleep(interval_s)
