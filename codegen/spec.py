"""Load the document, check its pin, apply our overlay and normalise its defects.

Every correction the generator makes is recorded as a :class:`Fix` and printed, so that what we
changed about Cal.com's document is visible in every run (``make generate``).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jsonpath_ng.ext import parse as jsonpath

ROOT = Path(__file__).resolve().parent.parent
PIN = ROOT / "openapi" / "pin.json"
OVERLAY = ROOT / "openapi" / "overlay.yaml"
DEFAULT_SERVER = "https://api.cal.com"


def pinned_document() -> Path:
    """Where the pinned document lies (``local`` in ``openapi/pin.json``, from the project root)."""
    return (ROOT / json.loads(PIN.read_text())["local"]).resolve()


HTTP_METHODS = ("get", "put", "post", "delete", "patch")
PATH_PARAM = re.compile(r"{([^}/]+)}")


class SpecError(Exception):
    """The document cannot be turned into a client (the message says why)."""


@dataclass
class Fix:
    kind: str
    where: str
    what: str

    def __str__(self) -> str:
        return f"fix [{self.kind}] {self.where}: {self.what}"


@dataclass
class Spec:
    doc: dict[str, Any]
    sha256: str
    source: str
    fixes: list[Fix] = field(default_factory=list)
    #: the component schemas of the document as published (before our overlay adds any)
    source_schemas: frozenset[str] = frozenset()
    #: (METHOD, path) of every operation of the document as published
    source_operations: frozenset[tuple[str, str]] = frozenset()

    def operations(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(method, path, operation) in document order."""
        return [
            (method, path, op)
            for path, item in self.doc["paths"].items()
            for method, op in item.items()
            if method in HTTP_METHODS
        ]


def read_bytes(source: str) -> bytes:
    if re.match(r"^https?://", source):
        with urllib.request.urlopen(source, timeout=60) as resp:
            data: bytes = resp.read()
            return data
    path = Path(source)
    if not path.is_absolute() and not path.exists():
        path = ROOT / source
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SpecError(f"cannot read the OpenAPI document {source!r}: {exc}") from exc


def load(source: str, *, verify: bool = True) -> Spec:
    raw = read_bytes(source)
    digest = hashlib.sha256(raw).hexdigest()
    if verify:
        pinned = json.loads(PIN.read_text())["sha256"]
        if digest != pinned:
            raise SpecError(
                f"sha256 of {source} is {digest}, the pin in openapi/pin.json says {pinned}. "
                "Move the pin (openapi/README.md) or pass --no-verify (make generate NO_VERIFY=1)."
            )
    try:
        doc = json.loads(raw)
    except ValueError:
        doc = yaml.safe_load(raw)
    if not isinstance(doc, dict) or "paths" not in doc:
        raise SpecError(f"{source} is not an OpenAPI document (no 'paths')")
    schemas = frozenset(doc.get("components", {}).get("schemas", {}))
    operations = frozenset(
        (method.upper(), path)
        for path, item in doc["paths"].items()
        for method in item
        if method in HTTP_METHODS
    )
    return Spec(
        doc=doc,
        sha256=digest,
        source=source,
        source_schemas=schemas,
        source_operations=operations,
    )


# --- overlay (OpenAPI Overlay 1.0) ---------------------------------------------------------------


def _merge(target: Any, update: Any) -> Any:
    """Overlay 1.0 update semantics: objects merge recursively, arrays append, else replace."""
    if isinstance(target, dict) and isinstance(update, dict):
        for key, value in update.items():
            target[key] = _merge(target[key], value) if key in target else copy.deepcopy(value)
        return target
    if isinstance(target, list):
        return target + copy.deepcopy(update if isinstance(update, list) else [update])
    return copy.deepcopy(update)


