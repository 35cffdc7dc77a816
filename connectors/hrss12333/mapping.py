"""One 12333 work order (工单) as an `AppealDraft`: pure, so a quarantined item can be mapped again later.

Values are passed on as the platform sent them; `normalize()` validates phones, ID numbers, codes and dates.
The mapping only decides where each value goes, translates the platform's codes, and refuses an item that is
structurally broken (not an object, no usable gdbh, no usable nr).
"""

from __future__ import annotations

import math
from typing import Any

from connectors.base import MappingError
from connectors.hrss12333 import codes
from connectors.national.mapping import DraftBuilder
from normalizer.fields import FieldError, check_credit_code
from normalizer.record import AppealDraft

SOURCE_ID_MAX = 128
NUMBER_MAX = 2**53

# Top-level keys of a work order; anything else is noted as a warning (it stays in the verbatim copy).
TOP_LEVEL = frozenset(
    {
        "gdbh", "sqlx", "ywlb", "bt", "nr", "sqrlx", "sqr", "bmbz", "dw", "xzqhdm", "sfdz",
        "qxje", "sjrs", "fjlb", "fssj", "cjsj", "gxsj", "zt", "hfnr", "cbdw",
    }
)
# sqr (申请人): key -> draft field
APPLICANT = {"xm": "citizen_name", "sjhm": "phone", "sfzhm": "id_number", "dwmc": "enterprise_name",
             "tyshxydm": "credit_code"}
# dw (用人单位, the employer the appeal is about): key -> key in extra["employer"]
EMPLOYER = {"dwmc": "name", "tyshxydm": "credit_code", "dwdz": "address"}
# fjlb (附件列表) item: key -> attachment key
ATTACHMENT = {"wjlj": "url", "wjlx": "media_type", "wjdx": "size"}
ATTACHMENT_KEYS = frozenset({"wjmc", *ATTACHMENT})


def _kind(value: Any) -> str:
    """A JSON type name for messages."""
    return {dict: "object", list: "list", str: "text", bool: "boolean", type(None): "null"}.get(
        type(value), "number" if isinstance(value, int | float) else type(value).__name__
    )


