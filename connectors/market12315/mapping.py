"""A 12315 work order (工单) as an appeal draft: which field goes where, and what each code means.

The business complained about (`merchant`) is kept in `extra["merchant"]`, not as the appeal's enterprise: an
enterprise appeal (涉企诉求) is one made BY an enterprise, and a consumer complaint is not one.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.base import MappingError
from normalizer.fields import FieldError, check_credit_code, check_division_code
from normalizer.record import AppealDraft

ORDER_TYPES = {"1": "complaint", "2": "report", "3": "consultation", "4": "suggestion"}  # 投诉 举报 咨询 建议
ORDER_TYPE_LABELS = {"1": "投诉", "2": "举报", "3": "咨询", "4": "建议"}
STATUS_LABELS = {
    "10": "待受理",
    "20": "已受理",
    "30": "已分派",
    "31": "已退回",
    "32": "已延期",
    "40": "已答复",
    "50": "已办结",
    "60": "已回访",
}
# The gateway's event statuses as 12315 status codes (feedback `status`).
EVENT_STATUS_CODES = {
    "accepted": "20",
    "dispatched": "30",
    "returned": "31",
    "extended": "32",
    "replied": "40",
    "closed": "50",
    "revisited": "60",
}
# 12315's goods and service categories (商品/服务大类) that have a more specific mapped category.
SPECIFIC_CATEGORIES = {
    "食品": "市场监管/食品安全",
    "保健食品": "市场监管/食品安全",
    "餐饮住宿服务": "市场监管/食品安全",
    "药品": "市场监管/药品医疗器械",
    "医疗器械": "市场监管/药品医疗器械",
    "化妆品": "市场监管/化妆品",
}
GOODS_CATEGORY = "市场监管/商品质量"
SERVICE_CATEGORY = "市场监管/消费服务"

KNOWN_FIELDS = frozenset({
    "orderNo", "orderType", "title", "content", "consumer", "merchant", "goodsCategory", "serviceCategory",
    "amount", "occurTime", "createTime", "updateTime", "regionCode", "status",
})
CONSUMER_FIELDS = {"name": "citizen_name", "mobile": "phone", "idCard": "id_number"}
MERCHANT_FIELDS = {"name": "name", "uscc": "credit_code", "address": "address", "regionCode": "division_code"}
ORDER_NO_MAX = 128
_AMOUNT = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,2})?")


def order_no(item: dict[str, Any]) -> str | None:
    """The work order's number (工单编号), or None when missing or unusable."""
    number, _ = _order_no(item.get("orderNo"))
    return number


