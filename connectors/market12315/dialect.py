"""How 12315 spells the national interconnect (docs/channels/12315.md): paths, parameters, envelope, codes."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from connectors.base import ChannelStatus, OutboundEvent, Position, Receipt
from connectors.market12315.mapping import EVENT_STATUS_CODES, STATUS_EVENTS, map_work_order, order_no
from connectors.national.dialect import (
    Dialect,
    FeedPage,
    Request,
    channel_status_of,
    code_text,
    feed_position,
    json_body,
    readable_time,
)
from core.errors import ChannelError, PermanentError, error_for_status
from normalizer.record import AppealDraft

BEIJING = ZoneInfo("Asia/Shanghai")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
PAGE_SIZE_MAX = 500
EVENT_TYPES = {"status": "1", "reply": "2"}  # 状态同步, 办理答复
WORKORDERS = "/open/v1/workorders"


def fmt(moment: datetime) -> str:
    """A time as 12315 writes it: Beijing time, whole seconds, no offset."""
    return moment.astimezone(BEIJING).strftime(TIME_FORMAT)


def _envelope(body: bytes) -> dict[str, Any]:
    """The `{"code", "msg", "data"}` object of an answer; a classified error for an error code or a broken body."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as e:
        raise PermanentError(f"12315 answer is not JSON: {str(e)[:100]}") from None
    if not isinstance(doc, dict):
        raise PermanentError("12315 answer is not a JSON object")
    code = doc.get("code")
    if isinstance(code, str) and code.strip().lstrip("-").isdigit() and len(code) < 12:
        code = int(code)
    if isinstance(code, bool) or not isinstance(code, int):
        raise PermanentError("12315 answer has no numeric code")
    if code != 0:
        raise error_for_code(code, doc.get("msg"))
    return doc


def error_for_code(code: int, msg: Any) -> ChannelError:
    """The classified error for a nonzero code: its first three digits are the HTTP status it stands for."""
    message = f"12315 code {code}: {str(msg)[:200] if msg is not None else 'no msg'}"
    status = code // 100
    if 400 <= status <= 599:
        return error_for_status(status, message)
    return PermanentError(message)


class Market12315Dialect(Dialect):
    """The 12315 open interface (开放接口), client side."""

    def poll_request(self, position: Position | None, limit: int) -> Request:
        """GET /open/v1/workorders?updateTimeStart=<Beijing time>&lastId=<orderNo>&pageSize=<1 to 500>."""
        query = {"pageSize": str(max(1, min(limit, PAGE_SIZE_MAX)))}
        if position is not None:
            # Whole seconds, cut down: a cursor a fraction early only repeats items, never skips one.
            query["updateTimeStart"] = fmt(position.updated_at)
            query["lastId"] = position.id
        return Request("GET", WORKORDERS, query)

    def parse_page(self, status: int, body: bytes) -> FeedPage:
        """`{"code": 0, "data": {"list", "hasMore", "serverTime"}}`; a nonzero code raises."""
        data = _envelope(body).get("data")
        if not isinstance(data, dict):
            raise PermanentError("12315 page: data is not an object")
        items = data.get("list")
        if items is None:
            items = []
        if not isinstance(items, list):
            raise PermanentError("12315 page: data.list is not an array")
        has_more = data.get("hasMore")
        if isinstance(has_more, int) and not isinstance(has_more, bool) and has_more in (0, 1):
            has_more = bool(has_more)
        if not isinstance(has_more, bool):
            raise PermanentError("12315 page: data.hasMore is not true or false")
        return FeedPage(items, has_more, readable_time(data.get("serverTime"), "serverTime"))

    def item_id(self, item: dict[str, Any]) -> str | None:
        """orderNo (工单编号)."""
        return order_no(item)

    def item_position(self, item: dict[str, Any]) -> Position | None:
        """(updateTime, orderNo); None when either is unreadable."""
        return feed_position(order_no(item), item.get("updateTime"), "updateTime")

    def map(self, item: dict[str, Any]) -> AppealDraft:
        """One work order as a draft (connectors/market12315/mapping.py)."""
        return map_work_order(item)

    def channel_status(self, item: dict[str, Any]) -> ChannelStatus | None:
        """status (20 to 60) in huiju's words at updateTime; replyContent (答复内容), handleOrg (承办单位)."""
        status = STATUS_EVENTS.get(code_text(item.get("status")) or "")
        return channel_status_of(
            status, item.get("updateTime"), "updateTime", item.get("replyContent"), item.get("handleOrg")
        )

    def deliver_request(self, event: OutboundEvent) -> Request:
        """POST /open/v1/workorders/{orderNo}/feedback {eventId, eventType, status, content, org, time}."""
        code = EVENT_STATUS_CODES.get(event.status)
        if code is None:
            raise PermanentError(f"status {event.status!r} has no 12315 status code")
        if event.kind == "reply" and not (event.text or "").strip():
            raise PermanentError("a reply event needs text (12315 refuses an empty content for eventType 2)")
        body = {
            "eventId": event.event_id,
            "eventType": EVENT_TYPES[event.kind],
            "status": code,
            "content": event.text or "",
            "org": event.unit or "",
            "time": fmt(event.at),
        }
        return Request("POST", f"{WORKORDERS}/{quote(event.source_id, safe='')}/feedback", {}, json_body(body))

    def parse_receipt(self, status: int, body: bytes) -> Receipt:
        """data.receiptNo and data.duplicate; a nonzero code raises."""
        data = _envelope(body).get("data")
        if not isinstance(data, dict):
            return Receipt(reference=None)
        reference = data.get("receiptNo")
        return Receipt(
            reference=str(reference) if isinstance(reference, str | int) and reference != "" else None,
            duplicate=data.get("duplicate") is True,
            detail=data,
        )

    def check_request(self) -> Request:
        """GET /open/v1/ping, signed like every request."""
        return Request("GET", "/open/v1/ping", {})

    def parse_check(self, status: int, body: bytes) -> None:
        """The ping answers in the usual envelope; a nonzero code raises."""
        _envelope(body)
