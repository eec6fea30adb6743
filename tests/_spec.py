"""The document as the generator sees it (pin checked, overlay applied, defects normalised)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from codegen.spec import Spec, apply_overlay, load, normalise

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = (ROOT / ".." / "shared" / "openapi" / "calcom-v2.openapi.json").resolve()


@functools.cache
def normalised_spec() -> Spec:
    spec = load(str(DOCUMENT))
    apply_overlay(spec)
    normalise(spec)
    return spec


def raw_document() -> dict[str, Any]:
    return json.loads(DOCUMENT.read_text())  # type: ignore[no-any-return]
