"""POST /api/v1/channels/{channel_id}/appeals: the generic API channel's inbound endpoint.

Checks run cheapest first and store nothing but a rejection counter: the channel exists and is enabled (404),
the content type is JSON (415), the body fits (413), the signature is right and fresh (401), the body is a JSON
object with a source id (400). Then the item is ingested; the answer comes only after it is committed: 202 with
the gateway id, or 200 with the same id for a source id seen before.
"""

from __future__ import annotations

import json
import logging

from aiohttp import web

from connectors.api.protocol import SIGNATURE_HEADER, TIMESTAMP_HEADER
from connectors.base import InboundItem
from core.models import utcnow
from core.signing import SignatureError, verify_body
from web.context import CTX
from web.errors import json_error

log = logging.getLogger(__name__)


async def receive_appeal(request: web.Request) -> web.Response:
    """Take one signed appeal from a channel system."""
    ctx = request.app[CTX]
    channel_id = request.match_info["channel_id"]
    channel = ctx.config.channel(channel_id)
    if channel is None or channel.kind != "api":
        ctx.rejections.add("*unknown*", "unknown_channel")
        return json_error(404, f"no API channel {channel_id!r} is configured", "unknown_channel")
    if not ctx.channels.is_enabled(channel_id):
        ctx.rejections.add(channel_id, "channel_disabled")
        return json_error(404, f"channel {channel_id!r} is disabled", "channel_disabled")
    if request.content_type != "application/json":
        ctx.rejections.add(channel_id, "wrong_content_type")
        return json_error(415, f"Content-Type must be application/json, not {request.content_type!r}")
    limit = ctx.config.gateway.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        ctx.rejections.add(channel_id, "too_large")
        return json_error(413, f"body is larger than {limit} bytes")
    body = await _read_body(request, limit)
    if body is None:
        ctx.rejections.add(channel_id, "too_large")
        return json_error(413, f"body is larger than {limit} bytes")
    secret = ctx.pipeline.connector(channel_id).settings.secret
    try:
        verify_body(
            secret,
            body,
            request.headers.get(TIMESTAMP_HEADER),
            request.headers.get(SIGNATURE_HEADER),
            ctx.config.gateway.signature_window_seconds,
        )
    except SignatureError as e:
        ctx.rejections.add(channel_id, "bad_signature")
        return json_error(401, str(e), "bad_signature")
    try:
        text = body.decode("utf-8")
        doc = json.loads(text)
    except UnicodeDecodeError:
        ctx.rejections.add(channel_id, "bad_json")
        return json_error(400, "body is not UTF-8", "bad_json")
    except (ValueError, RecursionError) as e:  # JSONDecodeError, and numbers too long to convert
        ctx.rejections.add(channel_id, "bad_json")
        return json_error(400, f"body is not valid JSON: {e}", "bad_json")
    source_id = doc.get("source_id") if isinstance(doc, dict) else None
    if isinstance(source_id, bool) or not isinstance(source_id, (str, int)) or not str(source_id).strip():
        ctx.rejections.add(channel_id, "bad_json")
        return json_error(
            400, "body must be a JSON object with a source_id (a non-empty string or integer)", "bad_json"
        )
    source_id = str(source_id).strip()
    if len(source_id) > 128:
        ctx.rejections.add(channel_id, "bad_json")
        return json_error(400, "source_id is longer than 128 characters", "bad_json")

    item = InboundItem(source_id, text, "application/json")
    try:
        result = await ctx.submit(channel_id, item, utcnow())
    except Exception:
        return json_error(503, "the appeal could not be stored; retry later", "unavailable")
    body_out = {"id": str(result.id), "status": result.outcome}
    if result.outcome == "redelivery":
        return web.json_response({**body_out, "status": "duplicate"}, status=200)
    if result.error:
        body_out["reason"] = result.error
    log.info(
        "appeal received",
        extra={"channel_id": channel_id, "appeal_id": str(result.id), "outcome": result.outcome},
    )
    return web.json_response(body_out, status=202)


async def _read_body(request: web.Request, limit: int) -> bytes | None:
    """The whole body, or None as soon as it grows past the limit."""
    body = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)
