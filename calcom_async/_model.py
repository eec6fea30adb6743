"""Models out of the library: ``to_dict``/``to_json``, ``Model.from_dict``/``from_json``, and
returning a model from a FastAPI (pydantic) endpoint.

    data = to_dict(booking)                      # {"eventTypeId": 1, "start": "…Z", …}
    text = to_json(bookings)                     # a list of models, as JSON text
    same = models.BookingOutput_2024_08_13.from_json(text_of_one)

The JSON written is the API's own: its names (``camelCase``; ``by_alias=False`` for the Python
attribute names), ``UNSET`` fields left out, ``None`` as ``null``, date-times as the API writes
them (``2024-08-13T09:00:00.000Z`` in UTC, ``2024-08-13T11:00:00.000+02:00`` with an offset), enums
as their strings (a value the document does not list, too). A value that tolerant reading kept as
the server sent it (it did not fit its field) is written back as it came. Keys of the answer that
the model has no field for are not kept (the model never read them): ``.raw()`` on a paginator or
``cal.bookings.sync()`` gives the answer's dicts as they came.

``from_dict`` reads what ``to_dict`` writes (JSON names) **tolerantly**, as answers are read: a
value that does not fit its field is kept as it came and reported once on ``calcom_async.drift``,
so a model written from a tolerated answer reads back equal. ``strict=True`` raises
:class:`SchemaMismatchError` at the first misfit instead (use it for data from your own users).
"""

from __future__ import annotations

import contextvars
import enum
import functools
import inspect
import operator
import types
import typing
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Union, get_args, get_origin, overload

import attrs
import orjson

from . import _serde
from ._annotations import json_name
from ._drift import SchemaMismatchError
from ._types import Unset

if TYPE_CHECKING:
    from typing import Self

    from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
    from pydantic.json_schema import JsonSchemaValue
    from pydantic_core import CoreSchema

__all__ = ["CalComModel", "to_dict", "to_json"]

#: the converter that writes attribute names (``to_dict(..., by_alias=False)``)
_PYTHON_NAMES = _serde.converter.copy()
_PYTHON_NAMES.register_unstructure_hook_factory(
    attrs.has, _serde.attrs_unstructurer(_PYTHON_NAMES, json_names=False)
)


