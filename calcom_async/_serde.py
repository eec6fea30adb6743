"""The one cattrs ``Converter`` for every model, and how answers are read: tolerantly.

- attrs classes: snake_case attributes <-> the JSON names kept in field metadata (``"json"``);
  unknown keys ignored; optional fields left out of the JSON stay ``UNSET`` and ``UNSET`` fields
  are left out when unstructuring (``None`` is sent as ``null``).
- enums: ``OpenStrEnum`` keeps a value it does not know.
- date-times: ISO 8601 strings <-> aware ``datetime`` (a naive time read from an answer is UTC);
  unstructured as ``2024-08-13T09:00:00.000Z``, the form the API sends.
- numbers: an integral JSON number stays an ``int`` where the schema says ``number``.
- unions (``oneOf``/``anyOf`` without a discriminator): the member whose required keys (and
  constant-valued fields) fit the data best.

Tolerant reading (the default)
------------------------------
The live API does not follow its document: it sends ``null`` where a type is declared non-null,
leaves out required keys, sends an object where a list is declared, data that fits no member of a
union. Each model field is structured on its own: a value that does not fit its field is **kept as
the server sent it** (a missing key: ``UNSET``), the rest of the model stays typed, and the
deviation is recorded as a :class:`Deviation` (model, field, kind, the declared type, the JSON type
that came — never the value). ``structure(..., strict=True)`` raises :class:`SchemaMismatchError`
at the first deviation instead. The session reports deviations once per process per
(model, field, kind) on the ``calcom_async.drift`` logger, with the JSON path
(:func:`report_deviations`). So a tolerated field can hold ``None``, a ``dict``, a ``list`` or a
scalar of another type where its annotation says otherwise; every other field is as typed.

There is one structuring path. Each generated model has its structuring function written out
at build time (``structure_<Class>`` in the model's module, from
``codegen/templates/models/attrs.jinja2``): per field a fast path chosen for the field's type
(a scalar's type test, an ISO date-time parsed, an enum member looked up, a nested model's own
function called), and :func:`read_field` for a
value that does not take it: the converter's hook for the field's type (the hooks below), and a
value that does not fit that either is kept and recorded. Hand-written attrs classes (webhook
payloads) go through :func:`structure_attrs`, the same steps in a loop. No code is generated at
run time.
"""

from __future__ import annotations

import contextvars
import datetime as _dt
import enum
import logging
import sys
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal, Union, get_args, get_origin

import attrs
import cattrs
from cattrs.gen import make_mapping_structure_fn

from ._types import UNSET, OpenStrEnum, Unset

__all__ = [
    "Deviation",
    "SchemaMismatchError",
    "converter",
    "report_answer_misfit",
    "report_deviations",
    "reset_drift_memory",
    "structure",
    "structure_reporting",
    "unstructure",
]

drift_logger = logging.getLogger("calcom_async.drift")
UTC = _dt.UTC


class SchemaMismatchError(ValueError):
    """Data that fits none of the types it could be. ``data`` is the raw value."""

    def __init__(self, message: str, data: Any) -> None:
        super().__init__(message)
        self.data = data


converter = cattrs.Converter(detailed_validation=False, forbid_extra_keys=False)


def _json_name(a: attrs.Attribute[Any]) -> str:
    name: str = a.metadata.get("json", a.name)
    return name


# --- deviations -----------------------------------------------------------------------------------


@attrs.frozen
class Deviation:
    """A value of an answer that does not fit its model's field (kept as it came)."""

    model: str  #: the model's class name
    field: str  #: the field's JSON name
    kind: str  #: "null", "missing", "type" (another scalar), "shape" (object/list), "union"
    declared: str  #: the field's type, as annotated
    came: str  #: the JSON type of what came ("null", "string", "array", …, "absent")
    #: the JSON object the field is in, to find its path in the answer (never shown)
    parent: Any = attrs.field(eq=False, repr=False)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.model, self.field, self.kind)


