"""Unions (``oneOf``/``anyOf`` without a discriminator): the member whose required keys (and
constant-valued fields) fit the data best, the hook the converter (``calcom_async._serde``)
uses for every union type.

The choice for a JSON object is remembered per key order (a page of bookings has a handful of
such shapes); reading tolerantly, data that fits no member fully goes to the member it fits best.
"""

from __future__ import annotations

import enum
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal, get_args, get_origin

import attrs
import cattrs

from ._annotations import json_name
from ._drift import STRICT, SchemaMismatchError
from ._types import Unset

__all__ = ["union_factory"]


def _required_shape(cls: type[Any]) -> tuple[frozenset[str], dict[str, tuple[Any, ...]]]:
    """The JSON keys a class requires, and the values its required Literal- or enum-typed fields
    allow (the tags that tell the branches of an undiscriminated ``oneOf`` apart)."""
    hints = typing.get_type_hints(cls)
    required = frozenset(json_name(a) for a in attrs.fields(cls) if a.default is attrs.NOTHING)
    consts: dict[str, tuple[Any, ...]] = {}
    for a in attrs.fields(cls):
        tp = hints.get(a.name)
        if a.default is not attrs.NOTHING:
            continue
        if get_origin(tp) is Literal:
            consts[json_name(a)] = get_args(tp)
        elif isinstance(tp, type) and issubclass(tp, enum.Enum):
            consts[json_name(a)] = tuple(member.value for member in tp)
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
        keys = frozenset(json_name(a) for a in attrs.fields(tp))
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
    keys = frozenset(json_name(a) for a in attrs.fields(tp))

    def partial_model(data: Any) -> int:
        if not isinstance(data, Mapping) or not data.keys() & keys:
            return -1
        if any(k in data and data[k] not in allowed for k, allowed in consts.items()):
            return -1
        return 2 * len(required & data.keys()) + len(data.keys() & keys)

    return partial_model


#: How many JSON key orders a union remembers its choice for (see ``structure_union``).
_SHAPE_CACHE_SIZE = 256


def union_factory(tp: Any, converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
    """The structuring hook of the union ``tp``. The members' hooks are looked up in
    ``converter`` on first use, not when this runs: the hook of a class may still be under
    construction then (recursive models)."""
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
                single_hook = converter.get_structure_hook(single)
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
        if not fitting and not STRICT.get():
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
            hook = hooks[member] = converter.get_structure_hook(member)
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
            hook = hooks[member] = converter.get_structure_hook(member)
        try:
            return hook(data, member)
        except SchemaMismatchError as exc:
            return fallback(data, member, exc)

    return structure_union
