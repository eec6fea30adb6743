"""The generator: every operation and schema, a newer document, determinism, the drift check."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from calcom_async._generated import models
from calcom_async._generated.client import GeneratedNamespaces
from calcom_async._generated.operations import BY_ID, OPERATIONS
from calcom_async._operation import AuthMode, Pagination
from tests.support.spec import DOCUMENT, ROOT, document_counts, normalised_spec, raw_document

GENERATED = ROOT / "calcom_async" / "_generated"


def run_codegen(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codegen", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


class _NoSession:
    async def request(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover
        raise AssertionError("not called")


class _Root(GeneratedNamespaces):
    def __init__(self) -> None:
        self._session = _NoSession()  # type: ignore[assignment]
        self._namespaces = {}


def document_operations() -> list[dict[str, Any]]:
    doc = raw_document()
    return [
        op
        for item in doc["paths"].values()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def test_every_operation_has_one_row_and_one_method() -> None:
    ids = [op["operationId"] for op in document_operations()]
    assert len(ids) == document_counts()[0]
    assert sorted(BY_ID) == sorted(ids)
    assert len(OPERATIONS) == len(ids)
    root = _Root()
    names = set()
    for op in OPERATIONS:
        target: Any = root
        for part in op.name.split("."):
            target = getattr(target, part)
        assert callable(target), op.name
        assert target.__doc__ and target.__doc__.strip(), op.name
        names.add(op.name)
    assert len(names) == len(ids)  # one method per operation, no two share a name


def test_every_component_schema_has_a_class() -> None:
    schemas = raw_document()["components"]["schemas"]
    assert len(schemas) == document_counts()[1]
    by_ref = {ref: name for name, ref in models.SCHEMA_REFS.items()}
    free_form = []
    for name in schemas:
        cls_name = by_ref[f"#/components/schemas/{name}"]
        model = getattr(models, cls_name)
        if model == dict[str, Any]:  # an object with no properties: a free-form JSON object
            free_form.append(name)
        else:
            assert model.__name__ == cls_name
    assert len(free_form) <= 4, free_form


def test_table_rows_carry_versions_auth_and_pagination() -> None:
    # the document as the generator reads it: a version header without a default has one
    # written from its description ("Must be set to 2024-08-13"), codegen/normalise.py
    raw = {op["operationId"]: op for _m, _p, op in normalised_spec().operations()}
    versions = 0
    for op in OPERATIONS:
        headers = {
            p["name"]: p for p in raw[op.operation_id].get("parameters", []) if p["in"] == "header"
        }
        if "cal-api-version" in headers:
            versions += 1
            assert op.api_version == headers["cal-api-version"]["schema"]["default"]
        else:
            assert op.api_version is None
        if "Authorization" in headers:
            assert {AuthMode.API_KEY, AuthMode.ACCESS_TOKEN} <= op.auth
        if "x-cal-secret-key" in headers:
            assert AuthMode.PLATFORM in op.auth
    assert versions == 33  # of the pinned document (fea00aa8)
    bookings = BY_ID["BookingsController_2024_08_13_getBookings"]
    assert bookings.name == "bookings.list"
    assert bookings.api_version == "2024-08-13"
    assert bookings.pagination is Pagination.TAKE_SKIP
    assert BY_ID["OAuthClientUsersController_getManagedUsers"].pagination is Pagination.LIMIT
    assert sum(op.pagination is not None for op in OPERATIONS) == 41


def test_undeclared_path_parameters_are_declared() -> None:
    for op in OPERATIONS:
        in_path = re.findall(r"{([^}/]+)}", op.path)
        assert [p.name for p in op.path_params] == in_path, op.operation_id


def test_resources_read_like_the_api() -> None:
    root = _Root()
    for name in (
        "create",
        "get",
        "list",
        "cancel",
        "reschedule",
        "confirm",
        "decline",
        "mark_absent",
        "reassign",
    ):
        assert callable(getattr(root.bookings, name))
    assert callable(root.organizations.teams.memberships.list)
    assert callable(root.event_types.webhooks.update)
    assert callable(root.me.get)
    for op in OPERATIONS:
        method = op.name.rsplit(".", 1)[-1]
        assert "controller" not in op.name.lower()
        assert not re.search(r"_\d+$", method), op.name


def test_generation_is_deterministic_and_committed(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    result = run_codegen("--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    ops, schemas = document_counts()
    summary = f"operations {ops}/{ops} schemas {schemas}/{schemas}"
    assert summary in result.stdout.strip().splitlines()[-1]
    produced = {p.relative_to(out).as_posix(): p.read_text() for p in out.rglob("*.py")}
    committed = {
        p.relative_to(GENERATED).as_posix(): p.read_text() for p in GENERATED.rglob("*.py")
    }
    assert produced == committed
    assert not any(
        re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", t.split("\n", 2)[0]) for t in produced.values()
    )


def test_check_fails_on_a_hand_edit(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    shutil.copytree(GENERATED, out, ignore=shutil.ignore_patterns("__pycache__"))
    assert run_codegen("--out", str(out), "--check", "--quiet").returncode == 0
    target = out / "operations.py"
    target.write_text(target.read_text() + "\n# a hand edit\n")
    result = run_codegen("--out", str(out), "--check", "--quiet")
    assert result.returncode == 1
    assert "operations.py" in result.stderr


def test_pin_is_checked(tmp_path: Path) -> None:
    changed = tmp_path / "doc.json"
    changed.write_text(DOCUMENT.read_text().replace('"Cal.com API v2"', '"Cal.com API v2 "', 1))
    result = run_codegen("--spec", str(changed), "--out", str(tmp_path / "gen"), "--quiet")
    assert result.returncode == 1
    assert "sha256" in result.stderr


def test_a_newer_document_generates_without_hand_edits(tmp_path: Path) -> None:
    doc = raw_document()
    new = copy.deepcopy(doc)
    # add an operation (with a new tag, undeclared path parameter) and a schema; remove one of each
    new["components"]["schemas"]["WidgetOutput"] = {
        "type": "object",
        "properties": {"id": {"type": "number"}, "name": {"type": "string"}},
        "required": ["id"],
    }
    new["paths"]["/v2/widgets/{widgetId}"] = {
        "get": {
            "operationId": "WidgetsController_getWidget",
            "summary": "Get a widget",
            "tags": ["Widgets"],
            "parameters": [],
            "responses": {
                "200": {
                    "description": "",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "status": {"type": "string", "enum": ["success", "error"]},
                                    "data": {"$ref": "#/components/schemas/WidgetOutput"},
                                },
                                "required": ["status", "data"],
                            }
                        }
                    },
                }
            },
        }
    }
    del new["paths"]["/v2/api-keys/refresh"]
    del new["components"]["schemas"]["RefreshApiKeyInput"]
    spec = tmp_path / "newer.json"
    spec.write_text(json.dumps(new))
    out = tmp_path / "gen"
    result = run_codegen("--spec", str(spec), "--no-verify", "--out", str(out))
    assert result.returncode == 0, result.stderr
    ops, schemas = document_counts(new)
    assert f"operations {ops}/{ops} schemas {schemas}/{schemas}" in result.stdout
    assert "undeclared-path-param] GET /v2/widgets/{widgetId}" in result.stdout
    ops = (out / "operations.py").read_text()
    assert "WidgetsController_getWidget" in ops
    assert "ApiKeysController_refresh" not in ops
    assert (out / "models" / "widget_output.py").exists()
    assert not (out / "models" / "refresh_api_key_input.py").exists()
    assert "def get(" in (out / "resources" / "widgets.py").read_text()
    for path in out.rglob("*.py"):
        compile(path.read_text(), str(path), "exec")


def test_known_defects_are_reported() -> None:
    result = run_codegen("--out", "/dev/null/never-written", "--check")
    lines = result.stdout.splitlines()
    undeclared = {
        line.split(": declared")[0] for line in lines if "[undeclared-path-param]" in line
    }
    assert len(undeclared) == 65  # of the pinned document (fea00aa8)
    assert sum("[stray-path-param]" in line for line in lines) == 2
    assert any("[servers]" in line for line in lines)


def _attribute_docstrings(cls: type[Any]) -> dict[str, str]:
    """The attribute docstrings of a generated class, as IDEs read them (a string right after
    the annotated field)."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(sys.modules[cls.__module__]))
    (node,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls.__name__]
    found: dict[str, str] = {}
    for field, after in zip(node.body, node.body[1:], strict=False):
        if (
            isinstance(field, ast.AnnAssign)
            and isinstance(field.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            found[field.target.id] = after.value.value
    return found


def test_models_carry_the_documents_descriptions_as_docstrings() -> None:
    """Every property the document describes has its description as the field's attribute
    docstring, and every described schema as the class docstring (IDE hovers show them)."""
    import attrs

    schemas = normalised_spec().doc["components"]["schemas"]
    fields = classes = 0
    for name, ref in models.SCHEMA_REFS.items():
        cls = getattr(models, name)
        schema = schemas.get(ref.rsplit("/", 1)[-1]) if ref.count("/") == 3 else None
        if not attrs.has(cls) or not isinstance(schema, dict):
            continue
        if schema.get("description"):
            classes += 1
            assert (cls.__doc__ or "").strip() == schema["description"].strip(), name
        docs = _attribute_docstrings(cls)
        wire = {a.metadata.get("json", a.name): a.name for a in attrs.fields(cls)}
        for key, prop in schema.get("properties", {}).items():
            text = prop.get("description") if isinstance(prop, dict) else None
            if text and key in wire:
                assert docs.get(wire[key], "").strip() == text.strip(), (name, key)
                fields += 1
    assert classes > 0 and fields > 800, (classes, fields)
