"""One operation of the document (or one live version of it) described as an
:class:`~codegen.opdesc.OpDesc`: its parameters typed, its body and answer classes, its
``cal-api-version``, auth modes and pagination style, its docstring text.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

from .annotate import Annotator
from .naming import snake
from .opdesc import BodyField, OpDesc, ParamDesc
from .spec import Spec, SpecError

_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}")
_AUTH_HEADERS = {
    "authorization": "bearer",
    "x-cal-secret-key": "platform",
    "x-cal-client-id": "platform",
}
_INT_NAMES = {"take", "skip", "limit", "offset", "page", "pageSize"}
RESERVED = {"self", "body", "request_options"}


def _body_models(
    annot: Annotator,
    schema: dict[str, Any],
    body: str,
    model_fields: dict[str, list[tuple[str, str, bool]]],
) -> list[str]:
    """The models keyword fields can build: the body's own, or every member of a union body
    (``oneOf``/``anyOf`` of models). Empty: no keyword fields (a free-form object, a union with
    a member that is not a model)."""
    if body in model_fields:
        return [body]
    resolved = annot.resolve(schema)
    members = resolved.get("oneOf") or resolved.get("anyOf") or []
    names = [annot.class_of(member, "") for member in members]
    if names and all(name in model_fields for name in names):
        return [name for name in names if name]
    return []


def _merged_fields(
    names: list[str], model_fields: dict[str, list[tuple[str, str, bool]]]
) -> list[tuple[str, str, bool]]:
    """The fields of one or more models, each once in the order first met: typed as every
    member that has it types it, required if every member requires it."""
    merged: dict[str, tuple[list[str], bool]] = {}
    for name in names:
        for attr, ann, required in model_fields[name]:
            pieces, always = merged.get(attr, ([], True))
            for piece in ann.split(" | "):
                if piece not in pieces:
                    pieces.append(piece)
            merged[attr] = (pieces, always and required)
    for attr, (pieces, always) in list(merged.items()):
        everywhere = all(attr in {f[0] for f in model_fields[name]} for name in names)
        merged[attr] = (pieces, always and everywhere)
    return [(attr, " | ".join(pieces), always) for attr, (pieces, always) in merged.items()]


def _api_version(params: list[dict[str, Any]]) -> str | None:
    for p in params:
        if p.get("in") == "header" and p["name"].lower() == "cal-api-version":
            schema = p.get("schema") or {}
            for candidate in (schema.get("default"), *(schema.get("enum") or ())):
                if isinstance(candidate, str) and _VERSION.fullmatch(candidate):
                    return candidate
            # codegen/normalise.py wrote a default for every header that names its version
            raise SpecError(f"cal-api-version header without a version: {p}")
    return None


def _docstring_text(text: str) -> str:
    """Text safe inside a triple-quoted docstring, continuation lines dedented."""
    lines = text.replace("\\", "\\\\").replace('"""', "'''").strip().splitlines()
    if not lines:
        return ""
    rest = textwrap.dedent("\n".join(lines[1:])).splitlines()
    return "\n".join(line.rstrip() for line in [lines[0].strip(), *rest]).strip()


