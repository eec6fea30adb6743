"""Tolerant reading (issue 14): every deviation of an answer from its model is kept as sent in
its field, the rest stays typed, and it is reported once per process per (model, field, kind) on
``calcom_async.drift`` — with the model, the JSON path, the declared type and the JSON type that
came, never the value. ``strict=True`` raises instead."""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from calcom_async import RequestOptions, ResponseValidationError
from calcom_async._drift import SchemaMismatchError, reset_drift_memory
from calcom_async._generated import models
from calcom_async._serde import structure, structure_reporting
from calcom_async._types import UNSET
from calcom_async.testing import FakeCalCom
from codegen.examples import ExampleBuilder
from tests.models._cases import component_refs, response_examples
from tests.support.spec import normalised_spec

SECRET = "whsec_very_secret_value_42"
PAGINATION = dict.fromkeys(
    ("totalItems", "remainingItems", "returnedItems", "itemsPerPage", "currentPage", "totalPages"),
    1,
) | {"hasNextPage": False, "hasPreviousPage": False}


class Drift:
    """The WARNING records on ``calcom_async.drift`` so far (the once-memory is reset first)."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog

    @property
    def messages(self) -> list[str]:
        return [r.getMessage() for r in self.caplog.records if r.name == "calcom_async.drift"]


@pytest.fixture
def drift(caplog: pytest.LogCaptureFixture) -> Iterator[Drift]:
    reset_drift_memory()
    with caplog.at_level(logging.WARNING, logger="calcom_async.drift"):
        yield Drift(caplog)
    reset_drift_memory()


def booking() -> dict[str, Any]:
    data: dict[str, Any] = ExampleBuilder(normalised_spec().doc).build(
        {"$ref": "#/components/schemas/BookingOutput_2024_08_13"}
    )
    return data


@pytest.mark.parametrize(("name", "ref"), component_refs(), ids=lambda v: str(v)[:60])
def test_every_schema_example_fits_strictly(name: str, ref: str) -> None:
    example = ExampleBuilder(normalised_spec().doc).build({"$ref": ref})
    try:
        _value, found = structure_reporting(example, getattr(models, name))
    except SchemaMismatchError:  # not an object where one is needed: nothing to type
        return
    assert found == [], found


@pytest.mark.parametrize(("oid", "op", "example"), response_examples(), ids=lambda v: str(v)[:60])
def test_every_response_example_fits_strictly(oid: str, op: Any, example: Any) -> None:
    assert structure(example, op.response_type(), strict=True) is not None


CASES = [
    # (what to do to a booking, field, kind, what the field then holds)
    ("title", None, "null", None),
    ("uid", UNSET, "missing", UNSET),
    ("duration", "thirty", "type", "thirty"),
    ("hosts", {"id": 1}, "shape", {"id": 1}),  # an object where a list is declared
    ("eventType", [1, 2], "shape", [1, 2]),  # a list where an object is declared
    ("start", "not a time", "type", "not a time"),
    ("absentHost", SECRET, "type", SECRET),
]


@pytest.mark.parametrize(("key", "value", "kind", "held"), CASES, ids=[c[0] for c in CASES])
def test_a_deviation_is_kept_typed_around_and_reported_once(
    key: str, value: Any, kind: str, held: Any, drift: Drift
) -> None:
    data = booking()
    if value is UNSET:
        del data[key]
    else:
        data[key] = value
    page = {
        "status": "success",
        "data": [booking(), data, copy.deepcopy(data)],
        "pagination": PAGINATION,
    }
    tp = models.GetBookingsOutput_2024_08_13
    for _ in range(3):
        result = structure(copy.deepcopy(page), tp)
    typed = result.data[1]
    assert isinstance(typed, models.BookingOutput_2024_08_13)
    attr = next(a for a in typed.__attrs_attrs__ if a.metadata.get("json", a.name) == key)
    assert getattr(typed, attr.name) == held
    assert isinstance(result.data[0], models.BookingOutput_2024_08_13)
    assert typed.id == data["id"]  # the rest typed
    structure({"status": "success", "data": [data]}, tp)
    about = [m for m in drift.messages if f".{key} " in m]
    assert len(about) == 1, drift.messages  # once per process, however many answers
    assert f"({kind})" in about[0] and "$.data[1]." + key in about[0]


def test_the_report_names_model_path_declared_and_came_never_the_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    reset_drift_memory()
    data = booking()
    data["absentHost"] = SECRET
    data["attendees"][0]["email"] = None
    body = {"status": "success", "data": [booking(), data], "pagination": PAGINATION}
    with caplog.at_level(logging.WARNING, logger="calcom_async.drift"):
        structure(body, models.GetBookingsOutput_2024_08_13)
        structure(body, models.GetBookingsOutput_2024_08_13)  # reported once per process
    messages = [r.getMessage() for r in caplog.records if r.name == "calcom_async.drift"]
    assert len(messages) == 2, messages
    text = " ".join(messages)
    assert SECRET not in text
    host = next(m for m in messages if "absentHost" in m)
    assert "$.data[1].absentHost" in host and "BookingOutput_2024_08_13" in host
    assert "bool" in host and "string" in host
    email = next(m for m in messages if ".email" in m)
    assert "$.data[1].attendees[0].email" in email and "null" in email
    record = next(r for r in caplog.records if "absentHost" in r.getMessage())
    assert record.calcom_drift == "type" and record.calcom_came == "string"  # type: ignore[attr-defined]
    reset_drift_memory()


@pytest.mark.parametrize(("key", "value", "kind", "held"), CASES, ids=[c[0] for c in CASES])
def test_strict_raises_at_the_deviation(key: str, value: Any, kind: str, held: Any) -> None:
    data = booking()
    if value is UNSET:
        del data[key]
    else:
        data[key] = value
    with pytest.raises(SchemaMismatchError) as info:
        structure(
            {"status": "success", "data": [data]}, models.GetBookingsOutput_2024_08_13, strict=True
        )
    assert SECRET not in str(info.value)


def test_data_that_fits_no_union_member_is_kept_as_sent(drift: Drift) -> None:
    body = {"status": "success", "data": [booking(), "a string", 7], "pagination": PAGINATION}
    result = structure(body, models.GetBookingsOutput_2024_08_13)
    assert isinstance(result.data[0], models.BookingOutput_2024_08_13)
    assert result.data[1:] == ["a string", 7]
    assert any("$.data[1]" in m and "(union)" in m for m in drift.messages), drift.messages


def test_a_union_member_missing_keys_is_still_typed(drift: Drift) -> None:
    data = booking()
    for key in ("hosts", "createdAt", "updatedAt"):
        del data[key]
    result = structure({"status": "success", "data": [data]}, models.GetBookingsOutput_2024_08_13)
    item = result.data[0]
    assert isinstance(item, models.BookingOutput_2024_08_13)
    assert item.hosts is UNSET and item.uid == data["uid"]


async def test_strict_on_the_client_and_per_request() -> None:
    async with FakeCalCom() as fake:
        fake.seed(bookings=3)
        async with fake.client() as cal:
            hooks = await cal.webhooks.list()
            assert hooks == []
            created = await cal.webhooks.create(
                subscriber_url="https://example.com/h", triggers=["BOOKING_CREATED"], active=True
            )
            # a null where the document (after our overlay) says string: mutate the fake's row
            fake.store.webhooks[created.id].data["subscriberUrl"] = None
            tolerant = await cal.webhooks.get(created.id)
            assert tolerant.subscriber_url is None and tolerant.id == created.id
            with pytest.raises(ResponseValidationError, match="subscriberUrl"):
                await cal.webhooks.get(created.id, request_options=RequestOptions(strict=True))
        async with fake.client(strict=True) as cal:
            with pytest.raises(ResponseValidationError, match="subscriberUrl"):
                await cal.webhooks.get(created.id)
            loose = cal.with_options(strict=False)
            assert (await loose.webhooks.get(created.id)).subscriber_url is None
