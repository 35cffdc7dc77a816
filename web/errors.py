"""Every error the HTTP API returns is JSON: {"error": code, "reason": human text}."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

log = logging.getLogger(__name__)

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "too_many_requests",
    503: "unavailable",
}


def json_error(status: int, reason: str, code: str | None = None, **extra: object) -> web.Response:
    """A JSON error response."""
    body = {"error": code or _CODES.get(status, "error"), "reason": reason, **extra}
    return web.json_response(body, status=status)


@web.middleware
async def json_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Turn aiohttp's HTTP exceptions and unexpected failures into JSON errors."""
    try:
        return await handler(request)
    except web.HTTPException as e:
        if e.status < 400:
            raise
        reason = e.text if e.text and not e.text.startswith(f"{e.status}:") else e.reason
        return json_error(e.status, reason)
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return json_error(500, "internal error; the request was not processed", "internal")
