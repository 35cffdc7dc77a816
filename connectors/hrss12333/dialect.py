"""How the 12333 platform (人社服务热线) spells the national interconnect protocol, client side.

Everything is a signed POST with a JSON body; field names are pinyin abbreviations, codes are strings, times
are Unix milliseconds. Every answer has the envelope `{"fhm": 返回码, "fhxx": 返回信息, "jg": 结果}`, with
`fhm` "0000" for success. docs/channels/12333.md is the specification.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.base import ChannelStatus, OutboundEvent, Position, Receipt
from connectors.hrss12333 import codes
from connectors.hrss12333.mapping import map_work_order, work_order_id
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

POLL_PATH = "/api/gd/query"  # 工单查询
DELIVER_PATH = "/api/gd/fk"  # 工单反馈
CHECK_PATH = "/api/gd/xt"  # 系统探测

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_MESSAGE_MAX = 200


def to_ms(moment: datetime) -> int:
    """Unix milliseconds of an aware datetime, rounded down (so "at or after" never skips an item)."""
    return (moment - _EPOCH) // _MS


def error_for_code(fhm: Any, fhxx: Any, http_status: int) -> ChannelError:
    """The classified exception for an error envelope (a known fhm decides, else its first digit)."""
    message = fhxx[:_MESSAGE_MAX] if isinstance(fhxx, str) else ""
    code = fhm if isinstance(fhm, str) else repr(fhm)[:20]
    text = f"12333 platform answered fhm={code}" + (f": {message}" if message else "")
    if isinstance(fhm, str) and fhm in codes.ERROR_CODES:
        return error_for_status(codes.ERROR_CODES[fhm][0], text)
    if isinstance(fhm, str) and fhm.startswith("5"):
        return error_for_status(503, text)
    return PermanentError(text, status=http_status)


def _envelope(status: int, body: bytes, what: str) -> dict[str, Any]:
    """The answer's envelope, checked: `fhm` "0000" and a `jg` object, or a classified error."""
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise PermanentError(f"{what}: answer is not JSON ({type(e).__name__})", status=status) from None
    if not isinstance(doc, dict):
        raise PermanentError(f"{what}: answer is not a JSON object", status=status)
    if "fhm" not in doc:
        raise PermanentError(f"{what}: answer has no fhm (返回码)", status=status)
    if doc["fhm"] != codes.OK:
        raise error_for_code(doc["fhm"], doc.get("fhxx"), status)
    jg = doc.get("jg")
    if not isinstance(jg, dict):
        raise PermanentError(f"{what}: jg (结果) must be an object, got {type(jg).__name__}", status=status)
    return jg


def _flag(value: Any) -> bool | None:
    """A "1"/"0" flag (numbers and booleans tolerated); None when it is neither."""
    if value in ("1", "0") or (isinstance(value, int) and value in (0, 1)):
        return value in ("1", 1)  # True == 1, so a boolean lands here too
    return None


class Hrss12333Dialect(Dialect):
    """The 12333 platform's paths, field names, codes and envelopes."""

    def poll_request(self, position: Position | None, limit: int) -> Request:
        """POST /api/gd/query {kssj, zhgdbh, mys}: work orders updated at or after kssj, after zhgdbh."""
        body = {
            "kssj": to_ms(position.updated_at) if position else 0,  # 开始时间
            "zhgdbh": position.id if position else "",  # 最后工单编号
            "mys": limit,  # 每页数
        }
        return Request("POST", POLL_PATH, {}, json_body(body))

    def parse_page(self, status: int, body: bytes) -> FeedPage:
        """jg.gdlb (工单列表), jg.sfyxy (是否有下页) and jg.fwqsj (服务器时间)."""
        jg = _envelope(status, body, "work-order query")
        items = jg.get("gdlb")
        if items is None:
            items = []  # the platform writes an empty page as "gdlb": null
        if not isinstance(items, list):
            raise PermanentError(f"work-order query: jg.gdlb must be a list, got {type(items).__name__}")
        has_more = _flag(jg.get("sfyxy"))
        if has_more is None:
            raise PermanentError(f"work-order query: jg.sfyxy must be \"1\" or \"0\", got {jg.get('sfyxy')!r:.40}")
        # A work order that is not an object stays in the page: it is quarantined by `map` with the reason,
        # instead of vanishing or blocking the feed.
        return FeedPage(items=items, has_more=has_more, server_time=readable_time(jg.get("fwqsj"), "jg.fwqsj"))

    def item_id(self, item: dict[str, Any]) -> str | None:
        """gdbh (工单编号)."""
        return work_order_id(item) if isinstance(item, dict) else None

    def item_position(self, item: dict[str, Any]) -> Position | None:
        """(gxsj, gdbh): the update time in Unix ms and the work-order number."""
        if not isinstance(item, dict):
            return None
        return feed_position(work_order_id(item), item.get("gxsj"), "gxsj")

    def map(self, item: dict[str, Any]) -> AppealDraft:
        """One work order as a draft (see mapping.py)."""
        return map_work_order(item)

    def channel_status(self, item: dict[str, Any]) -> ChannelStatus | None:
        """zt (工单状态, 20 to 70) in huiju's words, at gxsj, with hfnr (回复内容) and cbdw (承办单位)."""
        status = codes.PROGRESS_STATUSES.get(code_text(item.get("zt")) or "")
        return channel_status_of(status, item.get("gxsj"), "gxsj", item.get("hfnr"), item.get("cbdw"))

    def deliver_request(self, event: OutboundEvent) -> Request:
        """POST /api/gd/fk {gdbh, sjid, sjlx, zt, hfnr, hfdw, sj}."""
        if event.status not in codes.STATUS_CODES or event.kind not in codes.EVENT_KINDS:
            raise PermanentError(f"12333 has no code for a {event.kind} event with status {event.status!r}")
        body: dict[str, Any] = {
            "gdbh": event.source_id,  # 工单编号
            "sjid": event.event_id,  # 事件编号
            "sjlx": codes.EVENT_KINDS[event.kind],  # 事件类型
            "zt": codes.STATUS_CODES[event.status],  # 状态
        }
        if event.text is not None:
            body["hfnr"] = event.text  # 回复内容
        if event.unit is not None:
            body["hfdw"] = event.unit  # 回复单位
        body["sj"] = to_ms(event.at)  # 事件时间
        return Request("POST", DELIVER_PATH, {}, json_body(body))

    def parse_receipt(self, status: int, body: bytes) -> Receipt:
        """jg.jsbh (接收编号) and jg.sfcf (是否重复: "1" when the event id was seen before)."""
        jg = _envelope(status, body, "feedback")
        duplicate = _flag(jg.get("sfcf"))
        if duplicate is None:
            raise PermanentError(f"feedback: jg.sfcf must be \"1\" or \"0\", got {jg.get('sfcf')!r:.40}")
        reference = jg.get("jsbh")
        return Receipt(reference=reference if isinstance(reference, str) and reference else None,
                       duplicate=duplicate, detail=jg)

    def check_request(self) -> Request:
        """POST /api/gd/xt {} (系统探测): answers only when the signature is good."""
        return Request("POST", CHECK_PATH, {}, b"{}")

    def parse_check(self, status: int, body: bytes) -> None:
        """The check answers in the usual envelope; anything but fhm "0000" is an error."""
        _envelope(status, body, "system check")
