"""What the fake checks of a call before a handler sees it, as the live API's validation pipe
(NestJS, class-validator) does: the ``cal-api-version`` an operation requires, the path and query
values (numbers, enums, page sizes, time zones) and the body (the operation's request model)."""

from __future__ import annotations

import json
import typing
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

from .._operation import Operation
from ._pages import MAX_TAKE
from ._records import Ctx, Principal, number_problems
from ._util import bad_request

__all__ = ["check_version", "read_call"]


def check_version(op: Operation, request: web.Request) -> Operation:
    """The row the call is served with: the operation's, or that of the live version sent
    (``bookings.list`` at 2026-05-01 pages with a cursor). Any other version is a 400."""
    if op.api_version is None:
        return op
    sent = request.headers.get("cal-api-version")
    if sent == op.api_version:
        return op
    if sent in op.known_versions:
        from .._generated.operations import VARIANTS

        return VARIANTS.get((op.operation_id, sent), op)
    got = "no cal-api-version header" if sent is None else f"cal-api-version {sent!r}"
    required = " or ".join(sorted(op.known_versions))
    raise bad_request(
        f"{op.method} {op.path} requires the header cal-api-version: {required}; "
        f"got {got}. The real API would silently treat this request as version 2024-04-15 "
        "and answer with that version's shapes.",
        [f"cal-api-version must be {required}"],
    )


async def read_call(op: Operation, request: web.Request, principal: Principal) -> Ctx:
    """What a handler is given (:class:`Ctx`): the path, query and body values, checked as the
    live API's validation pipe checks them (any problem: a 400 naming every one)."""
    details: list[str] = []
    path: dict[str, Any] = {}
    for param in op.path_params:
        value = request.match_info.get(param.name, "")
        if param.type in (int, float):
            try:
                path[param.name] = param.type(value)
            except ValueError:
                details.append(
                    f"{param.name} must be a number conforming to the specified constraints"
                )
                continue
        else:
            path[param.name] = value
    for param in op.query_params:
        values = request.query.getall(param.name, [])
        if not values:
            if param.required:
                details.append(f"{param.name} should not be empty")
            continue
        wrong = number_problems(param.name, param.type, values)  # not a number: 400
        details.extend(wrong or _check_query(op, param.name, param.type, values))
    body: Any = None
    if op.body is not None:
        raw = await request.read()
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                raise bad_request("Request body is not valid JSON") from None
            if not isinstance(body, dict):
                details.append("the request body must be a JSON object")
            else:
                details.extend(_check_zones(body, ""))
                details.extend(_validate_body(op, body))
        elif op.body_required:
            details.append("a request body is required")
    if details:
        raise bad_request(details[0], details)
    return Ctx(op=op, path=path, query=request.query, body=body, principal=principal)


_ZONE_KEYS = frozenset({"timeZone"})


def _allowed(tp: Any) -> tuple[tuple[str, ...], bool]:
    """The values a ``Literal[...]`` parameter type allows (empty: any), and whether it is a
    list of them (``Sequence[Literal[...]]``)."""
    many = typing.get_origin(tp) is Sequence
    if many:
        (tp,) = typing.get_args(tp)
    if typing.get_origin(tp) is not typing.Literal:
        return (), False
    return tuple(str(v) for v in typing.get_args(tp)), many


def _zone_ok(name: Any) -> bool:
    if not isinstance(name, str) or not name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _check_query(op: Operation, name: str, tp: Any, values: list[str]) -> list[str]:
    """What the live API's validation pipe (NestJS, class-validator) refuses in a query:
    values outside an enum, a page size over the maximum, an unknown time zone."""
    out: list[str] = []
    allowed, many = _allowed(tp)
    if allowed:
        given = [p.strip() for v in values for p in (v.split(",") if many else [v])]
        if any(v not in allowed for v in given if v):
            out.append(f"{name} must be one of the following values: {', '.join(allowed)}")
    if name in ("take", "limit") and op.pagination is not None:
        maximum = op.max_page_size or MAX_TAKE
        try:
            size = float(values[0])
        except ValueError:
            size = 0
        if not 1 <= size <= maximum:
            out.append(f"{name} must be between 1 and {maximum}")
    if name in _ZONE_KEYS and not _zone_ok(values[0]):
        out.append(f"{name} must be a valid IANA time-zone")
    return out


def _check_zones(value: Any, where: str) -> list[str]:
    """Every ``timeZone`` in a body, at any depth, must name an IANA zone."""
    out: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            if key in _ZONE_KEYS and item is not None and not _zone_ok(item):
                out.append(f"{path} must be a valid IANA time-zone")
            else:
                out.extend(_check_zones(item, path))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out.extend(_check_zones(item, f"{where}[{i}]"))
    return out


def _validate_body(op: Operation, body: dict[str, Any]) -> list[str]:
    """Structure the body with the operation's model, as the real API's validation pipe does."""
    from .._serde import structure

    model = op.body_type()
    if model is None:
        return []
    try:
        structure(body, model, strict=True)  # what the document declares, no tolerance
    except Exception as exc:
        return [str(exc).split("\n")[0] or f"the body does not fit {op.body}"]
    return []