def apply_overlay(spec: Spec, overlay_path: Path = OVERLAY) -> None:
    overlay = yaml.safe_load(overlay_path.read_text())
    if not str(overlay.get("overlay", "")).startswith("1."):
        raise SpecError(f"{overlay_path}: not an OpenAPI Overlay 1.x document")
    for action in overlay.get("actions", []):
        target = action["target"]
        try:
            matches = jsonpath(target).find(spec.doc)
        except Exception as exc:  # jsonpath-ng's lexer and parser errors
            raise SpecError(f"{overlay_path}: bad target {target!r}: {exc}") from None
        if not matches:
            # A newer document may have fixed what we correct, an older one may lack the target:
            # say so, do not fail.
            spec.fixes.append(
                Fix("overlay", target, "skipped: no match in this document (fixed or absent)")
            )
            continue
        defined = set(_schemas(spec.doc))
        if any(m.value is _schemas(spec.doc) for m in matches):  # the update adds schemas
            defined |= set(action.get("update") or {})
        missing = sorted(_schema_refs(action.get("update")) - defined)
        if missing:
            # the correction points at a schema this release does not define (an older release)
            spec.fixes.append(
                Fix("overlay", target, f"skipped: refers to {', '.join(missing)}, not defined here")
            )
            continue
        for match in matches:
            if action.get("remove"):
                parent = match.context.value if match.context else None
                key = match.path.fields[0] if hasattr(match.path, "fields") else match.path.index
                if isinstance(parent, dict):
                    del parent[key]
                elif isinstance(parent, list):
                    parent.remove(match.value)
            elif "update" in action:
                merged = _merge(match.value, action["update"])
                if merged is not match.value:
                    match.full_path.update(spec.doc, merged)
        spec.fixes.append(Fix("overlay", target, action.get("description", "updated").strip()))


_SCHEMA_REF = "#/components/schemas/"


def _schemas(doc: dict[str, Any]) -> dict[str, Any]:
    schemas: dict[str, Any] = doc.setdefault("components", {}).setdefault("schemas", {})
    return schemas


def _schema_refs(node: Any) -> set[str]:
    """The component schema names that ``$ref``s anywhere inside ``node`` point at."""
    if isinstance(node, dict):
        found = {r[len(_SCHEMA_REF) :] for r in [node.get("$ref")] if isinstance(r, str)}
        return found.union(*(_schema_refs(v) for k, v in node.items() if k != "$ref"))
    if isinstance(node, list):
        return set().union(*(_schema_refs(v) for v in node))
    return set()


# --- normalisation of known defects ---------------------------------------------------------


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
    for name, schema in _schemas(spec.doc).items():
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


def _fix_dangling_refs(spec: Spec) -> None:
    """A ``$ref`` to a component schema the document does not define: a free-form object.

    Seen in releases whose generator lost a schema (``MicrosoftServiceAccountKeyInput``,
    ``Output``); the generator and the examples would otherwise fail on the missing pointer.
    """
    defined = set(_schemas(spec.doc))

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(_SCHEMA_REF):
                name = ref[len(_SCHEMA_REF) :]
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


def _fix_boolean_required(spec: Spec) -> None:
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


def _fix_duplicate_operation_ids(spec: Spec) -> None:
    """Two operations with one ``operationId``: the later ones get ``_<method>_<path>``."""
    seen: set[str] = set()
    for method, path, op in spec.operations():
        op_id = op.get("operationId")
        if not op_id:
            continue
        if op_id in seen:
            new = re.sub(r"\W+", "_", f"{op_id}_{method}_{path}").strip("_")
            op["operationId"] = new
            spec.fixes.append(
                Fix("duplicate-operation-id", f"{method.upper()} {path}", f"{op_id} renamed {new}")
            )
        seen.add(op["operationId"])


