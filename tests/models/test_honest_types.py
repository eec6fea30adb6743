"""Issue 15, trap 4: types that tell the truth.

- ``cal.slots.get_available`` maps dates to lists of ``SlotOutput_2024_09_04`` whose ``start``
  (and ``end``) are aware datetimes in the offset the server used (the requested ``timeZone``),
  from the fake and from the live answers of ``tests/fixtures/live/``;
- the items of ``cal.bookings.sync()`` have the type of ``cal.bookings.list`` items, not ``Any``;
- every operation whose answer is a union takes ``expect=`` one of its types: mypy then types the
  call as that type, a wrong guess raises ``UnexpectedResponseTypeError`` (after the answer) and a
  type the answer can never be ``CalComUsageError`` (before sending);
- mypy --strict rejects ``slot["start"]``, a sync item used as an ``int``, ``expect=int``.
"""

from __future__ import annotations

import datetime as dt
import inspect
import re
import sys
import typing
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from calcom_async import (
    UNSET,
    CalComUsageError,
    ResponseValidationError,
    UnexpectedResponseTypeError,
    models,
)
from calcom_async._generated import blocking_resources
from calcom_async._generated.operations import OPERATIONS
from calcom_async._generated.resources.bookings import Bookings
from calcom_async._generated.resources.slots import Slots
from calcom_async.blocking import CalComSync
from calcom_async.testing import FakeCalCom
from codegen.annotate import split_union
from tests.models._live import recorded, replay
from tests.support.fake_thread import FakeOnThread
from tests.support.typecheck import Message, errors, marked, run_mypy, snippet

ATTENDEE = {"name": "Ada Lovelace", "email": "ada@example.com", "timeZone": "Europe/London"}


def _day(days: int) -> str:
    return (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=days)).isoformat()


def _flat(
    days: dict[str, list[models.SlotOutput_2024_09_04]],
) -> list[models.SlotOutput_2024_09_04]:
    return [slot for slots in days.values() for slot in slots]


# -- slots ------------------------------------------------------------------------------------


async def test_slots_are_models_with_aware_datetimes_in_the_requested_time_zone() -> None:
    rome = ZoneInfo("Europe/Rome")
    async with FakeCalCom() as fake:
        fake.seed(event_types=1)
        async with fake.client() as cal:
            et_id = int((await cal.event_types.list())[0].id)
            ask = {"event_type_id": et_id, "start": _day(2), "end": _day(4)}
            in_rome = await cal.slots.get_available(**ask, time_zone="Europe/Rome", format="range")
            in_utc = await cal.slots.get_available(**ask)
            assert in_rome and in_utc
            for day, slots in in_rome.items():
                assert slots
                for slot in slots:
                    assert isinstance(slot, models.SlotOutput_2024_09_04)
                    assert isinstance(slot.start, dt.datetime)
                    assert isinstance(slot.end, dt.datetime)
                    assert slot.start.utcoffset() == slot.start.astimezone(rome).utcoffset()
                    assert slot.end.utcoffset() == slot.start.utcoffset()
                    assert slot.end > slot.start
                    assert slot.start.date().isoformat() == day  # dates in the zone asked for
            for slot in _flat(in_utc):
                assert slot.start.utcoffset() == dt.timedelta(0)
                assert slot.end is UNSET  # sent with format=range only
            # the same instants, whichever zone they are written in
            assert {s.start for s in _flat(in_rome)} == {s.start for s in _flat(in_utc)}

            first = _flat(in_rome)[0]
            booking = await cal.bookings.create(
                models.CreateBookingInput_2024_08_13(
                    start=first.start,
                    event_type_id=et_id,
                    attendee=models.CreateBookingAttendee(name="Ada", time_zone="Europe/Rome"),
                ),
                expect=models.BookingOutput_2024_08_13,
            )
            assert booking.start == first.start  # a slot's start books as it is


