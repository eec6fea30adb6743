"""The normalisations of the document's schemas: defects with a pattern, each printed as a
:class:`~codegen.spec.Fix`.

Pointers to schemas the document does not define, ``required`` written as a boolean, types the
document's generator could not write (read from the examples and the descriptions), number ids,
objects without properties. :func:`codegen.normalise.normalise` runs them in order.
"""

from __future__ import annotations

import re
from typing import Any

from .spec import SCHEMA_REF, Fix, Spec, component_schemas


def _walk_schemas(node: Any, where: str) -> Any:
    """Every schema object under ``node`` (properties, items, compositions, additional
    properties), depth first, with a readable location: yields ``(schema, where)``."""
    if not isinstance(node, dict):
        return
    yield node, where
    for name, prop in (node.get("properties") or {}).items():
        yield from _walk_schemas(prop, f"{where}.{name}")
    if isinstance(node.get("items"), dict):
        yield from _walk_schemas(node["items"], f"{where}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from _walk_schemas(node["additionalProperties"], f"{where}{{}}")
    for key in ("allOf", "oneOf", "anyOf"):
        for i, sub in enumerate(node.get(key) or []):
            yield from _walk_schemas(sub, f"{where}.{key}[{i}]")


def _document_schemas(spec: Spec) -> Any:
    """Every schema of the document: components, parameters, request bodies and responses."""
    for name, schema in component_schemas(spec.doc).items():
        yield from _walk_schemas(schema, name)
    for method, path, op in spec.operations():
        where = f"{method.upper()} {path}"
        for p in op.get("parameters", []):
            yield from _walk_schemas(p.get("schema"), f"{where} {p.get('name')}")
        bodies = [("body", op.get("requestBody") or {})]
        bodies += [(code, r) for code, r in (op.get("responses") or {}).items()]
        for label, part in bodies:
            for media, content in (part.get("content") or {}).items():
                yield from _walk_schemas(content.get("schema"), f"{where} {label} {media}")


def fix_dangling_refs(spec: Spec) -> None:
    """A ``$ref`` to a component schema the document does not define: a free-form object.

    Seen in releases whose generator lost a schema (``MicrosoftServiceAccountKeyInput``,
    ``Output``); the generator and the examples would otherwise fail on the missing pointer.
    """
    defined = set(component_schemas(spec.doc))

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(SCHEMA_REF):
                name = ref[len(SCHEMA_REF) :]
                if name not in defined:
                    node.pop("$ref")
                    node.update({"type": "object", "additionalProperties": {}})
                    missing.add(name)
            for value in list(node.values()):
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    missing: set[str] = set()
    visit(spec.doc)
    for name in sorted(missing):
        spec.fixes.append(
            Fix("dangling-ref", name, "referenced but not defined: a free-form object")
        )


def fix_boolean_required(spec: Spec) -> None:
    """``"required": true`` written on a property or on an array's ``items`` (OpenAPI 2 style)
    instead of the object's ``required`` list: moved to that list (a property) or dropped."""
    for schema, where in list(_document_schemas(spec)):
        for name, prop in (schema.get("properties") or {}).items():
            if isinstance(prop, dict) and isinstance(prop.get("required"), bool):
                if prop.pop("required") and name not in schema.setdefault("required", []):
                    schema["required"].append(name)
                spec.fixes.append(
                    Fix("boolean-required", f"{where}.{name}", "moved to the object's required")
                )
        items = schema.get("items")
        if isinstance(items, dict) and isinstance(items.get("required"), bool):
            del items["required"]
            spec.fixes.append(Fix("boolean-required", f"{where}[]", "dropped from array items"))
        if isinstance(schema.get("required"), bool):
            # left on a schema that is not a property (a body, a response): it means nothing
            del schema["required"]
            spec.fixes.append(Fix("boolean-required", where, "dropped (not a property)"))


_JSON_TYPES = {bool: "boolean", int: "number", float: "number", str: "string"}


def fix_scalar_objects(spec: Spec) -> None:
    """``type: object`` with no properties whose example is a scalar: the example's type.

    The document's generator writes ``object`` for properties it could not type (booleans,
    numbers, date strings); the examples, and the live API, show the real type.
    """
    for name, schema in spec.doc.get("components", {}).get("schemas", {}).items():
        for prop_name, prop in schema.get("properties", {}).items():
            example = prop.get("example")
            if (
                prop.get("type") == "object"
                and "properties" not in prop
                and type(example) in _JSON_TYPES
            ):
                prop["type"] = _JSON_TYPES[type(example)]
                if prop.get("enum") and not all(isinstance(v, type(example)) for v in prop["enum"]):
                    del prop["enum"]
                spec.fixes.append(
                    Fix(
                        "object-typed-scalar",
                        f"{name}.{prop_name}",
                        f"typed {prop['type']} (example {example!r})",
                    )
                )


_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$")


def fix_datetime_formats(spec: Spec) -> None:
    """A string property whose example is an ISO 8601 date-time but that has no ``format``."""
    count = 0
    for schema in spec.doc.get("components", {}).get("schemas", {}).values():
        for prop in schema.get("properties", {}).values():
            example = prop.get("example")
            if (
                prop.get("type") == "string"
                and "format" not in prop
                and "enum" not in prop
                and isinstance(example, str)
                and _ISO_DATETIME.match(example)
            ):
                prop["format"] = "date-time"
                count += 1
    if count:
        spec.fixes.append(
            Fix(
                "date-time-format",
                "components.schemas",
                f"{count} string properties with ISO 8601 date-time examples typed as date-time",
            )
        )


_ONLY_VALUE = re.compile(r"only (?:allowed|acceptable) value for type is `([^`]+)`", re.I)


def fix_prose_constants(spec: Spec) -> None:
    """``type`` written as a free string whose description says "only allowed value for type is
    `x`": the constant that tells the branches of an undiscriminated ``oneOf`` apart."""
    count = 0
    for schema in spec.doc.get("components", {}).get("schemas", {}).values():
        prop = schema.get("properties", {}).get("type")
        if not prop or prop.get("type") != "string" or "enum" in prop:
            continue
        found = _ONLY_VALUE.search(prop.get("description", ""))
        if found:
            prop["enum"] = [found.group(1)]
            count += 1
    if count:
        spec.fixes.append(
            Fix(
                "prose-constant",
                "components.schemas",
                f"{count} `type` properties whose "
                "description names their only value typed as that one-value enum",
            )
        )


_ID_NAME = re.compile(r"^(id|.*Id)$")
_IDS_NAME = re.compile(r"^.*Ids$")


def _integer_ids(schema: dict[str, Any], name: str) -> bool:
    """``number`` ids (``id``, ``…Id``, ``…Ids``) are integers: Cal.com's ids are whole numbers."""
    if schema.get("type") == "number" and _ID_NAME.match(name):
        schema["type"] = "integer"
        return True
    items = schema.get("items") or {}
    if schema.get("type") == "array" and items.get("type") == "number" and _IDS_NAME.match(name):
        items["type"] = "integer"
        return True
    return False


def fix_ids(spec: Spec) -> None:
    count = 0
    for schema in spec.doc.get("components", {}).get("schemas", {}).values():
        for name, prop in schema.get("properties", {}).items():
            count += _integer_ids(prop, name)
    for _method, _path, op in spec.operations():
        for p in op.get("parameters", []):
            if isinstance(p.get("schema"), dict):
                count += _integer_ids(p["schema"], p["name"])
    if count:
        spec.fixes.append(
            Fix(
                "integer-ids", "components.schemas, parameters", f"{count} number ids typed integer"
            )
        )


def fix_empty_objects(spec: Spec) -> None:
    """An object schema with no properties at all (``{"type": "object", "properties": {}}``)
    would become an empty class that drops everything: it is a free-form object."""
    for name, schema in spec.doc.get("components", {}).get("schemas", {}).items():
        if (
            schema.get("type") == "object"
            and not schema.get("properties")
            and not ({"additionalProperties", "allOf", "oneOf", "anyOf"} & schema.keys())
        ):
            schema["additionalProperties"] = {}
            spec.fixes.append(Fix("empty-object", name, "no properties: a free-form object"))
