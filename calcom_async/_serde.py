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
import linecache
import threading
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
    fast: Callable[[Any], Any] | None = None

    def structure_model(data: Any, _: Any) -> Any:
        nonlocal fast
        if _FAST_PATH:
            if fast is None:
                fast = _fast_fn(cls)
            try:
                return fast(data)
            except Exception:  # not the common case: the careful path below says what is wrong
                pass
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

    _FAST_BUILDERS[structure_model] = lambda: _model_fast_fn(cls)
    _MODEL_HOOKS[structure_model] = cls
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


def _structure_any(value: Any, _: Any) -> Any:
    return value


converter.register_structure_hook(Any, _structure_any)


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

    _JSON_OBJECT_HOOKS.add(structure_json_object)
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

            _UNION_HOOKS[structure_optional_scalar] = (nullable, rest)
            return structure_optional_scalar
        single_hook: Callable[[Any, Any], Any] | None = None

        def structure_optional(data: Any, _: Any) -> Any:
            nonlocal single_hook
            if data is None and nullable:
                return None
            if single_hook is None:
                single_hook = _hook(single)
            return single_hook(data, single)

        _UNION_HOOKS[structure_optional] = (nullable, rest)
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

    def member_for(data: dict[str, Any]) -> Any:
        """The member a JSON object goes to (remembered per shape)."""
        shape = (*data, *[data.get(key) for key in tags]) if tags else tuple(data)
        try:
            member = by_shape.get(shape)
        except TypeError:  # an unhashable tag value: not remembered
            return choose(data)
        if member is None:
            member = choose(data)
            if len(by_shape) >= _SHAPE_CACHE_SIZE:
                by_shape.clear()
            by_shape[shape] = member
        return member

    def structure_union(data: Any, _: Any) -> Any:
        if data is None and nullable:
            return None
        member = member_for(data) if type(data) is dict else choose(data)
        try:
            return structure_as(member, data)
        except SchemaMismatchError as exc:
            return fallback(data, member, exc)

    def union_lines(x: str, scope: dict[str, Any], tag: str) -> list[str]:
        """The fast path (see ``_fast_fn``) as statements on ``x``: a JSON object whose shape is
        known goes straight to its member's fast function; anything else to
        ``structure_union``."""
        scope[f"__us{tag}"], scope[f"__um{tag}"] = by_shape, member_for
        scope[f"__uf{tag}"] = {member: _fast_fn(member) for member in rest}
        scope[f"__uc{tag}"], scope[f"__ut{tag}"] = structure_union, tp
        values = "".join(f"{x}.get({key!r}), " for key in tags)
        shape = f"(*{x}, {values})" if tags else f"tuple({x})"
        return [
            f"if type({x}) is dict:",
            f"    m{tag} = __us{tag}.get({shape})",
            f"    if m{tag} is None: m{tag} = __um{tag}({x})",
            f"    {x} = __uf{tag}[m{tag}]({x})",
            f"else: {x} = __uc{tag}({x}, __ut{tag})",
        ]

    def build_fast() -> Callable[[Any], Any]:
        scope: dict[str, Any] = {}
        lines = ["def fast_union(o):", *_indent(union_lines("o", scope, "")), "    return o"]
        return _compile("fast_union", lines, scope, f"union {names}")

    _FAST_BUILDERS[structure_union] = build_fast
    _UNION_HOOKS[structure_union] = (nullable, rest)
    _UNION_CODE[structure_union] = union_lines
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

    _LIST_HOOKS[structure_list] = item
    return structure_list


converter.register_structure_hook_factory(_is_list, _list_factory)


# --- the fast path --------------------------------------------------------------------------------
#
# Every structure hook above is the *careful* path: it checks what it reads and says what is wrong.
# The fast path is one generated function per type that does the same work for well-formed data
# with fewer calls: nested models, lists, date-times, enums and JSON objects inline, instances
# built with ``object.__new__`` and slot assignment where the attrs ``__init__`` does nothing else.
# Its contract: it returns exactly what the careful hook would return, or raises (anything).
# ``structure_model`` tries it first and, when it raises, runs the careful path, which then raises
# the precise error (or, for a union whose best member did not fit, tries the next member).

