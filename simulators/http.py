"""JSON answers and the unsigned control API's request handling, shared by every simulator."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

K = TypeVar("K", bound=BaseModel)


def dumps(value: Any) -> str:
    """Compact JSON with Chinese text as it is."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def json_response(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON answer."""
    return web.json_response(value, status=status, headers=headers, dumps=dumps)


def bad_request(reason: str) -> web.HTTPBadRequest:
    """A 400 with the reason as JSON."""
    return web.HTTPBadRequest(text=dumps({"error": reason}), content_type="application/json")


def not_found(reason: str) -> web.HTTPNotFound:
    """A 404 with the reason as JSON."""
    return web.HTTPNotFound(text=dumps({"error": reason}), content_type="application/json")


async def control_body(request: web.Request) -> dict[str, Any]:
    """A control request's JSON object (an empty body is an empty object); 400 for anything else."""
    text = await request.text()
    try:
        doc = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as e:
        raise bad_request(f"body is not JSON: {e}") from None
    if not isinstance(doc, dict):
        raise bad_request("body must be a JSON object")
    return doc


async def patched_knobs(request: web.Request, knobs: K) -> K:
    """The knobs with a PUT body's keys changed (400 naming each bad key); the same knobs for a GET."""
    if request.method != "PUT":
        return knobs
    patch = await control_body(request)
    try:
        return type(knobs).model_validate(knobs.model_dump() | patch)
    except ValidationError as e:
        reasons = (f"{'.'.join(map(str, x['loc'])) or 'knobs'}: {x['msg']}" for x in e.errors())
        raise bad_request("; ".join(reasons)) from None
