"""A client that signs like huiju, a callback receiver that checks the platform's signature, and waiting."""

from __future__ import annotations

import asyncio
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from core.signing import sign_request

APP_KEY = "huiju-test"
APP_SECRET = "test-platform-secret-0123456789"
CALLBACK_KEY = "platform-test"
CALLBACK_SECRET = "test-callback-secret-9876543210"
CALLBACK_PATH = "/api/v1/platform/events"


def sign(
    method: str,
    path: str,
    query: dict[str, str],
    body: bytes,
    app_key: str = APP_KEY,
    secret: str = APP_SECRET,
    sign_method: str = "hmac-sha256",
) -> dict[str, str]:
    """The five signature headers of one attempt, with a fresh timestamp and nonce."""
    timestamp = str(time.time_ns() // 1_000_000)
    nonce = secrets.token_hex(16)
    signature = sign_request(sign_method, secret, method, path, query, app_key, timestamp, nonce, body)
    return {
        "X-App-Key": app_key,
        "X-Timestamp": timestamp,
        "X-Nonce": nonce,
        "X-Sign-Method": sign_method,
        "X-Signature": signature,
    }


def dumps(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


@dataclass
class Client:
    """huiju's side of the interface: every request signed afresh."""

    session: aiohttp.ClientSession
    url: str
    secret: str = APP_SECRET
    sign_method: str = "hmac-sha256"

    async def request(
        self,
        method: str,
        path: str,
        doc: Any = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Answer:
        body = raw if raw is not None else (b"" if doc is None else dumps(doc))
        signed = sign(method, path, query or {}, body, secret=self.secret, sign_method=self.sign_method)
        if body:
            signed["Content-Type"] = "application/json; charset=utf-8"
        async with self.session.request(
            method, self.url + path, params=query, data=body or None, headers=signed | (headers or {})
        ) as r:
            text = await r.text()
            return Answer(r.status, json.loads(text) if text else None, dict(r.headers))

    async def post(self, path: str, doc: Any, **kw: Any) -> Answer:
        return await self.request("POST", path, doc, **kw)

    async def get(self, path: str, query: dict[str, str] | None = None) -> Answer:
        return await self.request("GET", path, query=query)

    async def control(self, method: str, path: str, doc: Any = None) -> Any:
        """The unsigned control API."""
        async with self.session.request(method, self.url + path, json=doc) as r:
            return await r.json()


@dataclass
class Receiver:
    """huiju's callback endpoint, reduced to what the tests look at: it checks the platform's signature."""

    events: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    attempts: list[str] = field(default_factory=list)
    fail_next: int = 0  # answer 503 to this many requests first
    nonces: set[str] = field(default_factory=set)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        h = request.headers
        self.attempts.append(h.get("X-Delivery-Attempt", ""))
        expected = (
            sign_request(
                h.get("X-Sign-Method", ""),
                CALLBACK_SECRET,
                request.method,
                request.path,
                dict(request.query),
                CALLBACK_KEY,
                h.get("X-Timestamp", ""),
                h.get("X-Nonce", ""),
                body,
            )
            if h.get("X-Sign-Method") in ("hmac-sha256", "sm3")
            else ""
        )
        fresh = abs(time.time_ns() // 1_000_000 - int(h.get("X-Timestamp", "0"))) <= 300_000
        if (
            h.get("X-App-Key") != CALLBACK_KEY
            or not fresh
            or h.get("X-Nonce") in self.nonces
            or not hmac.compare_digest(expected, h.get("X-Signature", ""))
        ):
            self.refused.append(h.get("X-Signature", ""))
            return web.json_response({"error": "bad_signature"}, status=401)
        self.nonces.add(h["X-Nonce"])
        if self.fail_next > 0:
            self.fail_next -= 1
            return web.json_response({"error": "unavailable"}, status=503)
        self.events.append(json.loads(body))
        return web.Response(status=204)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(CALLBACK_PATH, self.handle)
        return app


async def eventually(check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.01) -> Any:
    """Wait until check() is truthy; its value (fails after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s")
        await asyncio.sleep(interval)


def appeal(n: int = 1, **changes: Any) -> dict[str, Any]:
    """An appeal as huiju renders it for the platform (a complaint about a property company by default)."""
    doc: dict[str, Any] = {
        "appeal_id": f"0193605e-8f2a-7c41-9d3e-{n:012d}",
        "source_id": f"BOARD-{n}",
        "channel_id": "web-api",
        "mode": "hotline_flow",
        "type": "complaint",
        "title": "景蓉华苑物业乱收停车费",
        "content": "小区物业未经业主大会同意，自4月起每月收取停车管理费300元。",
        "received_at": "2024-11-25T09:15:02+08:00",
        "occurred_at": None,
        "time_tier": "7d",
        "emergency": None,
        "confidential": False,
        "citizen": {"name": "张三", "phone": "+8613800138000", "id_number": "36070219800101001X"},
        "enterprise": None,
        "location": {
            "address": "章贡区解放街道景蓉华苑",
            "division_code": "360702",
            "township": "解放街道",
            "lat": None,
            "lon": None,
        },
        "category": "城乡建设",
    }
    return doc | changes


def case(n: int = 1, **changes: Any) -> dict[str, Any]:
    """A create-work-order request for case n."""
    return {"case_id": f"0193605e-0000-7000-8000-{n:012d}", "appeal": appeal(n, **changes)}