#: False: every model takes the careful path (tests compare the two)
_FAST_PATH = True
#: type -> its fast function (built on first use)
_FAST: dict[Any, Callable[[Any], Any]] = {}
_FAST_BUILDING: set[Any] = set()
_FAST_LOCK = threading.RLock()
#: careful hook -> builder of the fast function for its type (models and unions)
_FAST_BUILDERS: dict[Any, Callable[[], Callable[[Any], Any]]] = {}
#: careful union hook -> (nullable, members other than None and UNSET)
_UNION_HOOKS: dict[Any, tuple[bool, tuple[Any, ...]]] = {}
#: careful model hook -> its class
_MODEL_HOOKS: dict[Any, Any] = {}
#: careful union hook (of more than one member) -> writer of its fast path as statements
_UNION_CODE: dict[Any, Callable[[str, dict[str, Any], str], list[str]]] = {}
#: careful list hook -> item type
_LIST_HOOKS: dict[Any, Any] = {}
_JSON_OBJECT_HOOKS: set[Any] = set()


def _compile(name: str, lines: list[str], scope: dict[str, Any], what: str) -> Callable[[Any], Any]:
    exec(compile("\n".join(lines), f"<calcom_async fast {what}>", "exec"), scope)
    fn: Callable[[Any], Any] = scope[name]
    return fn


def _fast_fn(tp: Any) -> Callable[[Any], Any]:
    """The fast function of ``tp`` (see above), built on first use."""
    try:
        fn = _FAST.get(tp)
    except TypeError:  # an unhashable type: the hook itself
        return _hook_call(tp)
    if fn is not None:
        return fn
    with _FAST_LOCK:  # one thread builds (a blocking client runs its loop in a thread)
        fn = _FAST.get(tp)
        if fn is not None:
            return fn
        if tp in _FAST_BUILDING:  # a recursive model: looked up when called
            return lambda data: _FAST[tp](data)
        _FAST_BUILDING.add(tp)
        try:
            builder = _FAST_BUILDERS.get(_hook(tp))
            fn = builder() if builder is not None else _value_fast_fn(tp)
        finally:
            _FAST_BUILDING.discard(tp)
        _FAST[tp] = fn
        return fn


def _hook_call(tp: Any) -> Callable[[Any], Any]:
    hook = _hook(tp)
    return lambda data: hook(data, tp)


def _value_fast_fn(tp: Any) -> Callable[[Any], Any]:
    """The fast function of a type that is not a model or a union (a list item, say)."""
    scope: dict[str, Any] = {"__hk": _hook(tp), "__tk": tp}
    lines = _value_lines(tp, "o", "__hk(o, __tk)", scope, "k")
    if not lines:
        return _identity
    return _compile(
        "fast_value", ["def fast_value(o):", *_indent(lines), "    return o"], scope, str(tp)
    )


def _identity(value: Any) -> Any:
    return value


def _indent(lines: list[str], by: str = "    ") -> list[str]:
    return [by + line for line in lines]


