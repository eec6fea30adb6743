"""The one cattrs ``Converter`` for every model: configured once, hooks generated per class.

- attrs classes: snake_case attributes <-> the JSON names kept in field metadata (``"json"``);
  unknown keys ignored; optional fields left out of the JSON stay ``UNSET`` and ``UNSET`` fields
  are left out when unstructuring (``None`` is sent as ``null``).
- enums: ``OpenStrEnum`` keeps a value it does not know.
- date-times: ISO 8601 strings <-> aware ``datetime`` (a naive time is taken as UTC);
  unstructured as ``2024-08-13T09:00:00.000Z``, the form the API sends.
- numbers: an integral JSON number stays an ``int`` where the schema says ``number``.
- unions (``oneOf``/``anyOf`` without a discriminator): the member whose required keys (and
  constant-valued fields) fit the data; :class:`SchemaMismatchError` with the raw data if none does.
"""

from __future__ import annotations

import datetime as _dt
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal, Union, get_args, get_origin

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ._types import UNSET, Unset

__all__ = ["SchemaMismatchError", "converter", "structure", "unstructure"]


class SchemaMismatchError(ValueError):
    """Data that fits none of the types it could be. ``data`` is the raw value."""

    def __init__(self, message: str, data: Any) -> None:
        super().__init__(message)
        self.data = data


converter = cattrs.Converter(detailed_validation=False, forbid_extra_keys=False)


def _json_name(a: attrs.Attribute[Any]) -> str:
    name: str = a.metadata.get("json", a.name)
    return name


# --- attrs classes --------------------------------------------------------------------------------


def _structure_factory(cls: type[Any]) -> Callable[[Any, Any], Any]:
    attrs.resolve_types(cls)
    overrides = {a.name: override(rename=_json_name(a)) for a in attrs.fields(cls)}
    fn = make_dict_structure_fn(cls, converter, **overrides)  # type: ignore[arg-type]

    def structure_model(data: Any, _: Any) -> Any:
        if not isinstance(data, Mapping):
            raise SchemaMismatchError(
                f"expected a JSON object for {cls.__name__}, got {type(data).__name__}", data
            )
        try:
            return fn(data, cls)
        except KeyError as exc:
            raise SchemaMismatchError(
                f"{cls.__name__}: required field {exc.args[0]!r} is missing", data
            ) from None
        except (TypeError, ValueError, AttributeError) as exc:
            if isinstance(exc, SchemaMismatchError):
                raise
            raise SchemaMismatchError(f"{cls.__name__}: {exc}", data) from None

    return structure_model


def _unstructure_factory(cls: type[Any]) -> Callable[[Any], Any]:
    attrs.resolve_types(cls)
    overrides = {
        a.name: override(rename=_json_name(a), omit_if_default=a.default is UNSET)
        for a in attrs.fields(cls)
    }
    return make_dict_unstructure_fn(cls, converter, **overrides)  # type: ignore[arg-type]


converter.register_structure_hook_factory(attrs.has, _structure_factory)
converter.register_unstructure_hook_factory(attrs.has, _unstructure_factory)


# --- scalars --------------------------------------------------------------------------------------


def _structure_datetime(value: Any, _: Any) -> _dt.datetime:
    if isinstance(value, _dt.datetime):
        parsed = value
    elif isinstance(value, str):
        parsed = _dt.datetime.fromisoformat(value)
    else:
        raise SchemaMismatchError(f"expected an ISO 8601 date-time, got {value!r}", value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=_dt.UTC)


def format_datetime(value: _dt.datetime | str) -> str:
    """``2024-08-13T09:00:00.000Z`` for UTC (as the API writes it), else ISO 8601 with offset.

    A string is passed through as it is (the caller wrote the date-time themselves).
    """
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.UTC)
    if value.utcoffset() == _dt.timedelta(0):
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return value.isoformat()


def _structure_float(value: Any, _: Any) -> float:
    if type(value) is int or type(value) is float:
        return value
    if isinstance(value, str | int) and not isinstance(value, bool):
        return float(value)
    raise SchemaMismatchError(f"expected a number, got {value!r}", value)


def _structure_str(value: Any, _: Any) -> str:
    if isinstance(value, str):
        return value
    raise SchemaMismatchError(f"expected a string, got {value!r}", value)


