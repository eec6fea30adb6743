"""Contract run: every operation of the document, called through the generated client with
arguments built from the document, against Prism's mock of that document.

Prism (``@stoplight/prism-cli``, installed by ``make contract`` into ``.tools/``) validates every
request against the document and lists what it finds in the ``sl-violations`` header (or answers
422); a request violation fails the operation. The client must then structure Prism's answer.
The run prints ``contract N/230``; an operation that fails must be listed in ``allowlist.txt``
with a reason. Runs only under ``make contract``
(``CALCOM_CONTRACT=1``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import typing
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from calcom_async import CalCom
from calcom_async._generated.operations import OPERATIONS
from calcom_async._operation import Operation
from codegen.examples import ExampleBuilder
from tests.support.net import free_port
from tests.support.spec import ROOT, normalised_spec

HERE = Path(__file__).resolve().parent
TOOLS = ROOT / ".tools"
PRISM = Path(os.environ.get("PRISM_BIN", TOOLS / "prism" / "node_modules" / ".bin" / "prism"))

pytestmark = pytest.mark.skipif(
    os.environ.get("CALCOM_CONTRACT") != "1", reason="the contract run is `make contract`"
)


def allow_list() -> dict[str, str]:
    entries: dict[str, str] = {}
    for line in (HERE / "allowlist.txt").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, reason = line.partition(":")
        entries[name.strip()] = reason.strip()
    return entries


@pytest.fixture(scope="module")
def prism() -> Iterator[str]:
    if not PRISM.exists():
        pytest.fail(f"{PRISM} is missing: run `make contract` (it installs Prism into .tools/)")
    work = TOOLS / "contract"
    work.mkdir(parents=True, exist_ok=True)
    document = work / "openapi.json"  # the document as the generator sees it (overlay applied)
    document.write_text(json.dumps(normalised_spec().doc))
    port = free_port()
    log = (work / "prism.log").open("w")
    process = subprocess.Popen(
        [str(PRISM), "mock", str(document), "-h", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"prism exited: see {work / 'prism.log'}")
            if "Prism is listening" in (work / "prism.log").read_text():
                break
            time.sleep(0.2)
        else:
            pytest.fail("prism did not start within 120 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
        log.close()


# -- arguments from the document ----------------------------------------------------------------


def _coerce(value: Any, tp: Any) -> Any:
    """The document's example value as the parameter's type (``Param.type``) takes it."""
    many = typing.get_origin(tp) is Sequence
    inner = typing.get_args(tp)[0] if many else tp
    if typing.get_origin(inner) is typing.Literal:
        choices = [str(c) for c in typing.get_args(inner)]
        pick = value if value in choices else choices[0]
        return [pick] if many else pick
    if many:
        items = value if isinstance(value, list) else [value]
        return [_coerce(v, inner) for v in items]
    if tp is int:
        return int(float(value)) if not isinstance(value, bool) else 1
    if tp is float:
        return float(value) if isinstance(value, int | float) else 1.0
    if tp is bool:
        return bool(value)
    if tp is str:
        return value if isinstance(value, str) else str(value)
    return value


def optional_usable(param: dict[str, Any]) -> bool:
    """Optional query parameters are sent too when the document gives a usable value for them
    (an enum or a schema example; parameter examples like ``?status=upcoming`` are prose)."""
    schema = param.get("schema", {})
    items = schema.get("items", {})
    return bool(schema.get("enum") or items.get("enum") or "example" in schema)


def arguments(op: Operation) -> tuple[list[Any], dict[str, Any], Any]:
    doc = normalised_spec().doc
    spec = doc["paths"][op.path][op.method.lower()]
    builder = ExampleBuilder(doc)
    declared = {p["name"]: p for p in spec.get("parameters", [])}
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for param in op.params:
        if param.location == "header":
            continue
        raw = declared.get(param.name, {})
        schema = raw.get("schema", {})
        if param.location == "query" and not param.required and not optional_usable(raw):
            continue
        value = builder.build(schema, optional=False)
        if value is None or value == "" or value == {}:
            value = raw.get("example", "1")
        value = _coerce(value, param.type)
        if param.location == "path":
            args.append(value)
        else:
            kwargs[param.python_name] = value
    body = None
    content = spec.get("requestBody", {}).get("content", {}).get("application/json")
    if content is not None and op.body is not None:
        body = builder.build(content["schema"], optional=False)
    return args, kwargs, body


async def call(cal: CalCom, op: Operation) -> str | None:
    """None if Prism accepted the request and the client structured the answer, else why not."""
    *parents, method = op.name.split(".")
    resource: Any = cal
    for part in parents:
        resource = getattr(resource, part)
    fn = getattr(resource.with_raw_response, method)
    args, kwargs, body = arguments(op)
    if body is not None:
        kwargs["body"] = body
    try:
        with warnings.catch_warnings():
            if op.deprecated:  # said on every call of it (tests/session/test_session_operations.py)
                warnings.simplefilter("ignore", DeprecationWarning)
            response = await fn(*args, **kwargs)
    except Exception as exc:
        body = getattr(exc, "body", None)
        return f"request: {type(exc).__name__}: {exc} {json.dumps(body)[:600] if body else ''}"
    errors = request_violations(response.headers.get("sl-violations"))
    if errors:
        return "request: prism: " + "; ".join(errors)[:600]
    try:
        response.parse()
    except Exception as exc:
        return f"response: {type(exc).__name__}: {str(exc)[:400]}"
    return None


def request_violations(header: str | None) -> list[str]:
    """Prism's ``sl-violations`` entries about the request (its own example answers may break
    the document's response schemas; those are the document's defects, logged not counted)."""
    if not header:
        return []
    found = []
    for item in json.loads(header):
        if item.get("location", [""])[0] == "request" and item.get("severity") == "Error":
            found.append(f"{'.'.join(map(str, item['location']))}: {item.get('message')}")
    return found


async def test_every_operation_against_prism(prism: str) -> None:
    results: dict[str, str | None] = {}
    async with CalCom(
        api_key="cal_test_contract",
        client_id="contract-client",
        client_secret="contract-secret",
        base_url=prism,
        max_retries=0,
        rate_limit=False,
    ) as cal:
        for op in OPERATIONS:
            results[op.name] = await call(cal, op)
    passed = [name for name, why in results.items() if why is None]
    failed = {name: why for name, why in results.items() if why is not None}
    allowed = allow_list()
    print(f"\ncontract {len(passed)}/{len(OPERATIONS)}")
    for name, why in sorted(failed.items()):
        mark = "allowed" if name in allowed else "FAILED"
        print(f"  {mark}: {name}: {why}")
    report = TOOLS / "contract" / "report.json"
    report.write_text(json.dumps({"passed": len(passed), "failed": failed}, indent=1))
    assert all(reason for reason in allowed.values()), "every allow-list entry needs a reason"
    stale = sorted(set(allowed) & set(passed))
    unexpected = sorted(set(failed) - set(allowed))
    assert not unexpected, f"{len(unexpected)} operations failed: {unexpected}"
    assert not stale, f"allow-listed operations that now pass (remove them): {stale}"
