"""The converter's fast path (``_serde._fast_fn``) against its careful path: for every document
example and for generated instances, the fast function returns what the careful hooks return
(same classes, same values) or raises, and ``structure`` gives the same answer either way."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import attrs
import orjson
import pytest
from _spec import normalised_spec
from hypothesis import given, settings
from test_models import ROUND_TRIP_MODELS, _component_refs, _response_examples, strategy

from calcom_async import _serde
from calcom_async._generated import models
from calcom_async._serde import SchemaMismatchError, structure, unstructure
from calcom_async._types import UNSET
from codegen.examples import ExampleBuilder


@contextmanager
def careful_only() -> Iterator[None]:
    _serde._FAST_PATH = False
    try:
        yield
    finally:
        _serde._FAST_PATH = True


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same classes all the way down (attrs ``==`` checks the class too)."""
    if type(a) is not type(b):
        return False
    if attrs.has(type(a)):
        return all(same(getattr(a, f.name), getattr(b, f.name)) for f in attrs.fields(type(a)))
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def check(data: Any, tp: Any) -> None:
    with careful_only():
        try:
            expected = structure(copy.deepcopy(data), tp)
        except SchemaMismatchError:
            expected = None
    fast = _serde._fast_fn(tp)
    try:
        got = fast(copy.deepcopy(data))
    except Exception:
        got = None  # the fast path may give up; structure() then takes the careful one
    else:
        assert expected is not None, "the fast path accepted what the careful path rejects"
        assert same(got, expected)
    if expected is not None:
        assert same(structure(copy.deepcopy(data), tp), expected)


@pytest.mark.parametrize(("name", "ref"), _component_refs(), ids=lambda v: str(v)[:60])
def test_schema_examples_fast_equals_careful(name: str, ref: str) -> None:
    example = ExampleBuilder(normalised_spec().doc).build({"$ref": ref})
    check(example, getattr(models, name))


@pytest.mark.parametrize(("oid", "op", "example"), _response_examples(), ids=lambda v: str(v)[:60])
def test_response_examples_fast_equals_careful(oid: str, op: Any, example: Any) -> None:
    check(example, op.response_type())
    # a document example fits its own schema: the fast path must not give up on it
    assert _serde._fast_fn(op.response_type())(example) is not None


@pytest.mark.parametrize("name", ROUND_TRIP_MODELS)
def test_generated_instances_fast_equals_careful(name: str) -> None:
    cls = getattr(models, name)

    @settings(max_examples=40, deadline=None)
    @given(strategy(cls))
    def run(instance: Any) -> None:
        check(unstructure(instance), cls)

    run()


def test_a_page_of_bookings_takes_the_fast_path() -> None:
    from bench import data

    body = orjson.loads(data.page_body([data.booking(i) for i in range(40)], 0, 40))
    tp = models.GetBookingsOutput_2024_08_13
    page = _serde._fast_fn(tp)(body)  # raises if the fast path gave up on any booking
    with careful_only():
        assert same(page, structure(body, tp))
    assert type(page.data[0]).__name__ == "BookingOutput_2024_08_13"


def test_bad_or_odd_data_gets_the_careful_answer() -> None:
    booking = ExampleBuilder(normalised_spec().doc).build(
        {"$ref": "#/components/schemas/BookingOutput_2024_08_13"}
    )
    tp = models.BookingOutput_2024_08_13
    odd = [
        {**booking, "status": "teleported"},  # an unknown enum value: kept
        {**booking, "id": "12"},  # a string for an int: the careful hook decides
        {**booking, "duration": True},
        {**booking, "start": "2024-08-13T09:00:00"},  # naive: taken as UTC
        {**booking, "start": "not a time"},
        {**booking, "attendees": [{"name": "A"}]},  # a required key missing in a nested object
        {**booking, "hosts": "nobody"},
        {**booking, "metadata": None},
        {**booking, "guests": ["a", 1]},
        {k: v for k, v in booking.items() if k != "uid"},
    ]
    for data in odd:
        check(data, tp)
    with pytest.raises(SchemaMismatchError, match="BookingAttendee"):
        structure({**booking, "attendees": [{"name": "A"}]}, tp)
    assert structure({**booking, "metadata": None}, tp).metadata is None
    assert structure(booking, tp).cancellation_reason is UNSET or "cancellationReason" in booking