class CalComModel:
    """The base of every generated model (``calcom_async.models.*``): reading one from JSON.

    Also what pydantic (FastAPI) needs to take a model as a field, a return type or a
    ``response_model``: validated as it is (an instance) or from a JSON object (strictly), and
    serialised with :func:`to_dict`.
    """

    __slots__ = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, strict: bool = False) -> Self:
        """The model from a JSON object under the API's names (what :func:`to_dict` writes).

        Tolerant by default (see the module's docstring); ``strict=True`` raises
        :class:`SchemaMismatchError` naming the first field that does not fit."""
        if not isinstance(data, Mapping):
            raise SchemaMismatchError(
                f"{cls.__name__}.from_dict: expected a JSON object (a dict), got "
                f"{type(data).__name__}",
                data,
            )
        _refuse_python_names(cls, data)
        value: Self = _serde.structure(data, cls, strict=strict)
        return value

    @classmethod
    def from_json(cls, text: str | bytes, *, strict: bool = False) -> Self:
        """The model from JSON text (what :func:`to_json` writes); see :meth:`from_dict`."""
        try:
            data = orjson.loads(text)
        except (orjson.JSONDecodeError, TypeError) as exc:
            raise SchemaMismatchError(f"{cls.__name__}.from_json: not JSON ({exc})", None) from None
        return cls.from_dict(data, strict=strict)

    # -- pydantic (FastAPI): not imported unless pydantic asks --------------------------------

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        from pydantic_core import core_schema

        def validate(value: Any) -> Any:
            if isinstance(value, source):
                return value
            try:  # data from outside (a request body): strictly
                return source.from_dict(value, strict=True)
            except SchemaMismatchError as exc:  # pydantic reports a ValueError's message
                raise ValueError(str(exc)) from None

        ref = f"{source.__module__}.{source.__qualname__}"
        building = _BUILDING.get()
        if source in building:  # a model that holds itself (a tree): refer to the one above
            return core_schema.definition_reference_schema(ref)
        token = _BUILDING.set(building | {source})
        try:  # the JSON object's shape, for the JSON schema only (OpenAPI of a FastAPI app)
            hints = typing.get_type_hints(source)
            shape = core_schema.typed_dict_schema(
                {
                    json_name(a): core_schema.typed_dict_field(
                        handler.generate_schema(_without_unset(hints[a.name])),
                        required=a.default is attrs.NOTHING,
                    )
                    for a in _fields(source)
                },
                config={"title": source.__name__},
            )
        finally:
            _BUILDING.reset(token)
        return core_schema.no_info_plain_validator_function(
            validate,
            ref=ref,
            json_schema_input_schema=shape,
            # to_dict's JSON: its date-times are already strings, so not ``shape`` here
            serialization=core_schema.plain_serializer_function_ser_schema(
                to_dict, return_schema=core_schema.dict_schema()
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """The JSON object's shape in both modes (requests and answers have the same JSON)."""
        shape = schema.get("json_schema_input_schema")
        return handler(shape if shape is not None else schema)


#: the models whose pydantic schema is being built (a model inside itself refers to it)
_BUILDING: contextvars.ContextVar[frozenset[type[Any]]] = contextvars.ContextVar(
    "calcom_pydantic_building", default=frozenset()
)


def _without_unset(tp: Any) -> Any:
    """``str | None | Unset`` -> ``str | None`` (``UNSET`` is a missing key, not a value)."""
    if get_origin(tp) in (Union, types.UnionType):
        members = [m for m in get_args(tp) if m is not Unset]
        return functools.reduce(operator.or_, members)
    return tp


def _fields(cls: type[Any]) -> tuple[attrs.Attribute[Any], ...]:
    return tuple(attrs.fields(cls))


def _refuse_python_names(cls: type[Any], data: Mapping[str, Any]) -> None:
    """A key that is a field's Python name where the JSON name is missing: the data was written
    with ``to_dict(by_alias=False)`` (or by hand), which ``from_dict`` does not read."""
    for a in _fields(cls):
        key = json_name(a)
        if key != a.name and a.name in data and key not in data:
            raise SchemaMismatchError(
                f"{cls.__name__}.from_dict: {a.name!r} is the Python name of the field "
                f"{key!r}; from_dict reads the API's JSON names (camelCase), as to_dict(model) "
                "writes them",
                data,
            )


@overload
def to_dict(value: CalComModel, *, by_alias: bool = True) -> dict[str, Any]: ...
@overload
def to_dict(value: Mapping[str, Any], *, by_alias: bool = True) -> dict[str, Any]: ...
@overload
def to_dict(value: list[Any] | tuple[Any, ...], *, by_alias: bool = True) -> list[Any]: ...
@overload
def to_dict(value: Any, *, by_alias: bool = True) -> Any: ...
def to_dict(value: Any, *, by_alias: bool = True) -> Any:
    """A model (or a list or dict of them) as JSON-shaped data: dicts, lists, strings, numbers,
    booleans, ``None`` — ready for ``json.dumps``, a database or a template.

    ``by_alias=True`` (the default): the API's JSON names (``eventTypeId``); ``False``: the
    attribute names (``event_type_id``), for your own columns or templates. Only the default
    round-trips: ``Model.from_dict`` reads the JSON names, and refuses data written with
    ``by_alias=False`` (a :class:`SchemaMismatchError` saying so). See :mod:`calcom_async._model`
    for the rules."""
    _check_exportable(value)
    return (_serde.converter if by_alias else _PYTHON_NAMES).unstructure(value)


def to_json(value: Any, *, by_alias: bool = True) -> str:
    """:func:`to_dict` as JSON text (compact, UTF-8); only the default (JSON names) is read back
    by ``Model.from_json``."""
    return orjson.dumps(to_dict(value, by_alias=by_alias)).decode()


def _check_exportable(value: Any) -> None:
    """What ``to_dict`` takes: a model, a list, tuple or dict of them, or JSON data."""
    if attrs.has(type(value)) or isinstance(value, list | tuple | Mapping | enum.Enum):
        return
    if value is None or isinstance(value, str | int | float):
        return
    name = type(value).__name__
    hint = ""
    if inspect.isawaitable(value) or hasattr(value, "__aiter__"):
        hint = (
            ": await it first (`to_dict(await cal.bookings.get(uid))`), or collect a list "
            "(`await cal.bookings.list(max_items=…)`, `.to_list()`)"
        )
    elif hasattr(value, "items") and hasattr(value, "meta"):
        hint = ": pass the page's items (`to_dict(page.items)`)"
    from ._errors import CalComUsageError  # here: loading a model needs no error classes

    raise CalComUsageError(f"to_dict takes a model, a list or a dict of them, not {name}{hint}")