def _fix_security_schemes(spec: Spec) -> None:
    """Auth declared with ``security`` and ``components.securitySchemes`` (``bearerAuth``)
    instead of header parameters: the header parameters the operation table reads auth from."""
    schemes = spec.doc.get("components", {}).get("securitySchemes") or {}
    default = spec.doc.get("security")
    for method, path, op in spec.operations():
        requirements = op.get("security", default) or []
        params = op.setdefault("parameters", [])
        declared = {p.get("name", "").lower() for p in params if p.get("in") == "header"}
        added = []
        for requirement in requirements:
            for scheme_name in requirement:
                scheme = schemes.get(scheme_name) or {}
                if scheme.get("type") == "http" and scheme.get("scheme", "").lower() == "bearer":
                    header = "Authorization"
                elif scheme.get("type") == "apiKey" and scheme.get("in") == "header":
                    header = scheme.get("name", "")
                else:
                    continue
                if header and header.lower() not in declared:
                    declared.add(header.lower())
                    params.append(
                        {
                            "name": header,
                            "in": "header",
                            # one requirement among several alternatives is not required alone
                            "required": len(requirements) == 1,
                            "schema": {"type": "string"},
                        }
                    )
                    added.append(f"{header} ({scheme_name})")
        if added:
            spec.fixes.append(
                Fix(
                    "security-scheme",
                    f"{method.upper()} {path}",
                    f"auth header parameters from security: {', '.join(added)}",
                )
            )


_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}")


def _fix_version_defaults(spec: Spec) -> None:
    """A ``cal-api-version`` header with no ``default`` (or enum): the version its description
    names ("Must be set to 2024-08-13"), written as the default the operation table reads."""
    for method, path, op in spec.operations():
        for p in op.get("parameters", []):
            if p.get("in") != "header" or p.get("name", "").lower() != "cal-api-version":
                continue
            schema = p.setdefault("schema", {"type": "string"})
            candidates = [schema.get("default"), *(schema.get("enum") or ())]
            if any(isinstance(c, str) and _VERSION.fullmatch(c) for c in candidates):
                continue
            found = _VERSION.search(p.get("description") or "")
            where = f"{method.upper()} {path}"
            if found:
                schema["default"] = found.group(0)
                spec.fixes.append(
                    Fix("api-version-default", where, f"{found.group(0)} (from its description)")
                )
            else:
                raise SpecError(
                    f"{where}: a cal-api-version header that names no version "
                    "(no default, enum or version in its description); add one in the overlay"
                )


def _param_schemas(spec: Spec) -> dict[str, dict[str, Any]]:
    """The schema each path parameter name has where some operation declares it."""
    found: dict[str, dict[str, Any]] = {}
    for _method, _path, op in spec.operations():
        for p in op.get("parameters", []):
            if p.get("in") == "path" and p.get("schema") and p["name"] not in found:
                found[p["name"]] = p["schema"]
    return found


_JSON_TYPES = {bool: "boolean", int: "number", float: "number", str: "string"}


def _fix_array_enums(spec: Spec) -> None:
    """``type: string`` + ``enum`` whose example is a list: an array of those values."""
    for name, schema in spec.doc.get("components", {}).get("schemas", {}).items():
        for prop_name, prop in schema.get("properties", {}).items():
            if (
                prop.get("type") == "string"
                and "enum" in prop
                and isinstance(prop.get("example"), list)
            ):
                prop["type"] = "array"
                prop["items"] = {"type": "string", "enum": prop.pop("enum")}
                spec.fixes.append(
                    Fix(
                        "enum-array",
                        f"{name}.{prop_name}",
                        "array of the enum (its example is a list)",
                    )
                )


def _fix_scalar_objects(spec: Spec) -> None:
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


def _fix_datetime_formats(spec: Spec) -> None:
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


def _fix_prose_constants(spec: Spec) -> None:
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


def _fix_ids(spec: Spec) -> None:
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


