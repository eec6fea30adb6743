"""What the converter reads off a model's annotations: a field's JSON name, and whether a type is
a union or a list (the converter's hook factories, the deviation reports and the union choice
all ask)."""

from __future__ import annotations

import types
from typing import Any, Union, get_origin

import attrs

__all__ = ["is_list", "is_union", "json_name"]


def json_name(a: attrs.Attribute[Any]) -> str:
    """The field's name in JSON (kept in its metadata as ``"json"``), else its attribute name."""
    name: str = a.metadata.get("json", a.name)
    return name


def is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def is_list(tp: Any) -> bool:
    return get_origin(tp) is list
