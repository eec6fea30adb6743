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
import enum
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal, Union, get_args, get_origin

import attrs
import cattrs
from cattrs.gen import (
    make_dict_unstructure_fn,
    make_mapping_structure_fn,
    override,
)

from ._types import UNSET, OpenStrEnum, Unset

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


def _exact_type_test(tp: Any) -> str | None:
    """For a scalar type whose hook returns a value of exactly that type unchanged: the test
    (on ``{v}``) that lets the generated code skip the call. None for any other type."""
    hook = _hook(tp)
    if tp is str and hook is _structure_str:
        return "type({v}) is str"
    if tp is float and hook is _structure_float:
        return "type({v}) is float or type({v}) is int"
    if tp is bool and hook is _structure_bool:
        return "{v} is True or {v} is False"
    if tp is int and hook == converter._structure_call:
        return "type({v}) is int"
    return None


def _make_structure_fn(cls: type[Any]) -> Callable[[Any], Any]:
    """A structuring function specialised for ``cls``, like cattrs' ``make_dict_structure_fn``
    with the common cases written out instead of called (this is the hot path of every answer):

    - scalar fields (``str``, ``float``, ``bool``, ``int``, optional or not): a value of exactly
      the type is taken as it is; anything else goes to the converter's hook (which converts or
      raises, as it always did);
    - optional fields (``X | None | Unset = UNSET``): ``o.get(key, UNSET)``, passed on
      directly, so no keyword dict is built;
    - every other field: the converter's hook for its type, looked up on first use (a hook may
      still be under construction when this runs: recursive models).

    Optional fields are read first, then the required ones (cattrs' order); a missing required
    key raises ``KeyError``.
    """
    fields = [a for a in attrs.fields(cls) if a.init]
    hooks: list[Callable[[Any, Any], Any] | None] = [None] * len(fields)
    types_: list[Any] = [a.type for a in fields]

    def resolve(i: int) -> Callable[[Any, Any], Any]:
        hook = hooks[i] = converter.get_structure_hook(types_[i])
        return hook

    scope: dict[str, Any] = {"__cl": cls, "UNSET": UNSET, "__h": hooks, "__t": types_}
    scope["__resolve"] = resolve
    optional: list[str] = []
    required: list[str] = []
    extra: list[str] = []
    args: list[str] = []
    for i, a in enumerate(fields):
        key, tp, v = _json_name(a), a.type, f"v{i}"
        hook = f"(__h[{i}] or __resolve({i}))"
        members = set(get_args(tp)) if _is_union(tp) else {tp}
        rest = members - {type(None), Unset}
        test = _exact_type_test(next(iter(rest))) if len(rest) == 1 else None
        skip = f"{v} is None or " if type(None) in members else ""  # None: the union gives None
        if a.default is attrs.NOTHING:
            if test is None:
                required.append(f"    {v} = {hook}(o[{key!r}], __t[{i}])")
            else:
                required.append(f"    {v} = o[{key!r}]")
                required.append(
                    f"    if not ({skip}{test.format(v=v)}): {v} = {hook}({v}, __t[{i}])"
                )
            args.append(f"{a.alias}={v}")
        elif a.default is UNSET:
            optional.append(f"    {v} = o.get({key!r}, UNSET)")
            cond = f"{v} is UNSET or {skip}{test.format(v=v)}" if test else f"{v} is UNSET"
            optional.append(f"    if not ({cond}): {v} = {hook}({v}, __t[{i}])")
            args.append(f"{a.alias}={v}")
        else:  # another default (or a factory): passed only when the key is there
            extra.append(f"    if {key!r} in o: res[{a.alias!r}] = {hook}(o[{key!r}], __t[{i}])")
    name = f"structure_{cls.__name__}"
    res = ["    res = {}", *extra] if extra else []
    call = ", ".join(args + (["**res"] if extra else []))
    lines = [f"def {name}(o):", *optional, *res, *required, f"    return __cl({call})"]
    exec(compile("\n".join(lines), f"<calcom_async structure {cls.__qualname__}>", "exec"), scope)
    fn: Callable[[Any], Any] = scope[name]
    return fn


