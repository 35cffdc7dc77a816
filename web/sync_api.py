"""HTTP endpoints of sync: the platform's signed callbacks, the outbox and deliveries for admins, cases, and
the review of merged-mode replies by the channels' managing bodies."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from core.signing import RequestVerifier, SignatureRefused
from sync import control, review
from sync.intake import EventRejected
from web.auth import ACTOR, CHANNELS, require_role
from web.context import CTX
from web.errors import json_error

log = logging.getLogger(__name__)

CALLBACK_PATH = "/api/v1/platform/events"
VERIFIER = web.AppKey("huiju_callback_verifier", RequestVerifier)


async def platform_event(request: web.Request) -> web.Response:
    """One signed event from the 12345 platform: stored durably, then acknowledged (docs/platform12345.md)."""
    ctx = request.app[CTX]
    verifier = request.app.get(VERIFIER)
    if verifier is None or ctx.sync is None:
        return json_error(404, "this gateway takes no platform callbacks (it reads the feed)", "not_found")
    body = await request.read()
    # The signed path is the callback URL's path: with the prefix of public_base_url, if it has one.
    signed_path = urlsplit(ctx.config.gateway.public_base_url).path.rstrip("/") + request.path
    try:
        verifier.verify(request.headers, request.method, signed_path, dict(request.query), body)
    except SignatureRefused as e:
        return json_error(401, f"bad signature: {e}", "bad_signature")
    try:
        doc = json.loads(body)
    except ValueError as e:
        return json_error(400, f"body is not valid JSON: {e}", "invalid_json")
    try:
        new = await ctx.sync.store_callback(doc)
    except EventRejected as e:
        return json_error(400, str(e), "validation_failed")
    except Exception as e:  # the database: the platform retries later
        log.warning("could not store a platform event: %s", type(e).__name__)
        return json_error(503, "the event cannot be stored now; send it again later", "unavailable")
    return web.json_response({"status": "stored" if new else "duplicate", "event_id": doc.get("event_id")})


def _ids(request: web.Request, body: dict[str, Any]) -> list[int] | None:
    ids = body.get("ids")
    if ids is None:
        return None
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise ValueError("ids: a list of integers")
    return ids


async def read_body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    doc = json.loads(await request.read() or b"{}")
    if not isinstance(doc, dict):
        raise ValueError("body must be a JSON object")
    return doc


def limit_of(request: web.Request) -> int:
    return max(1, min(1000, int(request.query.get("limit", "100"))))


def _uuid(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None


@require_role("admin")
async def list_outbox(request: web.Request) -> web.Response:
    """Outbox messages, newest first (?status=, ?case_id=, ?limit=)."""
    ctx = request.app[CTX]
    try:
        case_id, limit = _uuid(request.query.get("case_id")), limit_of(request)
    except ValueError as e:
        return json_error(400, str(e), "bad_request")
    async with ctx.engine.connect() as conn:
        rows = await control.list_outbox(conn, request.query.get("status"), case_id, limit)
    return web.json_response({"messages": rows})


@require_role("admin")
async def retry_outbox(request: web.Request) -> web.Response:
    """Send dead messages again: {"ids": [...]} or every dead one; {"rerender": true} renders them anew."""

    async def retry(conn: Any, body: dict[str, Any], actor: str) -> list[int]:
        rerender = body.get("rerender", False)
        if not isinstance(rerender, bool):
            raise ValueError("rerender: true or false")
        return await control.retry_outbox(conn, _ids(request, body), actor, rerender)

    return await change(request, retry)


@require_role("admin")
async def discard_outbox(request: web.Request) -> web.Response:
    """Give up on dead messages for good: {"ids": [...], "reason": "..."}; the case's next messages go on."""

    async def discard(conn: Any, body: dict[str, Any], actor: str) -> list[int]:
        ids, reason = _ids(request, body), body.get("reason")
        if not ids or not isinstance(reason, str):
            raise ValueError("ids and reason: required (which messages, and why they are given up)")
        return await control.discard_outbox(conn, ids, actor, reason)

    return await change(request, discard, "discarded")


@require_role("admin")
async def replay_outbox(request: web.Request) -> web.Response:
    """Send one message again, the very same request."""
    message_id = int(request.match_info["message_id"])
    return await change(request, lambda conn, body, actor: control.replay_outbox(conn, message_id, actor))


