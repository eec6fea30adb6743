"""Answers the live API really sent (tests/fixtures/live/), and how to replay one through the
client: a loopback server answers with the recorded status and body; the call goes through the
whole pipeline (``Session.request``) as the operation the recorded request was."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import attrs
from aiohttp import web

from calcom_async import CalCom, RequestOptions
from calcom_async._generated.operations import OPERATIONS, VARIANTS
from calcom_async._operation import Operation

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "live"


@attrs.frozen
class Recorded:
    name: str
    method: str
    path: str
    query: dict[str, str]
    version: str | None
    status: int
    body: Any
    source: str


def recorded() -> list[Recorded]:
    out = []
    for file in sorted(FIXTURES.glob("*.json")):
        data = json.loads(file.read_text())
        request = data["request"]
        url = urlsplit(request["path"])
        out.append(
            Recorded(
                name=file.stem,
                method=request["method"],
                path=url.path,
                query=dict(parse_qsl(url.query)),
                version=request.get("cal-api-version"),
                status=data["status"] or 200,  # a source without the status: a success
                body=data["body"],
                source=data["source"],
            )
        )
    return out


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$")


def operation_of(answer: Recorded) -> tuple[Operation, dict[str, str]]:
    """The operation the recorded request was, with its path values (literal segments first:
    ``/v2/bookings/{uid}/location`` before ``/v2/bookings/{uid}``)."""
    candidates = [
        op
        for op in OPERATIONS
        if op.method == answer.method and _pattern(op.path).match(answer.path)
    ]
    assert candidates, f"{answer.name}: no operation for {answer.method} {answer.path}"
    op = max(candidates, key=lambda o: o.path.count("/") - o.path.count("{"))
    names = re.findall(r"{([^}]+)}", op.path)
    values = re.match(_pattern(op.path).pattern.replace("[^/]+", "([^/]+)"), answer.path)
    assert values is not None
    if answer.version:
        op = VARIANTS.get((op.operation_id, answer.version), op)
    return op, dict(zip(names, values.groups(), strict=True))


@asynccontextmanager
async def replaying(answer: Recorded) -> AsyncIterator[str]:
    """A loopback server that answers every request with the recorded answer; yields its URL."""

    async def handler(request: web.Request) -> web.Response:
        return web.json_response(answer.body, status=answer.status)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def replay(answer: Recorded, body: Any = None, **client: Any) -> Any:
    """The recorded answer as the client returns it (or raises it)."""
    op, texts = operation_of(answer)
    params = {p.name: p for p in op.params}
    path = {k: _typed(params[k].type, v) for k, v in texts.items()}
    query = {
        k: _typed(params[k].type, v)
        for k, v in answer.query.items()
        if k in op.query_params_by_name
    }
    async with (
        replaying(answer) as url,
        CalCom(api_key="cal_test_replay", base_url=url, max_retries=0, **client) as cal,
    ):
        options = RequestOptions(api_version=answer.version) if answer.version else None
        return await cal.session.request(op, path=path, query=query, body=body, options=options)


def _typed(tp: Any, text: str) -> Any:
    """A recorded path or query text as the argument a caller would give."""
    if tp in (int, float):  # a recorded placeholder (<id>) where the value was removed
        return tp(text) if text.lstrip("-").isdigit() else 1
    return text


# -- mutations of real answers ------------------------------------------------------------------


def locations(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key or index path inside a JSON value (the root excluded)."""
    out: list[tuple[Any, ...]] = []
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else []
    )
    for key, value in items:
        out.append((*path, key))
        out.extend(locations(value, (*path, key)))
    return out


def mutate(body: Any, where: tuple[Any, ...], how: str) -> Any:
    """A copy of ``body`` changed at ``where``: the key dropped, null, another shape, another
    scalar type (``how``: drop, null, shape, type)."""
    body = copy.deepcopy(body)
    parent = body
    for key in where[:-1]:
        parent = parent[key]
    key = where[-1]
    if how == "drop" and isinstance(parent, dict):
        del parent[key]
    elif how == "null":
        parent[key] = None
    elif how == "shape":
        value = parent[key]
        parent[key] = (
            [value]
            if isinstance(value, dict)
            else {"value": value}
            if isinstance(value, list)
            else [value]
        )
    else:  # another scalar type
        value = parent[key]
        parent[key] = "text" if not isinstance(value, str) else 12345
    return body