def _structure_factory(cls: type[Any]) -> Callable[[Any, Any], Any]:
    attrs.resolve_types(cls)
    fn = _make_structure_fn(cls)

    def structure_model(data: Any, _: Any) -> Any:
        if type(data) is not dict and not isinstance(data, Mapping):
            raise SchemaMismatchError(
                f"expected a JSON object for {cls.__name__}, got {type(data).__name__}", data
            )
        try:
            return fn(data)
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
    if type(value) is str:  # the common case first
        parsed = _dt.datetime.fromisoformat(value)
    elif isinstance(value, _dt.datetime):
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
# strict scalars: cattrs would otherwise call str(value)/float(value) and turn an object into text
# (OpenStrEnum, a subclass of str, has its own hook below, which singledispatch prefers)
converter.register_structure_hook(float, _structure_float)
converter.register_structure_hook(str, _structure_str)
converter.register_structure_hook(bool, _structure_bool)
converter.register_structure_hook(Any, lambda value, _: value)


def _structure_enum(value: Any, cls: type[OpenStrEnum]) -> Any:
    """``cls(value)``, with a known value looked up directly (an enum call costs ~1 µs)."""
    try:
        member = cls._value2member_map_.get(value)
    except TypeError:  # unhashable: let the enum say what is wrong
        member = None
    return cls(value) if member is None else member


def _is_json_object(tp: Any) -> bool:
    return bool(tp == dict[str, Any])


def _json_object_factory(tp: Any) -> Callable[[Any, Any], Any]:
    """``dict[str, Any]`` (free-form JSON objects): a copy of a decoded JSON object as it is."""
    general = make_mapping_structure_fn(tp, converter)

    def structure_json_object(value: Any, _: Any) -> Any:
        return dict(value) if type(value) is dict else general(value, tp)

    return structure_json_object


converter.register_structure_hook(OpenStrEnum, _structure_enum)
converter.register_structure_hook_factory(_is_json_object, _json_object_factory)
converter.register_unstructure_hook(Unset, lambda _: None)


# --- unions ---------------------------------------------------------------------------------------


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def _required_shape(cls: type[Any]) -> tuple[frozenset[str], dict[str, tuple[Any, ...]]]:
    """The JSON keys a class requires, and the values its required Literal- or enum-typed fields
    allow (the tags that tell the branches of an undiscriminated ``oneOf`` apart)."""
    hints = typing.get_type_hints(cls)
    required = frozenset(_json_name(a) for a in attrs.fields(cls) if a.default is attrs.NOTHING)
    consts: dict[str, tuple[Any, ...]] = {}
    for a in attrs.fields(cls):
        tp = hints.get(a.name)
        if a.default is not attrs.NOTHING:
            continue
        if get_origin(tp) is Literal:
            consts[_json_name(a)] = get_args(tp)
        elif isinstance(tp, type) and issubclass(tp, enum.Enum):
            consts[_json_name(a)] = tuple(member.value for member in tp)
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
            # a member that would drop some of the data's keys is a worse fit than one that
            # keeps them all (unknown keys are still accepted: the server adds fields)
            kept = len(data.keys() & keys)
            return max(1, base + kept - 3 * (len(data) - kept))

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


def _hook(tp: Any) -> Callable[[Any, Any], Any]:
    """The converter's hook for ``tp``. Factories look it up on first use, not when they run:
    the hook of a class may still be under construction then (recursive models)."""
    return converter.get_structure_hook(tp)


#: How many JSON key orders a union remembers its choice for (see ``structure_union``).
_SHAPE_CACHE_SIZE = 256


