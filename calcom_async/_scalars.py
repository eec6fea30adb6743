"""The converter's hooks for scalars (registered in ``calcom_async._serde``).

- date-times: ISO 8601 strings <-> aware ``datetime`` (a naive time read from an answer is UTC);
  written as ``2024-08-13T09:00:00.000Z``, the form the API sends.
- numbers: an integral JSON number stays an ``int`` where the schema says ``number``.
- strict scalars: a value of another JSON type does not fit (cattrs would otherwise call
  ``str(value)``/``float(value)`` and turn an object into text).
- enums: ``OpenStrEnum`` keeps a value it does not know.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from ._drift import SchemaMismatchError, json_type
from ._types import OpenStrEnum

__all__ = ["format_datetime", "read_datetime"]


def read_datetime(value: str) -> _dt.datetime:
    """An ISO 8601 string as an aware ``datetime`` (a time without offset is UTC)."""
    parsed = _dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=_dt.UTC)


def structure_datetime(value: Any, _: Any) -> _dt.datetime:
    if isinstance(value, str):
        return read_datetime(value)
    if isinstance(value, _dt.datetime):
        parsed = value
    else:
        raise SchemaMismatchError(f"expected an ISO 8601 date-time, got {json_type(value)}", value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=_dt.UTC)


def format_datetime(value: _dt.datetime | str) -> str:
    """``2024-08-13T09:00:00.000Z`` for UTC, else ``2024-08-13T11:00:00.000+02:00`` (as the API
    writes them: milliseconds, and the offset).

    A string is passed through as it is (the caller wrote the date-time themselves).
    """
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.UTC)
    text = value.isoformat(timespec="milliseconds")  # 2024-09-05T09:00:00.000-04:00
    return text[:-6] + "Z" if value.utcoffset() == _dt.timedelta(0) else text


def structure_float(value: Any, _: Any) -> float:
    if type(value) is int or type(value) is float:
        return value
    if isinstance(value, str | int) and not isinstance(value, bool):
        return float(value)
    raise SchemaMismatchError(f"expected a number, got {json_type(value)}", value)


def structure_int(value: Any, _: Any) -> int:
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():  # 5.0: a JSON number that is whole
        return int(value)
    raise SchemaMismatchError(f"expected an integer, got {json_type(value)}", value)


def structure_str(value: Any, _: Any) -> str:
    if isinstance(value, str):
        return value
    raise SchemaMismatchError(f"expected a string, got {json_type(value)}", value)


def structure_bool(value: Any, _: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise SchemaMismatchError(f"expected a boolean, got {json_type(value)}", value)


def structure_any(value: Any, _: Any) -> Any:
    return value


def structure_enum(value: Any, cls: type[OpenStrEnum]) -> Any:
    """``cls(value)``, with a known value looked up directly (an enum call costs ~1 µs)."""
    try:
        member = cls._value2member_map_.get(value)
    except TypeError:  # unhashable: let the enum say what is wrong
        member = None
    return cls(value) if member is None else member
