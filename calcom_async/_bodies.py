"""Request bodies, checked before anything is sent: a model, a dict, or keyword fields.

- **A model** (``models.CreateBookingInput_2024_08_13(...)``): each field has the type it
  declares, nested models and lists of them included.
- **A dict** is the JSON as the API writes it (camelCase keys), checked against the body's model
  the same way: declared keys have their types, required keys are there, and a key spelt the
  Python way (``event_type_id``) is refused with the API's spelling (``eventTypeId``) — a dict is
  sent as written, so a snake_case key would reach the server as an unknown field. Keys the
  document does not declare are sent as they are (the server decides).
- **Keyword fields** (``cal.bookings.create(start=…, attendee=…, event_type_id=…)``) build the
  model. For a union body (``bookings.create``: a booking, an instant booking, a recurring one)
  they build the first member, in the document's order, that has every field given and all the
  fields it requires: ``instant=True`` makes an instant booking, ``recurrence_count=`` a
  recurring one, neither a plain one. A dict body of a union is matched the same way.
- **Times**: a naive ``datetime`` anywhere in a body (or a query value, ``_session._scalar``)
  is refused, naming the field: the API would read it as UTC, which is a different meeting for
  anyone elsewhere. So is a date-time *string* with a time and no offset
  (``"2026-12-03T08:00:00"``) in a field or query filter the document types date-time; a date
  alone (``"2026-12-03"``) and strings with ``Z`` or an offset pass.

Errors are :class:`CalComUsageError` naming the operation, the field, what was expected and what
came (a type, never the value: it may be personal data).
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from ._errors import CalComUsageError
from ._types import Unset

__all__ = [
    "build",
    "check",
    "check_query_text",
    "fits",
    "members",
    "naive_datetime",
    "naive_datetime_text",
    "type_name",
]


@attrs.frozen
class _Field:
    attr: str  #: the Python name (a keyword argument, a model attribute)
    key: str  #: the JSON name (a dict key)
    type: Any
    required: bool


#: a model's fields as the checks read them, by class (made on first use; a program sends a few)
_FIELDS: dict[type[Any], tuple[_Field, ...]] = {}


def _fields(cls: type[Any]) -> tuple[_Field, ...]:
    fields = _FIELDS.get(cls)
    if fields is None:
        hints = typing.get_type_hints(cls)
        fields = _FIELDS[cls] = tuple(
            _Field(
                a.alias,
                a.metadata.get("json", a.name),
                hints.get(a.name, Any),
                a.default is attrs.NOTHING,
            )
            for a in attrs.fields(cls)
            if a.init
        )
    return fields


@functools.cache  # types are few and hashable: worked out once each
def _union_args(tp: Any) -> tuple[Any, ...]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return typing.get_args(tp)
    return (tp,)


@functools.cache
def members(tp: Any) -> tuple[type[Any], ...]:
    """The models a body of type ``tp`` may be: the model, or a union's members that are models
    (empty: a free-form body)."""
    return tuple(m for m in _union_args(tp) if isinstance(m, type) and attrs.has(m))


# -- choosing the model ---------------------------------------------------------------------------


def _choose(where: str, models: Sequence[type[Any]], given: set[str], *, by: str) -> type[Any]:
    """The first model that has every name given and all the names it requires (``by``:
    ``"attr"`` for keyword fields, ``"key"`` for dict keys)."""
    if not models:
        raise CalComUsageError(f"{where}: this body has no fields to give as keywords")
    missing_of: list[tuple[type[Any], list[str]]] = []
    for model in models:
        if not given <= _names_of(model, by):
            continue
        missing = [f.attr if by == "attr" else f.key for f in _fields(model) if f.required]
        missing = [name for name in missing if name not in given]
        if not missing:
            return model
        missing_of.append((model, missing))
    label = "field" if by == "attr" else "key"
    if missing_of:
        model, missing = missing_of[0]
        raise CalComUsageError(
            f"{where}: missing required {label}{'s' if len(missing) > 1 else ''} "
            f"{_names(missing)} (for {model.__name__})"
        )
    alone = sorted(n for n in given if not any(n in _names_of(m, by) for m in models))
    if alone:
        raise CalComUsageError(f"{where}: {_names(alone)} is not a {label} of {_models(models)}")
    raise CalComUsageError(
        f"{where}: no one body model takes all of {_names(sorted(given))}: "
        + "; ".join(f"{m.__name__} has {_names(sorted(given & _names_of(m, by)))}" for m in models)
    )


_NAMES: dict[tuple[type[Any], str], frozenset[str]] = {}
_BY_KEY: dict[type[Any], dict[str, _Field]] = {}


def _by_key(model: type[Any]) -> dict[str, _Field]:
    """The model's fields by JSON name."""
    by_key = _BY_KEY.get(model)
    if by_key is None:
        by_key = _BY_KEY[model] = {f.key: f for f in _fields(model)}
    return by_key


