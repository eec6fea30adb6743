"""The normalisations of the document's operations, and :func:`normalise`, which runs every
normalisation (these and the schemas', ``schema_fixes.py``) in order, each printed as a
:class:`~codegen.spec.Fix`.

Duplicate and missing operationIds, auth declared as security schemes, ``cal-api-version``
headers without a default, undeclared, stray and untyped parameters, one type per path parameter
name, date-time query filters, free-form answers, a missing server.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from .schema_fixes import (
    fix_boolean_required,
    fix_dangling_refs,
    fix_datetime_formats,
    fix_empty_objects,
    fix_ids,
    fix_prose_constants,
    fix_scalar_objects,
)
from .spec import Fix, Spec, SpecError

DEFAULT_SERVER = "https://api.cal.com"
PATH_PARAM = re.compile(r"{([^}/]+)}")


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
    fix_dangling_refs(spec)
    fix_boolean_required(spec)
    _fix_duplicate_operation_ids(spec)
    _fix_security_schemes(spec)
    _fix_version_defaults(spec)
    fix_prose_constants(spec)
    fix_ids(spec)
    fix_empty_objects(spec)
    fix_scalar_objects(spec)
    fix_datetime_formats(spec)
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
