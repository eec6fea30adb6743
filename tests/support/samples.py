"""Values of any type the generated code names, models built with only their required fields:
what a test sends or answers when the value itself does not matter (session/, models/)."""

from __future__ import annotations

import collections.abc
import datetime as dt
import enum
import types
import typing
from typing import Any, Literal, Union, get_args, get_origin

import attrs

from calcom_async._types import Unset

#: the date-time every sample carries
WHEN = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)


def sample(tp: Any, depth: int = 0) -> Any:
    """A value of type ``tp`` with only the required fields of models filled in."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        members = [m for m in get_args(tp) if m not in (Unset, type(None))]
        return sample(members[0], depth) if members else None
    if origin is Literal:
        return get_args(tp)[0]
    if origin in (list, tuple, typing.Sequence, collections.abc.Sequence):
        args = get_args(tp)
        return [sample(args[0], depth + 1)] if args and depth < 6 else []
    if origin in (dict, typing.Mapping) or tp is dict:
        return {}
    if tp is Any or tp is object:
        return "any"
    if isinstance(tp, type):
        if attrs.has(tp):
            hints = typing.get_type_hints(tp)
            values = {
                a.name: sample(hints[a.name], depth + 1)
                for a in attrs.fields(tp)
                if a.default is attrs.NOTHING and a.init
            }
            return tp(**values)
        if issubclass(tp, enum.Enum):
            return next(iter(tp))
        for kind, value in (
            (bool, True),
            (int, 1),
            (float, 1.5),
            (str, "text"),
            (dt.datetime, WHEN),
            (dt.date, WHEN.date()),
        ):
            if issubclass(tp, kind):
                return value
    return None
