"""Tolerant reading: what does not fit is kept, recorded as a :class:`Deviation` and reported.

The live API does not follow its document: it sends ``null`` where a type is declared non-null,
leaves out required keys, sends an object where a list is declared, data that fits no member of a
union. Each model field is structured on its own (``calcom_async._serde``): a value that does not
fit its field is **kept as the server sent it** (a missing key: ``UNSET``), the rest of the model
stays typed, and the deviation is recorded as a :class:`Deviation` (model, field, kind, the
declared type, the JSON type that came — never the value). ``structure(..., strict=True)`` raises
:class:`SchemaMismatchError` at the first deviation instead. The session reports deviations once
per process per (model, field, kind) on the ``calcom_async.drift`` logger, with the JSON path
(:func:`report_deviations`). So a tolerated field can hold ``None``, a ``dict``, a ``list`` or a
scalar of another type where its annotation says otherwise; every other field is as typed.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterator, Mapping
from typing import Any, get_args

import attrs

from ._annotations import is_list, is_union
from ._types import UNSET, Unset

__all__ = [
    "Deviation",
    "SchemaMismatchError",
    "report_answer_misfit",
    "report_deviations",
    "reset_drift_memory",
]

drift_logger = logging.getLogger("calcom_async.drift")


class SchemaMismatchError(ValueError):
    """Data that fits none of the types it could be. ``data`` is the raw value."""

    def __init__(self, message: str, data: Any) -> None:
        super().__init__(message)
        self.data = data


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


#: structuring in strict mode (set by ``_serde.structure_reporting``); read only when a value
#: does not fit
STRICT: contextvars.ContextVar[bool] = contextvars.ContextVar("calcom_strict", default=False)
#: where the deviations of the structuring in progress are collected
FOUND: contextvars.ContextVar[list[Deviation] | None] = contextvars.ContextVar(
    "calcom_deviations", default=None
)
#: (model, field, kind) already reported in this process
_REPORTED: set[tuple[str, str, str]] = set()


def json_type(value: Any) -> str:
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


def type_text(tp: Any) -> str:
    text = getattr(tp, "__name__", None) if isinstance(tp, type) else None
    text = text or str(tp).replace("typing.", "")
    for noise in (" | calcom_async._types.Unset", "calcom_async._generated.models.", "datetime."):
        text = text.replace(noise, "")
    return text


def kind_of(value: Any, tp: Any) -> str:
    if value is UNSET:
        return "missing"
    if value is None:
        return "null"
    if is_union(tp) and len([m for m in get_args(tp) if m not in (Unset, type(None))]) > 1:
        return "union"
    if isinstance(value, list | Mapping) or is_list(tp) or attrs.has(tp):
        return "shape"
    return "type"


def misfit(parent: Any, value: Any, cls: type[Any], key: str, tp: Any, error: Any) -> Any:
    """A field's value that does not fit its type: raised in strict mode; else kept as it came
    (``UNSET`` for a missing key) and recorded."""
    if STRICT.get():
        if value is UNSET:
            raise SchemaMismatchError(f"{cls.__name__}: required field {key!r} is missing", parent)
        # our own messages name JSON types; others (int(), fromisoformat) may quote the value
        detail = f" ({error})" if isinstance(error, SchemaMismatchError) else ""
        raise SchemaMismatchError(
            f"{cls.__name__}.{key} does not fit {type_text(tp)}: the answer has "
            f"{json_type(value)}{detail}",
            parent,
        )
    found = FOUND.get()
    if found is not None:
        found.append(
            Deviation(
                cls.__name__, key, kind_of(value, tp), type_text(tp), json_type(value), parent
            )
        )
    return value


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
            json_type(data),
            extra={"calcom_model": model, "calcom_path": "$", "calcom_drift": "shape"},
        )


def reset_drift_memory() -> None:
    """Forget which deviations were reported (tests; a long-lived process that wants them again)."""
    _REPORTED.clear()