def _names_of(model: type[Any], by: str) -> frozenset[str]:
    """The model's Python names (``by="attr"``) or JSON names (``"key"``)."""
    names = _NAMES.get((model, by))
    if names is None:
        names = _NAMES[model, by] = frozenset(getattr(f, by) for f in _fields(model))
    return names


def _names(names: Sequence[str]) -> str:
    return ", ".join(repr(n) for n in names)


def _models(models: Sequence[type[Any]]) -> str:
    return " or ".join(m.__name__ for m in models)


def build(where: str, tp: Any, body: Any, fields: Mapping[str, Any]) -> Any:
    """The body of a generated method: ``body`` as given, or the model its keyword fields build
    (``UNSET``: a keyword left out). Giving both is a usage error."""
    given = {name: value for name, value in fields.items() if not isinstance(value, Unset)}
    if body is not None:
        if given:
            raise CalComUsageError(
                f"{where}: pass the body as a model (or a dict) or as keyword fields, not both "
                f"(got body and {', '.join(sorted(given))})"
            )
        return body
    model = _choose(where, members(tp), set(given), by="attr")
    return model(**given)


# -- checking -------------------------------------------------------------------------------------


def check(where: str, tp: Any, body: Any) -> None:
    """Check a body against its declared type ``tp`` (None: nothing declared) before sending."""
    if attrs.has(type(body)):
        _check_model(where, body, type(body).__name__)
    elif isinstance(body, Mapping) and members(tp):
        models = members(tp)
        declared = set().union(*(_names_of(m, "key") for m in models))
        for key in body.keys() - declared:
            _check_spelling(where, models, key, "body")
        model = _choose(where, models, body.keys() & declared, by="key")
        _check_dict(where, model, body, "body")
    else:
        _check_free(where, body, "body")


def _check_model(where: str, model: Any, label: str) -> None:
    for f in _fields(type(model)):
        _check_value(where, f.type, getattr(model, f.attr), f"{label}.{f.attr}", in_dict=False)


def _check_spelling(where: str, models: Sequence[type[Any]], key: str, label: str) -> None:
    """A key no model declares, spelt the Python way (``event_type_id`` for ``eventTypeId``),
    is refused."""
    for m in models:
        for f in _fields(m):
            if key == f.attr != f.key:
                raise CalComUsageError(
                    f"{where}: {label} key {key!r} is the Python name: a dict body is sent "
                    f"as written and the API writes camelCase, so use {f.key!r} (or pass "
                    f"{f.attr}= as a keyword, or a {m.__name__})"
                )


def _check_dict(where: str, model: type[Any], data: Mapping[str, Any], label: str) -> None:
    fields = _by_key(model)
    for key, value in data.items():
        f = fields.get(key)
        if f is None:  # not in the document: sent as it is, the server decides
            _check_spelling(where, [model], key, label)
            _check_free(where, value, f"{label}.{key}")
        else:
            _check_value(where, f.type, value, f"{label}.{key}", in_dict=True)
    missing = [key for key, f in fields.items() if f.required and key not in data]
    if missing:
        raise CalComUsageError(
            f"{where}: {label} is missing required key{'s' if len(missing) > 1 else ''} "
            f"{_names(missing)} (for {model.__name__})"
        )


def _check_value(where: str, tp: Any, value: Any, label: str, *, in_dict: bool) -> None:
    """One value against its declared type; models, dicts and lists inside it too. In a dict
    body a nested model may be a dict; in a model it is a model (as its annotation says)."""
    leaf = type(value) in _LEAVES
    if leaf and type(value) in _union_args(tp):
        return  # the usual field: a value of its declared type, or left out
    naive_datetime(where, label, value)
    if type(value) is str and dt.datetime in _union_args(tp):
        naive_datetime_text(where, label, value)
    if not fits(tp, value, in_dict):
        hint = ""
        if isinstance(value, Mapping) and members(tp):
            hint = f" (inside a model give models.{members(tp)[0].__name__}(...))"
        raise CalComUsageError(
            f"{where}: {label} must be {type_name(tp, in_dict)}, not {_value_type(value)}{hint}"
        )
    if leaf:
        return
    if attrs.has(type(value)):
        _check_model(where, value, label)
        return
    if isinstance(value, Mapping):
        models = members(tp)
        if len(models) == 1:  # a nested model given as a dict (a union of several: unchecked)
            _check_dict(where, models[0], value, label)
        else:
            _check_free(where, value, label)
    elif isinstance(value, list | tuple):
        lists = [a for a in _union_args(tp) if typing.get_origin(a) is list]
        item = typing.get_args(lists[0])[0] if len(lists) == 1 else None
        for i, element in enumerate(value):
            if item is None:
                _check_free(where, element, f"{label}[{i}]")
            else:
                _check_value(where, item, element, f"{label}[{i}]", in_dict=in_dict)


#: values with nothing inside to check
_LEAVES = frozenset({str, int, float, bool, type(None), Unset, dt.date})


