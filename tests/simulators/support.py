"""A small platform dialect for testing the engine on its own, and a client that signs like huiju does."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from core.signing import sign_request
from simulators.national.dialect import FeedQuery, Party, ReceivedEvent, ServerDialect, WorkOrder

APP_KEY = "test-app"
APP_SECRET = "test-secret-0123456789abcdef"


class PlainDialect(ServerDialect):
    """The shared protocol in the plainest spelling: ISO times, English keys, {"error": ...} errors."""

    name = "plain"
    poll_method = "GET"
    poll_path = "/feed"
    deliver_path = "/orders/{order_id}/events"
    check_path = "/check"
    id_field = "id"
    optional_fields = ("phone", "party.name")
    date_fields = ("occurred", "updated")
    protected_fields = ("updated",)

    def parse_feed_query(self, query: dict[str, str], body: bytes) -> FeedQuery:
        since = datetime.fromisoformat(query["since"]) if "since" in query else None
        return FeedQuery(since, query.get("after", ""), int(query.get("limit", "100")))

    def render_item(self, order: WorkOrder) -> dict[str, Any]:
        return {
            "id": order.id,
            "title": order.title,
            "phone": order.citizen.phone,
            "party": {"name": order.citizen.name},
            "amount": 12,
            "occurred": order.created_at.isoformat(),
            "updated": order.updated_at.isoformat(),
        }

    def render_page(self, items: list[dict[str, Any]], has_more: bool, server_time: datetime) -> dict[str, Any]:
        return {"items": items, "more": has_more, "now": server_time.isoformat()}

    def render_error(self, status: int, message: str) -> dict[str, Any]:
        return {"error": status, "message": message}

    def parse_event(self, order_id: str | None, body: bytes) -> ReceivedEvent:
        doc = json.loads(body)
        if not isinstance(doc, dict) or not isinstance(doc.get("id"), str):
            raise ValueError("id required")
        return ReceivedEvent(doc["id"], order_id or "", "status", doc.get("status", ""), None, None, "", doc)

    def render_receipt(self, event: ReceivedEvent, duplicate: bool) -> dict[str, Any]:
        return {"event": event.event_id, "duplicate": duplicate}

    def generate(self, n: int, now: datetime, seed: int) -> WorkOrder:
        return WorkOrder(
            id=f"O{n:05d}",
            type="complaint",
            title=f"order {n} of seed {seed}",
            content="text",
            citizen=Party(name="张三", phone="13800138000"),
            created_at=now - timedelta(minutes=5),
            updated_at=now,
        )


@dataclass
class Signer:
    """Signs requests as the national protocol says (fresh timestamp and nonce unless given)."""

    app_key: str = APP_KEY
    secret: str = APP_SECRET
    method: str = "hmac-sha256"
    overrides: dict[str, str] = field(default_factory=dict)

    def headers(
        self, http_method: str, path: str, query: dict[str, str] | None = None, body: bytes = b"", **fixed: str
    ) -> dict[str, str]:
        timestamp = fixed.get("timestamp", str(time.time_ns() // 1_000_000))
        nonce = fixed.get("nonce", secrets.token_hex(16))
        signature = sign_request(
            self.method, self.secret, http_method, path, query or {}, self.app_key, timestamp, nonce, body
        )
        headers = {
            "X-App-Key": self.app_key,
            "X-Timestamp": timestamp,
            "X-Nonce": nonce,
            "X-Sign-Method": self.method,
            "X-Signature": signature,
        }
        return headers | self.overrides


async def signed(
    client: Any, method: str, path: str, query: dict[str, str] | None = None, body: bytes = b"",
    signer: Signer | None = None, **fixed: str,
) -> aiohttp.ClientResponse:
    """A signed request through an aiohttp test client."""
    headers = (signer or Signer()).headers(method, path, query, body, **fixed)
    return await client.request(method, path, params=query, data=body or None, headers=headers)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def aware(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)
