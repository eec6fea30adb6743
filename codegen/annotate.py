"""JSON schema -> the Python annotation text the generated code writes (``_m.<Class>`` for a
generated class, ``Literal[...]``, ``Sequence[...]`` for a query array, ...)."""

from __future__ import annotations

from typing import Any


class Annotator:
    """JSON schema -> Python annotation text, naming classes as ``_m.<Class>``."""

    def __init__(self, doc: dict[str, Any], classes: dict[str, str], models: set[str]) -> None:
        self.doc = doc
        self.classes = classes  # ref key -> class name
        self.models = models  # class names that are attrs classes (not aliases or enums)

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        seen = 0
        while "$ref" in schema and seen < 20:
            schema = self.node(schema["$ref"])
            seen += 1
        return schema

    def node(self, ref: str) -> dict[str, Any]:
        """The schema at a reference; also reads datamodel-code-generator's shortened paths
        (``…/Schema/field`` for ``…/Schema/properties/field``). Unknown: an empty schema."""
        node: Any = self.doc
        for part in ref.lstrip("#/").split("/"):
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, dict) and part in node.get("properties", {}):
                node = node["properties"][part]
            elif isinstance(node, dict) and part.isdigit() and "items" in node:
                node = node["items"]
            else:
                return {}
        return node if isinstance(node, dict) else {}

    def class_of(self, schema: dict[str, Any], ptr: str) -> str | None:
        if "$ref" in schema:
            return self.classes.get(schema["$ref"])
        return self.classes.get(ptr)

    def annotate(self, schema: dict[str, Any] | None, ptr: str, *, for_query: bool = False) -> str:
        if not schema:
            return "Any"
        cls = self.class_of(schema, ptr)
        if cls and not for_query:
            ann = f"_m.{cls}"
        elif "$ref" in schema:
            return self.annotate(self.resolve(schema), schema["$ref"], for_query=for_query)
        else:
            ann = self._inline(schema, ptr, for_query=for_query)
        if schema.get("nullable") and ann != "Any" and "None" not in ann:
            ann += " | None"
        return ann

    def _inline(self, schema: dict[str, Any], ptr: str, *, for_query: bool) -> str:
        for key in ("oneOf", "anyOf"):
            if key in schema:
                parts: list[str] = []
                for i, sub in enumerate(schema[key]):
                    ann = self.annotate(sub, f"{ptr}/{key}/{i}", for_query=for_query)
                    for piece in ann.split(" | "):
                        if piece not in parts:
                            parts.append(piece)
                return "Any" if "Any" in parts else " | ".join(parts)
        if "allOf" in schema and len(schema["allOf"]) == 1:
            return self.annotate(schema["allOf"][0], f"{ptr}/allOf/0", for_query=for_query)
        kind = schema.get("type")
        if "enum" in schema and kind in (None, "string") and schema["enum"]:
            values = ", ".join(repr(v) for v in schema["enum"] if isinstance(v, str))
            return f"Literal[{values}]" if values else "str"
        if kind == "string":  # a query value may be given as text too; a date, only there
            if for_query and schema.get("format") in ("date-time", "date"):
                return "datetime | str" if schema["format"] == "date-time" else "date | str"
            return "datetime" if schema.get("format") == "date-time" else "str"
        if kind == "integer":
            return "int"
        if kind == "number":
            return "float"
        if kind == "boolean":
            return "bool"
        if kind == "array":
            inner = self.annotate(schema.get("items"), f"{ptr}/items", for_query=for_query)
            return f"Sequence[{inner}]" if for_query else f"list[{inner}]"
        values = schema.get("additionalProperties")
        if isinstance(values, dict) and values and "properties" not in schema:
            # a map (the slots answer: date -> slots): its values typed as the models read them
            inner = self.annotate(values, f"{ptr}/additionalProperties", for_query=for_query)
            return f"dict[str, {inner}]"
        if kind == "object" or "properties" in schema:
            return "dict[str, Any]"
        return "Any"


def split_union(annotation: str) -> list[str]:
    """``A | list[B | C] | None`` -> ``["A", "list[B | C]", "None"]`` (top-level members)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(annotation):
        depth += {"[": 1, "]": -1}.get(ch, 0)
        if ch == "|" and depth == 0:
            parts.append(annotation[start:i].strip())
            start = i + 1
    parts.append(annotation[start:].strip())
    return parts