@pytest.mark.parametrize(
    ("name", "hours"), [("slots-2024-09-04-nango", -4), ("slots-range-rome-e2e", 2)]
)
async def test_the_live_slots_answers_come_back_as_aware_datetimes(name: str, hours: int) -> None:
    (answer,) = [a for a in recorded() if a.name == name]
    days = await replay(answer)
    sent = answer.body["data"]
    assert list(days) == list(sent)
    for day, slots in days.items():
        assert len(slots) == len(sent[day])
        for slot, raw in zip(slots, sent[day], strict=True):
            assert isinstance(slot, models.SlotOutput_2024_09_04)
            assert slot.start == dt.datetime.fromisoformat(raw["start"])
            assert slot.start.utcoffset() == dt.timedelta(hours=hours)
            if "end" in raw:
                assert slot.end == dt.datetime.fromisoformat(raw["end"])
            else:
                assert slot.end is UNSET


async def test_slots_take_an_aware_datetime_or_a_date() -> None:
    """A slot's start (an aware datetime, as slots now come back) or any aware datetime is sent
    as UTC ``Z``, a date as the day; a naive datetime is still refused, before sending."""
    rome = ZoneInfo("Europe/Rome")
    async with FakeCalCom() as fake:
        fake.seed(event_types=1)
        async with fake.client() as cal:
            et_id = int((await cal.event_types.list())[0].id)
            today = dt.datetime.now(rome).date()
            monday_in_rome = dt.datetime.combine(today + dt.timedelta(days=7), dt.time(0), rome)
            days = await cal.slots.get_available(
                event_type_id=et_id, start=monday_in_rome, end=today + dt.timedelta(days=9)
            )
            assert days
            sent = [r.query for r in fake.requests if r.path == "/v2/slots"][-1]
            utc = monday_in_rome.astimezone(dt.UTC).replace(tzinfo=None).isoformat()
            assert sent["start"] == f"{utc}Z"
            assert sent["end"] == (today + dt.timedelta(days=9)).isoformat()
            first = _flat(days)[0]
            again = await cal.slots.get_available(
                event_type_id=et_id, start=first.start, end=first.start + dt.timedelta(hours=2)
            )
            assert _flat(again)[0].start == first.start  # the slot asked from is the first one
            fake.requests.clear()
            with pytest.raises(CalComUsageError, match="'start' is a naive datetime"):
                await cal.slots.get_available(
                    event_type_id=et_id, start=first.start.replace(tzinfo=None), end=today
                )
            with pytest.raises(
                CalComUsageError,
                match=re.escape("'end' must be str | an aware datetime | date, not int"),
            ):
                await cal.slots.get_available(
                    event_type_id=et_id,
                    start=today,
                    end=1,  # type: ignore[arg-type]
                )
            assert fake.requests == []


def test_string_parameters_that_are_dates_take_datetimes_and_dates() -> None:
    """Every query parameter the document describes as a date or date-time but types as a plain
    string takes a datetime and a date too (``codegen`` from the overlay), in the row and in
    the method's signature; those that are days only take a date."""
    date_or_time = {
        (op.name, p.python_name): p.type
        for op in OPERATIONS
        for p in op.query_params
        if dt.date in typing.get_args(p.type)
    }
    slots_like = [
        "slots.get_available",
        "routing_forms.calculate_slots",
        "organizations.routing_forms.create_response",
        "organizations.teams.routing_forms.responses.create",
    ]
    assert date_or_time == {
        **{(n, p): str | dt.datetime | dt.date for n in slots_like for p in ("start", "end")},
        ("calendars.get_busy_times", "date_from"): str | dt.date,
        ("calendars.get_busy_times", "date_to"): str | dt.date,
    }
    for method in (Slots.get_available, blocking_resources.BlockingSlots.get_available):
        parameters = inspect.signature(method).parameters
        assert parameters["start"].annotation == parameters["end"].annotation
        assert parameters["start"].annotation == "str | datetime | date"
        module = sys.modules[method.__module__]
        assert module.datetime is dt.datetime and module.date is dt.date  # what the names mean


# -- expect= ----------------------------------------------------------------------------------


async def _recurring_series(cal: Any) -> Any:
    schedule = (await cal.schedules.list())[0]
    et = await cal.event_types.create(
        {
            "title": "Weekly 1:1",
            "slug": "weekly",
            "lengthInMinutes": 30,
            "scheduleId": schedule.id,
            "recurrence": {"interval": 1, "occurrences": 3, "frequency": "weekly"},
        }
    )
    days = await cal.slots.get_available(event_type_id=int(et.id), start=_day(1), end=_day(7))
    return await cal.bookings.create(
        {
            "eventTypeId": int(et.id),
            "start": _flat(days)[0].start.isoformat(),
            "attendee": ATTENDEE,
            "recurrenceCount": 3,
        },
        expect=list[models.RecurringBookingOutput_2024_08_13],
    )


