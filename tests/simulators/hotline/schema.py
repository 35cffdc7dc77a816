"""Just enough JSON Schema (2020-12, as OpenAPI 3.1 uses it) to check bodies against the 12345 document.

The project does not depend on a JSON Schema library; this checks what the document uses: $ref, type, enum,
const, required, properties, additionalProperties, items, min/max (length, items, value), pattern, oneOf, allOf
and format date-time. With `closed=True` an object may hold only keys some schema names, so that a simulator
answer with an undocumented key fails even where the document lets readers ignore unknown keys.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


class Validator:
    """Validates JSON values against the schemas of one OpenAPI document."""

    def __init__(self, spec: dict[str, Any], closed: bool = False) -> None:
        self.spec = spec
        self.closed = closed

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            node: Any = self.spec
            for part in schema["$ref"].removeprefix("#/").split("/"):
                node = node[part]
            schema = node
        return schema

    def schema(self, name: str) -> dict[str, Any]:
        return self.spec["components"]["schemas"][name]

    def errors(self, value: Any, schema: dict[str, Any], path: str = "$", whole: bool = True) -> list[str]:
        """Every way the value breaks the schema (empty: it is valid); `whole`: not a part of an allOf."""
        schema = self.resolve(schema)
        found: list[str] = []
        if "type" in schema:
            types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            if not any(TYPES[t](value) for t in types):
                return [f"{path}: {value!r:.60} is not {'/'.join(types)}"]
        if "enum" in schema and value not in schema["enum"]:
            found.append(f"{path}: {value!r:.60} not in {schema['enum']}")
        if "const" in schema and value != schema["const"]:
            found.append(f"{path}: {value!r:.60} is not {schema['const']!r}")
        if isinstance(value, str):
            found += self._string(value, schema, path)
        if TYPES["number"](value):
            if "minimum" in schema and value < schema["minimum"]:
                found.append(f"{path}: {value} < {schema['minimum']}")
            if "maximum" in schema and value > schema["maximum"]:
                found.append(f"{path}: {value} > {schema['maximum']}")
        if isinstance(value, list):
            if "maxItems" in schema and len(value) > schema["maxItems"]:
                found.append(f"{path}: more than {schema['maxItems']} items")
            for i, item in enumerate(value):
                if "items" in schema:
                    found += self.errors(item, schema["items"], f"{path}[{i}]")
        if isinstance(value, dict):
            found += self._object(value, schema, path, whole)
        for sub in schema.get("allOf", []):
            found += self.errors(value, sub, path, whole=False)
        if "oneOf" in schema:
            passing = [s for s in schema["oneOf"] if not self.errors(value, s, path)]
            if len(passing) != 1:
                found.append(f"{path}: matches {len(passing)} of the oneOf schemas, not exactly one")
        return found

    def _string(self, value: str, schema: dict[str, Any], path: str) -> list[str]:
        found = []
        if "minLength" in schema and len(value) < schema["minLength"]:
            found.append(f"{path}: shorter than {schema['minLength']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            found.append(f"{path}: longer than {schema['maxLength']}")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            found.append(f"{path}: {value!r:.60} does not match {schema['pattern']}")
        if schema.get("format") == "date-time":
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                parsed = None
            if parsed is None or parsed.tzinfo is None or "T" not in value:
                found.append(f"{path}: {value!r} is not an RFC 3339 date-time with an offset")
        return found

    def _object(self, value: dict[str, Any], schema: dict[str, Any], path: str, whole: bool) -> list[str]:
        found = [f"{path}: {key} is required" for key in schema.get("required", []) if key not in value]
        properties = schema.get("properties", {})
        for key, item in value.items():
            if key in properties:
                found += self.errors(item, properties[key], f"{path}.{key}")
            elif schema.get("additionalProperties") is False:
                found.append(f"{path}: {key} is not allowed")
        if self.closed and whole and (properties or schema.get("allOf")):
            known = self.known_keys(schema)
            found += [f"{path}: {key} is not documented" for key in value if key not in known]
        return found

    def known_keys(self, schema: dict[str, Any]) -> set[str]:
        """The keys an object schema names, through allOf."""
        schema = self.resolve(schema)
        keys = set(schema.get("properties", {}))
        for sub in schema.get("allOf", []):
            keys |= self.known_keys(sub)
        return keys
