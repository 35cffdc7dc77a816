"""What the three national platforms' mappings share: the bookkeeping of one mapping, and JSON type names.

Each platform's mapping (connectors/<kind>/mapping.py) decides where its fields go, what its codes mean and how
its messages show a doubtful value. This module only keeps a draft's fields with their payload paths, the
extra keys with theirs, and the warnings, and reads the shapes every platform reads the same way: an optional
text, a sub-object, a sub-object of draft fields, a code in a table.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, TypeVar

from normalizer.record import AppealDraft

V = TypeVar("V")


def json_type(value: Any) -> str:
    """The JSON name of a decoded value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


class DraftBuilder:
    """One mapping in progress: the item, the draft's fields and their sources, extra, and the warnings.

    A platform's mapper subclasses it; `type_name` and `key_text` are how that platform's messages name a
    value's type and show a key, so that every warning keeps the platform's own wording.
    """

    def __init__(self, item: dict[str, Any]) -> None:
        self.item = item
        self.fields: dict[str, Any] = {}
        self.sources: dict[str, str] = {}
        self.extra: dict[str, Any] = {}
        self.extra_paths: dict[str, None] = {}  # the payload paths extra came from, in order, once each
        self.warnings: list[str] = []

    def type_name(self, value: Any) -> str:
        """How a message names a value's type."""
        return json_type(value)

    def key_text(self, key: str) -> str:
        """How a warning shows a key of the payload."""
        return key

    def warn(self, path: str, reason: str) -> None:
        """Note a warning about the value at a payload path."""
        self.warnings.append(f"{path}: {reason}")

    def put(self, field: str, value: Any, path: str) -> None:
        """Set a draft field from a payload path (a missing or null value sets nothing)."""
        if value is not None:
            self.fields[field] = value
            self.sources[field] = f"payload.{path}"

    def keep(self, name: str, value: Any, path: str) -> None:
        """Set a key of extra from a payload path; the path is listed in sources["extra"]."""
        self.extra[name] = value
        self.extra_paths[f"payload.{path}"] = None

    def warn_unknown(self, node: dict[str, Any], known: Collection[str], prefix: str = "") -> None:
        """One warning per key of node the protocol does not have (the verbatim copy keeps it)."""
        for key in sorted(k for k in node if k not in known):
            self.warn(f"{prefix}{self.key_text(key)}", "unknown field ignored")

    def text(self, value: Any, path: str) -> str | None:
        """An optional text: None when absent; a value of another type is dropped with a warning."""
        if value is None or isinstance(value, str):
            return value
        self.warn(path, f"expected text, got {self.type_name(value)}; dropped")
        return None

    def sub_object(self, key: str) -> dict[str, Any] | None:
        """A nested object, or None; something else there is ignored with a warning."""
        value = self.item.get(key)
        if value is None or isinstance(value, dict):
            return value
        self.warn(key, f"expected an object, got {self.type_name(value)}; ignored")
        return None

    def nested(self, key: str, table: Mapping[str, str]) -> dict[str, Any] | None:
        """A nested object whose keys are draft fields (key -> field in table), e.g. the person appealing."""
        sub = self.sub_object(key)
        if sub is None:
            return None
        for name, field in table.items():
            self.put(field, sub.get(name), f"{key}.{name}")
        self.warn_unknown(sub, table, f"{key}.")
        return sub

    def lookup(self, table: Mapping[str, V], code: str, path: str, unknown: str) -> V | None:
        """What a code table says a code means; a code it does not have is a warning `path: unknown`."""
        if code in table:
            return table[code]
        self.warn(path, unknown)
        return None

    def finish(self, **fields: Any) -> AppealDraft:
        """The draft of everything put so far (and of fields), with its sources and warnings."""
        if self.extra_paths:
            self.sources["extra"] = ",".join(self.extra_paths)
        return AppealDraft(**self.fields, **fields, extra=self.extra, sources=self.sources, warnings=self.warnings)