async def test_expect_narrows_and_a_wrong_guess_raises_the_typed_error() -> None:
    async with FakeCalCom() as fake:
        fake.seed(bookings=2, event_types=1)
        async with fake.client() as cal:
            series = await _recurring_series(cal)
            assert len(series) == 3
            assert all(isinstance(b, models.RecurringBookingOutput_2024_08_13) for b in series)
            uid = series[0].recurring_booking_uid
            again = await cal.bookings.get(
                uid, expect=list[models.RecurringBookingOutput_2024_08_13]
            )
            assert [b.uid for b in again] == [b.uid for b in series]
            spelt_old = await cal.bookings.get(
                uid,
                expect=typing.List[models.RecurringBookingOutput_2024_08_13],  # noqa: UP006
            )
            assert len(spelt_old) == 3

            with pytest.raises(UnexpectedResponseTypeError) as caught:
                await cal.bookings.get(uid, expect=models.BookingOutput_2024_08_13)
            error = caught.value
            assert isinstance(error, ResponseValidationError)  # caught where answers are
            assert error.expected is models.BookingOutput_2024_08_13
            assert [b.uid for b in error.value] == [b.uid for b in series]  # nothing is lost
            assert str(error) == (
                "cal.bookings.get(expect=BookingOutput_2024_08_13): the answer is a list of 3 "
                "RecurringBookingOutput_2024_08_13, not the BookingOutput_2024_08_13 expected "
                "(call it without expect= and check with isinstance() where either can come back)"
            )

            single = (await cal.bookings.list(max_items=1))[0]
            assert isinstance(single, models.BookingOutput_2024_08_13)
            with pytest.raises(UnexpectedResponseTypeError, match="the answer is a Booking"):
                await cal.bookings.get(
                    single.uid, expect=list[models.RecurringBookingOutput_2024_08_13]
                )
            got = await cal.bookings.get(single.uid, expect=models.BookingOutput_2024_08_13)
            assert got.uid == single.uid
            many = await cal.bookings.get_many(
                [single.uid, uid], expect=models.BookingOutput_2024_08_13
            )
            assert many[0].ok and many[0].value.uid == single.uid
            assert isinstance(many[1].error, UnexpectedResponseTypeError)  # that input's error
            response = await cal.bookings.with_raw_response.get(
                uid, expect=list[models.RecurringBookingOutput_2024_08_13]
            )
            assert response.status_code == 200 and len(response.data) == 3
            with pytest.raises(UnexpectedResponseTypeError, match="the answer is a list of 3"):
                await cal.bookings.with_raw_response.get(
                    uid, expect=models.BookingOutput_2024_08_13
                )

            fake.requests.clear()
            with pytest.raises(CalComUsageError, match=r"expect=int\): its answer is never") as bad:
                await cal.bookings.get(single.uid, expect=int)  # type: ignore[type-var]
            assert "BookingOutput_2024_08_13, RecurringBookingOutput_2024_08_13" in str(bad.value)
            with pytest.raises(CalComUsageError, match="expect=int"):
                await cal.bookings.get_many([single.uid], expect=int)  # type: ignore[type-var]
            with pytest.raises(CalComUsageError, match="expect=SlotOutput_2024_09_04"):
                await cal.bookings.cancel(
                    single.uid,
                    models.CancelBookingInput_2024_08_13(cancellation_reason="Moved"),
                    expect=models.SlotOutput_2024_09_04,  # type: ignore[type-var]
                )
            assert fake.requests == []  # refused before sending


def test_expect_through_the_blocking_client() -> None:
    with FakeOnThread() as fake:
        fake.seed(bookings=3, event_types=1)
        with CalComSync(api_key=fake.api_key, base_url=fake.base_url) as cal:
            first = cal.bookings.list(max_items=1).to_list()[0]
            got = cal.bookings.get(first.uid, expect=models.BookingOutput_2024_08_13)
            assert isinstance(got, models.BookingOutput_2024_08_13) and got.uid == first.uid
            with pytest.raises(UnexpectedResponseTypeError):
                cal.bookings.get(first.uid, expect=models.GetSeatedBookingOutput_2024_08_13)
            synced = list(cal.bookings.sync())
            assert len(synced) == 3
            assert all(isinstance(b, models.BookingOutput_2024_08_13) for b in synced)


