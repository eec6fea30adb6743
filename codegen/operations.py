"""Operations of the document -> small typed descriptions the templates render.

:func:`build` names each operation of the document (its namespace and method, from the tag,
``openapi/names.yaml`` and the operationId) and describes it, and each live version of it whose
parameters or answer differ, as an :class:`~codegen.opdesc.OpDesc` (``describe.py``);
:func:`build_internal` the overlay's operations the library calls itself.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from .annotate import Annotator
from .describe import describe_operation
from .naming import default_method, default_namespace, load_names, snake
from .opdesc import OpDesc
from .spec import Fix, Spec, SpecError

#: the overlay's annotation of the versions the live API answers to beyond the document's
#: (``../shared/docs/CALCOM-API.md``, "The live API beyond the document"): version -> how that
#: version differs (``{}``: in nothing the client sees; ``pagination: cursor``: pages with
#: ``limit``/``cursor``; ``response``: its own answer schema)
LIVE_VERSIONS = "x-calcom-live-versions"
#: the overlay's operations the document leaves out that the library calls itself (the OAuth
#: token and client endpoints): a ``paths`` object whose rows are generated, with no method
INTERNAL = "x-calcom-operations"
_DEPRECATED_TAG = re.compile(r"^Deprecated:\s*(.+)$")


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
        desc = describe_operation(
            spec, annot, model_fields, (method, path, oid), op, (namespace, method_name, deprecated)
        )
        for version, variant in sorted((op.get(LIVE_VERSIONS) or {}).items()):
            desc.versions.append(version)
            if variant:  # its own parameters or answer: a row of its own
                desc.variants.append(
                    describe_operation(
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
                describe_operation(
                    spec, annot, model_fields, where, op, (namespace, method_name, None)
                )
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
