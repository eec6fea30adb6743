"""Models and the converter: document examples round-trip, generated instances round-trip,
unknown enum values and fields are kept or ignored, bad data raises a clear error."""

from __future__ import annotations

import datetime as dt
import types
import typing
from typing import Any, Literal, Union, get_args, get_origin

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calcom_async._generated import models
from calcom_async._generated.operations import OPERATIONS
from calcom_async._model import CalComModel
from calcom_async._serde import SchemaMismatchError, structure, unstructure
from calcom_async._types import UNSET, OpenStrEnum, Unset
from codegen.examples import ExampleBuilder
from tests.support.spec import normalised_spec


def _normal(value: Any) -> Any:
    """JSON with date-time strings compared as instants (the API writes both …Z and ….000Z)."""
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    if isinstance(value, str) and len(value) >= 16 and value[10:11] == "T":
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def _component_refs() -> list[tuple[str, str]]:
    return sorted(
        (name, ref)
        for name, ref in models.SCHEMA_REFS.items()
        if ref.startswith("#/components/schemas/") and ref.count("/") == 3
    )


@pytest.mark.parametrize(("name", "ref"), _component_refs(), ids=lambda v: str(v)[:60])
def test_schema_example_round_trips(name: str, ref: str) -> None:
    example = ExampleBuilder(normalised_spec().doc).build({"$ref": ref})
    obj = structure(example, getattr(models, name))
    assert _normal(unstructure(obj)) == _normal(example)


def _response_examples() -> list[tuple[str, Any, Any]]:
    spec = normalised_spec()
    builder = ExampleBuilder(spec.doc)
    raw = {op["operationId"]: op for _, _, op in spec.operations()}
    out = []
    for op in OPERATIONS:
        if op.response is None:
            continue
        responses = raw[op.operation_id]["responses"]
        code = min(c for c in responses if c.startswith("2"))
        schema = responses[code]["content"]["application/json"]["schema"]
        out.append((op.operation_id, op, builder.build(schema)))
    return out


@pytest.mark.parametrize(("oid", "op", "example"), _response_examples(), ids=lambda v: str(v)[:60])
def test_response_example_round_trips(oid: str, op: Any, example: Any) -> None:
    obj = structure(example, op.response_type())
    assert _normal(unstructure(obj)) == _normal(example)
    if op.unwrap:
        assert obj.data is not UNSET


def test_unknown_enum_value_and_fields_are_kept_or_ignored() -> None:
    example = ExampleBuilder(normalised_spec().doc).build(
        {"$ref": "#/components/schemas/BookingOutput_2024_08_13"}
    )
    example["status"] = "teleported"
    example["brandNewField"] = {"nested": [1, 2, 3]}
    example["hosts"][0]["somethingElse"] = True
    booking = structure(example, models.BookingOutput_2024_08_13)
    assert booking.status == "teleported"
    assert isinstance(booking.status, OpenStrEnum)
    assert not booking.status.is_known
    assert isinstance(booking.start, dt.datetime) and booking.start.tzinfo is not None
    back = unstructure(booking)
    assert back["status"] == "teleported"
    assert "brandNewField" not in back


def test_bad_data_names_the_problem_in_strict_mode() -> None:
    with pytest.raises(SchemaMismatchError) as info:
        structure({"status": "success"}, models.GetBookingOutput_2024_08_13, strict=True)
    assert "data" in str(info.value)
    assert info.value.data == {"status": "success"}
    with pytest.raises(SchemaMismatchError) as union_info:
        structure([1, 2], models.V2BookingsPostRequest, strict=True)
    assert union_info.value.data == [1, 2]


def test_bad_data_is_read_tolerantly_by_default() -> None:
    envelope = structure({"status": "success"}, models.GetBookingOutput_2024_08_13)
    assert isinstance(envelope, models.GetBookingOutput_2024_08_13)
    assert envelope.status == "success" and envelope.data is UNSET  # the missing key
    with pytest.raises(SchemaMismatchError):  # not an object at all: nothing to type
        structure([1, 2], models.V2BookingsPostRequest)


def test_unset_is_omitted_and_none_is_null() -> None:
    body = models.UpdateScheduleInput_2024_06_11(name="Work", time_zone=None)  # type: ignore[arg-type]
    assert unstructure(body) == {"name": "Work", "timeZone": None}
    assert models.UpdateScheduleInput_2024_06_11().availability is UNSET


def test_union_picks_the_member_by_required_keys_and_constants() -> None:
    instant = {
        "start": "2024-08-13T09:00:00Z",
        "attendee": {"name": "A", "timeZone": "UTC"},
        "eventTypeId": 1,
        "instant": True,
    }
    recurring = {
        "start": "2024-08-13T09:00:00Z",
        "attendee": {"name": "A", "timeZone": "UTC"},
        "eventTypeId": 1,
        "recurrenceCount": 3,
    }
    assert type(structure(instant, models.V2BookingsPostRequest)).__name__ == (
        "CreateInstantBookingInput_2024_08_13"
    )
    assert type(structure(recurring, models.V2BookingsPostRequest)).__name__ == (
        "CreateRecurringBookingInput_2024_08_13"
    )


# --- Hypothesis: unstructure -> structure is the identity on generated instances ---------------

_json_scalars = st.none() | st.booleans() | st.integers(-(2**31), 2**31) | st.text(max_size=8)
_json = st.recursive(
    _json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
_datetimes = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)
).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))


