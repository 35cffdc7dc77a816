"""The unified 12345 platform's interface (docs/platform12345.md): signed JSON, idempotent by huiju's keys."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar
from urllib.parse import quote, unquote, urlsplit

import orjson

from core.errors import PermanentError
from core.signing import SignedHeaders
from sync.render import appeal_object
from sync.targets.base import (
    ATTACH_REPEAT,
    CREATE_WORK_ORDER,
    DETACH_REPEAT,
    MERGE_WORK_ORDER,
    RAISE_FLAG,
    RETURN_REPLY,
    SHARE_RECORD,
    UPDATE_SHARED_RECORD,
    EventPage,
    FrozenRequest,
    RenderContext,
    Skip,
    Target,
)

FEED_PAGE = 500
NEEDS_WORK_ORDER = {ATTACH_REPEAT, DETACH_REPEAT, RAISE_FLAG, RETURN_REPLY, MERGE_WORK_ORDER}


def _json(doc: dict[str, Any]) -> str:
    return orjson.dumps(doc).decode()


def _seg(value: str) -> str:
    return quote(value, safe="")


class Platform12345(Target):
    """huiju's client of the 12345 platform."""

    kind: ClassVar[str] = "12345"

    def render(self, ctx: RenderContext) -> FrozenRequest | Skip:
        """The documented request for one outbox message."""
        p, case_id = ctx.payload, str(ctx.case["id"])
        no = ctx.work_order_no
        if ctx.kind in NEEDS_WORK_ORDER and no is None:
            return Skip("the case has no work order at the platform (its first appeal was shared, not dispatched)")
        if ctx.kind == CREATE_WORK_ORDER:
            body = {"case_id": case_id, "appeal": self._appeal(ctx)}
            return FrozenRequest("POST", "/api/v1/work-orders", _json(body))
        if ctx.kind == SHARE_RECORD:
            body = {"case_id": case_id, "appeal": self._appeal(ctx), "work_order_no": no}
            return FrozenRequest("POST", "/api/v1/shared-records", _json(body))
        if ctx.kind == ATTACH_REPEAT:
            body = {"case_id": case_id, "appeal": self._appeal(ctx), "merged_at": p.get("merged_at")}
            return FrozenRequest("POST", f"/api/v1/work-orders/{_seg(no)}/repeats", _json(body))
        if ctx.kind == DETACH_REPEAT:
            query = {"reason": p["reason"][:500]} if p.get("reason") else {}
            path = f"/api/v1/work-orders/{_seg(no)}/repeats/{_seg(p['appeal_id'])}"
            return FrozenRequest("DELETE", path, "", query=query)
        if ctx.kind == MERGE_WORK_ORDER:
            if ctx.into_work_order_no is None:
                return Skip("the case merged into has no work order at the platform (its first appeal was shared)")
            body = {
                "merge_id": p["merge_id"],
                "case_id": case_id,
                "into_work_order_no": ctx.into_work_order_no,
                "reason": p["reason"][:500],
            }
            return FrozenRequest("POST", f"/api/v1/work-orders/{_seg(no)}/merge", _json(body))
        if ctx.kind == RAISE_FLAG:
            body = {k: p[k] for k in ("flag_id", "kind", "raised_at")}
            for k in ("reason", "cluster_id", "note"):
                if p.get(k) is not None:
                    body[k] = p[k]
            if p.get("related_work_order_nos"):
                body["related_work_order_nos"] = list(p["related_work_order_nos"])
            return FrozenRequest("POST", f"/api/v1/work-orders/{_seg(no)}/flags", _json(body))
        if ctx.kind == RETURN_REPLY:
            keys = ("return_id", "appeal_id", "channel_id", "comment", "returned_at")
            body = {"case_id": case_id, **{k: p[k] for k in keys}}
            return FrozenRequest("POST", f"/api/v1/work-orders/{_seg(no)}/returns", _json(body))
        if ctx.kind == UPDATE_SHARED_RECORD:
            if ctx.record_no is None:
                return Skip("the appeal's record was never shared with the platform")
            body = {k: p.get(k) for k in ("update_id", "appeal_id", "status", "at", "text", "unit")}
            return FrozenRequest("POST", f"/api/v1/shared-records/{_seg(ctx.record_no)}/updates", _json(body))
        raise PermanentError(f"no request for outbox messages of kind {ctx.kind!r}")

    def _appeal(self, ctx: RenderContext) -> dict[str, Any]:
        if ctx.appeal is None:
            raise PermanentError(f"{ctx.kind} needs its appeal, and the message names none")
        return appeal_object(ctx.appeal, bool(ctx.case["confidential"]))

    async def send(self, request: FrozenRequest, *, resent: bool) -> dict[str, Any]:
        """Sign (anew for every attempt) and send; the JSON answer. Idempotency keys make a resend harmless."""
        response = await self._call(request.method, request.path, request.query, request.body.encode())
        return _answer(response.body)

    async def read_events(self, cursor: dict[str, Any] | None, open_work_orders: Sequence[str]) -> EventPage:
        """One page of the platform's event feed after the cursor."""
        after = int((cursor or {}).get("after_seq", 0))
        query = {"after_seq": str(after), "limit": str(FEED_PAGE)}
        response = await self._call("GET", "/api/v1/work-orders/events", query, b"")
        doc = _answer(response.body)
        events = doc.get("events")
        if not isinstance(events, list):
            raise PermanentError("the event feed's answer has no events list")
        return EventPage(events, {"after_seq": int(doc.get("next_after_seq", after))}, bool(doc.get("has_more")))

    async def work_order_events(self, work_order_no: str) -> list[dict[str, Any]]:
        """Every event of one work order, from GET /api/v1/work-orders/{no}."""
        response = await self._call("GET", f"/api/v1/work-orders/{_seg(work_order_no)}", {}, b"")
        events = _answer(response.body).get("events")
        return events if isinstance(events, list) else []

    async def _call(self, method: str, path: str, query: dict[str, str], body: bytes) -> Any:
        s = self.settings
        base = s.base_url.rstrip("/")
        signed_path = unquote(urlsplit(base).path) + unquote(path)
        headers = SignedHeaders(s, method, signed_path, query, body)
        return await self.http.request(
            method,
            base + path,
            headers=headers,  # type: ignore[arg-type]  # a Mapping, signed anew for each attempt
            data=body or None,
            params=query or None,
            timeout_s=s.timeout_seconds,
        )


def _answer(body: bytes) -> dict[str, Any]:
    try:
        doc = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError as e:
        raise PermanentError(f"the platform's answer is not JSON: {e}") from None
    if not isinstance(doc, dict):
        raise PermanentError("the platform's answer is not a JSON object")
    return doc
