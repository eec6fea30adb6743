"""Encoding a call's values: the first step of the request pipeline (``Session``,
``calcom_async._pipeline``; reading the answer, the last, is ``_parse.py``).

- ``render_path``, ``encode_query``, ``encode_body``: path values as single segments, query
  values, the JSON body; bad input raises :class:`CalComUsageError` before anything is sent;
- ``check_api_version``: a well-formed ``cal-api-version``.

(``Session`` itself, the steps between, is in ``_pipeline.py``.)
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import importlib
import re
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import orjson

from ._bodies import check as check_body
from ._bodies import check_query_text, fits, naive_datetime, type_name
from ._errors import CalComUsageError, UnknownAPIVersionError
from ._operation import Operation, Param
from ._types import Unset

__all__ = [
    "check_api_version",
    "encode_body",
    "encode_query",
    "known_api_versions",
    "render_path",
]

_COLLECTIONS = (list, tuple, set, frozenset)
_VERSION = re.compile(r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])")


def known_api_versions() -> frozenset[str]:
    """Every ``cal-api-version`` value the library knows (from the generated table, the API's
    oldest version included)."""
    versions = importlib.import_module("calcom_async._generated.versions")
    known: frozenset[str] = frozenset(versions.KNOWN_API_VERSIONS)
    return known


def check_api_version(value: object, where: str) -> str:
    """A well-formed ``cal-api-version`` (``YYYY-MM-DD``), else :class:`UnknownAPIVersionError`.

    A well-formed value the table does not know for an operation is sent as asked (the live API
    moves faster than Cal.com publishes its document): ``_request.route`` warns once."""
    if not isinstance(value, str) or not _VERSION.fullmatch(value):
        known = ", ".join(sorted(known_api_versions()))
        raise UnknownAPIVersionError(
            f"malformed cal-api-version {value!r} ({where}): a date like 2024-08-13; known: {known}"
        )
    return value


# -- encoding -------------------------------------------------------------------------------


@functools.cache
def _converter() -> Any:
    return importlib.import_module("calcom_async._serde").converter


def _missing(value: Any) -> bool:
    return value is None or isinstance(value, Unset)


#: text made only of the characters ``quote(text, safe="")`` leaves as they are
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*").fullmatch


def render_path(op: Operation, values: Mapping[str, Any]) -> str:
    """The path with each value percent-encoded as exactly one segment."""
    template = op.path_template
    if len(template) == 1:  # no placeholder
        return template[0][0]
    parts: list[str] = []
    for literal, name, param in template:
        parts.append(literal)
        if not name:
            continue
        value = values.get(name)
        label = param.python_name if param else name
        if type(value) is str and param is not None and param.type is str:
            text = value  # the usual id or uid: what the checks below would let through
        else:
            if _missing(value):
                raise CalComUsageError(f"{op.name}: missing path value {label!r}")
            if param is not None:
                check_type(op, param, value)
            text = _scalar(op, label, value)
        if text in ("", ".", ".."):
            raise CalComUsageError(f"{op.name}: path value {label!r} may not be {text!r}")
        # the usual id or uid has nothing to escape (``quote`` would return it unchanged)
        parts.append(text if _UNRESERVED(text) else quote(text, safe=""))
    return "".join(parts)


def encode_query(op: Operation, values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Query pairs; ``None``/``UNSET`` values are left out, sequences exploded or comma-joined."""
    params = op.query_params_by_name
    pairs: list[tuple[str, str]] = []
    for name, value in values.items():
        if _missing(value):
            continue
        param = params.get(name)
        label = param.python_name if param else name
        if param is not None:
            check_type(op, param, value)
            check_query_text(op.name, label, param.type, value)  # a naive date-time str
        if isinstance(value, _COLLECTIONS):
            items = [_scalar(op, label, v) for v in value if not _missing(v)]
            if param is None or param.explode:
                pairs.extend((name, item) for item in items)
            elif items:
                pairs.append((name, ",".join(items)))
        else:
            pairs.append((name, _scalar(op, label, value)))
    return pairs


def _scalar(op: Operation, label: str, value: Any) -> str:
    if type(value) is str:  # the common cases first
        return value
    if type(value) is int:
        return str(value)
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        naive_datetime(op.name, f"argument {label!r}", value)
        text: str = value.astimezone(dt.UTC).isoformat()
        return text.removesuffix("+00:00") + "Z"
    if isinstance(value, dt.date):
        return str(value.isoformat())
    raise CalComUsageError(
        f"{op.name}: argument {label!r} cannot be sent as {type(value).__name__}"
    )


def encode_body(op: Operation, body: Any) -> bytes | None:
    if body is None or isinstance(body, Unset):
        if op.body_required and op.body is not None:
            raise CalComUsageError(f"{op.name}: a request body ({op.body}) is required")
        return None
    expected = op.body_type()
    if expected is not None and not isinstance(body, Mapping):
        try:
            ok = isinstance(body, expected)
        except TypeError:  # a union alias or similar: cannot tell here
            ok = True
        if not ok:
            raise CalComUsageError(
                f"{op.name}: the body must be {op.body} (or a dict), not {type(body).__name__}"
            )
    check_body(op.name, expected, body)  # types, spelling, naive datetimes: calcom_async._bodies
    try:
        data = _converter().unstructure(body)
        return orjson.dumps(data, option=orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z)
    except Exception as exc:
        raise CalComUsageError(
            f"{op.name}: the body cannot be encoded as JSON ({type(exc).__name__})"
        ) from None


# -- argument types -------------------------------------------------------------------------


def check_type(op: Operation, param: Param, value: Any) -> None:
    """A path or query value must fit its parameter's type (``Param.type``, a real type the
    generator wrote), each item of a list too; else :class:`CalComUsageError`."""
    ok = fits(param.type, value, literals=False)
    if ok and isinstance(value, _COLLECTIONS):
        union = typing.get_origin(param.type) in (typing.Union, types.UnionType)
        members = typing.get_args(param.type) if union else (param.type,)
        items = [a for a in members if typing.get_origin(a) in (list, Sequence)]
        if items:
            (item,) = typing.get_args(items[0])
            ok = all(fits(item, v, literals=False) for v in value)
    if not ok:
        raise CalComUsageError(
            f"{op.name}: argument {param.python_name!r} must be {type_name(param.type)}, "
            f"not {type(value).__name__}"
        )
