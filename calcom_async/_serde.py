"""The one cattrs ``Converter`` for every model, and how answers are read: tolerantly.

The converter's rooms: this module holds the converter, the attrs classes (read field by field)
and lists, and registers every hook; the scalars' hooks are in ``_scalars`` (date-times, strict
numbers and strings, open enums), the union choice in ``_unions``, what does not fit (kept,
recorded, reported on ``calcom_async.drift``, or raised with ``strict``) in ``_drift``.

- attrs classes: snake_case attributes <-> the JSON names kept in field metadata (``"json"``);
  unknown keys ignored; optional fields left out of the JSON stay ``UNSET`` and ``UNSET`` fields
  are left out when unstructuring (``None`` is sent as ``null``).
- free-form JSON objects (``dict[str, Any]``) are copied as they are; lists are typed item by
  item, an item that does not fit kept as it came.

There is one structuring path. Each generated model has its structuring function written out
at build time (``structure_<Class>`` in the model's module, from
``codegen/templates/models/attrs.jinja2``): per field a fast path chosen for the field's type
(a scalar's type test, an ISO date-time parsed, an enum member looked up, a nested model's own
function called), and :func:`read_field` for a value that does not take it: the converter's
hook for the field's type (the hooks registered here), and a value that does not fit that
either is kept and recorded. Hand-written attrs classes (webhook payloads) go through
:func:`structure_attrs`, the same steps in a loop. No code is generated at run time.
"""

from __future__ import annotations

import datetime as _dt
import sys
import typing
from collections.abc import Callable, Mapping
from typing import Any, get_args

import attrs
import cattrs
from cattrs.gen import make_mapping_structure_fn

from . import _scalars
from ._annotations import is_list, is_union, json_name
from ._drift import (
    FOUND,
    STRICT,
    Deviation,
    SchemaMismatchError,
    json_type,
    kind_of,
    misfit,
    report_deviations,
    type_text,
)
from ._types import UNSET, OpenStrEnum, Unset
from ._unions import union_factory

__all__ = ["converter", "structure", "structure_reporting", "unstructure"]

UTC = _dt.UTC

converter = cattrs.Converter(detailed_validation=False, forbid_extra_keys=False)

#: what a hook raises for a value that does not fit its type
MISFITS = (SchemaMismatchError, ValueError, TypeError, KeyError, AttributeError)


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
    strict_token, found_token = STRICT.set(strict), FOUND.set(found)
    try:
        value = converter.structure(data, tp)
    finally:
        STRICT.reset(strict_token)
        FOUND.reset(found_token)
    return value, found


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
            json_name(a),
            hints.get(a.name, Any),
            converter.get_structure_hook(hints.get(a.name, Any)),
            a.default is attrs.NOTHING,
        )
        for a in attrs.fields(cls)
        if a.init
    )


def read(parent: dict[str, Any], value: Any, cls: type[Any], f: _Field) -> Any:
    """One field's value (``UNSET``: its key is missing) structured by its type's hook; one
    that does not fit is kept as it came and recorded (``_drift.misfit``)."""
    if value is UNSET:
        return misfit(parent, value, cls, f.key, f.type, None) if f.required else UNSET
    try:
        return f.hook(value, f.type)
    except MISFITS as exc:
        return misfit(parent, value, cls, f.key, f.type, exc)


def read_field(parent: dict[str, Any], value: Any, cls: type[Any], index: int) -> Any:
    """:func:`read` for the ``index``-th field of ``cls``: what a generated structuring function
    calls where a value does not take its field's fast path (or the field has none)."""
    return read(parent, value, cls, plan(cls)[index])


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
                f"expected a JSON object for {cls.__name__}, got {json_type(data)}", data
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
        keys = tuple((a.name, json_name(a) if json_names else a.name) for a in attrs.fields(cls))
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


# --- scalars (their hooks: ``_scalars``), free-form JSON objects --------------------------------

converter.register_structure_hook(_dt.datetime, _scalars.structure_datetime)
converter.register_unstructure_hook(_dt.datetime, _scalars.format_datetime)
# strict scalars: cattrs would otherwise call str(value)/float(value) and turn an object into text
# (OpenStrEnum, a subclass of str, has its own hook below, which singledispatch prefers)
converter.register_structure_hook(int, _scalars.structure_int)
converter.register_structure_hook(float, _scalars.structure_float)
converter.register_structure_hook(str, _scalars.structure_str)
converter.register_structure_hook(bool, _scalars.structure_bool)
converter.register_structure_hook(Any, _scalars.structure_any)


def _is_json_object(tp: Any) -> bool:
    return bool(tp == dict[str, Any])


def _json_object_factory(tp: Any) -> Callable[[Any, Any], Any]:
    """``dict[str, Any]`` (free-form JSON objects): a copy of a decoded JSON object as it is."""
    general = make_mapping_structure_fn(tp, converter)

    def structure_json_object(value: Any, _: Any) -> Any:
        return dict(value) if type(value) is dict else general(value, tp)

    return structure_json_object


converter.register_structure_hook(OpenStrEnum, _scalars.structure_enum)
converter.register_unstructure_hook(OpenStrEnum, lambda member: str(member.value))
converter.register_structure_hook_factory(_is_json_object, _json_object_factory)
converter.register_unstructure_hook(Unset, lambda _: None)


# --- unions (the choice of a member: ``_unions``), lists ----------------------------------------

converter.register_structure_hook_factory(is_union, union_factory)


def _hook(tp: Any) -> Callable[[Any, Any], Any]:
    """The converter's hook for ``tp``. Factories look it up on first use, not when they run:
    the hook of a class may still be under construction then (recursive models)."""
    return converter.get_structure_hook(tp)


def _list_factory(tp: Any) -> Callable[[Any, Any], Any]:
    args = get_args(tp)
    item = args[0] if args else Any
    hook: Callable[[Any, Any], Any] | None = None

    def structure_list(data: Any, _: Any) -> list[Any]:
        nonlocal hook
        if not isinstance(data, list):
            raise SchemaMismatchError(f"expected a JSON array, got {json_type(data)}", data)
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
        if STRICT.get():
            raise
        found = FOUND.get()
        if found is not None:
            found.append(
                Deviation(
                    f"list[{type_text(item)}]",
                    f"[{index}]",
                    "union" if is_union(item) else kind_of(value, item),
                    type_text(item),
                    json_type(value),
                    data,
                )
            )
        del exc
        return value


converter.register_structure_hook_factory(is_list, _list_factory)


def unstructure(value: Any) -> Any:
    """A model (or anything) -> JSON-shaped data, ``UNSET`` fields left out."""
    return converter.unstructure(value)
