"""Operations of the document -> small typed descriptions the templates render.

Each :class:`OpDesc` carries what the generated method and the operation-table row need: public
name, parameters with Python types, body and response classes, required ``cal-api-version``,
auth modes and pagination style.
"""

from __future__ import annotations

import copy
import re
import textwrap
from dataclasses import dataclass, field
from typing import Any

from .annotate import Annotator, split_union
from .naming import default_method, default_namespace, load_names, snake
from .spec import Fix, Spec, SpecError

_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}")
_AUTH_HEADERS = {
    "authorization": "bearer",
    "x-cal-secret-key": "platform",
    "x-cal-client-id": "platform",
}
#: the overlay's annotation of the versions the live API answers to beyond the document's
#: (``../shared/docs/CALCOM-API.md``, "The live API beyond the document"): version -> how that
#: version differs (``{}``: in nothing the client sees; ``pagination: cursor``: pages with
#: ``limit``/``cursor``; ``response``: its own answer schema)
LIVE_VERSIONS = "x-calcom-live-versions"
#: the overlay's operations the document leaves out that the library calls itself (the OAuth
#: token and client endpoints): a ``paths`` object whose rows are generated, with no method
INTERNAL = "x-calcom-operations"
_DEPRECATED_TAG = re.compile(r"^Deprecated:\s*(.+)$")
_INT_NAMES = {"take", "skip", "limit", "offset", "page", "pageSize"}
RESERVED = {"self", "body", "request_options"}


@dataclass
class ParamDesc:
    name: str
    python_name: str
    location: str
    required: bool
    annotation: str
    description: str = ""
    explode: bool = True


@dataclass
class BodyField:
    name: str  # attribute name on the model
    python_name: str  # keyword argument name
    annotation: str
    required: bool


@dataclass
class OpDesc:
    operation_id: str
    namespace: str
    method_name: str
    http_method: str
    path: str
    summary: str
    description: str
    params: list[ParamDesc]
    body: str | None
    body_required: bool
    body_fields: list[BodyField] | None
    response: str | None
    unwrap: bool
    returns: str
    api_version: str | None
    auth: list[str]
    auth_required: bool
    pagination: str | None
    anonymous: bool = False  #: ``security: []``: the call sends no credentials
    max_page_size: int | None = None
    deprecated: str | None = None  #: why the operation is deprecated (None: it is not)
    #: every ``cal-api-version`` it answers to: the document's, then the live API's (overlay)
    versions: list[str] = field(default_factory=list)
    #: rows of its own for live versions whose parameters or answer differ
    variants: list[OpDesc] = field(default_factory=list)
    #: the body's model, or the models of a union body in the document's order (keyword
    #: fields build the first that has every field given and all it requires)
    body_models: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def const(self) -> str:
        base = (self.namespace.replace(".", "_") + "_" + self.method_name).upper()
        if "@" in self.operation_id:  # a live version's row: BOOKINGS_LIST_2026_05_01
            return base + "_" + self.operation_id.rsplit("@", 1)[1].replace("-", "_")
        return base

    @property
    def item_type(self) -> str:
        """What a paginated walk yields: the element type of the returned list."""
        if self.returns.startswith("list[") and self.returns.endswith("]"):
            return self.returns[5:-1]
        return "Any" if self.returns == "Any" else self.returns

    @property
    def public_name(self) -> str:
        return f"{self.namespace}.{self.method_name}"

    @property
    def members(self) -> list[str]:
        """The types a union answer can be (``None`` left out), which ``expect=`` narrows to;
        empty for an answer of one type and for paginated lists (their items are mixed)."""
        if self.pagination:
            return []
        found = [part for part in split_union(self.returns) if part not in ("None", "Any")]
        return found if len(found) > 1 else []

    @property
    def type_var(self) -> str:
        """The name of the ``TypeVar`` its ``expect=`` overload binds (bound: the union)."""
        return f"_T_{self.const}"


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
            # codegen/spec.py wrote a default for every header that names its version
            raise SpecError(f"cal-api-version header without a version: {p}")
    return None


def _docstring_text(text: str) -> str:
    """Text safe inside a triple-quoted docstring, continuation lines dedented."""
    lines = text.replace("\\", "\\\\").replace('"""', "'''").strip().splitlines()
    if not lines:
        return ""
    rest = textwrap.dedent("\n".join(lines[1:])).splitlines()
    return "\n".join(line.rstrip() for line in [lines[0].strip(), *rest]).strip()