def describe_operation(
    spec: Spec,
    annot: Annotator,
    model_fields: dict[str, list[tuple[str, str, bool]]],
    where: tuple[str, str, str],
    op: dict[str, Any],
    name: tuple[str, str, str | None],
) -> OpDesc:
    """One operation (or one live version of it, ``op`` its variant) as the templates need it."""
    method, path, oid = where
    namespace, method_name, deprecated = name
    ptr = f"#/paths/{path.lstrip('/')}/{method}"
    raw_params = op.get("parameters", [])
    params: list[ParamDesc] = []
    auth: set[str] = set()
    auth_required = False
    for p in raw_params:
        loc = p.get("in")
        if loc == "header":
            kind = _AUTH_HEADERS.get(p["name"].lower())
            if kind:
                auth.add(kind)
                auth_required = auth_required or bool(p.get("required"))
            # recorded in the table; the session sends these (auth, version), not the caller
            params.append(
                ParamDesc(p["name"], snake(p["name"]), "header", bool(p.get("required")), "str")
            )
            continue
        if loc not in ("path", "query"):
            continue
        schema = p.get("schema") or {}
        resolved = annot.resolve(schema)
        if loc == "path":
            ann = {"number": "int", "integer": "int"}.get(resolved.get("type", ""), "str")
        else:
            ann = annot.annotate(schema, f"{ptr}/parameters/{p['name']}", for_query=True)
            if ann == "float" and (p["name"] in _INT_NAMES or p["name"].endswith("Id")):
                ann = "int"
            if ann == "str" and re.search(r"Ids?$", p["name"]):
                ann = "int | str"  # an id, or several comma-joined
        py = snake(p["name"])
        if py in RESERVED:
            py += "_"
        params.append(
            ParamDesc(
                name=p["name"],
                python_name=py,
                location=loc,
                required=bool(p.get("required")) or loc == "path",
                annotation=ann,
                description=" ".join((p.get("description") or "").split()),
                explode=p.get("explode", p.get("style", "form") == "form"),
            )
        )
    # path parameters in path order, positional
    order = re.findall(r"{([^}/]+)}", path)
    rank = {"path": 0, "query": 1, "header": 2}
    params.sort(
        key=lambda x: (rank[x.location], order.index(x.name) if x.location == "path" else 0)
    )
    body = None
    body_required = False
    body_fields = None
    body_models: list[str] = []
    rb = op.get("requestBody")
    if rb:
        media = rb.get("content", {}).get("application/json")
        if media is None:
            raise SpecError(f"{method.upper()} {path}: request body is not JSON")
        body = annot.class_of(media.get("schema", {}), f"{ptr}/requestBody/application/json")
        if body is None:
            raise SpecError(f"{method.upper()} {path}: no class for the request body")
        body_required = bool(rb.get("required"))
        body_models = _body_models(annot, media.get("schema", {}), body, model_fields)
        if body_models:
            taken = {p.python_name for p in params} | RESERVED
            body_fields = [
                BodyField(attr, attr if attr not in taken else f"body_{attr}", ann, required)
                for attr, ann, required in _merged_fields(body_models, model_fields)
            ]
    response = None
    unwrap = False
    returns = "None"
    pagination = None
    has_meta = False
    codes = sorted(c for c in op.get("responses", {}) if c.startswith("2"))
    for code in codes:
        media = op["responses"][code].get("content", {}).get("application/json")
        if media is None:
            continue
        schema = media.get("schema", {})
        rptr = f"{ptr}/responses/{code}/application/json"
        response = annot.class_of(schema, rptr)
        if response is None:
            raise SpecError(f"{method.upper()} {path}: no class for the {code} response")
        resolved = annot.resolve(schema)
        props = resolved.get("properties", {})
        if "data" in props and "status" in props and response in annot.models:
            unwrap = True
            base = schema.get("$ref", rptr)
            returns = annot.annotate(props["data"], f"{base}/data")
        else:
            returns = f"_m.{response}"
        has_meta = "pagination" in props
        break
    if not codes:
        raise SpecError(f"{method.upper()} {path}: no 2xx response")
    if response is None:
        returns = "Any"  # undocumented answer: the decoded JSON, as the server sent it
    query_names = {p.name for p in params if p.location == "query"}
    if {"take", "skip"} <= query_names:
        pagination = "TAKE_SKIP" if has_meta else "BARE_LIST"
    elif "cursor" in query_names:
        pagination = "CURSOR"
    elif "limit" in query_names:
        pagination = "LIMIT"
    max_page_size = None
    for p in raw_params:
        if p.get("in") == "query" and p["name"] in ("take", "limit"):
            maximum = (p.get("schema") or {}).get("maximum")
            if isinstance(maximum, int | float):
                max_page_size = int(maximum)
    modes = []
    if "bearer" in auth:
        modes += ["API_KEY", "ACCESS_TOKEN"]
    if "platform" in auth:
        modes.append("PLATFORM")
    return OpDesc(
        operation_id=oid,
        namespace=namespace,
        method_name=method_name,
        http_method=method.upper(),
        path=path,
        summary=_docstring_text(" ".join((op.get("summary") or oid).split())),
        description=_docstring_text(op.get("description") or ""),
        params=params,
        body=body,
        body_required=body_required,
        body_fields=body_fields,
        body_models=body_models,
        response=response,
        unwrap=unwrap,
        returns=returns,
        api_version=_api_version(raw_params),
        versions=[v for v in [_api_version(raw_params)] if v],
        auth=modes,
        auth_required=auth_required,
        anonymous=op.get("security") == [],
        pagination=pagination,
        max_page_size=max_page_size if pagination else None,
        deprecated=deprecated,
    )