def _fix_path_param_types(spec: Spec) -> None:
    """One type per path parameter name: declared as a number anywhere, an integer everywhere."""
    numeric = {
        p["name"]
        for _m, _p, op in spec.operations()
        for p in op.get("parameters", [])
        if p.get("in") == "path" and (p.get("schema") or {}).get("type") in ("number", "integer")
    }
    for method, path, op in spec.operations():
        for p in op.get("parameters", []):
            schema = p.get("schema") or {}
            if p.get("in") == "path" and p["name"] in numeric and schema.get("type") == "string":
                p["schema"] = {**schema, "type": "integer"}
                spec.fixes.append(
                    Fix(
                        "path-param-type",
                        f"{method.upper()} {path}",
                        f"{{{p['name']}}} typed integer as everywhere else",
                    )
                )


def _fix_empty_objects(spec: Spec) -> None:
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


def _fix_query_times(spec: Spec) -> None:
    """Query filters named ``after…``/``before…`` are date-times (the API parses them as such)."""
    count = 0
    for _method, _path, op in spec.operations():
        for p in op.get("parameters", []):
            schema = p.get("schema") or {}
            if (
                p.get("in") == "query"
                and re.match(r"^(after|before)[A-Z]", p["name"])
                and schema.get("type") == "string"
                and "format" not in schema
            ):
                p["schema"] = {**schema, "format": "date-time"}
                count += 1
    if count:
        spec.fixes.append(
            Fix("query-date-time", "parameters", f"{count} after…/before… filters typed date-time")
        )


def normalise(spec: Spec) -> None:
    doc = spec.doc
    fixes = spec.fixes
    _fix_dangling_refs(spec)
    _fix_boolean_required(spec)
    _fix_duplicate_operation_ids(spec)
    _fix_security_schemes(spec)
    _fix_version_defaults(spec)
    _fix_prose_constants(spec)
    _fix_ids(spec)
    _fix_empty_objects(spec)
    _fix_scalar_objects(spec)
    _fix_datetime_formats(spec)
    if not doc.get("servers"):
        doc["servers"] = [{"url": DEFAULT_SERVER}]
        fixes.append(Fix("servers", "servers", f"missing; set to {DEFAULT_SERVER}"))
    known = _param_schemas(spec)
    for method, path, op in spec.operations():
        where = f"{method.upper()} {path}"
        params: list[dict[str, Any]] = op.setdefault("parameters", [])
        in_path = PATH_PARAM.findall(path)
        declared = [p["name"] for p in params if p.get("in") == "path"]
        for name in in_path:
            if name not in declared:
                schema = copy.deepcopy(known.get(name, {"type": "string"}))
                params.append({"name": name, "in": "path", "required": True, "schema": schema})
                fixes.append(
                    Fix(
                        "undeclared-path-param",
                        where,
                        f"declared {{{name}}} ({schema.get('type')})",
                    )
                )
        for p in list(params):
            if p.get("in") == "path" and p["name"] not in in_path:
                params.remove(p)
                fixes.append(
                    Fix("stray-path-param", where, f"dropped {p['name']!r}: not in the path")
                )
        for p in params:
            if (
                p.get("in") in ("query", "path")
                and not (p.get("schema") or {}).get("type")
                and ("$ref" not in (p.get("schema") or {}))
            ):
                p["schema"] = {**(p.get("schema") or {}), "type": "string"}
                fixes.append(
                    Fix(
                        "untyped-param", where, f"{p['in']} parameter {p['name']!r} typed as string"
                    )
                )
        for code, response in op.get("responses", {}).items():
            schema = response.get("content", {}).get("application/json", {}).get("schema", {})
            if schema.get("type") == "object" and not (
                {"properties", "additionalProperties", "allOf", "oneOf", "anyOf"} & schema.keys()
            ):
                schema["additionalProperties"] = {}
                fixes.append(Fix("free-form-response", where, f"{code}: an object of any keys"))
        if not op.get("operationId"):
            op["operationId"] = f"{method}_{path}"
            fixes.append(Fix("missing-operation-id", where, "named from its method and path"))
    _fix_path_param_types(spec)
    _fix_query_times(spec)
