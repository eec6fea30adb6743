"""Our overlay (OpenAPI Overlay 1.0, ``openapi/overlay.yaml``) applied to the document.

Each action is recorded as a :class:`~codegen.spec.Fix` and printed; one whose target this
document does not have, or whose update refers to a schema it does not define, is reported and
skipped.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from jsonpath_ng.ext import parse as jsonpath

from .spec import ROOT, SCHEMA_REF, Fix, Spec, SpecError, component_schemas

OVERLAY = ROOT / "openapi" / "overlay.yaml"


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
        defined = set(component_schemas(spec.doc))
        if any(m.value is component_schemas(spec.doc) for m in matches):  # the update adds schemas
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


def _schema_refs(node: Any) -> set[str]:
    """The component schema names that ``$ref``s anywhere inside ``node`` point at."""
    if isinstance(node, dict):
        found = {r[len(SCHEMA_REF) :] for r in [node.get("$ref")] if isinstance(r, str)}
        return found.union(*(_schema_refs(v) for k, v in node.items() if k != "$ref"))
    if isinstance(node, list):
        return set().union(*(_schema_refs(v) for v in node))
    return set()
