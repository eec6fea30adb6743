"""Models and the converter: document examples round-trip, generated instances round-trip,
unknown enum values and fields are kept or ignored, bad data raises a clear error."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest
from hypothesis import given, settings

from calcom_async._drift import SchemaMismatchError
from calcom_async._generated import models
from calcom_async._model import CalComModel
from calcom_async._serde import structure, unstructure
from calcom_async._types import UNSET, OpenStrEnum
from codegen.examples import ExampleBuilder
from tests.models._cases import ambiguous, component_refs, response_examples, strategy
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


@pytest.mark.parametrize(("name", "ref"), component_refs(), ids=lambda v: str(v)[:60])
def test_schema_example_round_trips(name: str, ref: str) -> None:
    example = ExampleBuilder(normalised_spec().doc).build({"$ref": ref})
    obj = structure(example, getattr(models, name))
    assert _normal(unstructure(obj)) == _normal(example)


@pytest.mark.parametrize(("oid", "op", "example"), response_examples(), ids=lambda v: str(v)[:60])
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
            assert ambiguous(instance, back)
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