#: structuring in strict mode (set by :func:`structure`); read only when a value does not fit
_STRICT: contextvars.ContextVar[bool] = contextvars.ContextVar("calcom_strict", default=False)
#: where the deviations of the structuring in progress are collected
_FOUND: contextvars.ContextVar[list[Deviation] | None] = contextvars.ContextVar(
    "calcom_deviations", default=None
)
#: (model, field, kind) already reported in this process
_REPORTED: set[tuple[str, str, str]] = set()
#: what a hook raises for a value that does not fit its type
MISFITS = (SchemaMismatchError, ValueError, TypeError, KeyError, AttributeError)


def _json_type(value: Any) -> str:
    if value is UNSET:
        return "absent"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _type_text(tp: Any) -> str:
    text = getattr(tp, "__name__", None) if isinstance(tp, type) else None
    text = text or str(tp).replace("typing.", "")
    for noise in (" | calcom_async._types.Unset", "calcom_async._generated.models.", "datetime."):
        text = text.replace(noise, "")
    return text


def _kind(value: Any, tp: Any) -> str:
    if value is UNSET:
        return "missing"
    if value is None:
        return "null"
    if _is_union(tp) and len([m for m in get_args(tp) if m not in (Unset, type(None))]) > 1:
        return "union"
    if isinstance(value, list | Mapping) or _is_list(tp) or attrs.has(tp):
        return "shape"
    return "type"


def _misfit(parent: Any, value: Any, cls: type[Any], key: str, tp: Any, error: Any) -> Any:
    """A field's value that does not fit its type: raised in strict mode; else kept as it came
    (``UNSET`` for a missing key) and recorded."""
    if _STRICT.get():
        if value is UNSET:
            raise SchemaMismatchError(f"{cls.__name__}: required field {key!r} is missing", parent)
        # our own messages name JSON types; others (int(), fromisoformat) may quote the value
        detail = f" ({error})" if isinstance(error, SchemaMismatchError) else ""
        raise SchemaMismatchError(
            f"{cls.__name__}.{key} does not fit {_type_text(tp)}: the answer has "
            f"{_json_type(value)}{detail}",
            parent,
        )
    found = _FOUND.get()
    if found is not None:
        found.append(
            Deviation(
                cls.__name__, key, _kind(value, tp), _type_text(tp), _json_type(value), parent
            )
        )
    return value


def structure(data: Any, tp: Any, *, strict: bool = False) -> Any:
    """Structure JSON-shaped data into ``tp``: tolerantly (deviations are reported on the
    ``calcom_async.drift`` logger, without a path), or with ``strict`` raising at the first."""
    value, found = structure_reporting(data, tp, strict=strict)
    report_deviations(found, data)
    return value


def structure_reporting(data: Any, tp: Any, *, strict: bool = False) -> tuple[Any, list[Deviation]]:
    """Structure ``data`` into ``tp`` and return what deviated (empty with ``strict``: the first
    deviation raises :class:`SchemaMismatchError`)."""
    found: list[Deviation] = []
    strict_token, found_token = _STRICT.set(strict), _FOUND.set(found)
    try:
        value = converter.structure(data, tp)
    finally:
        _STRICT.reset(strict_token)
        _FOUND.reset(found_token)
    return value, found


def _paths(root: Any, where: str = "$") -> Iterator[tuple[Any, str]]:
    """Every JSON object and array in ``root`` with its JSON path."""
    yield root, where
    if isinstance(root, dict):
        for key, value in root.items():
            if isinstance(value, dict | list):
                yield from _paths(value, f"{where}.{key}")
    elif isinstance(root, list):
        for i, value in enumerate(root):
            if isinstance(value, dict | list):
                yield from _paths(value, f"{where}[{i}]")


