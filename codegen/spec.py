"""Load the document and check its pin: the :class:`Spec` the generator reads.

Every correction the generator makes to it, the overlay's (``overlay.py``) and the
normalisations' (``normalise.py``, ``schema_fixes.py``), is recorded as a :class:`Fix` and
printed, so that what we changed about Cal.com's document is visible in every run
(``make generate``).
"""

from __future__ import annotations

import hashlib
import json
import re
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
PIN = ROOT / "openapi" / "pin.json"


def pinned_document() -> Path:
    """Where the pinned document lies (``local`` in ``openapi/pin.json``, from the project root)."""
    return (ROOT / json.loads(PIN.read_text())["local"]).resolve()


HTTP_METHODS = ("get", "put", "post", "delete", "patch")


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


SCHEMA_REF = "#/components/schemas/"


def component_schemas(doc: dict[str, Any]) -> dict[str, Any]:
    """The document's ``components.schemas`` (made, empty, if it has none)."""
    schemas: dict[str, Any] = doc.setdefault("components", {}).setdefault("schemas", {})
    return schemas