def _check_free(where: str, value: Any, label: str) -> None:
    """A value with no declared type: only what can never be right (a naive datetime)."""
    naive_datetime(where, label, value)
    if attrs.has(type(value)):
        _check_model(where, value, label)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _check_free(where, item, f"{label}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_free(where, item, f"{label}[{i}]")


def naive_datetime(where: str, label: str, value: Any) -> None:
    """A naive ``datetime`` raises :class:`CalComUsageError` naming ``label``."""
    if isinstance(value, dt.datetime) and value.utcoffset() is None:
        fields = f"{value.year}, {value.month}, {value.day}, {value.hour}, {value.minute}"
        example = f'datetime({fields}, tzinfo=ZoneInfo("Europe/Rome"))'
        raise CalComUsageError(
            f"{where}: {label} is a naive datetime (no time zone), which the API would read as "
            f"UTC: pass an aware datetime, e.g. {example}, or datetime.now(UTC)"
        )


def naive_datetime_text(where: str, label: str, text: str) -> None:
    """A date-time string with a time of day and no offset (``"2026-12-03T08:00:00"``) raises
    :class:`CalComUsageError` naming ``label``, as a naive ``datetime`` does. A date alone, a
    string ending in ``Z`` or an offset, and text that is no ISO 8601 date-time pass (the server
    decides about those)."""
    if len(text) <= 10 or not text[:4].isdigit():  # a date alone, or no date-time at all
        return
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return
    if when.utcoffset() is None:
        raise CalComUsageError(
            f"{where}: {label} is a date-time string without an offset, which the API would "
            f"read as UTC: give the offset ({text + 'Z'!r} for UTC, {text + '+01:00'!r} for "
            "UTC+1) or pass an aware datetime"
        )


def check_query_text(where: str, label: str, tp: Any, value: Any) -> None:
    """A query value given as a string where the operation takes a date-time (its type
    includes ``datetime``): refused when it is a naive date-time string."""
    if type(value) is str and dt.datetime in _union_args(tp):
        naive_datetime_text(where, f"argument {label!r}", value)


def fits(tp: Any, value: Any, in_dict: bool = False, *, literals: bool = True) -> bool:
    """Whether ``value`` can be sent as ``tp`` (the outer type; unknown types: yes). The one
    check of a value against a real type: bodies here, arguments in ``_session.check_type``.
    ``literals=False``: a ``Literal`` takes any value of its values' type (a query value the
    document does not list yet is the server's to judge)."""
    if tp is Any:
        return True
    args = _union_args(tp)
    if type(value) in args:  # the usual case: None, UNSET, a str, an int, a model, a datetime
        return True
    if len(args) > 1:
        return any(fits(member, value, in_dict, literals=literals) for member in args)
    origin = typing.get_origin(tp)
    if tp is type(None):
        return value is None
    if tp is Unset:
        return isinstance(value, Unset)
    if origin is typing.Literal:
        if literals:
            return value in typing.get_args(tp)
        return any(isinstance(value, type(v)) for v in typing.get_args(tp))
    if origin is list:
        return isinstance(value, list | tuple)
    if origin is Sequence:  # a query parameter's array
        return isinstance(value, list | tuple | set | frozenset)
    if origin is dict or tp is dict:
        return isinstance(value, Mapping)
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if tp is str or (isinstance(tp, type) and issubclass(tp, enum.Enum) and issubclass(tp, str)):
        return isinstance(value, str)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return isinstance(value, tp)
    if tp is dt.datetime:
        return isinstance(value, dt.datetime | str)
    if tp is dt.date:
        return isinstance(value, dt.date | str)
    if isinstance(tp, type) and attrs.has(tp):
        return isinstance(value, tp) or (in_dict and isinstance(value, Mapping))
    return True


def type_name(tp: Any, in_dict: bool = False) -> str:
    """``int``, ``str (or None)``, ``CreateBookingAttendee | a dict``, ``a list of str``."""
    names: list[str] = []
    nullable = False
    for member in _union_args(tp):
        if member is Unset:
            continue
        if member is type(None):
            nullable = True
        elif typing.get_origin(member) in (list, Sequence):
            names.append(f"a list of {type_name(typing.get_args(member)[0], in_dict)}")
        elif typing.get_origin(member) is dict or member is dict:
            names.append("a dict")
        elif typing.get_origin(member) is typing.Literal:
            names.append(" or ".join(repr(v) for v in typing.get_args(member)))
        elif isinstance(member, type) and attrs.has(member):
            names.append(member.__name__)
        elif member is dt.datetime:  # the str it also takes is named once
            text = "an aware datetime"
            names.append(text if str in _union_args(tp) else f"{text} (or an ISO 8601 str)")
        else:
            names.append(getattr(member, "__name__", str(member)))
    if in_dict and members(tp):
        names.append("a dict")
    text = " | ".join(names) or "None"
    return f"{text} (or None)" if nullable and names else text


def _value_type(value: Any) -> str:
    if isinstance(value, Unset):
        return "left out"
    return type(value).__name__