def report_deviations(found: list[Deviation], root: Any, where: str = "") -> None:
    """Log each deviation not reported before in this process (once per model, field and kind)
    as a WARNING on ``calcom_async.drift``, with its JSON path in ``root`` (the decoded answer).
    Values are never logged: only JSON types."""
    fresh = [d for d in found if d.key not in _REPORTED]
    if not fresh:
        return
    for d in fresh:
        if d.key in _REPORTED:  # twice in one answer
            continue
        _REPORTED.add(d.key)
        # the object the field is in, found by identity in the decoded answer
        where_in = next((path for node, path in _paths(root) if node is d.parent), "$…")
        path = f"{where_in}{d.field}" if d.field.startswith("[") else f"{where_in}.{d.field}"
        drift_logger.warning(
            "%s%s: %s.%s does not fit the document (%s): it declares %s, the answer has %s; "
            "kept as sent",
            where,
            path,
            d.model,
            d.field,
            d.kind,
            d.declared,
            d.came,
            extra={
                "calcom_model": d.model,
                "calcom_field": d.field,
                "calcom_drift": d.kind,
                "calcom_path": path,
                "calcom_declared": d.declared,
                "calcom_came": d.came,
            },
        )


def report_answer_misfit(where: str, model: str, data: Any) -> None:
    """A whole answer that is not the object its model needs (once per process per model)."""
    key = (model, "$", "shape")
    if key not in _REPORTED:
        _REPORTED.add(key)
        drift_logger.warning(
            "%s $: the answer does not fit %s (the answer is %s); returned as sent",
            where,
            model,
            _json_type(data),
            extra={"calcom_model": model, "calcom_path": "$", "calcom_drift": "shape"},
        )


def reset_drift_memory() -> None:
    """Forget which deviations were reported (tests; a long-lived process that wants them again)."""
    _REPORTED.clear()


# --- attrs classes --------------------------------------------------------------------------------


@attrs.frozen
class _Field:
    alias: str  #: the ``__init__`` keyword
    key: str  #: the JSON name
    type: Any
    hook: Callable[[Any, Any], Any]
    required: bool


#: each class's fields as structuring reads them, made on first use
_PLANS: dict[type[Any], tuple[_Field, ...]] = {}


def plan(cls: type[Any]) -> tuple[_Field, ...]:
    """The class's fields as structuring reads them (made on first use)."""
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = _make_plan(cls)
    return plan


def _make_plan(cls: type[Any]) -> tuple[_Field, ...]:
    hints = typing.get_type_hints(cls)
    return tuple(
        _Field(
            a.alias,
            _json_name(a),
            hints.get(a.name, Any),
            converter.get_structure_hook(hints.get(a.name, Any)),
            a.default is attrs.NOTHING,
        )
        for a in attrs.fields(cls)
        if a.init
    )


def read(parent: dict[str, Any], value: Any, cls: type[Any], f: _Field) -> Any:
    """One field's value (``UNSET``: its key is missing) structured by its type's hook; one
    that does not fit is kept as it came and recorded (:func:`_misfit`)."""
    if value is UNSET:
        return _misfit(parent, value, cls, f.key, f.type, None) if f.required else UNSET
    try:
        return f.hook(value, f.type)
    except MISFITS as exc:
        return _misfit(parent, value, cls, f.key, f.type, exc)


def read_field(parent: dict[str, Any], value: Any, cls: type[Any], index: int) -> Any:
    """:func:`read` for the ``index``-th field of ``cls``: what a generated structuring function
    calls where a value does not take its field's fast path (or the field has none)."""
    return read(parent, value, cls, plan(cls)[index])


def read_datetime(value: str) -> _dt.datetime:
    """An ISO 8601 string as an aware ``datetime`` (a time without offset is UTC)."""
    parsed = _dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=_dt.UTC)


def read_enum(cls: type[OpenStrEnum], value: str) -> Any:
    """The member of ``cls`` with this value (one it does not know is kept: ``OpenStrEnum``)."""
    member = cls._value2member_map_.get(value)
    return cls(value) if member is None else member


