"""A 12315 work order (工单) as an appeal draft: which field goes where, and what each code means.

The business complained about (`merchant`) is kept in `extra["merchant"]`, not as the appeal's enterprise: an
enterprise appeal (涉企诉求) is one made BY an enterprise, and a consumer complaint is not one.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.base import MappingError
from connectors.national.mapping import DraftBuilder, json_type
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
# A work order's status code as huiju's word for it; 10 (待受理, registered) has none: it is only intake.
STATUS_EVENTS = {code: status for status, code in EVENT_STATUS_CODES.items()}
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
    "amount", "occurTime", "createTime", "updateTime", "regionCode", "status", "replyContent", "handleOrg",
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
        return None, f"unusable {json_type(value)}"
    text = value.strip()
    if len(text) > ORDER_NO_MAX:
        return None, f"longer than {ORDER_NO_MAX} characters"
    if not text.isprintable():
        return None, "contains unprintable characters"
    return text, ""


def _short(value: str) -> str:
    return repr(value[:20] + ("…" if len(value) > 20 else ""))


class _Mapper(DraftBuilder):
    """One mapping: the draft's fields, where they came from, and what was doubtful."""

    def key_text(self, key: str) -> str:
        """A key as 12315 warnings show it: its first 40 characters."""
        return key[:40]

    def scalar_text(self, value: Any, path: str) -> str | None:
        """Text for extra: text as is, a number as its digits, anything else dropped with a warning."""
        if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) < 1e15:
            return str(value)
        return self.text(value, path)

    def main_text(self, key: str) -> None:
        """Title or content: text, or a number taken as text; any other type makes the item unusable."""
        value = self.item.get(key)
        if value is None or isinstance(value, str):
            self.put(key, value, key)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            self.put(key, str(value), key)
            self.warn(key, "a number, taken as text")
        else:
            raise MappingError(f"{key}: must be text, got {json_type(value)}")

    def order_type(self) -> None:
        """orderType: the appeal type, and the platform's code and label in extra."""
        value = self.item.get("orderType")
        if value is None or value == "":
            return
        code = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else None
        shown = _short(code) if code is not None else json_type(value)
        kind = self.lookup(ORDER_TYPES, code or "", "orderType", f"unknown code {shown}; type left empty")
        if kind is None:
            return
        self.put("type", kind, "orderType")
        self.extra["order_type"] = {"code": code, "label": ORDER_TYPE_LABELS[code]}

    def merchant(self) -> None:
        """The business complained about, in extra; a bad credit or region code is dropped with a warning."""
        merchant = self.sub_object("merchant")
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
                    self.warn(e.field, f"{e.reason}; dropped")
                    continue
            kept[name] = value.strip()
        if kept:
            self.extra["merchant"] = kept
        # Where a consumer's matter happened is, in practice, the business's premises.
        if "address" in kept:
            self.put("address", kept["address"], "merchant.address")
        self.warn_unknown(merchant, MERCHANT_FIELDS, "merchant.")

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
                self.warn("amount", "a number instead of text; taken as yuan")
                return
        shown = _short(value) if isinstance(value, str) else json_type(value)
        self.warn("amount", f"not an amount of yuan {shown}; dropped")

    def status(self) -> None:
        """The platform's status of the work order, with its label, in extra."""
        value = self.scalar_text(self.item.get("status"), "status")
        if value is None or not value.strip():
            return
        code = value.strip()
        label = self.lookup(STATUS_LABELS, code, "status", f"unknown code {_short(code)}")
        self.extra["platform_status"] = {"code": code, "label": label}

    def times(self) -> None:
        """occurTime is when it happened; the platform's own create and update times go to extra, as sent."""
        self.put("occurred_at", self.item.get("occurTime"), "occurTime")
        for key, extra_key in (("createTime", "registered_at"), ("updateTime", "platform_updated_at")):
            value = self.scalar_text(self.item.get(key), key)
            if value is not None:
                self.extra[extra_key] = value

    def draft(self) -> AppealDraft:
        """All fields, in the order of the documentation."""
        source_id, problem = _order_no(self.item.get("orderNo"))
        if source_id is None:
            raise MappingError(f"orderNo: {problem}")
        self.put("source_id", source_id, "orderNo")
        self.order_type()
        self.main_text("title")
        self.main_text("content")
        self.nested("consumer", CONSUMER_FIELDS)
        self.merchant()
        self.categories()
        self.amount()
        self.times()
        self.put("division_code", self.item.get("regionCode"), "regionCode")
        self.status()
        self.warn_unknown(self.item, KNOWN_FIELDS)
        return self.finish()


def map_work_order(item: dict[str, Any]) -> AppealDraft:
    """One 12315 work order as a draft; MappingError when it has no usable orderNo or unusable text."""
    if not isinstance(item, dict):
        raise MappingError(f"work order must be a JSON object, got {json_type(item)}")
    return _Mapper(item).draft()
