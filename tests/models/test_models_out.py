"""Models out of the library (issue 15, trap 3): ``to_dict``/``to_json``, ``from_dict``/
``from_json``, FastAPI returning models, ``cal.bookings.sync().raw()``."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from fastapi import Body, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from calcom_async import (
    UNSET,
    CalCom,
    CalComModel,
    CalComUsageError,
    SchemaMismatchError,
    Unset,
    to_dict,
    to_json,
)
from calcom_async import models as m
from calcom_async._generated import models as generated
from calcom_async._serde import structure, structure_reporting
from calcom_async.blocking import CalComSync
from calcom_async.testing import FakeCalCom
from calcom_async.webhooks import parse_event
from tests.models._cases import ambiguous, strategy
from tests.models._live import Recorded, locations, mutate, operation_of, recorded
from tests.support.fake_thread import FakeOnThread
from tests.support.webhook_samples import T, body_for

ANSWERS = [a for a in recorded() if a.status < 400]
CREATED = next(a for a in ANSWERS if a.name.startswith("bookings-create"))
BOOKING = m.BookingOutput_2024_08_13


def _booking() -> m.BookingOutput_2024_08_13:
    return BOOKING.from_dict(CREATED.body["data"])


def _sub_document(written: Any, sent: Any, where: str = "$") -> None:
    """Everything ``written`` holds was ``sent``, as it came: each key of a written object is a
    key of the sent one with the same value (keys the model has no field for may be missing),
    lists item by item."""
    if isinstance(written, dict):
        assert isinstance(sent, dict), where
        for key, value in written.items():
            assert key in sent, f"{where}.{key} was not sent"
            _sub_document(value, sent[key], f"{where}.{key}")
    elif isinstance(written, list):
        assert isinstance(sent, list) and len(written) == len(sent), where
        for i, (a, b) in enumerate(zip(written, sent, strict=True)):
            _sub_document(a, b, f"{where}[{i}]")
    else:
        assert (written == sent and type(written) is type(sent)) or (
            isinstance(sent, float) and written == sent  # 15.0 read as a whole number
        ), f"{where}: wrote {written!r}, sent {sent!r}"


# -- to_dict / to_json ---------------------------------------------------------------------------


def test_to_dict_writes_the_api_names_and_leaves_unset_out() -> None:
    booking = _booking()
    data = to_dict(booking)
    assert data["eventTypeId"] == booking.event_type_id and "event_type_id" not in data
    assert data["hosts"][0]["timeZone"] == "Africa/Nairobi"  # nested models too
    assert booking.guests is UNSET and "guests" not in data  # the answer had no such key
    assert data["rescheduledByEmail"] is None  # None: null
    assert data["status"] == "accepted" and type(data["status"]) is str
    assert data["start"] == "2026-08-25T10:30:00.000Z"  # as the API writes it
    assert json.loads(json.dumps(data)) == data
    assert json.loads(to_json(booking)) == data
    _sub_document(data, CREATED.body["data"])


def test_to_dict_by_python_names() -> None:
    booking = _booking()
    data = to_dict(booking, by_alias=False)
    assert data["event_type_id"] == booking.event_type_id and "eventTypeId" not in data
    assert data["hosts"][0]["time_zone"] == "Africa/Nairobi"
    # a free-form JSON object is data, not fields: its keys stay as they came
    assert data["booking_fields_responses"] == CREATED.body["data"]["bookingFieldsResponses"]
    assert json.loads(to_json(booking, by_alias=False)) == data


def test_datetimes_are_written_as_the_api_writes_them() -> None:
    rome = ZoneInfo("Europe/Rome")
    host = m.BookingHost(
        id=1, name="A", email="a@x", display_email="a@x", username="a", time_zone="X"
    )
    base = attrs.evolve(_booking(), hosts=[host])
    cases = [  # a list: equal instants in two zones are one dict key
        (dt.datetime(2024, 8, 13, 9, 0, tzinfo=dt.UTC), "2024-08-13T09:00:00.000Z"),
        (dt.datetime(2024, 8, 13, 11, 0, tzinfo=rome), "2024-08-13T11:00:00.000+02:00"),
        (dt.datetime(2024, 1, 13, 11, 0, 0, 123456, tzinfo=rome), "2024-01-13T11:00:00.123+01:00"),
        (
            dt.datetime(2024, 9, 5, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=-4))),
            "2024-09-05T09:00:00.000-04:00",  # the offset form of tests/fixtures/live/slots-*
        ),
    ]
    for when, text in cases:
        data = to_dict(attrs.evolve(base, start=when))
        assert data["start"] == text
        assert BOOKING.from_dict(data).start == when.replace(
            microsecond=when.microsecond // 1000 * 1000
        )
        assert BOOKING.from_dict(data).start.utcoffset() == when.utcoffset()  # the offset kept


def test_an_enum_value_the_document_does_not_list_is_written_as_it_came() -> None:
    data = dict(CREATED.body["data"], status="tentative")
    booking = BOOKING.from_dict(data)
    assert not booking.status.is_known
    assert to_dict(booking)["status"] == "tentative"


def test_values_kept_as_sent_are_written_back_as_they_came() -> None:
    sent = copy.deepcopy(CREATED.body["data"])
    sent["eventType"] = [1, 2]  # an object declared
    sent["hosts"] = {"not": "a list"}
    sent["start"] = 1724581800  # a date-time declared
    sent["duration"] = "a quarter"  # a number declared
    del sent["uid"]  # required
    booking = BOOKING.from_dict(sent)
    assert booking.event_type == [1, 2] and booking.start == 1724581800  # type: ignore[comparison-overlap]
    data = to_dict(booking)
    for key in ("eventType", "hosts", "start", "duration"):
        assert data[key] == sent[key], key
    assert "uid" not in data  # missing stays missing
    assert BOOKING.from_dict(data) == booking  # and reads back equal
    with pytest.raises(SchemaMismatchError):
        BOOKING.from_dict(data, strict=True)


async def test_lists_paginator_results_and_raw_items() -> None:
    async with FakeCalCom() as fake:
        fake.seed(bookings=12)
        async with fake.client() as cal:
            bookings = await cal.bookings.list(max_items=5)
            written = to_dict(bookings)
            assert isinstance(written, list) and len(written) == 5
            json.dumps(written)
            rows = [row async for row in cal.bookings.list(max_items=5).raw()]
            for one, row in zip(written, rows, strict=True):
                _sub_document(one, row)  # what the model kept, as the server sent it
            assert to_dict(rows) == rows  # JSON data goes through unchanged
            assert json.loads(to_json({"bookings": bookings})) == {"bookings": written}


async def test_to_dict_of_what_is_not_a_model_says_what_to_do() -> None:
    async with FakeCalCom() as fake:
        fake.seed(bookings=3)
        async with fake.client() as cal:
            paginator = cal.bookings.list()
            with pytest.raises(CalComUsageError, match="await it first"):
                to_dict(paginator)
            pending = cal.bookings.get("uid")
            with pytest.raises(CalComUsageError, match="await it first"):
                to_dict(pending)
            pending.close()
            page = await anext(aiter(cal.bookings.list(max_items=2).pages()))
            with pytest.raises(CalComUsageError, match=r"page\.items"):
                to_dict(page)
    with pytest.raises(CalComUsageError, match="not object"):
        to_dict(object())


# -- from_dict / from_json -----------------------------------------------------------------------


def test_from_dict_is_tolerant_and_strict_names_the_field() -> None:
    sent = dict(CREATED.body["data"], duration="a quarter")
    assert BOOKING.from_dict(sent).duration == "a quarter"  # type: ignore[comparison-overlap]
    with pytest.raises(SchemaMismatchError, match=r"BookingOutput_2024_08_13\.duration"):
        BOOKING.from_dict(sent, strict=True)
    assert isinstance(SchemaMismatchError("x", None), ValueError)


def test_from_dict_refuses_python_names_and_what_is_not_an_object() -> None:
    with pytest.raises(
        SchemaMismatchError, match=r"'event_type_id' is the Python name.*eventTypeId"
    ):
        BOOKING.from_dict(to_dict(_booking(), by_alias=False))
    with pytest.raises(SchemaMismatchError, match="expected a JSON object"):
        BOOKING.from_dict([1, 2])  # type: ignore[arg-type]
    with pytest.raises(SchemaMismatchError, match="not JSON"):
        BOOKING.from_json("{'single': 'quotes'}")
    with pytest.raises(SchemaMismatchError, match="expected a JSON object"):
        BOOKING.from_json("[]")


def test_every_generated_model_has_the_class_methods() -> None:
    classes = [getattr(generated, n) for n in generated.__all__]
    attrs_classes = [c for c in classes if isinstance(c, type) and attrs.has(c)]
    assert len(attrs_classes) > 400
    for cls in attrs_classes:
        assert issubclass(cls, CalComModel), cls
        assert "__slots__" in vars(cls) and "__weakref__" not in vars(CalComModel), cls
    booking = _booking()
    with pytest.raises(AttributeError):
        booking.undeclared = 1  # type: ignore[attr-defined]  # slots: no __dict__


#: every 12th model (by name), and the ones test_models.py round-trips through the converter
SAMPLE = sorted(
    {
        *[
            n
            for n in sorted(generated.__all__)[::12]
            if isinstance(getattr(generated, n), type) and attrs.has(getattr(generated, n))
        ],
        "BookingOutput_2024_08_13",
        "CreateBookingInput_2024_08_13",
        "EventTypeOutput_2024_06_14",
        "ScheduleOutput_2024_06_11",
        "UserWebhookOutputDto",
    }
)


@pytest.mark.parametrize("name", SAMPLE)
def test_from_dict_of_to_dict_is_the_model(name: str) -> None:
    cls = getattr(generated, name)

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    @given(strategy(cls))
    def check(instance: Any) -> None:
        data = to_dict(instance)
        assert json.loads(json.dumps(data)) == data  # JSON-shaped
        back = cls.from_dict(data)
        assert back == instance or ambiguous(instance, back)
        assert to_dict(back) == data
        assert cls.from_json(to_json(instance)) == back
        json.dumps(to_dict(instance, by_alias=False))

    check()


def _envelope_data(answer: Recorded) -> tuple[Any, Any]:
    op, _ = operation_of(answer)
    tp = op.response_type()
    assert tp is not None
    return tp, answer.body


@pytest.mark.parametrize("answer", ANSWERS, ids=lambda a: a.name)
def test_recorded_answers_round_trip(answer: Recorded) -> None:
    """A real answer read into its model, written with to_dict: a sub-document of the answer
    (nothing invented, every value as sent), and read back equal — also after a mutation that
    tolerant reading keeps as sent."""
    tp, body = _envelope_data(answer)
    model = structure(body, tp)
    assert isinstance(model, CalComModel)
    written = to_dict(model)
    _sub_document(written, body)
    assert type(model).from_dict(written) == model
    places = [p for p in locations(body) if p[0] == "data"] or [("data",)]

    @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(places), st.sampled_from(["drop", "null", "shape", "scalar"]))
    def mutated(where: tuple[Any, ...], how: str) -> None:
        changed = mutate(body, where, how)
        value, found = structure_reporting(changed, tp)
        out = to_dict(value)
        _sub_document(out, changed)
        assert type(value).from_dict(out) == value
        if found:  # something did not fit: strict reading of what was written refuses it too
            with pytest.raises(SchemaMismatchError):
                type(value).from_dict(out, strict=True)

    mutated()


# -- FastAPI (pydantic) --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeCalCom]:
    """A seeded FakeCalCom on a loop of its own (FastAPI's TestClient runs the app on another)."""
    with FakeOnThread() as server:
        server.seed(bookings=20)
        yield server


Booking = (
    m.BookingOutput_2024_08_13
    | m.RecurringBookingOutput_2024_08_13
    | m.GetSeatedBookingOutput_2024_08_13
    | m.GetRecurringSeatedBookingOutput_2024_08_13
)


def test_a_fastapi_endpoint_returns_models(fake: FakeCalCom) -> None:
    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        async with CalCom(api_key=fake.api_key, base_url=fake.base_url) as cal:
            app.state.cal = cal
            yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/bookings")
    async def listed(request: Request) -> list[Booking]:
        bookings: list[Booking] = await request.app.state.cal.bookings.list(max_items=3)
        return bookings

    @app.get("/first")
    async def first(request: Request) -> m.BookingOutput_2024_08_13:
        rows = await request.app.state.cal.bookings.list(max_items=1)
        return rows[0]

    @app.get("/by-model", response_model=list[m.BookingOutput_2024_08_13])
    async def by_model(request: Request) -> Any:
        return await request.app.state.cal.bookings.list(max_items=2)

    @app.get("/encoded")
    async def encoded(request: Request) -> Any:
        rows = await request.app.state.cal.bookings.list(max_items=2)
        return jsonable_encoder({"rows": rows}, custom_encoder={CalComModel: to_dict})

    @app.post("/echo")
    async def echo(
        body: Annotated[m.CancelBookingInput_2024_08_13, Body()],
    ) -> m.CancelBookingInput_2024_08_13:
        assert isinstance(body, m.CancelBookingInput_2024_08_13)
        return body

    with TestClient(app) as client:
        reply = client.get("/bookings")
        assert reply.status_code == 200, reply.text
        items = reply.json()
        assert len(items) == 3 and "eventTypeId" in items[0] and items[0]["start"].endswith("Z")
        one = client.get("/first").json()
        assert one == items[0]  # the same booking, the same JSON
        assert BOOKING.from_dict(one).uid == one["uid"]
        assert client.get("/by-model").json() == items[:2]
        assert client.get("/encoded").json() == {"rows": items[:2]}
        sent = {"cancellationReason": "Moved"}
        assert client.post("/echo", json=sent).json() == sent
        refused = client.post("/echo", json={"cancellationReason": 5})
        assert refused.status_code == 422
        assert "cancellationReason" in refused.text and "number" in refused.text
        schema = client.get("/openapi.json").json()  # the models have a JSON schema
        assert "BookingOutput_2024_08_13" in json.dumps(schema)
        assert "eventTypeId" in json.dumps(schema)

    with pytest.raises(ValueError):  # why the docs say: annotate, or to_dict
        jsonable_encoder(_booking())


# -- sync().raw() --------------------------------------------------------------------------------


async def test_sync_raw_yields_the_answers_dicts_with_the_same_checkpoint() -> None:
    async with FakeCalCom() as fake:
        fake.seed(bookings=30)
        async with fake.client() as cal:
            models_sync = cal.bookings.sync(page_size=7)
            typed = [b async for b in models_sync]
            raw_sync = cal.bookings.sync(page_size=7).raw()
            rows = [r async for r in raw_sync]
            assert len(rows) == len(typed) == 30
            assert all(type(r) is dict for r in rows)
            assert [r["uid"] for r in rows] == [b.uid for b in typed]
            for booking, row in zip(typed, rows, strict=True):
                _sub_document(to_dict(booking), row)
            assert raw_sync.checkpoint == models_sync.checkpoint
            assert raw_sync.pages == models_sync.pages
            for row in rows[:2]:
                await cal.bookings.cancel(
                    row["uid"], m.CancelBookingInput_2024_08_13(cancellation_reason="Moved")
                )
            resumed = cal.bookings.sync(checkpoint=raw_sync.checkpoint.to_json()).raw()
            changed = [r async for r in resumed]
            assert sorted(r["uid"] for r in changed) == sorted(r["uid"] for r in rows[:2])
            assert {r["status"] for r in changed} == {"cancelled"}


def test_calcomsync_sync_raw(fake: FakeCalCom) -> None:
    with CalComSync(api_key=fake.api_key, base_url=fake.base_url) as cal:
        sync = cal.bookings.sync()
        rows = list(sync.raw())
        assert len(rows) == 20 and all(type(r) is dict and "uid" in r for r in rows)
        assert json.loads(json.dumps(rows)) == rows
        typed = list(sync)
        assert [to_dict(b)["uid"] for b in typed] == [r["uid"] for r in rows]


def test_every_model_has_a_json_schema_for_openapi() -> None:
    """FastAPI builds /openapi.json from pydantic's JSON schema of each model (both modes)."""
    count = 0
    for name in generated.__all__:
        cls = getattr(generated, name)
        if isinstance(cls, type) and attrs.has(cls):
            adapter = TypeAdapter(list[cls])  # type: ignore[valid-type]
            for mode in ("validation", "serialization"):
                schema = adapter.json_schema(mode=mode)  # type: ignore[arg-type]
                own = schema["$defs"][name]  # named after the class, for /docs
                assert own["type"] == "object", name
                keys = {f.metadata.get("json", f.name) for f in attrs.fields(cls)}
                assert set(own.get("properties", {})) == keys, name
            count += 1
    assert count > 400
    booking = TypeAdapter(list[BOOKING]).json_schema()["$defs"]["BookingOutput_2024_08_13"]
    assert booking["properties"]["start"] == {
        "format": "date-time",
        "title": "Start",
        "type": "string",
    }
    assert "guests" not in booking["required"] and "uid" in booking["required"]
    assert booking["properties"]["hosts"]["items"] == {"$ref": "#/$defs/BookingHost"}


@attrs.define(kw_only=True)
class Node(CalComModel):
    """A model that holds itself (none of the document's does yet)."""

    name: str
    children: list[Node] | Unset = UNSET


def test_a_model_that_holds_itself_has_a_schema_and_serialises() -> None:
    adapter = TypeAdapter(Node)
    schema = adapter.json_schema()
    assert schema["$defs"]["Node"]["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}
    tree = Node(name="a", children=[Node(name="b")])
    assert json.loads(adapter.dump_json(tree)) == {"name": "a", "children": [{"name": "b"}]}
    assert adapter.validate_python({"name": "a", "children": [{"name": "b"}]}) == tree
    with pytest.raises(ValidationError, match=r"Node: required field .name."):
        adapter.validate_python({"children": []})


def test_a_webhook_payload_leaves_the_library_too() -> None:
    body = body_for(T.BOOKING_CREATED)
    event = parse_event(body)
    written = to_dict(event.payload)
    assert written["startTime"] == json.loads(body)["payload"]["startTime"]
    _sub_document(written, json.loads(body)["payload"])