def structure_attrs(data: Any, cls: type[Any]) -> Any:
    """An attrs class from a JSON object, field by field (:func:`read`); unknown keys ignored.

    The generated models have this written out per class (``structure_<Class>`` in each model's
    module, ``codegen/templates/models/attrs.jinja2``): the same steps, with a value of exactly
    a scalar field's type taken as it is. Hand-written classes (webhook payloads) use this."""
    if type(data) is not dict:
        if not isinstance(data, Mapping):
            raise SchemaMismatchError(
                f"expected a JSON object for {cls.__name__}, got {_json_type(data)}", data
            )
        data = dict(data)
    kwargs: dict[str, Any] = {}
    for f in plan(cls):
        value = read(data, data.get(f.key, UNSET), cls, f)
        if value is not UNSET or f.required:
            kwargs[f.alias] = value
    return cls(**kwargs)


def _attrs_hook(cls: type[Any]) -> Callable[[Any, Any], Any]:
    """A generated model's own structuring function, else :func:`structure_attrs`."""
    written: Callable[[Any, Any], Any] | None = getattr(
        sys.modules.get(cls.__module__), f"structure_{cls.__name__}", None
    )
    return written or structure_attrs


#: values that are JSON as they are (exactly these types: an enum member, a ``str``, goes
#: through its hook)
_PLAIN = frozenset({str, int, float, bool, type(None)})