def _union_factory(tp: Any) -> Callable[[Any, Any], Any]:
    members = tuple(m for m in get_args(tp) if m is not Unset)
    nullable = type(None) in members
    rest = tuple(m for m in members if m is not type(None)) if len(members) > 1 else members
    if len(rest) == 1:
        single = rest[0]
        if single in (str, int, float, bool) and _hook(single) == converter._structure_call:
            # cattrs structures these as ``single(data)``; calling it directly skips two layers

            def structure_optional_scalar(data: Any, _: Any) -> Any:
                return None if data is None and nullable else single(data)

            return structure_optional_scalar
        single_hook: Callable[[Any, Any], Any] | None = None

        def structure_optional(data: Any, _: Any) -> Any:
            nonlocal single_hook
            if data is None and nullable:
                return None
            if single_hook is None:
                single_hook = _hook(single)
            return single_hook(data, single)

        return structure_optional
    scored = [(member, _scorer(member)) for member in rest]
    names = ", ".join(getattr(m, "__name__", str(m)) for m in rest)
    hooks: dict[Any, Callable[[Any, Any], Any]] = {}
    # For a JSON object the best member depends only on its keys and the values of the members'
    # constant-valued fields, so the choice is remembered per key order and those values (a page
    # of bookings has a handful of such shapes).
    by_shape: dict[tuple[Any, ...], Any] = {}
    tags = sorted({key for m in rest if attrs.has(m) for key in _required_shape(m)[1]})

    def ranked(data: Any) -> list[Any]:
        """The members the data may fit, best first (stable for equal scores)."""
        scores = [(score_of(data), i, member) for i, (member, score_of) in enumerate(scored)]
        fitting = sorted((s for s in scores if s[0] >= 0), key=lambda s: (-s[0], s[1]))
        if not fitting:
            raise SchemaMismatchError(f"the data fits none of: {names}", data)
        return [member for _, _, member in fitting]

    def choose(data: Any) -> Any:
        return ranked(data)[0]

    def structure_as(member: Any, data: Any) -> Any:
        hook = hooks.get(member)
        if hook is None:
            hook = hooks[member] = _hook(member)
        return hook(data, member)

    def fallback(data: Any, failed: Any, error: SchemaMismatchError) -> Any:
        """The best-scoring member did not fit after all: try the next ones in order."""
        for member in ranked(data):
            if member is failed:
                continue
            try:
                return structure_as(member, data)
            except SchemaMismatchError:
                continue
        raise SchemaMismatchError(f"the data fits none of: {names} ({error})", data) from None

    def structure_union(data: Any, _: Any) -> Any:
        if data is None and nullable:
            return None
        if type(data) is dict:
            shape = (*data, *[data.get(key) for key in tags]) if tags else tuple(data)
            try:
                member = by_shape.get(shape)
            except TypeError:  # an unhashable tag value: not remembered
                member = choose(data)
            else:
                if member is None:
                    member = choose(data)
                    if len(by_shape) >= _SHAPE_CACHE_SIZE:
                        by_shape.clear()
                    by_shape[shape] = member
        else:
            member = choose(data)
        try:
            return structure_as(member, data)
        except SchemaMismatchError as exc:
            return fallback(data, member, exc)

    return structure_union


converter.register_structure_hook_factory(_is_union, _union_factory)


def _is_list(tp: Any) -> bool:
    return get_origin(tp) is list


def _list_factory(tp: Any) -> Callable[[Any, Any], Any]:
    args = get_args(tp)
    item = args[0] if args else Any
    hook: Callable[[Any, Any], Any] | None = None

    def structure_list(data: Any, _: Any) -> list[Any]:
        nonlocal hook
        if not isinstance(data, list):
            raise SchemaMismatchError(f"expected a JSON array, got {type(data).__name__}", data)
        if hook is None:
            hook = _hook(item)
        return [hook(value, item) for value in data]

    return structure_list


converter.register_structure_hook_factory(_is_list, _list_factory)


def structure(data: Any, tp: Any) -> Any:
    """Structure JSON-shaped data into ``tp``."""
    return converter.structure(data, tp)


def unstructure(value: Any) -> Any:
    """A model (or anything) -> JSON-shaped data, ``UNSET`` fields left out."""
    return converter.unstructure(value)
