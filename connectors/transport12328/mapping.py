"""One 12328 ticket (a JSON object) as an `AppealDraft`.

The mapping is pure and lenient: an optional value of the wrong shape is dropped with a warning, a code it
does not know becomes a warning (and no type), and only a ticket that cannot be an appeal at all (not an
object, no usable `ticket_id`, `subject`/`description` that are not text, or neither of them) raises
`MappingError`. Values are passed on as the platform sent them: `normalize()` validates phones, division codes,
coordinates and dates. The operator of the vehicle or route complained about goes to `extra["operator"]`,
never to the appeal's enterprise (which means an appeal made by an enterprise).
"""

from __future__ import annotations

from typing import Any

from connectors.base import MappingError
from connectors.national.mapping import DraftBuilder, json_type
from connectors.transport12328.protocol import CATEGORIES, CATEGORY_PREFIX, KINDS
from normalizer.record import AppealDraft

TICKET_ID_MAX = 128

TOP_LEVEL = frozenset(
    {
        "ticket_id",
        "kind",
        "category",
        "subject",
        "description",
        "caller",
        "location",
        "plate_no",
        "route",
        "operator",
        "attachments",
        "channel",
        "status",
        "reply_text",
        "handling_unit",
        "occurred_at",
        "created_at",
        "updated_at",
    }
)
CALLER = {"name": "citizen_name", "phone": "phone"}
LOCATION = {"address": "address", "adcode": "division_code", "lng": "lon", "lat": "lat"}
OPERATOR = ("name", "credit_code")
ATTACHMENT = {"url": "url", "content_type": "media_type", "size_bytes": "size", "sha256": "sha256"}
# Top-level text fields kept in extra, under stable English keys.
EXTRA_TEXT = {
    "plate_no": "plate_number",
    "route": "route",
    "status": "ticket_status",
    "channel": "intake_channel",
    "created_at": "created_at",
    "updated_at": "updated_at",
}
COORDINATE_SYSTEM = "GCJ-02"


def short(value: Any) -> str:
    """A short, printable rendering of a doubtful text value for a message."""
    return repr(_key_text(value))


def ticket_id_problem(value: Any) -> str | None:
    """Why a `ticket_id` value cannot identify a ticket, or None when it can."""
    if value is None:
        return "missing"
    if not isinstance(value, str):
        return f"must be text, got {json_type(value)}"
    if not value:
        return "empty"
    if value != value.strip():
        return "has leading or trailing whitespace"
    if len(value) > TICKET_ID_MAX:
        return f"longer than {TICKET_ID_MAX} characters"
    if not value.isprintable():
        return "contains control or unprintable characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains unpaired surrogates"
    return None


def ticket_id(item: Any) -> str | None:
    """The ticket's id when it is usable, else None."""
    if not isinstance(item, dict):
        return None
    value = item.get("ticket_id")
    return value if ticket_id_problem(value) is None else None


def map_ticket(item: Any) -> AppealDraft:
    """The draft for one ticket; MappingError when it is structurally unusable."""
    if not isinstance(item, dict):
        raise MappingError(f"ticket: must be a JSON object, got {json_type(item)}")
    if problem := ticket_id_problem(item.get("ticket_id")):
        raise MappingError(f"ticket_id: {problem}")
    return _Mapper(item).draft()


