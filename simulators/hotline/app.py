"""The simulated 12345 platform as an aiohttp application: the interface of docs/platform12345.md, plus /_sim/.

Every platform request goes through the same checks, in this order: latency, body size (413), outage (503),
reject_auth (401), the signature (401), an injected error (error_rate), then the request itself. Every one is
logged with its body, so tests can check what went over the wire (GET /_sim/requests).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from core.signing import SIGN_METHODS
from simulators.hotline.callbacks import Callbacks, CallbackTarget
from simulators.hotline.platform import (
    KNOB_NAMES,
    RETURNABLE,
    Knobs,
    Platform,
    SharedRecord,
    SimClock,
    WorkOrder,
    iso,
)
from simulators.hotline.protocol import (
    AttachRepeat,
    BodyError,
    CreateWorkOrder,
    MergeWorkOrder,
    RaiseFlag,
    ReturnWorkOrder,
    ShareRecord,
    UpdateSharedRecord,
    canonical,
    parse_body,
)
from simulators.http import dumps as _dumps
from simulators.http import json_response as _json
from simulators.http import not_found, patched_knobs
from simulators.national.engine import CONTROL_PREFIX
from simulators.signing import RequestVerifier, SignatureRefused

PLATFORM = web.AppKey("hotline_platform", Platform)
CALLBACKS = web.AppKey("hotline_callbacks", Callbacks)
VERIFIER = web.AppKey("hotline_verifier", RequestVerifier)
STATS = web.AppKey("hotline_stats", dict)

MAX_BODY_BYTES = 1_048_576
FEED_LIMIT_DEFAULT, FEED_LIMIT_MAX = 100, 1_000
DETACH_REASON_MAX = 500
LOGGED_HEADERS = ("Content-Type", "X-App-Key", "X-Timestamp", "X-Nonce", "X-Sign-Method", "X-Signature")
ERROR_CODES = {
    400: "bad_request",
    401: "bad_signature",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal",
    502: "bad_gateway",
    503: "unavailable",
    504: "gateway_timeout",
}


def error(status: int, code: str | None, reason: str, **extra: Any) -> web.Response:
    """The platform's error envelope: {"error", "reason"} and, where they apply, "field", "errors", ids."""
    headers = None
    if status in (429, 503):
        headers = {"Retry-After": "1"}
    elif status == 401:
        headers = {"WWW-Authenticate": 'HMAC realm="12345"'}
    body = {"error": code or ERROR_CODES.get(status, "error"), "reason": reason} | extra
    return _json(body, status, headers)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _log_and_envelope(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count every request by route and status; answer platform paths' HTTP errors in the envelope."""
    resource = request.match_info.route.resource
    route = f"{request.method} {resource.canonical if resource else request.path}"
    control = request.path.startswith(CONTROL_PREFIX)
    try:
        response = await handler(request)
    except web.HTTPException as e:
        if e.status < 400 or control:
            request.app[STATS][(route, e.status)] = request.app[STATS].get((route, e.status), 0) + 1
            raise
        response = error(e.status, None, e.reason)
    stats = request.app[STATS]
    stats[(route, response.status)] = stats.get((route, response.status), 0) + 1
    return response


def _logged(request: web.Request, raw: bytes, status: int) -> dict[str, Any]:
    body: Any = None
    if raw:
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            body = raw.decode("utf-8", "replace")
    return {
        "at": time.time(),
        "method": request.method,
        "path": request.path,
        "query": dict(request.query),
        "headers": {h: request.headers[h] for h in LOGGED_HEADERS if h in request.headers},
        "body": body,
        "status": status,
    }


def _platform(handler: Callable[[web.Request, bytes], Awaitable[web.StreamResponse]]) -> Handler:
    """A platform route: latency, size, outage, refused credentials, the signature, injected errors, handler."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        platform = request.app[PLATFORM]
        if platform.knobs.latency_ms:
            await asyncio.sleep(platform.knobs.latency_ms / 1000)
        if (request.content_length or 0) > MAX_BODY_BYTES:
            response, body = error(413, None, f"body is larger than {MAX_BODY_BYTES} bytes"), b""
        else:
            body = await request.read()
            response = await checked(request, body)
        platform.requests.append(_logged(request, body, response.status))
        return response

    async def checked(request: web.Request, body: bytes) -> web.StreamResponse:
        platform = request.app[PLATFORM]
        k = platform.knobs
        if k.outage:
            return error(503, None, "service unavailable (simulated outage)")
        if k.reject_auth:
            return error(401, None, "credentials refused (simulated)")
        try:
            request.app[VERIFIER].verify(request.headers, request.method, request.path, dict(request.query), body)
        except SignatureRefused as e:
            return error(401, None, str(e))
        if (status := platform.injected_error()) is not None:
            return error(status, None, f"simulated error {status}")
        if request.method in ("POST", "PUT") and request.content_type != "application/json":
            return error(415, None, f"Content-Type must be application/json, not {request.content_type!r}")
        try:
            return await handler(request, body)
        except BodyError as e:
            extra = {"field": e.field, "errors": e.errors} if e.code == "validation_failed" else {}
            return error(400, e.code, e.reason, **extra)

    return guarded


def _order(request: web.Request) -> WorkOrder:
    no = request.match_info["work_order_no"]
    order = request.app[PLATFORM].orders.get(no)
    if order is None:
        raise _Refused(error(404, "work_order_not_found", f"no work order {no[:64]!r}"))
    return order


def _record(request: web.Request) -> SharedRecord:
    no = request.match_info["record_no"]
    record = request.app[PLATFORM].records.get(no)
    if record is None:
        raise _Refused(error(404, "record_not_found", f"no shared record {no[:64]!r}"))
    return record


def _check_case(order: WorkOrder, case_id: str) -> None:
    """Refuse a request about a work order that names another case."""
    if case_id != order.case_id:
        raise _Refused(
            error(
                409,
                "case_mismatch",
                f"work order {order.no} belongs to case {order.case_id!r}, not {case_id!r}",
                work_order_no=order.no,
            )
        )


def _replayed(kept: Mapping[str, Any], key: str, doc: Any, place_field: str, place: str) -> bool:
    """Whether an idempotency key was used before for this very request: the same body at the same place.

    `kept` holds what each key made, and its `place_field` (work_order_no, record_no) says where. The same key
    with another body, or at another place, is refused with 409 naming that place.
    """
    existing = kept.get(key)
    if existing is None:
        return False
    where = getattr(existing, place_field)
    if existing.fingerprint != canonical(doc) or where != place:
        raise _Refused(
            error(
                409,
                "idempotency_conflict",
                f"{key!r} was used for {where} with a different request",
                **{place_field: where},
            )
        )
    return True


class _Refused(Exception):
    """A handler's answer other than success, raised from a helper."""

    def __init__(self, response: web.Response) -> None:
        self.response = response


def _refusals(handler: Callable[[web.Request, bytes], Awaitable[web.StreamResponse]]):
    async def wrapped(request: web.Request, body: bytes) -> web.StreamResponse:
        try:
            return await handler(request, body)
        except _Refused as e:
            return e.response

    return wrapped


# -- the platform's routes --------------------------------------------------------------------------------------


@_refusals
async def create_work_order(request: web.Request, body: bytes) -> web.StreamResponse:
    platform = request.app[PLATFORM]
    model, doc = parse_body(CreateWorkOrder, body)
    fingerprint = canonical(doc)
    existing_no = platform.by_case.get(model.case_id)
    if existing_no is not None:
        existing = platform.orders[existing_no]
        if existing.fingerprint != fingerprint:
            raise _Refused(
                error(
                    409,
                    "idempotency_conflict",
                    f"case {model.case_id!r} already has work order {existing_no} with a different request",
                    work_order_no=existing_no,
                )
            )
        return _json(_order_answer(existing), 200)
    _check_appeal_free(platform, model.appeal.appeal_id, None)
    order = platform.create(model.case_id, model.appeal, doc, fingerprint)
    return _json(_order_answer(order), 201)


def _order_answer(order: WorkOrder) -> dict[str, Any]:
    return {"work_order_no": order.no, "case_id": order.case_id, "status": order.status}


def _check_appeal_free(platform: Platform, appeal_id: str, order_no: str | None) -> None:
    """Refuse an appeal that is in another work order now (as its first appeal or an attached repeat)."""
    other = platform.active_appeals.get(appeal_id)
    if other is not None and other != order_no:
        raise _Refused(
            error(409, "appeal_conflict", f"appeal {appeal_id!r} is in work order {other}", work_order_no=other)
        )


@_refusals
async def get_work_order(request: web.Request, body: bytes) -> web.StreamResponse:
    return _json(_order(request).as_json())


@_refusals
async def attach_repeat(request: web.Request, body: bytes) -> web.StreamResponse:
    platform = request.app[PLATFORM]
    order = _order(request)
    model, doc = parse_body(AttachRepeat, body)
    _check_case(order, model.case_id)
    appeal_id = model.appeal.appeal_id
    if appeal_id == order.appeal.appeal_id:
        raise _Refused(
            error(
                409,
                "appeal_conflict",
                f"appeal {appeal_id!r} is this work order's first appeal",
                work_order_no=order.no,
            )
        )
    fingerprint = canonical(doc)
    repeat = order.repeats.get(appeal_id)
    if repeat is not None and repeat.status == "attached":
        if repeat.fingerprint != fingerprint:
            raise _Refused(
                error(
                    409,
                    "idempotency_conflict",
                    f"appeal {appeal_id!r} is attached to {order.no} with a different request",
                    work_order_no=order.no,
                )
            )
        return _json(_repeat_answer(order, appeal_id, "attached"), 200)
    _check_appeal_free(platform, appeal_id, order.no)
    platform.attach(order, model.appeal, doc, fingerprint)
    return _json(_repeat_answer(order, appeal_id, "attached"), 201)


def _repeat_answer(order: WorkOrder, appeal_id: str, status: str) -> dict[str, Any]:
    attached = sum(1 for r in order.repeats.values() if r.status == "attached")
    return {"work_order_no": order.no, "appeal_id": appeal_id, "status": status, "repeat_count": attached}


@_refusals
async def detach_repeat(request: web.Request, body: bytes) -> web.StreamResponse:
    platform = request.app[PLATFORM]
    order = _order(request)
    appeal_id = request.match_info["appeal_id"]
    reason = request.query.get("reason")
    if reason is not None and not 1 <= len(reason) <= DETACH_REASON_MAX:
        raise BodyError("validation_failed", "reason", f"reason: 1 to {DETACH_REASON_MAX} characters")
    repeat = order.repeats.get(appeal_id)
    if repeat is None:
        raise _Refused(
            error(404, "repeat_not_found", f"appeal {appeal_id[:64]!r} was never attached to {order.no}")
        )
    platform.detach(order, repeat, reason)
    return _json(_repeat_answer(order, appeal_id, "detached"))


@_refusals
async def share_record(request: web.Request, body: bytes) -> web.StreamResponse:
    platform = request.app[PLATFORM]
    model, doc = parse_body(ShareRecord, body)
    if model.work_order_no is not None and model.work_order_no not in platform.orders:
        raise _Refused(error(404, "work_order_not_found", f"no work order {model.work_order_no!r}"))
    fingerprint = canonical(doc)
    appeal_id = model.appeal.appeal_id
    existing = platform.shared.get(appeal_id)
    if existing is not None:
        if existing.fingerprint != fingerprint:
            raise _Refused(
                error(
                    409,
                    "idempotency_conflict",
                    f"appeal {appeal_id!r} was shared as {existing.record_no} with a different request",
                    record_no=existing.record_no,
                )
            )
        return _json(_record_answer(existing.record_no, appeal_id), 200)
    record = platform.share(appeal_id, doc, fingerprint)
    return _json(_record_answer(record.record_no, appeal_id), 201)


def _record_answer(record_no: str, appeal_id: str) -> dict[str, Any]:
    return {"record_no": record_no, "appeal_id": appeal_id, "status": "shared"}


@_refusals
async def merge_work_order(request: web.Request, body: bytes) -> web.StreamResponse:
    platform = request.app[PLATFORM]
    order = _order(request)
    model, doc = parse_body(MergeWorkOrder, body)
    _check_case(order, model.case_id)
    if _replayed(platform.merges, model.merge_id, doc, "work_order_no", order.no):
        return _json(_merge_answer(order), 200)
    into = platform.orders.get(model.into_work_order_no)
    if into is None:
        raise _Refused(error(404, "work_order_not_found", f"no work order {model.into_work_order_no!r}"))
    for o, why in ((order, "is merged"), (into, "to merge into is merged")):
        if o.merge is not None:
            no = o.merge.request["into_work_order_no"]
            raise _Refused(error(409, "merge_conflict", f"work order {o.no} {why} into {no} already"))
    if into is order:
        raise _Refused(error(409, "merge_conflict", f"work order {order.no} cannot be merged into itself"))
    platform.merge(order, into, model.merge_id, doc, canonical(doc))
    return _json(_merge_answer(order), 201)


def _merge_answer(order: WorkOrder) -> dict[str, Any]:
    into = order.merge.request["into_work_order_no"] if order.merge else None
    return {"work_order_no": order.no, "into_work_order_no": into, "status": "merged"}


@_refusals
async def raise_flag(request: web.Request, body: bytes) -> web.StreamResponse:
    platform = request.app[PLATFORM]
    order = _order(request)
    model, doc = parse_body(RaiseFlag, body)
    if _replayed(platform.flags, model.flag_id, doc, "work_order_no", order.no):
        return _json(_flag_answer(order, model.flag_id, model.kind), 200)
    platform.raise_flag(order, model.flag_id, doc, canonical(doc))
    return _json(_flag_answer(order, model.flag_id, model.kind), 201)


def _flag_answer(order: WorkOrder, flag_id: str, kind: str) -> dict[str, Any]:
    return {"flag_id": flag_id, "work_order_no": order.no, "kind": kind, "status": "raised"}


@_refusals
async def return_work_order(request: web.Request, body: bytes) -> web.StreamResponse:
    platform = request.app[PLATFORM]
    order = _order(request)
    model, doc = parse_body(ReturnWorkOrder, body)
    if _replayed(platform.returns, model.return_id, doc, "work_order_no", order.no):
        return _json(_return_answer(order, model.return_id), 200)
    _check_case(order, model.case_id)
    _check_reviewed_appeal(order, model)
    if order.status not in RETURNABLE:
        raise _Refused(
            error(
                409,
                "not_replied",
                f"work order {order.no} is {order.status}: it has no reply to return",
                work_order_no=order.no,
            )
        )
    platform.review_return(order, model.return_id, doc, canonical(doc))
    return _json(_return_answer(order, model.return_id), 201)


def _check_reviewed_appeal(order: WorkOrder, model: ReturnWorkOrder) -> None:
    """Refuse a return about an appeal the work order does not have now, of another channel, or not reviewed."""
    appeal = order.appeal_now(model.appeal_id)
    if appeal is None:
        why = f"appeal {model.appeal_id!r} is neither the first appeal of {order.no} nor a repeat attached to it"
    elif appeal.channel_id != model.channel_id:
        why = f"appeal {model.appeal_id!r} came from channel {appeal.channel_id!r}, not {model.channel_id!r}"
    elif appeal.mode != "merged":
        why = f"appeal {model.appeal_id!r} is {appeal.mode}: only a merged channel's body reviews the reply"
    else:
        return
    raise _Refused(error(409, "appeal_mismatch", why, work_order_no=order.no))


def _return_answer(order: WorkOrder, return_id: str) -> dict[str, Any]:
    return {"return_id": return_id, "work_order_no": order.no, "status": "returned"}


@_refusals
async def update_shared_record(request: web.Request, body: bytes) -> web.StreamResponse:
    platform = request.app[PLATFORM]
    record = _record(request)
    model, doc = parse_body(UpdateSharedRecord, body)
    if _replayed(platform.record_updates, model.update_id, doc, "record_no", record.record_no):
        return _json(_update_answer(record, model.update_id), 200)
    if model.appeal_id != record.appeal_id:
        raise _Refused(
            error(
                409,
                "appeal_mismatch",
                f"shared record {record.record_no} is appeal {record.appeal_id!r}, not {model.appeal_id!r}",
                record_no=record.record_no,
            )
        )
    platform.update_record(record, model.update_id, model.at, doc, canonical(doc))
    return _json(_update_answer(record, model.update_id), 201)


def _update_answer(record: SharedRecord, update_id: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "record_no": record.record_no,
        "status": "recorded",
        "update_count": len(record.updates),
    }


@_refusals
async def event_feed(request: web.Request, body: bytes) -> web.StreamResponse:
    platform = request.app[PLATFORM]
    after_seq = _int_param(request, "after_seq", 0, 0, 2**63 - 1)
    limit = _int_param(request, "limit", FEED_LIMIT_DEFAULT, 1, FEED_LIMIT_MAX)
    events, has_more = platform.page(after_seq, limit)
    next_after = events[-1].global_seq if events else after_seq
    return _json({"events": [e.as_json() for e in events], "has_more": has_more, "next_after_seq": next_after})


def _int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query.get(name)
    if text is None:
        return default
    if not (text.isascii() and text.isdigit() and low <= int(text) <= high):
        raise BodyError("validation_failed", name, f"{name}: an integer from {low} to {high}")
    return int(text)


@_refusals
async def ping(request: web.Request, body: bytes) -> web.StreamResponse:
    platform = request.app[PLATFORM]
    return _json(
        {"status": "ok", "app_key": request.app[VERIFIER].app_key, "server_time": iso(platform.clock.now())}
    )


# -- the control API (unsigned; for tests, the demo and benchmarks) ---------------------------------------------


async def control_work_orders(request: web.Request) -> web.StreamResponse:
    return _json([o.as_json(full=True) for o in request.app[PLATFORM].orders.values()])


async def control_shared(request: web.Request) -> web.StreamResponse:
    return _json([r.as_json() for r in request.app[PLATFORM].shared.values()])


async def control_requests(request: web.Request) -> web.StreamResponse:
    return _json(list(request.app[PLATFORM].requests))


async def control_callbacks(request: web.Request) -> web.StreamResponse:
    callbacks = request.app.get(CALLBACKS)
    return _json(list(callbacks.log) if callbacks else [])


async def control_knobs(request: web.Request) -> web.StreamResponse:
    platform = request.app[PLATFORM]
    if request.method == "PUT":
        platform.knobs = await patched_knobs(request, platform.knobs)
        platform.wake()
    return _json(platform.knobs.model_dump())


async def control_advance(request: web.Request) -> web.StreamResponse:
    platform = request.app[PLATFORM]
    no = request.match_info["work_order_no"]
    order = platform.orders.get(no)
    if order is None:
        raise not_found(f"no work order {no!r}")
    event = platform.advance(order)
    if event is None:
        raise web.HTTPConflict(
            text=_dumps({"error": f"work order {no} has no next event (its life is over)"}),
            content_type="application/json",
        )
    return _json(event.as_json())


async def control_stats(request: web.Request) -> web.StreamResponse:
    platform = request.app[PLATFORM]
    requests: dict[str, dict[str, int]] = {}
    for (route, status), n in sorted(request.app[STATS].items()):
        requests.setdefault(route, {})[str(status)] = n
    callbacks = request.app.get(CALLBACKS)
    return _json(
        {
            "requests": requests,
            "work_orders": len(platform.orders),
            "events": len(platform.feed),
            "shared_records": len(platform.shared),
            "flags": len(platform.flags),
            "review_returns": len(platform.returns),
            "record_updates": len(platform.record_updates),
            "callbacks": dict(callbacks.stats) | {"pending": callbacks.pending()} if callbacks else None,
            "clock": iso(platform.clock.now()),
            "clock_scale": platform.clock.scale,
        }
    )


# -- the application ---------------------------------------------------------------------------------------------


async def _timers_ctx(app: web.Application) -> AsyncIterator[None]:
    """Move work orders along their life while the app runs."""
    task = asyncio.create_task(app[PLATFORM].run_timers(), name="hotline-timers")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _callbacks_ctx(app: web.Application) -> AsyncIterator[None]:
    """One client session for every callback; pending deliveries stop with the app."""
    import aiohttp

    callbacks = app[CALLBACKS]
    async with aiohttp.ClientSession() as session:
        callbacks.session = session
        try:
            yield
        finally:
            await callbacks.close()


def build_platform(
    app_key: str,
    app_secret: str,
    sign_method: str = "hmac-sha256",
    callback_url: str | None = None,
    callback_app_key: str | None = None,
    callback_secret: str | None = None,
    seed: int = 0,
    clock_scale: float = 1.0,
    *,
    callback_sign_method: str | None = None,
    **knobs: Any,
) -> web.Application:
    """The simulated 12345 platform as an aiohttp application; knobs as in `platform.Knobs`.

    With a `callback_url`, every event is also POSTed there, signed with `callback_app_key` and
    `callback_secret` (by `callback_sign_method`, by default the same method as huiju's requests).
    """
    if sign_method not in SIGN_METHODS:
        raise ValueError(f"sign_method must be one of {', '.join(SIGN_METHODS)}, got {sign_method!r}")
    unknown = sorted(set(knobs) - KNOB_NAMES)
    if unknown:
        raise TypeError(f"unknown knob(s) {', '.join(unknown)} (known: {', '.join(sorted(KNOB_NAMES))})")
    platform = Platform(seed=seed, clock=SimClock(clock_scale), knobs=Knobs.model_validate(knobs))
    app = web.Application(middlewares=[_log_and_envelope], client_max_size=MAX_BODY_BYTES)
    app[PLATFORM] = platform
    app[VERIFIER] = RequestVerifier(app_key, app_secret, sign_method)
    app[STATS] = {}
    if callback_url is not None:
        target = CallbackTarget(
            callback_url, callback_app_key or "", callback_secret or "", callback_sign_method or sign_method
        )
        app[CALLBACKS] = Callbacks(platform, target)
        app.cleanup_ctx.append(_callbacks_ctx)
    app.cleanup_ctx.append(_timers_ctx)
    for method, path, handler in ROUTES:
        app.router.add_route(method, path, _platform(handler))
    app.router.add_get("/_sim/work-orders", control_work_orders)
    app.router.add_post("/_sim/work-orders/{work_order_no}/advance", control_advance)
    app.router.add_get("/_sim/shared-records", control_shared)
    app.router.add_get("/_sim/requests", control_requests)
    app.router.add_get("/_sim/callbacks", control_callbacks)
    app.router.add_get("/_sim/knobs", control_knobs)
    app.router.add_put("/_sim/knobs", control_knobs)
    app.router.add_get("/_sim/stats", control_stats)
    return app


# The platform's interface: (method, path, handler). The literal events path comes before {work_order_no}.
ROUTES: tuple[tuple[str, str, Callable[[web.Request, bytes], Awaitable[web.StreamResponse]]], ...] = (
    ("GET", "/api/v1/ping", ping),
    ("POST", "/api/v1/work-orders", create_work_order),
    ("GET", "/api/v1/work-orders/events", event_feed),
    ("GET", "/api/v1/work-orders/{work_order_no}", get_work_order),
    ("POST", "/api/v1/work-orders/{work_order_no}/repeats", attach_repeat),
    ("DELETE", "/api/v1/work-orders/{work_order_no}/repeats/{appeal_id}", detach_repeat),
    ("POST", "/api/v1/work-orders/{work_order_no}/flags", raise_flag),
    ("POST", "/api/v1/work-orders/{work_order_no}/merge", merge_work_order),
    ("POST", "/api/v1/work-orders/{work_order_no}/returns", return_work_order),
    ("POST", "/api/v1/shared-records", share_record),
    ("POST", "/api/v1/shared-records/{record_no}/updates", update_shared_record),
)