def attrs_unstructurer(
    into: cattrs.Converter, *, json_names: bool = True
) -> Callable[[type[Any]], Callable[[Any], dict[str, Any]]]:
    """The unstructure hook factory for attrs classes of the converter ``into``: a JSON object
    under the fields' JSON names (``json_names=False``: their attribute names), ``UNSET`` fields
    left out. Each value is unstructured by its run-time type, not its annotation: a value kept
    as the server sent it (tolerant reading) is written back as it came."""

    def factory(cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
        keys = tuple((a.name, _json_name(a) if json_names else a.name) for a in attrs.fields(cls))
        unstructure = into.unstructure

        def unstructure_attrs(obj: Any) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for name, key in keys:
                value = getattr(obj, name)
                if type(value) in _PLAIN:  # most values: no hook to look up
                    out[key] = value
                elif value is not UNSET:
                    out[key] = unstructure(value)
            return out

        return unstructure_attrs

    return factory


converter.register_structure_hook_factory(attrs.has, _attrs_hook)
converter.register_unstructure_hook_factory(attrs.has, attrs_unstructurer(converter))


# --- scalars --------------------------------------------------------------------------------------


def _structure_datetime(value: Any, _: Any) -> _dt.datetime:
    if isinstance(value, str):
        return read_datetime(value)
    if isinstance(value, _dt.datetime):
        parsed = value
    else:
        raise SchemaMismatchError(f"expected an ISO 8601 date-time, got {_json_type(value)}", value)
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


def _structure_float(value: Any, _: Any) -> float:
    if type(value) is int or type(value) is float:
        return value
    if isinstance(value, str | int) and not isinstance(value, bool):
        return float(value)
    raise SchemaMismatchError(f"expected a number, got {_json_type(value)}", value)


def _structure_int(value: Any, _: Any) -> int:
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():  # 5.0: a JSON number that is whole
        return int(value)
    raise SchemaMismatchError(f"expected an integer, got {_json_type(value)}", value)


def _structure_str(value: Any, _: Any) -> str:
    if isinstance(value, str):
        return value
    raise SchemaMismatchError(f"expected a string, got {_json_type(value)}", value)


def _structure_bool(value: Any, _: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise SchemaMismatchError(f"expected a boolean, got {_json_type(value)}", value)


converter.register_structure_hook(_dt.datetime, _structure_datetime)
converter.register_unstructure_hook(_dt.datetime, format_datetime)
# strict scalars: cattrs would otherwise call str(value)/float(value) and turn an object into text
# (OpenStrEnum, a subclass of str, has its own hook below, which singledispatch prefers)
converter.register_structure_hook(int, _structure_int)
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

    return structure_json_object


converter.register_structure_hook(OpenStrEnum, _structure_enum)
converter.register_unstructure_hook(OpenStrEnum, lambda member: str(member.value))
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


def _partial_scorer(tp: Any) -> Callable[[Any], int]:
    """For tolerant reading, when the data fits no member fully: how much of a model member it
    has (-1: not an object, a constant of the member contradicted, or no key in common)."""
    if not attrs.has(tp):
        return lambda data: -1
    required, consts = _required_shape(tp)
    keys = frozenset(_json_name(a) for a in attrs.fields(tp))

    def partial_model(data: Any) -> int:
        if not isinstance(data, Mapping) or not data.keys() & keys:
            return -1
        if any(k in data and data[k] not in allowed for k, allowed in consts.items()):
            return -1
        return 2 * len(required & data.keys()) + len(data.keys() & keys)

    return partial_model


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
    partials = [(member, _partial_scorer(member)) for member in rest]
    names = ", ".join(getattr(m, "__name__", str(m)) for m in rest)
    hooks: dict[Any, Callable[[Any, Any], Any]] = {}
    # For a JSON object the best member depends only on its keys and the values of the members'
    # constant-valued fields, so the choice is remembered per key order and those values (a page
    # of bookings has a handful of such shapes).
    by_shape: dict[tuple[Any, ...], Any] = {}
    tags = sorted({key for m in rest if attrs.has(m) for key in _required_shape(m)[1]})

    def ranked(data: Any) -> list[Any]:
        """The members the data may fit, best first (stable for equal scores). Reading
        tolerantly, data that fits no member fully goes to the member it fits best (its missing
        or misfit fields kept as they came and reported)."""
        scores = [(score_of(data), i, member) for i, (member, score_of) in enumerate(scored)]
        fitting = sorted((s for s in scores if s[0] >= 0), key=lambda s: (-s[0], s[1]))
        if not fitting and not _STRICT.get():
            scores = [(partial(data), i, member) for i, (member, partial) in enumerate(partials)]
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
        if not tags:
            shape: tuple[Any, ...] = tuple(data)
        elif len(tags) == 1:
            shape = (*data, data.get(tags[0]))
        else:
            shape = (*data, *[data.get(key) for key in tags])
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
        hook = hooks.get(member)
        if hook is None:
            hook = hooks[member] = _hook(member)
        try:
            return hook(data, member)
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
            raise SchemaMismatchError(f"expected a JSON array, got {_json_type(data)}", data)
        if hook is None:
            hook = _hook(item)
        try:
            return [hook(value, item) for value in data]
        except MISFITS:  # an item that does not fit: each kept or raised on its own
            return [_list_item(data, i, value, item, hook) for i, value in enumerate(data)]

    return structure_list


def _list_item(
    data: list[Any], index: int, value: Any, item: Any, hook: Callable[[Any, Any], Any]
) -> Any:
    """One item of a list whose items do not all fit: typed, or kept as it came and recorded."""
    try:
        return hook(value, item)
    except MISFITS as exc:
        if _STRICT.get():
            raise
        found = _FOUND.get()
        if found is not None:
            found.append(
                Deviation(
                    f"list[{_type_text(item)}]",
                    f"[{index}]",
                    "union" if _is_union(item) else _kind(value, item),
                    _type_text(item),
                    _json_type(value),
                    data,
                )
            )
        del exc
        return value


converter.register_structure_hook_factory(_is_list, _list_factory)


def unstructure(value: Any) -> Any:
    """A model (or anything) -> JSON-shaped data, ``UNSET`` fields left out."""
    return converter.unstructure(value)