class _Mapper(DraftBuilder):
    """One mapping: the ticket, and the fields, sources, extra and warnings collected so far."""

    def key_text(self, key: str) -> str:
        """A key as 12328 warnings show it."""
        return _key_text(key)

    def draft(self) -> AppealDraft:
        """All fields, in the order of the documentation."""
        self.put("source_id", self.item["ticket_id"], "ticket_id")
        self.text_fields()
        self.kind()
        self.category()
        self.caller()
        self.location()
        self.put("occurred_at", self.item.get("occurred_at"), "occurred_at")
        self.operator()
        for key, name in EXTRA_TEXT.items():
            self.extra_text(key, name)
        self.attachments()
        self.warn_unknown(self.item, TOP_LEVEL)
        return self.finish(enterprise=None)

    def text_fields(self) -> None:
        """subject → title, description → content: text or absent, and not both empty."""
        present = []
        for key, field in (("subject", "title"), ("description", "content")):
            value = self.item.get(key)
            if value is None:
                continue
            if not isinstance(value, str):
                raise MappingError(f"{key}: must be text, got {json_type(value)}")
            self.put(field, value, key)
            if value.strip():
                present.append(key)
        if not present:
            raise MappingError("subject and description: both missing or empty")

    def kind(self) -> None:
        """kind → type, when it is one of the six; otherwise a warning and no type."""
        value = self.item.get("kind")
        if value is None:
            self.warn("kind", "missing; type left empty")
        elif not isinstance(value, str):
            self.warn("kind", f"expected text, got {json_type(value)}; type left empty")
        elif self.lookup(KINDS, value, "kind", f"unknown kind {short(value)}; type left empty") is not None:
            self.put("type", value, "kind")

    def category(self) -> None:
        """category → channel_category verbatim, a mapped label in category, and extra transport_category."""
        value = self.item.get("category")
        if value is None:
            self.warn("category", "missing")
            return
        value = self.text(value, "category")
        if value is None:
            return
        self.put("channel_category", value, "category")
        self.keep("transport_category", value, "category")
        label = self.lookup(CATEGORIES, value, "category", f"unknown category {short(value)}; not mapped")
        if label is not None:
            self.put("category", CATEGORY_PREFIX + label, "category")

    def caller(self) -> None:
        """caller {name, phone} → citizen name and phone."""
        self.nested("caller", CALLER)

    def location(self) -> None:
        """location {address, adcode, lng, lat} → address, division code, coordinates (GCJ-02, as given)."""
        sub = self.nested("location", LOCATION)
        if sub is not None and (sub.get("lng") is not None or sub.get("lat") is not None):
            self.keep("coordinate_system", COORDINATE_SYSTEM, "location")

    def operator(self) -> None:
        """operator {name, credit_code}: the transport business concerned, kept in extra, not as enterprise."""
        sub = self.sub_object("operator")
        if sub is None:
            return
        kept = {}
        for name in OPERATOR:
            value = self.text(sub.get(name), f"operator.{name}")
            if value is not None:
                kept[name] = value
        self.warn_unknown(sub, OPERATOR, "operator.")
        if kept:
            self.keep("operator", kept, "operator")

    def extra_text(self, key: str, name: str) -> None:
        """A top-level text field kept in extra under its stable name."""
        value = self.text(self.item.get(key), key)
        if value is not None:
            self.keep(name, value, key)

    def attachments(self) -> None:
        """attachments [{url, content_type, size_bytes, sha256}] → attachments; a broken one is dropped."""
        value = self.item.get("attachments")
        if value is None:
            return
        if not isinstance(value, list):
            self.warn("attachments", f"expected an array, got {json_type(value)}; dropped")
            return
        kept = []
        for i, entry in enumerate(value):
            path = f"attachments[{i}]"
            if not isinstance(entry, dict):
                self.warn(path, f"expected an object, got {json_type(entry)}; dropped")
                continue
            url = entry.get("url")
            if not isinstance(url, str) or not url.strip():
                self.warn(f"{path}.url", "missing or not text; attachment dropped")
                continue
            kept.append({to: entry[name] for name, to in ATTACHMENT.items() if entry.get(name) is not None})
            self.warn_unknown(entry, ATTACHMENT, f"{path}.")
        if kept:
            self.put("attachments", kept, "attachments")


def _key_text(key: Any) -> str:
    """A key as it can be shown in a warning (keys from JSON are text; cut long ones)."""
    text = str(key).encode("utf-8", "replace").decode("utf-8")
    return text[:40] + ("…" if len(text) > 40 else "")
