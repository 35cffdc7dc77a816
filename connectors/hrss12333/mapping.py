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
from normalizer.fields import FieldError, check_credit_code
from normalizer.record import AppealDraft

SOURCE_ID_MAX = 128
NUMBER_MAX = 2**53

# Top-level keys of a work order; anything else is noted as a warning (it stays in the verbatim copy).
TOP_LEVEL = frozenset(
    {
        "gdbh", "sqlx", "ywlb", "bt", "nr", "sqrlx", "sqr", "bmbz", "dw", "xzqhdm", "sfdz",
        "qxje", "sjrs", "fjlb", "fssj", "cjsj", "gxsj", "zt",
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


class _Mapper:
    """One mapping: the draft's fields, their sources and the warnings so far."""

    def __init__(self, item: dict[str, Any]) -> None:
        self.item = item
        self.fields: dict[str, Any] = {}
        self.sources: dict[str, str] = {}
        self.extra: dict[str, Any] = {}
        self.extra_paths: dict[str, None] = {}
        self.warnings: list[str] = []

    def put(self, field: str, value: Any, path: str) -> None:
        """Set a draft field from a payload path (absent and null values are skipped)."""
        if value is not None:
            self.fields[field] = value
            self.sources[field] = f"payload.{path}"

    def put_extra(self, name: str, value: Any, path: str) -> None:
        """Set a key of `extra` from a payload path."""
        self.extra[name] = value
        self.extra_paths[f"payload.{path}"] = None

    def warn_unknown(self, obj: dict[str, Any], known: frozenset[str] | set[str], prefix: str) -> None:
        """One warning per key the specification does not have."""
        self.warnings += [f"{prefix}{k}: unknown field ignored" for k in sorted(set(obj) - set(known))]

    def source_id(self) -> None:
        value = self.item.get("gdbh")
        source_id = work_order_id(self.item)
        if source_id is None:
            if value is None or (isinstance(value, str) and not value.strip()):
                raise MappingError("gdbh (工单编号): missing")
            if isinstance(value, str | int) and not isinstance(value, bool):
                raise MappingError(f"gdbh (工单编号): longer than {SOURCE_ID_MAX} characters")
            raise MappingError(f"gdbh (工单编号): must be text, got {_kind(value)}")
        self.put("source_id", source_id, "gdbh")

    def text(self) -> None:
        content, title = self.item.get("nr"), self.item.get("bt")
        if content is not None and not isinstance(content, str):
            raise MappingError(f"nr (诉求内容): must be text, got {_kind(content)}")
        if title is not None and not isinstance(title, str):
            if not content or not content.strip():
                raise MappingError(f"bt (标题): must be text, got {_kind(title)}, and nr is empty")
            self.warnings.append(f"bt: expected text, got {_kind(title)}; dropped (title taken from nr)")
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
                    self.warnings.append(f"{key}: number {value} read as code {code!r}")
                    return code
        self.warnings.append(f"{key}: expected a code, got {_kind(value)}; ignored")
        return None

    def appeal_type(self) -> None:
        code = self.code("sqlx", codes.APPEAL_TYPES)
        if code is None:
            return
        if code in codes.APPEAL_TYPES:
            self.put("type", codes.APPEAL_TYPES[code], "sqlx")
        else:
            self.warnings.append(f"sqlx: unknown appeal type code {code[:20]!r}; type left empty")

    def category(self) -> None:
        value = self.item.get("ywlb")
        if value is None:
            return
        if not isinstance(value, str):
            self.warnings.append(f"ywlb: expected text, got {_kind(value)}; dropped")
            return
        self.put("channel_category", value, "ywlb")
        label = value.strip()
        if not label:
            return
        if label not in codes.BUSINESS_CATEGORIES:
            self.warnings.append(f"ywlb: unknown business category {label[:20]!r}; {codes.DEFAULT_CATEGORY} used")
        self.put("category", codes.BUSINESS_CATEGORIES.get(label, codes.DEFAULT_CATEGORY), "ywlb")

    def applicant(self) -> None:
        kind = self.code("sqrlx", (codes.APPLICANT_PERSON, codes.APPLICANT_UNIT))
        sqr = self.item.get("sqr")
        if sqr is not None and not isinstance(sqr, dict):
            self.warnings.append(f"sqr: expected an object, got {_kind(sqr)}; ignored")
            sqr = None
        unit_keys = [k for k in ("dwmc", "tyshxydm") if sqr is not None and sqr.get(k) is not None]
        if kind is None and unit_keys:
            self.warnings.append(f"sqrlx: missing; the applicant is taken as a unit (sqr.{unit_keys[0]} given)")
            kind = codes.APPLICANT_UNIT
        elif kind is not None and kind not in (codes.APPLICANT_PERSON, codes.APPLICANT_UNIT):
            self.warnings.append(f"sqrlx: unknown applicant type {kind[:20]!r}; taken as a person")
        unit = kind == codes.APPLICANT_UNIT
        if unit:
            # A unit (an employer asking about its own obligations) makes this an enterprise appeal.
            self.put("enterprise", True, "sqrlx" if "sqrlx" in self.item else f"sqr.{unit_keys[0]}")
        for key, field in APPLICANT.items():
            if sqr is None or key not in sqr:
                continue
            if key in ("dwmc", "tyshxydm") and not unit:
                self.warnings.append(f"sqr.{key}: given for a person; ignored")
                continue
            self.put(field, sqr[key], f"sqr.{key}")
        if sqr is not None:
            self.warn_unknown(sqr, set(APPLICANT), "sqr.")

    def confidentiality(self) -> None:
        # "1"/"0"; normalize() reads it and keeps every 举报 confidential whatever it says.
        self.put("confidential", self.item.get("bmbz"), "bmbz")

    def location(self) -> None:
        self.put("division_code", self.item.get("xzqhdm"), "xzqhdm")
        self.put("address", self.item.get("sfdz"), "sfdz")

    def employer(self) -> None:
        dw = self.item.get("dw")
        if dw is None:
            return
        if not isinstance(dw, dict):
            self.warnings.append(f"dw: expected an object, got {_kind(dw)}; ignored")
            return
        employer: dict[str, str] = {}
        for key, name in EMPLOYER.items():
            value = dw.get(key)
            if value is None:
                continue
            if not isinstance(value, str):
                self.warnings.append(f"dw.{key}: expected text, got {_kind(value)}; dropped")
                continue
            employer[name] = value
        code = employer.get("credit_code")
        if code and code.strip():
            try:
                employer["credit_code"] = check_credit_code(code, field="dw.tyshxydm")
            except FieldError as e:
                self.warnings.append(f"{e.field}: {e.reason}; kept as given")
        self.warn_unknown(dw, set(EMPLOYER), "dw.")
        if employer:
            self.put_extra("employer", employer, "dw")

    def number(self, key: str, name: str, *, integer: bool) -> None:
        value = self.item.get(key)
        if value is None:
            return
        usable = _plain_number(value) and value >= 0 and (not integer or float(value).is_integer())
        if not usable:
            what = "a whole number" if integer else "a number"
            self.warnings.append(f"{key}: expected {what} ≥ 0, got {_kind(value)}; dropped")
            return
        self.put_extra(name, int(value) if integer else value, key)

    def attachments(self) -> None:
        files = self.item.get("fjlb")
        if files is None:
            return
        if not isinstance(files, list):
            self.warnings.append(f"fjlb: expected a list, got {_kind(files)}; ignored")
            return
        kept: list[dict[str, Any]] = []
        for i, entry in enumerate(files):
            url = entry.get("wjlj") if isinstance(entry, dict) else None
            if not isinstance(url, str) or not url.strip():
                self.warnings.append(f"fjlb[{i}]: no file link (wjlj); dropped")
                continue
            kept.append({name: entry[key] for key, name in ATTACHMENT.items() if entry.get(key) is not None})
            self.warn_unknown(entry, ATTACHMENT_KEYS, f"fjlb[{i}].")
        if kept:
            self.fields["attachments"] = kept
            self.sources["attachments"] = "payload.fjlb"

    def platform_fields(self) -> None:
        status = self.code("zt", codes.STATUS_NAMES)
        if status is not None:
            if status in codes.STATUS_NAMES:
                self.put_extra("status", codes.STATUS_NAMES[status], "zt")
            else:
                self.warnings.append(f"zt: unknown status code {status[:20]!r}; kept as given")
            self.put_extra("status_code", status, "zt")
        for key, name in (("cjsj", "created_at"), ("gxsj", "updated_at")):
            value = self.item.get(key)
            if isinstance(value, str) or _plain_number(value):
                self.put_extra(name, value, key)  # the platform's own times, verbatim (Unix ms)
            elif isinstance(value, int | float) and not isinstance(value, bool):
                self.warnings.append(f"{key}: not a usable Unix time in milliseconds; dropped")
            elif value is not None:
                self.warnings.append(f"{key}: expected Unix milliseconds, got {_kind(value)}; dropped")

    def draft(self) -> AppealDraft:
        self.source_id()
        self.text()
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
        self.warn_unknown(self.item, TOP_LEVEL, "")
        if self.extra_paths:
            self.sources["extra"] = ",".join(self.extra_paths)
        return AppealDraft(**self.fields, extra=self.extra, sources=self.sources, warnings=self.warnings)


def map_work_order(item: Any) -> AppealDraft:
    """A 12333 work order (a JSON object) as a draft; MappingError when it is structurally broken."""
    if not isinstance(item, dict):
        raise MappingError(f"work order must be a JSON object, got {_kind(item)}")
    return _Mapper(item).draft()