@require_role("admin")
async def list_deliveries(request: web.Request) -> web.Response:
    """Deliveries, newest first (?state=, ?channel_id=, ?case_id=, ?limit=)."""
    ctx = request.app[CTX]
    q = request.query
    try:
        case_id, limit = _uuid(q.get("case_id")), limit_of(request)
    except ValueError as e:
        return json_error(400, str(e), "bad_request")
    async with ctx.engine.connect() as conn:
        rows = await control.list_deliveries(conn, q.get("state"), q.get("channel_id"), case_id, limit)
    return web.json_response({"deliveries": rows})


@require_role("admin")
async def retry_deliveries(request: web.Request) -> web.Response:
    """Deliver dead deliveries again: {"ids": [...]} or every dead one."""
    return await change(
        request, lambda conn, body, actor: control.retry_deliveries(conn, _ids(request, body), actor)
    )


async def change(request: web.Request, action: Any, answer: str | None = "requeued") -> web.Response:
    """Apply an action (conn, body, actor) in one transaction and wake the senders: {answer: its result}, or
    its result as it is (answer None); 404, 409 or 400 with the reason when it does not apply."""
    ctx = request.app[CTX]
    try:
        body = await read_body(request)
        async with ctx.engine.begin() as conn:
            ids = await action(conn, body, request[ACTOR])
    except control.NotFound as e:
        return json_error(404, str(e), "not_found")
    except control.Refused as e:
        return json_error(409, str(e), "conflict")
    except ValueError as e:
        return json_error(400, str(e), "bad_request")
    if ctx.sync is not None:
        ctx.sync.wake("dispatch", "deliver")
    return web.json_response(ids if answer is None else {answer: ids})


@require_role("admin")
async def show_case(request: web.Request) -> web.Response:
    """One case with its appeals (masked), flags, timeline, outbox and deliveries."""
    ctx = request.app[CTX]
    try:
        case_id = uuid.UUID(request.match_info["case_id"])
    except ValueError:
        return json_error(400, "case id must be a UUID", "bad_request")
    async with ctx.engine.connect() as conn:
        try:
            return web.json_response(await control.case_view(conn, case_id))
        except control.NotFound as e:
            return json_error(404, str(e), "not_found")


@require_role("reviewer")
async def replies_awaiting_review(request: web.Request) -> web.Response:
    """Replies waiting for this reviewer's approval, on the channels their token names."""
    ctx = request.app[CTX]
    async with ctx.engine.connect() as conn:
        rows = await review.awaiting(conn, request[CHANNELS])
    return web.json_response({"replies": [control.delivery_view(r) for r in rows]})


@require_role("reviewer")
async def review_reply(request: web.Request) -> web.Response:
    """approve: publish the reply on its channel; reject {"comment"}: return it to the platform instead."""
    ctx = request.app[CTX]
    verdict = request.match_info["verdict"]
    try:
        delivery_id = int(request.match_info["delivery_id"])
        body = await read_body(request)
        async with ctx.engine.begin() as conn:
            if verdict == "approve":
                within = timedelta(seconds=ctx.config.sync.delivery_deadline_seconds)
                await review.approve(conn, delivery_id, request[CHANNELS], request[ACTOR], within)
            elif verdict == "reject":
                comment = body.get("comment")
                if not isinstance(comment, str):
                    raise review.ReviewError(400, "comment: required, why the reply is rejected")
                await review.reject(conn, delivery_id, request[CHANNELS], request[ACTOR], comment)
            else:
                return json_error(404, f"no review verdict {verdict!r}: approve or reject", "not_found")
    except review.ReviewError as e:
        return json_error(e.status, str(e), "review_refused")
    except ValueError as e:
        return json_error(400, str(e), "bad_request")
    if ctx.sync is not None:
        ctx.sync.wake("dispatch", "deliver")
    return web.json_response({"id": delivery_id, "verdict": verdict})


def add_routes(app: web.Application) -> None:
    """Mount the callback, the admin sync API and the review API."""
    app.router.add_post(CALLBACK_PATH, platform_event)
    app.router.add_get("/admin/v1/outbox", list_outbox)
    app.router.add_post("/admin/v1/outbox/retry", retry_outbox)
    app.router.add_post("/admin/v1/outbox/discard", discard_outbox)
    app.router.add_post("/admin/v1/outbox/{message_id:\\d+}/replay", replay_outbox)
    app.router.add_get("/admin/v1/deliveries", list_deliveries)
    app.router.add_post("/admin/v1/deliveries/retry", retry_deliveries)
    app.router.add_get("/admin/v1/cases/{case_id}", show_case)
    app.router.add_get("/review/v1/replies", replies_awaiting_review)
    app.router.add_post("/review/v1/replies/{delivery_id:\\d+}/{verdict}", review_reply)
