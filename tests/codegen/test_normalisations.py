"""Each defect that releases of the document show is normalised and reported, on a small
synthetic document (so that a later release with the same defect is covered whatever the shared
releases hold): a ``$ref`` to an undefined schema, ``required`` as a boolean on a property and on
an array's ``items``, duplicate operationIds, auth declared as security schemes, a
``cal-api-version`` header without a default, and overlay actions this document cannot take."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from codegen.normalise import normalise
from codegen.overlay import apply_overlay
from codegen.spec import Spec, SpecError
from tests.support.spec import ROOT

ENVELOPE_OF = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["success", "error"]},
        "data": {"$ref": "#/components/schemas/Thing"},
    },
    "required": ["status", "data"],
}


def _ok(schema: dict[str, Any]) -> dict[str, Any]:
    return {"200": {"description": "", "content": {"application/json": {"schema": schema}}}}


def synthetic() -> dict[str, Any]:
    return {
        "openapi": "3.0.0",
        "info": {"title": "synthetic", "version": "1"},
        "servers": [{"url": "https://api.cal.com"}],
        "security": [{"bearerAuth": []}],
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Thing": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "number", "required": True},
                        "name": {"type": "string", "required": False},
                        "tags": {
                            "type": "array",
                            "items": {"type": "string", "required": True},
                        },
                        "credentials": {"$ref": "#/components/schemas/ServiceAccountKeyInput"},
                    },
                },
                "ThingOutput": ENVELOPE_OF,
            },
        },
        "paths": {
            "/v2/things/{thingId}": {
                "get": {
                    "operationId": "ThingsController_get",
                    "tags": ["Things"],
                    "parameters": [
                        {
                            "name": "cal-api-version",
                            "in": "header",
                            "required": True,
                            "description": "Must be set to 2024-08-13",
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "thingId",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "number"},
                        },
                    ],
                    "responses": _ok({"$ref": "#/components/schemas/ThingOutput"}),
                }
            },
            "/v2/things": {
                "get": {
                    "operationId": "ThingsController_get",
                    "tags": ["Things"],
                    "responses": _ok({"$ref": "#/components/schemas/ThingOutput"}),
                }
            },
        },
    }


def _run(doc: dict[str, Any], tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    spec = tmp_path / "synthetic.json"
    spec.write_text(json.dumps(doc))
    shutil.copytree(
        ROOT / "calcom_async",
        tmp_path / "pkg" / "calcom_async",
        ignore=shutil.ignore_patterns("__pycache__", "_generated"),
    )
    out = tmp_path / "pkg" / "calcom_async" / "_generated"
    result = subprocess.run(
        [sys.executable, "-m", "codegen", "--spec", str(spec), "--no-verify", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result, tmp_path / "pkg"


_PROBE = """
import json
from calcom_async._generated import models
from calcom_async._generated.operations import OPERATIONS
print(json.dumps({
    "ops": sorted([op.operation_id, op.name, op.api_version, sorted(a.name for a in op.auth),
                   op.auth_required] for op in OPERATIONS),
    "thing": {a.name: [str(a.type), a.default is not models.Thing.__attrs_attrs__[0].default]
              for a in models.Thing.__attrs_attrs__},
}))
"""


def test_each_defect_is_normalised_reported_and_generates(tmp_path: Path) -> None:
    result, pkg = _run(synthetic(), tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "fix [dangling-ref] ServiceAccountKeyInput: referenced but not defined" in out
    assert "fix [boolean-required] Thing.id: moved to the object's required" in out
    assert "fix [boolean-required] Thing.name: moved to the object's required" in out
    assert "fix [boolean-required] Thing.tags[]: dropped from array items" in out
    assert "fix [duplicate-operation-id] GET /v2/things: ThingsController_get renamed" in out
    assert "fix [security-scheme] GET /v2/things/{thingId}: auth header parameters" in out
    assert "fix [api-version-default] GET /v2/things/{thingId}: 2024-08-13 (from its desc" in out
    # the project's overlay: none of its targets is in this document; each is said, none fails
    assert "skipped: no match in this document" in out
    assert "operations 2/2 schemas 2/2" in out

    probe = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=pkg,
        env={"PYTHONPATH": str(pkg), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    seen = json.loads(probe.stdout)
    ids = [row[0] for row in seen["ops"]]
    assert len(set(ids)) == 2 and "ThingsController_get" in ids
    for _oid, _name, _version, auth, required in seen["ops"]:
        assert auth == ["ACCESS_TOKEN", "API_KEY"] and required is True
    assert sorted(row[2] or "" for row in seen["ops"]) == ["", "2024-08-13"]
    thing = seen["thing"]
    assert "Unset" not in thing["id"][0]  # required now
    assert "Unset" in thing["name"][0]  # "required": false: optional
    assert "dict[str, Any]" in thing["credentials"][0]  # the undefined schema: free-form


def test_a_header_that_names_no_version_is_a_clear_error() -> None:
    doc = synthetic()
    header = doc["paths"]["/v2/things/{thingId}"]["get"]["parameters"][0]
    header["description"] = "The API version"
    spec = Spec(doc=doc, sha256="", source="synthetic")
    with pytest.raises(SpecError, match="cal-api-version header that names no version"):
        normalise(spec)


def test_an_overlay_action_on_a_schema_this_release_lacks_is_skipped(tmp_path: Path) -> None:
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(
        "overlay: 1.0.0\n"
        "info: {title: t, version: '1'}\n"
        "actions:\n"
        "  - target: $.components.schemas.Thing.properties.name\n"
        "    description: name is a Widget\n"
        "    update: {$ref: '#/components/schemas/Widget'}\n"
        "  - target: $.components.schemas.Gone.properties.name\n"
        "    description: a schema of another release\n"
        "    update: {type: string}\n"
        "  - target: $.components.schemas.Thing.properties.tags\n"
        "    description: tags described\n"
        "    update: {description: the tags}\n"
    )
    doc = synthetic()
    spec = Spec(doc=doc, sha256="", source="synthetic")
    apply_overlay(spec, overlay)
    fixes = [str(f) for f in spec.fixes]
    assert fixes == [
        "fix [overlay] $.components.schemas.Thing.properties.name: "
        "skipped: refers to Widget, not defined here",
        "fix [overlay] $.components.schemas.Gone.properties.name: "
        "skipped: no match in this document (fixed or absent)",
        "fix [overlay] $.components.schemas.Thing.properties.tags: tags described",
    ]
    assert "$ref" not in doc["components"]["schemas"]["Thing"]["properties"]["name"]
    assert doc["components"]["schemas"]["Thing"]["properties"]["tags"]["description"] == "the tags"