def _union_members(annotation: str, module: Any = None) -> list[str]:
    """The members of a return annotation; ``_T_…``: the expect= TypeVar's bound (the union)."""
    for name in re.findall(r"\b_T_[A-Z0-9_]+\b", annotation) if module else ():
        bound = getattr(module, name).__bound__
        annotation = annotation.replace(name, bound.__forward_arg__)
    if annotation.startswith(("APIResponse[", "builtins.list[BulkResult[")):
        annotation = annotation.removeprefix("APIResponse[").removesuffix("]")
        annotation = annotation.removeprefix("builtins.list[BulkResult[str, ").removesuffix("]]")
    return [m for m in split_union(annotation) if m not in ("None", "Any")]


def test_every_union_answer_takes_expect_and_no_other_does() -> None:
    """From the generated classes themselves: a method whose answer is a union of two or more
    types has ``expect`` (so do its raw twin, its ``get_many`` and their blocking twins); a
    paginated list and a method of one type do not."""
    from tests.support.resources import async_resource_classes, wrapped_members

    classes = {cls.__name__: cls for cls in async_resource_classes()}
    with_expect = 0
    for cls in classes.values():
        twin = getattr(blocking_resources, "Blocking" + cls.__name__)
        plain = classes[cls.__name__.removesuffix("WithRawResponse")]
        for name, member in {**vars(cls), **wrapped_members(cls)}.items():
            if name.startswith("_") or not inspect.iscoroutinefunction(member):
                continue
            where = f"{cls.__name__}.{name}"
            # the plain method's answer (get_many: its get's)
            answer = inspect.signature(getattr(plain, "get" if name == "get_many" else name))
            module = sys.modules[cls.__module__]
            union = len(_union_members(answer.return_annotation, module)) > 1
            assert ("expect" in inspect.signature(member).parameters) == union, where
            assert ("expect" in inspect.signature(getattr(twin, name)).parameters) == union, where
            with_expect += union and plain is cls and name != "get_many"
    unions = sum(
        1
        for op in OPERATIONS
        if op.pagination is None and len(_union_members(*_annotation_of(op.name))) > 1
    )
    assert with_expect == unions >= 18  # bookings, event types, private links, teams


def _annotation_of(name: str) -> tuple[str, Any]:
    from calcom_async import CalCom

    target: Any = CalCom(api_key="cal_test_x")
    *namespaces, method = name.split(".")
    for part in namespaces:
        target = getattr(target, part)
    annotation = inspect.signature(getattr(type(target), method)).return_annotation
    return str(annotation), sys.modules[type(target).__module__]


def test_the_slots_method_is_typed_as_the_model_of_its_items() -> None:
    annotation = inspect.signature(Slots.get_available).return_annotation
    assert annotation == "dict[str, builtins.list[_m.SlotOutput_2024_09_04]]"
    fields = {f.name: f.type for f in models.SlotOutput_2024_09_04.__attrs_attrs__}
    assert fields["start"] == "datetime" and fields["end"].startswith("datetime | ")
    assert "expect" in inspect.signature(Bookings.get).parameters


# -- mypy --strict ----------------------------------------------------------------------------