def _value_lines(
    tp: Any,
    v: str,
    fallback: str,
    scope: dict[str, Any],
    tag: str,
    keep: tuple[str, ...] = (),
    stack: tuple[Any, ...] = (),
) -> list[str]:
    """Statements that turn the JSON value in ``v`` into what the careful hook of ``tp`` makes of
    it; ``fallback`` is an expression calling that hook (for what the fast code does not do);
    ``keep``: conditions under which ``v`` stays as it is (``v is UNSET``, ``v is None``);
    ``stack``: the models whose code this is inlined in."""
    hook = _hook(tp)
    if hook is _structure_any:
        return []
    if hook in _UNION_HOOKS:
        nullable, rest = _UNION_HOOKS[hook]
        if len(rest) == 1:  # X | None: the careful hook gives None for None, else X's hook
            more = (f"{v} is None",) if nullable else ()
            return _value_lines(rest[0], v, fallback, scope, tag, keep + more, stack)
    test = _exact_type_test(tp)
    if test is not None:
        return [f"if not ({' or '.join((*keep, test.format(v=v)))}): {v} = {fallback}"]
    if hook is _structure_datetime:
        scope["__fromiso"], scope["__UTC"] = _dt.datetime.fromisoformat, _dt.UTC
        lines = [
            f"if type({v}) is str:",
            f"    {v} = __fromiso({v})",
            f"    if not {v}.tzinfo: {v} = {v}.replace(tzinfo=__UTC)",
            f"else: {v} = {fallback}",
        ]
    elif hook is _structure_enum and isinstance(tp, type) and issubclass(tp, enum.Enum):
        scope[f"__m{tag}"] = tp._value2member_map_  # what _structure_enum looks up first
        lines = [f"{v} = __m{tag}.get({v}) or {fallback}"]
    elif hook in _JSON_OBJECT_HOOKS:
        lines = [f"{v} = dict({v}) if type({v}) is dict else {fallback}"]
    elif hook in _LIST_HOOKS:
        item = _LIST_HOOKS[hook]
        body = _inline_model(item, f"x{tag}", scope, f"{tag}_", stack)
        if body is None and _hook(item) in _UNION_CODE:
            body = _UNION_CODE[_hook(item)](f"x{tag}", scope, f"{tag}_")
        if body is None:
            scope[f"__f{tag}"] = _fast_fn(item)
            lines = [f"{v} = list(map(__f{tag}, {v})) if type({v}) is list else {fallback}"]
        else:  # a list of models: the item's code written out in the loop
            lines = [
                f"if type({v}) is list:",
                f"    r{tag} = []",
                f"    for x{tag} in {v}:",
                *_indent(body, "        "),
                f"        r{tag}.append(x{tag})",
                f"    {v} = r{tag}",
                f"else: {v} = {fallback}",
            ]
    elif hook in _UNION_CODE:
        lines = _UNION_CODE[hook](v, scope, f"{tag}_")
    elif hook in _FAST_BUILDERS:
        body = _inline_model(tp, v, scope, f"{tag}_", stack)
        if body is None:
            scope[f"__f{tag}"] = _fast_fn(tp)
            lines = [f"{v} = __f{tag}({v})"]
        else:
            lines = body
    else:
        lines = [f"{v} = {fallback}"]
    if not keep:
        return lines
    if len(lines) == 1:
        return [f"if not ({' or '.join(keep)}): {lines[0]}"]
    return [f"if not ({' or '.join(keep)}):", *_indent(lines)]


def _plain_init(cls: type[Any], fields: list[attrs.Attribute[Any]]) -> bool:
    """Whether the attrs ``__init__`` of ``cls`` only assigns its arguments, one per field (no
    validators, converters, factories, hooks or frozen set-up), read from its generated source:
    then ``object.__new__`` plus the same assignments builds the same instance."""
    init = cls.__dict__.get("__init__")
    code = getattr(init, "__code__", None)
    if code is None or not code.co_filename.startswith("<attrs generated"):
        return False
    lines = linecache.getlines(code.co_filename)
    start = next((i for i, line in enumerate(lines) if line.startswith("def __init__(")), None)
    if start is None:
        return False
    body = []
    for line in lines[start + 1 :]:
        if not line.startswith((" ", "\t")):
            break
        body.append(line.strip())
    expected = [f"self.{a.name} = {a.alias}" for a in fields]
    return body == expected and all(a.init for a in attrs.fields(cls))


#: how deep models are written out inside the code of the model that holds them
_INLINE_DEPTH = 2
_INLINE_FIELDS = 16  #: and only models this small (the code grows with each copy)


def _inline_model(
    cls: Any, v: str, scope: dict[str, Any], tag: str, stack: tuple[Any, ...]
) -> list[str] | None:
    """The code of a small model, written out to run on the JSON object in ``v`` and leave the
    instance in ``v`` (no call per object); None where that cannot be done (``_model_body``)."""
    if not stack or len(stack) > _INLINE_DEPTH or cls in stack:
        return None
    model: Any = _MODEL_HOOKS.get(_hook(cls))
    if model is not cls or len(attrs.fields(model)) > _INLINE_FIELDS:
        return None  # not one of our models (a hook of its own), or a big one
    return _model_body(cls, v, scope, tag, (*stack, cls))