def _structure_bool(value: Any, _: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise SchemaMismatchError(f"expected a boolean, got {value!r}", value)


converter.register_structure_hook(_dt.datetime, _structure_datetime)
converter.register_unstructure_hook(_dt.datetime, format_datetime)
# predicates, not singledispatch: a str enum must not be taken for a plain str
converter.register_structure_hook_func(lambda t: t is float, _structure_float)
converter.register_structure_hook_func(lambda t: t is str, _structure_str)
converter.register_structure_hook_func(lambda t: t is bool, _structure_bool)
converter.register_structure_hook(Any, lambda value, _: value)
converter.register_unstructure_hook(Unset, lambda _: None)


# --- unions ---------------------------------------------------------------------------------------


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def _required_shape(cls: type[Any]) -> tuple[frozenset[str], dict[str, tuple[Any, ...]]]:
    """The JSON keys a class requires and the values its Literal-typed fields allow."""
    hints = typing.get_type_hints(cls)
    required = frozenset(_json_name(a) for a in attrs.fields(cls) if a.default is attrs.NOTHING)
    consts: dict[str, tuple[Any, ...]] = {}
    for a in attrs.fields(cls):
        tp = hints.get(a.name)
        if get_origin(tp) is Literal and a.default is attrs.NOTHING:
            consts[_json_name(a)] = get_args(tp)
    return required, consts


def _scorer(tp: Any) -> Callable[[Any], int]:
    """How well data fits ``tp``: -1 not at all, else a score (more required keys: higher).

    Built once per union member, so structuring a union does no introspection per call.
    """
    origin = get_origin(tp)
    if tp is Any:
        return lambda data: 0
    if tp is type(None):
        return lambda data: 1 if data is None else -1
    if origin is Literal:
        allowed = get_args(tp)
        return lambda data: 1 if data in allowed else -1
    if origin in (list, tuple) or tp in (list, tuple):
        return lambda data: 1 if isinstance(data, list) else -1
    if origin in (dict, Mapping) or tp is dict:
        return lambda data: 0 if isinstance(data, Mapping) else -1
    if attrs.has(tp):
        required, consts = _required_shape(tp)
        keys = frozenset(_json_name(a) for a in attrs.fields(tp))
        base = 2 + 10 * len(consts) + len(required)

        def score_model(data: Any) -> int:
            if not isinstance(data, Mapping) or not required <= data.keys():
                return -1
            if any(data.get(k) not in allowed for k, allowed in consts.items()):
                return -1
            return base + len(data.keys() & keys)

        return score_model
    if tp is float:
        return lambda data: (
            1 if isinstance(data, int | float) and not isinstance(data, bool) else -1
        )
    if isinstance(tp, type) and issubclass(tp, str):
        return lambda data: 1 if isinstance(data, str) else -1
    if isinstance(tp, type):
        return lambda data: 1 if isinstance(data, tp) else -1
    return lambda data: 0


def _union_factory(tp: Any) -> Callable[[Any, Any], Any]:
    members = tuple(m for m in get_args(tp) if m is not Unset)
    if len(members) == 1:
        only = members[0]
        return lambda data, _: converter.structure(data, only)
    nullable = type(None) in members
    rest = tuple(m for m in members if m is not type(None))
    if len(rest) == 1:
        single = rest[0]

        def structure_optional(data: Any, _: Any) -> Any:
            return None if data is None else converter.structure(data, single)

        return structure_optional
    scored = [(member, _scorer(member)) for member in rest]
    names = ", ".join(getattr(m, "__name__", str(m)) for m in rest)

    def structure_union(data: Any, _: Any) -> Any:
        if data is None and nullable:
            return None
        best, best_score = None, -1
        for member, score_of in scored:
            score = score_of(data)
            if score > best_score:
                best, best_score = member, score
        if best is None:
            raise SchemaMismatchError(f"the data fits none of: {names}", data)
        return converter.structure(data, best)

    return structure_union


converter.register_structure_hook_factory(_is_union, _union_factory)


def _is_list(tp: Any) -> bool:
    return get_origin(tp) is list


def _list_factory(tp: Any) -> Callable[[Any, Any], Any]:
    args = get_args(tp)
    item = args[0] if args else Any

    def structure_list(data: Any, _: Any) -> list[Any]:
        if not isinstance(data, list):
            raise SchemaMismatchError(f"expected a JSON array, got {type(data).__name__}", data)
        return [converter.structure(value, item) for value in data]

    return structure_list


converter.register_structure_hook_factory(_is_list, _list_factory)


def structure(data: Any, tp: Any) -> Any:
    """Structure JSON-shaped data into ``tp``."""
    return converter.structure(data, tp)


def unstructure(value: Any) -> Any:
    """A model (or anything) -> JSON-shaped data, ``UNSET`` fields left out."""
    return converter.unstructure(value)