GOOD = """
from __future__ import annotations

from datetime import date, datetime
from typing import assert_type

from calcom_async import APIResponse, BulkResult, CalCom, CalComSync, models


async def use(cal: CalCom, uid: str) -> None:
    days = await cal.slots.get_available(start="2050-09-05", end="2050-09-06", event_type_id=1)
    for day, slots in days.items():
        assert_type(day, str)
        for slot in slots:
            assert_type(slot, models.SlotOutput_2024_09_04)
            assert_type(slot.start, datetime)
            later = await cal.slots.get_available(start=slot.start, end=date(2050, 9, 7))
            assert_type(later, dict[str, list[models.SlotOutput_2024_09_04]])
    async for synced in cal.bookings.sync():
        reveal_type(synced)  # R: sync
    async for listed in cal.bookings.list():
        reveal_type(listed)  # R: list
    booking = await cal.bookings.get(uid, expect=models.BookingOutput_2024_08_13)
    assert_type(booking, models.BookingOutput_2024_08_13)
    series = await cal.bookings.get(uid, expect=list[models.RecurringBookingOutput_2024_08_13])
    assert_type(series, list[models.RecurringBookingOutput_2024_08_13])
    either = await cal.bookings.get(uid)
    reveal_type(either)  # R: get
    team = await cal.event_types.get(1, expect=models.TeamEventTypeOutput_2024_06_14)
    assert_type(team, models.TeamEventTypeOutput_2024_06_14)
    many = await cal.bookings.get_many([uid], expect=models.BookingOutput_2024_08_13)
    assert_type(many, list[BulkResult[str, models.BookingOutput_2024_08_13]])
    raw = await cal.bookings.with_raw_response.get(uid, expect=models.BookingOutput_2024_08_13)
    assert_type(raw, APIResponse[models.BookingOutput_2024_08_13])
    assert_type(raw.data, models.BookingOutput_2024_08_13)


def use_blocking(cal: CalComSync, uid: str) -> None:
    for synced in cal.bookings.sync():
        reveal_type(synced)  # R: blocking sync
    booking = cal.bookings.get(uid, expect=models.BookingOutput_2024_08_13)
    assert_type(booking, models.BookingOutput_2024_08_13)
"""

BAD = """
from __future__ import annotations

from calcom_async import CalCom, CalComSync, models


async def misuse(cal: CalCom, uid: str) -> None:
    days = await cal.slots.get_available(start="2050-09-05", end="2050-09-06", event_type_id=1)
    for slots in days.values():
        slots[0]["start"]  # E: index
        text: str = slots[0].start  # E: assignment
    async for synced in cal.bookings.sync():
        number: int = synced  # E: assignment
    await cal.bookings.get(uid, expect=int)  # E: type-var
    await cal.bookings.get(uid, expect=models.SlotOutput_2024_09_04)  # E: type-var
    one = await cal.bookings.get(uid, expect=models.BookingOutput_2024_08_13)
    one.titel  # E: attr-defined
    either = await cal.bookings.get(uid)
    either.titel  # E: union-attr x6
    await cal.bookings.list(expect=models.BookingOutput_2024_08_13)  # E: call-arg


def misuse_blocking(cal: CalComSync) -> None:
    for synced in cal.bookings.sync():
        number: int = synced  # E: assignment
"""


@pytest.fixture(scope="module")
def mypy_output(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Message]]:
    """mypy's messages by snippet, from one run over both."""
    snippets = {"good": snippet(GOOD), "bad": snippet(BAD)}
    return run_mypy(snippets, tmp_path_factory.mktemp("honest"))


def test_typed_use_type_checks(mypy_output: dict[str, list[Message]]) -> None:
    assert errors(mypy_output["good"]) == set()
    revealed = {
        label: m.text.removeprefix("Revealed type is ").strip('"')
        for n, label in marked(GOOD, "# R: ").items()
        for m in mypy_output["good"]
        if m.line == n and m.kind == "note"
    }
    assert sorted(revealed) == ["blocking sync", "get", "list", "sync"]
    # a synced booking is a bookings.list item, async and blocking: a union of the list's models
    assert revealed["sync"] == revealed["list"] == revealed["blocking sync"]
    listed = split_union(revealed["list"])
    assert len(listed) == 4 and all("Output_2024_08_13" in m for m in listed)
    assert "Any" not in revealed["sync"]
    # without expect=, get() is the whole union: a booking, a seated one, or a series
    assert len(split_union(revealed["get"])) == 6


def test_misuse_is_rejected(mypy_output: dict[str, list[Message]]) -> None:
    found: dict[int, list[str]] = {}
    for m in mypy_output["bad"]:
        if m.kind == "error":
            found.setdefault(m.line, []).append(m.code or m.text)
    expected = {}
    for n, mark in marked(BAD, "# E: ").items():
        code, _, times = mark.partition(" x")
        expected[n] = [code] * int(times or 1)
    assert len(expected) == 9
    # each misuse is one error; one wrong attribute on the whole union is one per member (six),
    # on the narrowed answer one
    assert found == expected
