"""Example JSON for a schema, composed from the document's own property ``example`` values.

The document has no whole-schema or media examples, only ``example`` on properties (972 of
them); like Prism, we compose an object's example from its properties' examples, following
``$ref`` and arrays, and taking the first member of a ``oneOf``/``anyOf``.
"""

from __future__ import annotations

from typing import Any

_FALLBACK = {"string": "string", "number": 1, "integer": 1, "boolean": True}
_FORMATS = {"date-time": "2024-08-13T09:00:00.000Z", "date": "2024-08-13", "email": "a@example.com"}


class ExampleBuilder:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc

    def node(self, ref: str) -> dict[str, Any]:
        node: Any = self.doc
        for part in ref.lstrip("#/").split("/"):
            node = node[part]
        return node  # type: ignore[no-any-return]

    def build(self, schema: dict[str, Any], *, depth: int = 0, optional: bool = True) -> Any:
        if "$ref" in schema:
            if depth > 30:
                return None
            return self.build(self.node(schema["$ref"]), depth=depth + 1, optional=optional)
        if "example" in schema and not (
            schema.get("type") == "object" and isinstance(schema["example"], str)
        ):
            return schema["example"]
        for key in ("oneOf", "anyOf"):
            if key in schema:
                return self.build(schema[key][0], depth=depth + 1, optional=optional)
        if "allOf" in schema:
            out: dict[str, Any] = {}
            for sub in schema["allOf"]:
                part = self.build(sub, depth=depth + 1, optional=optional)
                if isinstance(part, dict):
                    out.update(part)
            return out
        if schema.get("enum"):
            return schema["enum"][0]
        kind = schema.get("type")
        if kind == "array":
            item = self.build(schema.get("items", {}), depth=depth + 1, optional=optional)
            return [] if item is None else [item]
        if kind == "object" or "properties" in schema:
            required = set(schema.get("required", []))
            result = {}
            for name, prop in schema.get("properties", {}).items():
                if name in required or optional:
                    value = self.build(prop, depth=depth + 1, optional=optional)
                    if value is not None or name in required:
                        result[name] = value
            return result
        if kind == "string" and schema.get("format") in _FORMATS:
            return _FORMATS[schema["format"]]
        return _FALLBACK.get(kind or "")