def strategy(tp: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    origin = get_origin(tp)
    if tp is Any:
        return _json
    if tp is Unset:
        return st.just(UNSET)
    if tp is type(None):
        return st.none()
    if origin in (Union, types.UnionType):
        members = [m for m in get_args(tp) if not (depth > 3 and attrs.has(m))]
        # every member is generated; the data alone must bring the right one back
        return st.one_of([strategy(m, depth + 1) for m in members])
    if origin is Literal:
        return st.sampled_from(get_args(tp))
    if origin is list:
        return st.lists(strategy(get_args(tp)[0], depth + 1), max_size=2 if depth < 3 else 0)
    if origin is dict:
        return st.dictionaries(st.text(max_size=5), _json, max_size=2)
    if tp is dt.datetime:
        return _datetimes
    if tp is float:
        return st.integers(-(10**6), 10**6) | st.floats(allow_nan=False, allow_infinity=False)
    if tp is int:
        return st.integers(-(10**6), 10**6)
    if tp is bool:
        return st.booleans()
    if tp is str:
        return st.text(max_size=10)
    if isinstance(tp, type) and issubclass(tp, OpenStrEnum):
        return st.sampled_from(list(tp))
    if attrs.has(tp):
        hints = typing.get_type_hints(tp)
        return st.builds(
            tp, **{a.name: strategy(hints[a.name], depth + 1) for a in attrs.fields(tp)}
        )
    raise NotImplementedError(tp)


def _ambiguous(a: Any, b: Any) -> bool:
    """``a`` and ``b`` differ only where a union member of one class came back as another."""
    if type(a) is not type(b):
        return attrs.has(type(a)) and attrs.has(type(b)) and unstructure(a) == unstructure(b)
    if attrs.has(type(a)):
        return all(
            _ambiguous(getattr(a, f.name), getattr(b, f.name)) for f in attrs.fields(type(a))
        )
    if isinstance(a, list):
        return len(a) == len(b) and all(_ambiguous(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


ROUND_TRIP_MODELS = [
    "BookingOutput_2024_08_13",
    "RecurringBookingOutput_2024_08_13",
    "CreateBookingInput_2024_08_13",
    "EventTypeOutput_2024_06_14",
    "CreateEventTypeInput_2024_06_14",
    "UpdateEventTypeInput_2024_06_14",
    "UserWebhookOutputDto",
    "EventTypeWebhookOutputDto",
    "CreateWebhookInputDto",
    "ScheduleOutput_2024_06_11",
    "CreateScheduleInput_2024_06_11",
]


@pytest.mark.parametrize("name", ROUND_TRIP_MODELS)
def test_unstructure_structure_is_identity(name: str) -> None:
    cls = getattr(models, name)

    @settings(max_examples=60, deadline=None)
    @given(strategy(cls))
    def check(instance: Any) -> None:
        data = unstructure(instance)
        back = structure(data, cls)
        if back != instance:
            # only JSON that fits two union members equally may come back as the other member
            # (the document gives e.g. {"disabled": true} to a limits object and to Disabled);
            # even then nothing may be lost
            assert unstructure(back) == data
            assert _ambiguous(instance, back)
        assert unstructure(back) == data

    check()


def _model_classes() -> list[type[Any]]:
    classes = (getattr(models, name) for name in models.SCHEMA_REFS)
    return sorted((c for c in classes if attrs.has(c)), key=lambda c: c.__name__)


def test_every_model_is_a_plain_attrs_class_its_reader_may_fill() -> None:
    """Each model's generated ``structure_<Class>`` sets the instance's slots as ``__init__``
    would (``codegen/templates/models/attrs.jinja2``): that is right only while no model has a
    validator, a converter, an ``on_setattr`` hook, an ``__attrs_post_init__`` or a base class
    besides the field-less ``CalComModel``."""
    classes = _model_classes()
    assert len(classes) > 300
    assert CalComModel.__slots__ == () and not attrs.has(CalComModel)
    assert "__setattr__" not in CalComModel.__dict__ and "__init__" not in CalComModel.__dict__
    for cls in classes:
        assert cls.__bases__ == (CalComModel,), cls
        assert "__slots__" in cls.__dict__, cls
        assert not hasattr(cls, "__attrs_post_init__"), cls
        assert not hasattr(cls, "__attrs_pre_init__"), cls
        assert "__setattr__" not in cls.__dict__, cls  # attrs writes one for on_setattr hooks
        for a in attrs.fields(cls):
            assert a.validator is None and a.converter is None and a.on_setattr is None, (cls, a)
            assert a.init, (cls, a)


def test_a_read_instance_equals_the_one_init_builds() -> None:
    """Every field set, none left out, the same values: the reader and ``__init__`` agree."""
    data = {
        "name": "Ada",
        "email": "ada@example.com",
        "displayEmail": "ada@example.com",
        "timeZone": "Europe/Rome",
        "absent": False,
        "language": "it",
    }
    read = structure(data, models.BookingAttendee)
    built = models.BookingAttendee(
        name="Ada",
        email="ada@example.com",
        display_email="ada@example.com",
        time_zone="Europe/Rome",
        absent=False,
        language=models.BookingAttendee_language("it"),
    )
    assert read == built and repr(read) == repr(built)
    assert read.phone_number is UNSET  # an optional key left out: its default
    assert attrs.asdict(read) == attrs.asdict(built)