def _plain_number(value: Any) -> bool:
    """A finite JSON number of a size any database keeps exactly (|value| < 2**53)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return abs(value) < NUMBER_MAX if isinstance(value, int) else math.isfinite(value) and abs(value) < NUMBER_MAX


def work_order_id(item: dict[str, Any]) -> str | None:
    """gdbh as text: a non-blank string or an integer of at most 128 characters; None otherwise."""
    value = item.get("gdbh")
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() <= 256:
        value = str(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    return text if text and len(text) <= SOURCE_ID_MAX else None


class _Mapper(DraftBuilder):
    """One mapping: the draft's fields, their sources and the warnings so far."""

    def type_name(self, value: Any) -> str:
        """A type as 12333 warnings name it ("text", "list", ...)."""
        return _kind(value)

    def source_id(self) -> None:
        """gdbh: the work-order number; a work order without a usable one is refused."""
        value = self.item.get("gdbh")
        source_id = work_order_id(self.item)
        if source_id is None:
            if value is None or (isinstance(value, str) and not value.strip()):
                raise MappingError("gdbh (工单编号): missing")
            if isinstance(value, str | int) and not isinstance(value, bool):
                raise MappingError(f"gdbh (工单编号): longer than {SOURCE_ID_MAX} characters")
            raise MappingError(f"gdbh (工单编号): must be text, got {_kind(value)}")
        self.put("source_id", source_id, "gdbh")

    def title_and_content(self) -> None:
        """bt and nr: text; an unusable nr refuses the work order, an unusable bt only when nr is empty."""
        content, title = self.item.get("nr"), self.item.get("bt")
        if content is not None and not isinstance(content, str):
            raise MappingError(f"nr (诉求内容): must be text, got {_kind(content)}")
        if title is not None and not isinstance(title, str):
            if not content or not content.strip():
                raise MappingError(f"bt (标题): must be text, got {_kind(title)}, and nr is empty")
            self.warn("bt", f"expected text, got {_kind(title)}; dropped (title taken from nr)")
            title = None
        self.put("title", title, "bt")
        self.put("content", content, "nr")

    def code(self, key: str, known: dict[str, str] | tuple[str, ...]) -> str | None:
        """A string code as sent; a number that spells a known code is read as it, with a warning.

        A code the table does not have is returned as sent (text) for the caller to warn about; a value of
        another type is None, with a warning.
        """
        value = self.item.get(key)
        if isinstance(value, str) or value is None:
            return (value.strip() or None) if isinstance(value, str) else None  # blank is absent
        if isinstance(value, int) and not isinstance(value, bool):
            for code in known:
                if code.isdigit() and int(code) == value:
                    self.warn(key, f"number {value} read as code {code!r}")
                    return code
        self.warn(key, f"expected a code, got {_kind(value)}; ignored")
        return None

    def appeal_type(self) -> None:
        """sqlx: the appeal type code."""
        code = self.code("sqlx", codes.APPEAL_TYPES)
        if code is None:
            return
        unknown = f"unknown appeal type code {code[:20]!r}; type left empty"
        self.put("type", self.lookup(codes.APPEAL_TYPES, code, "sqlx", unknown), "sqlx")

    def category(self) -> None:
        """ywlb: the business category as sent, and the 12345 category it stands for."""
        value = self.text(self.item.get("ywlb"), "ywlb")
        if value is None:
            return
        self.put("channel_category", value, "ywlb")
        label = value.strip()
        if not label:
            return
        unknown = f"unknown business category {label[:20]!r}; {codes.DEFAULT_CATEGORY} used"
        category = self.lookup(codes.BUSINESS_CATEGORIES, label, "ywlb", unknown)
        self.put("category", category or codes.DEFAULT_CATEGORY, "ywlb")

    def applicant(self) -> None:
        """sqrlx and sqr: the person or unit appealing; a unit makes it an enterprise appeal."""
        kind = self.code("sqrlx", (codes.APPLICANT_PERSON, codes.APPLICANT_UNIT))
        sqr = self.sub_object("sqr")
        unit_keys = [k for k in ("dwmc", "tyshxydm") if sqr is not None and sqr.get(k) is not None]
        if kind is None and unit_keys:
            self.warn("sqrlx", f"missing; the applicant is taken as a unit (sqr.{unit_keys[0]} given)")
            kind = codes.APPLICANT_UNIT
        elif kind is not None and kind not in (codes.APPLICANT_PERSON, codes.APPLICANT_UNIT):
            self.warn("sqrlx", f"unknown applicant type {kind[:20]!r}; taken as a person")
        unit = kind == codes.APPLICANT_UNIT
        if unit:
            # A unit (an employer asking about its own obligations) makes this an enterprise appeal.
            self.put("enterprise", True, "sqrlx" if "sqrlx" in self.item else f"sqr.{unit_keys[0]}")
        for key, field in APPLICANT.items():
            if sqr is None or key not in sqr:
                continue
            if key in ("dwmc", "tyshxydm") and not unit:
                self.warn(f"sqr.{key}", "given for a person; ignored")
                continue
            self.put(field, sqr[key], f"sqr.{key}")
        if sqr is not None:
            self.warn_unknown(sqr, APPLICANT, "sqr.")

    def confidentiality(self) -> None:
        """bmbz: the confidentiality flag."""
        # "1"/"0"; normalize() reads it and keeps every 举报 confidential whatever it says.
        self.put("confidential", self.item.get("bmbz"), "bmbz")

    def location(self) -> None:
        """xzqhdm and sfdz: where the matter is."""
        self.put("division_code", self.item.get("xzqhdm"), "xzqhdm")
        self.put("address", self.item.get("sfdz"), "sfdz")

    def employer(self) -> None:
        """dw: the employer the appeal is about, kept in extra (not the appeal's enterprise)."""
        dw = self.sub_object("dw")
        if dw is None:
            return
        employer: dict[str, str] = {}
        for key, name in EMPLOYER.items():
            value = self.text(dw.get(key), f"dw.{key}")
            if value is not None:
                employer[name] = value
        code = employer.get("credit_code")
        if code and code.strip():
            try:
                employer["credit_code"] = check_credit_code(code, field="dw.tyshxydm")
            except FieldError as e:
                self.warn(e.field, f"{e.reason}; kept as given")
        self.warn_unknown(dw, EMPLOYER, "dw.")
        if employer:
            self.keep("employer", employer, "dw")

    def number(self, key: str, name: str, *, integer: bool) -> None:
        """A number ≥ 0 kept in extra (a whole one when integer); anything else is dropped with a warning."""
        value = self.item.get(key)
        if value is None:
            return
        usable = _plain_number(value) and value >= 0 and (not integer or float(value).is_integer())
        if not usable:
            what = "a whole number" if integer else "a number"
            self.warn(key, f"expected {what} ≥ 0, got {_kind(value)}; dropped")
            return
        self.keep(name, int(value) if integer else value, key)

    def attachments(self) -> None:
        """fjlb: the attached files; one without a link is dropped with a warning."""
        files = self.item.get("fjlb")
        if files is None:
            return
        if not isinstance(files, list):
            self.warn("fjlb", f"expected a list, got {_kind(files)}; ignored")
            return
        kept: list[dict[str, Any]] = []
        for i, entry in enumerate(files):
            url = entry.get("wjlj") if isinstance(entry, dict) else None
            if not isinstance(url, str) or not url.strip():
                self.warn(f"fjlb[{i}]", "no file link (wjlj); dropped")
                continue
            kept.append({name: entry[key] for key, name in ATTACHMENT.items() if entry.get(key) is not None})
            self.warn_unknown(entry, ATTACHMENT_KEYS, f"fjlb[{i}].")
        if kept:
            self.put("attachments", kept, "fjlb")

    def platform_fields(self) -> None:
        """zt, cjsj and gxsj: the platform's own status and times, kept in extra."""
        status = self.code("zt", codes.STATUS_NAMES)
        if status is not None:
            unknown = f"unknown status code {status[:20]!r}; kept as given"
            name = self.lookup(codes.STATUS_NAMES, status, "zt", unknown)
            if name is not None:
                self.keep("status", name, "zt")
            self.keep("status_code", status, "zt")
        for key, name in (("cjsj", "created_at"), ("gxsj", "updated_at")):
            value = self.item.get(key)
            if isinstance(value, str) or _plain_number(value):
                self.keep(name, value, key)  # the platform's own times, verbatim (Unix ms)
            elif isinstance(value, int | float) and not isinstance(value, bool):
                self.warn(key, "not a usable Unix time in milliseconds; dropped")
            elif value is not None:
                self.warn(key, f"expected Unix milliseconds, got {_kind(value)}; dropped")

    def draft(self) -> AppealDraft:
        """All fields, in the order of the documentation."""
        self.source_id()
        self.title_and_content()
        self.appeal_type()
        self.category()
        self.applicant()
        self.confidentiality()
        self.location()
        self.put("occurred_at", self.item.get("fssj"), "fssj")
        self.employer()
        self.number("qxje", "unpaid_wages", integer=False)
        self.number("sjrs", "people_involved", integer=True)
        self.attachments()
        self.platform_fields()
        self.warn_unknown(self.item, TOP_LEVEL)
        return self.finish()


def map_work_order(item: Any) -> AppealDraft:
    """A 12333 work order (a JSON object) as a draft; MappingError when it is structurally broken."""
    if not isinstance(item, dict):
        raise MappingError(f"work order must be a JSON object, got {_kind(item)}")
    return _Mapper(item).draft()
