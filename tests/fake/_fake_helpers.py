"""Helpers for the FakeCalCom tests: raw HTTP calls by operation name, and the document's
response schemas as a standard (OpenAPI 3.0) validator sees them, a fake on a thread of its own."""

from __future__ import annotations

import functools
import re
from typing import Any

import aiohttp
from openapi_schema_validator import OAS30Validator

from calcom_async._generated.operations import BY_NAME
from calcom_async.testing import FakeCalCom
from tests.support.spec import normalised_spec


class Raw:
    """Calls the fake by operation name with the headers the operation needs."""

    def __init__(self, fake: FakeCalCom, session: aiohttp.ClientSession) -> None:
        self.fake = fake
        self.session = session
        self.token: str | None = None

    async def __call__(
        self,
        name: str,
        *,
        path: dict[str, Any] | None = None,
        query: dict[str, Any] | None = None,
        body: Any = None,
        auth: str = "key",
        expect: int | None = None,
    ) -> Any:
        op = BY_NAME[name]
        url = self.fake.base_url + re.sub(
            r"\{([^}]+)\}", lambda m: str((path or {})[m.group(1)]), op.path
        )
        headers = {}
        if op.api_version:
            headers["cal-api-version"] = op.api_version
        if auth == "key":
            headers["Authorization"] = f"Bearer {self.fake.api_key}"
        elif auth == "token":
            headers["Authorization"] = f"Bearer {self.token}"
        if auth in ("platform", "token") or any(p.name == "x-cal-secret-key" for p in op.params):
            headers["x-cal-client-id"] = self.fake.client_id
            headers["x-cal-secret-key"] = self.fake.client_secret
        params = {k: str(v) for k, v in (query or {}).items()}
        async with self.session.request(
            op.method, url, json=body, headers=headers, params=params
        ) as response:
            data = await response.json(content_type=None)
            status = response.status
        if expect is not None:
            assert status == expect, (name, status, data)
        else:
            assert status < 300, (name, status, data)
        return data


#: Defects of the document (after our overlay) that make valid answers fail a standard
#: validator; corrected here only for validation and reported for ``openapi/overlay.yaml``.
DOCUMENT_DEFECTS = (
    "nullable next to allOf ($ref): OpenAPI 3.0 applies nullable to the whole schema; the "
    "validator applies it only next to 'type'",
    "Output*Location oneOf: OutputOrganizersDefaultAppLocation accepts any {type}, so every "
    "location matches two branches; each branch's type has one allowed value (its description)",
)


def _correct(node: Any) -> Any:
    if isinstance(node, list):
        return [_correct(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: _correct(v) for k, v in node.items()}
    if out.get("nullable") and "allOf" in out and "type" not in out:
        rest = {k: v for k, v in out.items() if k != "nullable"}
        return {"anyOf": [{"type": "object", "nullable": True, "enum": [None]}, rest]}
    return out


@functools.cache
def _document() -> dict[str, Any]:
    doc: dict[str, Any] = _correct(normalised_spec().doc)
    for name, schema in doc["components"]["schemas"].items():
        kind = schema.get("properties", {}).get("type", {})
        desc = str(kind.get("description", ""))
        if name.startswith("Output") and "Location" in name and "only allowed value" in desc:
            value = desc.split("`")[1] if "`" in desc else kind.get("example")
            kind["enum"] = [value]
    return doc


@functools.cache
def response_validator(name: str) -> OAS30Validator | None:
    """A validator of the 2xx JSON body the document declares for the operation."""
    op = BY_NAME[name]
    doc = _document()
    spec = doc["paths"][op.path][op.method.lower()]
    for code, response in spec["responses"].items():
        if code.startswith("2"):
            schema = response.get("content", {}).get("application/json", {}).get("schema")
            if schema is None:
                return None
            wrapped = {**schema, "components": doc["components"]}
            return OAS30Validator(wrapped)
    return None


def success_codes(name: str) -> list[int]:
    """The 2xx status codes the document declares for the operation."""
    op = BY_NAME[name]
    spec = _document()["paths"][op.path][op.method.lower()]
    return [int(code) for code in spec["responses"] if code.startswith("2")]


def schema_errors(name: str, body: Any) -> list[str]:
    validator = response_validator(name)
    if validator is None:
        return []
    return [
        f"{name}: {'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
        for e in validator.iter_errors(body)
    ]
