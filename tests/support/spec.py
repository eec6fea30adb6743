"""The document as the generator sees it (pin checked, overlay applied, defects normalised)."""

from __future__ import annotations

import functools
import json
from typing import Any

from codegen.normalise import normalise
from codegen.overlay import apply_overlay
from codegen.spec import Spec, load, pinned_document
from tests.support.files import ROOT

DOCUMENT = pinned_document()
RELEASES = (ROOT / ".." / "shared" / "openapi" / "releases").resolve()


@functools.cache
def normalised_spec() -> Spec:
    spec = load(str(DOCUMENT))
    apply_overlay(spec)
    normalise(spec)
    return spec


def raw_document() -> dict[str, Any]:
    return json.loads(DOCUMENT.read_text())  # type: ignore[no-any-return]


def document_counts(doc: dict[str, Any] | None = None) -> tuple[int, int]:
    """(operations, component schemas) of a document as published (the pinned one by default)."""
    doc = raw_document() if doc is None else doc
    methods = ("get", "post", "put", "patch", "delete")
    ops = sum(method in methods for item in doc["paths"].values() for method in item)
    return ops, len(doc.get("components", {}).get("schemas", {}))