def build(
    spec: Spec,
    classes: dict[str, str],
    models: set[str],
    model_fields: dict[str, list[tuple[str, str, bool]]],
) -> list[OpDesc]:
    names = load_names()
    annot = Annotator(spec.doc, classes, models)
    ops: list[OpDesc] = []
    seen: dict[str, str] = {}
    for method, path, op in spec.operations():
        oid = op["operationId"]
        tag = (op.get("tags") or ["misc"])[0]
        deprecated = "the document marks it deprecated" if op.get("deprecated") else None
        found = _DEPRECATED_TAG.match(tag)
        if found:
            # newer documents retag what they deprecate ("Deprecated: Platform / Webhooks"): the
            # namespace stays the one of the tag without the prefix, so names do not move
            deprecated = f"the document tags it {tag!r}"
            tag = found.group(1)
        namespace = names["namespaces"].get(tag)
        if namespace is None:
            namespace = default_namespace(tag)
            spec.fixes.append(
                Fix("name", oid, f"tag {tag!r} not in openapi/names.yaml: namespace {namespace}")
            )
        default = default_method(oid, namespace, method, path)
        method_name = names["methods"].get(oid) or default
        if method_name != default:
            spec.fixes.append(
                Fix("name", oid, f"{namespace}.{default} named {method_name} (openapi/names.yaml)")
            )
        if "." in method_name:
            namespace, method_name = method_name.rsplit(".", 1)
        public = f"{namespace}.{method_name}"
        if public in seen:
            # never drop or overwrite an operation: disambiguate and say so
            method_name = f"{method_name}_{snake(oid.split('_')[-1])}"
            spec.fixes.append(
                Fix("name", oid, f"{public} is taken by {seen[public]}: named {method_name}")
            )
            public = f"{namespace}.{method_name}"
        seen[public] = oid
        desc = _describe(
            spec, annot, model_fields, (method, path, oid), op, (namespace, method_name, deprecated)
        )
        for version, variant in sorted((op.get(LIVE_VERSIONS) or {}).items()):
            desc.versions.append(version)
            if variant:  # its own parameters or answer: a row of its own
                desc.variants.append(
                    _describe(
                        spec,
                        annot,
                        model_fields,
                        (method, path, f"{oid}@{version}"),
                        live_variant(op, version, variant),
                        (namespace, method_name, deprecated),
                    )
                )
        ops.append(desc)
    return ops


def build_internal(
    spec: Spec,
    classes: dict[str, str],
    models: set[str],
    model_fields: dict[str, list[tuple[str, str, bool]]],
) -> list[OpDesc]:
    """The rows of :data:`INTERNAL` (named in ``openapi/names.yaml`` ``methods``)."""
    names = load_names()["methods"]
    annot = Annotator(spec.doc, classes, models)
    found: list[OpDesc] = []
    for path, item in (spec.doc.get(INTERNAL) or {}).items():
        for method, op in item.items():
            oid = op["operationId"]
            if "." not in names.get(oid, ""):
                raise SpecError(f"{INTERNAL} {oid}: give it a dotted name in openapi/names.yaml")
            namespace, method_name = names[oid].rsplit(".", 1)
            where = (method, path, oid)
            found.append(
                _describe(spec, annot, model_fields, where, op, (namespace, method_name, None))
            )
    return found


def live_variant(op: dict[str, Any], version: str, variant: dict[str, Any]) -> dict[str, Any]:
    """The operation as the live API answers it at ``version`` (see :data:`LIVE_VERSIONS`)."""
    unknown = set(variant) - {"pagination", "response"}
    if unknown or variant.get("pagination", "cursor") != "cursor":
        raise SpecError(
            f"{op.get('operationId')}: {LIVE_VERSIONS} {version}: cannot read {variant}"
        )
    out = copy.deepcopy({k: v for k, v in op.items() if k != LIVE_VERSIONS})
    params = out.setdefault("parameters", [])
    for p in params:
        if p.get("in") == "header" and p["name"].lower() == "cal-api-version":
            p["schema"] = {"type": "string", "default": version}
    if variant.get("pagination") == "cursor":
        take = next((p for p in params if p.get("in") == "query" and p["name"] == "take"), {})
        maximum = (take.get("schema") or {}).get("maximum", 250)
        params[:] = [p for p in params if not (p.get("in") == "query" and p["name"] in _OFFSET)]
        params.append(
            {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": maximum}}
        )
        params.append({"name": "cursor", "in": "query", "schema": {"type": "string"}})
    if "response" in variant:
        code = min(c for c in out["responses"] if c.startswith("2"))
        out["responses"][code] = {
            "description": f"the live API's answer at {version}",
            "content": {"application/json": {"schema": variant["response"]}},
        }
    return out


_OFFSET = ("take", "skip")


def _describe(
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