def _order_no(value: Any) -> tuple[str | None, str]:
    """(the order number, "") or (None, why it is unusable)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (str(value), "") if 0 <= value < 10**30 else (None, "a number out of range")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, "missing"
    if not isinstance(value, str):
        return None, f"unusable {_json_type(value)}"
    text = value.strip()
    if len(text) > ORDER_NO_MAX:
        return None, f"longer than {ORDER_NO_MAX} characters"
    if not text.isprintable():
        return None, "contains unprintable characters"
    return text, ""


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "array", dict: "object"}.get(type(value), type(value).__name__)


def _short(value: str) -> str:
    return repr(value[:20] + ("…" if len(value) > 20 else ""))


class _Mapper:
    """One mapping: the draft's fields, where they came from, and what was doubtful."""

    def __init__(self, item: dict[str, Any]) -> None:
        self.item = item
        self.fields: dict[str, Any] = {}
        self.sources: dict[str, str] = {}
        self.extra: dict[str, Any] = {}
        self.warnings: list[str] = []

    def put(self, target: str, value: Any, path: str) -> None:
        if value is not None:
            self.fields[target] = value
            self.sources[target] = f"payload.{path}"

    def unknown(self, prefix: str, node: dict[str, Any], known: Any) -> None:
        """A warning for each key the protocol does not have (the raw item keeps it)."""
        self.warnings += [f"{prefix}{k[:40]}: unknown field ignored" for k in sorted(set(node) - set(known))]

    def scalar_text(self, value: Any, path: str) -> str | None:
        """Text for extra: text as is, a number as its digits, anything else dropped with a warning."""
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) < 1e15:
            return str(value)
        self.warnings.append(f"{path}: expected text, got {_json_type(value)}; dropped")
        return None

    def object(self, key: str) -> dict[str, Any] | None:
        """A nested object; something else there is dropped with a warning (the appeal is still usable)."""
        value = self.item.get(key)
        if value is None or isinstance(value, dict):
            return value
        self.warnings.append(f"{key}: expected an object, got {_json_type(value)}; ignored")
        return None

    def main_text(self, key: str) -> None:
        """Title or content: text, or a number taken as text; any other type makes the item unusable."""
        value = self.item.get(key)
        if value is None or isinstance(value, str):
            self.put(key, value, key)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            self.put(key, str(value), key)
            self.warnings.append(f"{key}: a number, taken as text")
        else:
            raise MappingError(f"{key}: must be text, got {_json_type(value)}")

    def order_type(self) -> None:
        value = self.item.get("orderType")
        if value is None or value == "":
            return
        code = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else None
        kind = ORDER_TYPES.get(code or "")
        if kind is None:
            shown = _short(code) if code is not None else _json_type(value)
            self.warnings.append(f"orderType: unknown code {shown}; type left empty")
            return
        self.put("type", kind, "orderType")
        self.extra["order_type"] = {"code": code, "label": ORDER_TYPE_LABELS[code]}

    def consumer(self) -> None:
        consumer = self.object("consumer")
        if consumer is None:
            return
        for key, target in CONSUMER_FIELDS.items():
            self.put(target, consumer.get(key), f"consumer.{key}")
        self.unknown("consumer.", consumer, CONSUMER_FIELDS)

    def merchant(self) -> None:
        """The business complained about, in extra; a bad credit or region code is dropped with a warning."""
        merchant = self.object("merchant")
        if merchant is None:
            return
        kept: dict[str, Any] = {}
        for key, name in MERCHANT_FIELDS.items():
            value = self.scalar_text(merchant.get(key), f"merchant.{key}")
            if value is None or not value.strip():
                continue
            if key in ("uscc", "regionCode"):
                check = check_credit_code if key == "uscc" else check_division_code
                try:
                    value = check(value, field=f"merchant.{key}")
                except FieldError as e:
                    self.warnings.append(f"{e.field}: {e.reason}; dropped")
                    continue
            kept[name] = value.strip()
        if kept:
            self.extra["merchant"] = kept
        # Where a consumer's matter happened is, in practice, the business's premises.
        if "address" in kept:
            self.put("address", kept["address"], "merchant.address")
        self.unknown("merchant.", merchant, MERCHANT_FIELDS)

    def categories(self) -> None:
        """goodsCategory or serviceCategory: the platform's text, and the mapped category where one fits."""
        for key, extra_key, broad in (
            ("goodsCategory", "goods_category", GOODS_CATEGORY),
            ("serviceCategory", "service_category", SERVICE_CATEGORY),
        ):
            value = self.scalar_text(self.item.get(key), key)
            if value is None or not value.strip():
                continue
            value = value.strip()
            self.extra[extra_key] = value
            if "channel_category" not in self.fields:
                self.put("channel_category", value, key)
                self.put("category", SPECIFIC_CATEGORIES.get(value, broad), key)

    def amount(self) -> None:
        """The amount involved (涉案金额), yuan, kept as text with two decimals so that no float rounds it."""
        value = self.item.get("amount")
        if value is None or value == "":
            return
        if isinstance(value, str) and _AMOUNT.fullmatch(value.strip()):
            self.extra["amount_yuan"] = f"{Decimal(value.strip()):.2f}"
            return
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                number = Decimal(str(value))
            except InvalidOperation:
                number = Decimal(-1)
            if number.is_finite() and 0 <= number < 10**12:
                self.extra["amount_yuan"] = f"{number:.2f}"
                self.warnings.append("amount: a number instead of text; taken as yuan")
                return
        shown = _short(value) if isinstance(value, str) else _json_type(value)
        self.warnings.append(f"amount: not an amount of yuan {shown}; dropped")

    def status(self) -> None:
        value = self.scalar_text(self.item.get("status"), "status")
        if value is None or not value.strip():
            return
        code = value.strip()
        self.extra["platform_status"] = {"code": code, "label": STATUS_LABELS.get(code)}
        if code not in STATUS_LABELS:
            self.warnings.append(f"status: unknown code {_short(code)}")

    def times(self) -> None:
        """occurTime is when it happened; the platform's own create and update times go to extra, as sent."""
        self.put("occurred_at", self.item.get("occurTime"), "occurTime")
        for key, extra_key in (("createTime", "registered_at"), ("updateTime", "platform_updated_at")):
            value = self.scalar_text(self.item.get(key), key)
            if value is not None:
                self.extra[extra_key] = value

    def draft(self) -> AppealDraft:
        source_id, problem = _order_no(self.item.get("orderNo"))
        if source_id is None:
            raise MappingError(f"orderNo: {problem}")
        self.put("source_id", source_id, "orderNo")
        self.order_type()
        self.main_text("title")
        self.main_text("content")
        self.consumer()
        self.merchant()
        self.categories()
        self.amount()
        self.times()
        self.put("division_code", self.item.get("regionCode"), "regionCode")
        self.status()
        self.unknown("", self.item, KNOWN_FIELDS)
        return AppealDraft(**self.fields, extra=self.extra, sources=self.sources, warnings=self.warnings)


def map_work_order(item: dict[str, Any]) -> AppealDraft:
    """One 12315 work order as a draft; MappingError when it has no usable orderNo or unusable text."""
    if not isinstance(item, dict):
        raise MappingError(f"work order must be a JSON object, got {_json_type(item)}")
    return _Mapper(item).draft()