def _model_body(
    cls: Any, v: str, scope: dict[str, Any], tag: str, stack: tuple[Any, ...]
) -> list[str] | None:
    """Statements that build ``cls`` from the JSON object in ``v`` and leave it in ``v``: for a
    class whose ``__init__`` only assigns (``_plain_init``) and whose fields are required or
    default to ``UNSET``; None for any other class."""
    fields = [a for a in attrs.fields(cls) if a.init]
    if not _plain_init(cls, fields) or any(
        a.default is not attrs.NOTHING and a.default is not UNSET for a in fields
    ):
        return None
    scope[f"__cl{tag}"] = cls
    lines = [f"if type({v}) is not dict: raise TypeError"]
    for j, a in enumerate(fields):
        key, tp, name = _json_name(a), a.type, f"{tag}{j}"
        var = f"v{name}"
        scope[f"__h{name}"], scope[f"__t{name}"] = _hook(tp), tp
        fallback = f"__h{name}({var}, __t{name})"
        if a.default is attrs.NOTHING:
            lines.append(f"{var} = {v}[{key!r}]")
            lines += _value_lines(tp, var, fallback, scope, name, (), stack)
        else:  # the careful hook of ``X | None | Unset`` is never called with UNSET
            lines.append(f"{var} = {v}.get({key!r}, UNSET)")
            lines += _value_lines(tp, var, fallback, scope, name, (f"{var} is UNSET",), stack)
    lines.append(f"{v} = __new(__cl{tag})")
    lines += [f"{v}.{a.name} = v{tag}{j}" for j, a in enumerate(fields)]
    return lines


def _model_fast_fn(cls: type[Any]) -> Callable[[Any], Any]:
    """The fast function of an attrs class (see above)."""
    scope: dict[str, Any] = {"UNSET": UNSET, "__new": object.__new__}
    body = _model_body(cls, "o", scope, "", (cls,))
    if body is not None:
        lines = ["def fast_model(o):", *_indent(body), "    return o"]
        return _compile("fast_model", lines, scope, cls.__qualname__)
    # a class with other defaults or more to its __init__: built by calling it
    fields = [a for a in attrs.fields(cls) if a.init]
    scope["__cl"] = cls
    lines = ["def fast_model(o):", "    if type(o) is not dict: raise TypeError"]
    args: list[str] = []
    factories = False
    for i, a in enumerate(fields):
        key, tp, v = _json_name(a), a.type, f"v{i}"
        scope[f"__h{i}"], scope[f"__t{i}"] = _hook(tp), tp
        fallback = f"__h{i}({v}, __t{i})"
        if a.default is attrs.NOTHING:
            lines.append(f"    {v} = o[{key!r}]")
            lines += _indent(_value_lines(tp, v, fallback, scope, str(i)))
        elif a.default is UNSET:
            lines.append(f"    {v} = o.get({key!r}, UNSET)")
            lines += _indent(_value_lines(tp, v, fallback, scope, str(i), (f"{v} is UNSET",)))
        else:  # another default (or a factory): passed only when the key is there
            factories = True
            lines.append(f"    if {key!r} in o:")
            lines.append(f"        {v} = o[{key!r}]")
            lines += _indent(_value_lines(tp, v, fallback, scope, str(i)), "        ")
            lines.append(f"        __kw[{a.alias!r}] = {v}")
            continue
        args.append(f"{a.alias}={v}")
    if factories:
        lines.insert(2, "    __kw = {}")
        args.append("**__kw")
    lines.append(f"    return __cl({', '.join(args)})")
    return _compile("fast_model", lines, scope, cls.__qualname__)


def structure(data: Any, tp: Any) -> Any:
    """Structure JSON-shaped data into ``tp``."""
    return converter.structure(data, tp)


def unstructure(value: Any) -> Any:
    """A model (or anything) -> JSON-shaped data, ``UNSET`` fields left out."""
    return converter.unstructure(value)
