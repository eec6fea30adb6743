"""Issue 15, traps 5 and 6: request bodies and times.

5. The README promises a body as "a model or keyword fields": keyword fields work on every body
   with fields, a union body included (they build the first member that has every field given
   and all it requires); a dict body is checked like a model, and a snake_case key is refused
   with the API's camelCase spelling; errors never show Python internals.
6. A naive ``datetime`` in a body (model, dict, keyword field) or a filter raises
   ``CalComUsageError`` naming the field, before anything is sent; so does a naive date-time
   *string* (``"2026-12-10T08:00:00"``) where the document types a date-time.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from calcom_async import BadRequestError, CalComUsageError, models
from calcom_async.blocking import CalComSync
from calcom_async.testing import FakeCalCom
from tests.support.fake_api import FakeAPI, json_reply
from tests.support.fake_thread import FakeOnThread
from tests.support.typecheck import errors, marked, run_mypy, snippet

ROME = ZoneInfo("Europe/Rome")
START = dt.datetime(2026, 12, 10, 8, 0, tzinfo=ROME)  # 07:00 UTC
ATTENDEE = models.CreateBookingAttendee(name="Ada", email="ada@x.com", time_zone="Europe/Rome")
ATTENDEE_JSON = {"name": "Ada", "email": "ada@x.com", "timeZone": "Europe/Rome"}


def _wire(api: FakeAPI) -> list[Any]:
    return [call.json() for call in api.calls]


# -- trap 5: keyword fields ------------------------------------------------------------------


async def test_keyword_fields_build_the_body_of_a_union(make_client: Any, api: FakeAPI) -> None:
    cal = make_client()
    await cal.bookings.with_raw_response.create(event_type_id=1, start=START, attendee=ATTENDEE)
    await cal.bookings.with_raw_response.create(
        event_type_id=1, start=START, attendee=ATTENDEE, instant=True
    )
    await cal.bookings.with_raw_response.create(
        event_type_slug="intro", username="ada", start=START, attendee=ATTENDEE, recurrence_count=3
    )
    await cal.bookings.with_raw_response.cancel("uid-1", cancellation_reason="Moved")
    await cal.bookings.with_raw_response.cancel("uid-1", seat_uid="seat-9")
    await cal.bookings.with_raw_response.cancel("uid-1")  # every field of the first optional
    attendee = ATTENDEE_JSON
    sent = _wire(api)
    start = sent[0]["start"]  # the instant meant (ISO 8601, with its offset)
    assert dt.datetime.fromisoformat(start) == START
    assert sent == [
        {"eventTypeId": 1, "start": start, "attendee": attendee},
        {"eventTypeId": 1, "start": start, "attendee": attendee, "instant": True},
        {
            "eventTypeSlug": "intro",
            "username": "ada",
            "start": start,
            "attendee": attendee,
            "recurrenceCount": 3,
        },
        {"cancellationReason": "Moved"},
        {"seatUid": "seat-9"},
        {},
    ]


async def test_keyword_fields_that_no_member_takes_are_refused_naming_them(
    make_client: Any, api: FakeAPI
) -> None:
    cal = make_client()
    with pytest.raises(CalComUsageError, match=r"missing required field 'attendee'") as caught:
        await cal.bookings.create(event_type_id=1, start=START)
    assert "CreateBookingInput_2024_08_13" in str(caught.value)
    with pytest.raises(CalComUsageError, match=r"missing required fields 'start', 'attendee'"):
        await cal.bookings.create(event_type_id=1)
    with pytest.raises(CalComUsageError, match=r"no one body model takes all of") as caught:
        await cal.bookings.create(start=START, attendee=ATTENDEE, instant=True, recurrence_count=2)
    assert "CreateInstantBookingInput_2024_08_13 has" in str(caught.value)
    with pytest.raises(CalComUsageError, match="not both"):
        await cal.bookings.cancel(
            "u", models.CancelBookingInput_2024_08_13(), cancellation_reason="x"
        )
    with pytest.raises(CalComUsageError, match=r"event_type_id must be int \(or None\), not str"):
        await cal.bookings.create(event_type_id="one", start=START, attendee=ATTENDEE)  # type: ignore[arg-type]
    with pytest.raises(CalComUsageError, match=r"attendee must be CreateBookingAttendee, not dict"):
        await cal.bookings.create(event_type_id=1, start=START, attendee=ATTENDEE_JSON)  # type: ignore[arg-type]
    assert api.calls == []


async def test_keyword_fields_on_a_plain_body_and_the_required_ones(
    make_client: Any, api: FakeAPI
) -> None:
    cal = make_client()
    created = models.WebhookTriggerEvent.BOOKING_CREATED
    await cal.webhooks.with_raw_response.create(
        subscriber_url="https://example.com/hook", triggers=[created], active=True
    )
    assert _wire(api)[0] == {
        "subscriberUrl": "https://example.com/hook",
        "triggers": ["BOOKING_CREATED"],
        "active": True,
    }
    with pytest.raises(CalComUsageError, match=r"missing required field 'subscriber_url'"):
        await cal.webhooks.create(triggers=[created], active=True)
    assert len(api.calls) == 1


# -- trap 5: dict bodies -----------------------------------------------------------------------


async def test_a_dict_body_is_checked_like_a_model(make_client: Any, api: FakeAPI) -> None:
    cal = make_client()
    body = {"eventTypeId": 1, "start": START, "attendee": ATTENDEE_JSON}
    cases: list[tuple[dict[str, Any], str]] = [
        ({**body, "eventTypeId": "one"}, r"body\.eventTypeId must be int \(or None\), not str"),
        ({**body, "attendee": "Ada"}, r"body\.attendee must be CreateBookingAttendee \| a dict"),
        ({"eventTypeId": 1, "attendee": ATTENDEE_JSON}, r"missing required key 'start'"),
        (
            {**body, "attendee": {"name": "Ada", "email": "a@x.com"}},
            r"body\.attendee is missing required key 'timeZone' \(for CreateBookingAttendee\)",
        ),
        ({**body, "guests": ["a@x.com", 7]}, r"body\.guests\[1\] must be str, not int"),
        (
            {**body, "instant": True, "recurrenceCount": 2},
            "no one body model takes all of 'attendee', 'eventTypeId', 'instant'",
        ),
    ]
    for bad, message in cases:
        with pytest.raises(CalComUsageError, match=message) as caught:
            await cal.bookings.create(bad)
        assert "invalid literal" not in str(caught.value)
    assert api.calls == []
    await cal.bookings.with_raw_response.create({**body, "undeclaredFlag": True})  # sent as is
    [sent] = _wire(api)
    assert dt.datetime.fromisoformat(sent.pop("start")) == START
    assert sent == {"eventTypeId": 1, "attendee": ATTENDEE_JSON, "undeclaredFlag": True}


@pytest.mark.parametrize(
    ("body", "key", "camel"),
    [
        ({"event_type_id": 1, "start": "2026-12-10T07:00:00Z"}, "event_type_id", "eventTypeId"),
        (
            {"eventTypeId": 1, "start": "2026-12-10T07:00:00Z", "attendee": {"time_zone": "UTC"}},
            "time_zone",
            "timeZone",
        ),
    ],
)
async def test_a_snake_case_key_says_the_api_writes_camel_case(
    make_client: Any, api: FakeAPI, body: dict[str, Any], key: str, camel: str
) -> None:
    cal = make_client()
    with pytest.raises(CalComUsageError) as caught:
        await cal.bookings.create(body)
    message = str(caught.value)
    assert f"key {key!r}" in message and "camelCase" in message and f"use {camel!r}" in message
    assert "fits none of" not in message  # not three union members and no word of the cause
    assert api.calls == []


async def test_the_fake_answers_a_bad_raw_body_with_a_400_not_python_internals() -> None:
    async with FakeCalCom() as fake:
        fake.seed(bookings=1)
        async with fake.client() as cal:
            with pytest.raises(BadRequestError) as caught:
                await cal.request(  # the escape hatch sends a dict as it is
                    "POST",
                    "/v2/bookings",
                    json={"eventTypeId": "one", "start": "2026-12-10T07:00:00Z", "attendee": {}},
                    api_version="2024-08-13",
                )
    assert caught.value.status_code == 400  # was a 500 quoting int()'s ValueError
    assert "invalid literal" not in str(caught.value)


# -- trap 6: naive datetimes -----------------------------------------------------------------


NAIVE = dt.datetime(2026, 12, 10, 8, 0)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (
            lambda cal: cal.bookings.create(
                models.CreateBookingInput_2024_08_13(
                    event_type_id=1, start=NAIVE, attendee=ATTENDEE
                )
            ),
            "CreateBookingInput_2024_08_13.start",
        ),
        (
            lambda cal: cal.bookings.create({"eventTypeId": 1, "start": NAIVE, "attendee": {}}),
            "body.start",
        ),
        (
            lambda cal: cal.bookings.create(event_type_id=1, start=NAIVE, attendee=ATTENDEE),
            "CreateBookingInput_2024_08_13.start",
        ),
        (
            lambda cal: cal.bookings.reschedule("uid-1", start=NAIVE),
            "RescheduleBookingInput_2024_08_13.start",
        ),
        (
            lambda cal: cal.bookings.create(
                {"eventTypeId": 1, "start": START, "attendee": ATTENDEE_JSON, "x": [NAIVE]}
            ),
            r"body.x[0]",
        ),
        (lambda cal: cal.bookings.list(after_start=NAIVE).to_list(), "argument 'after_start'"),
        (lambda cal: cal.bookings.list(before_end=NAIVE, take=5), "argument 'before_end'"),
        (
            lambda cal: cal.request("POST", "/v2/x", json={"when": {"at": NAIVE}}),
            "body.when.at",
        ),
    ],
)
async def test_a_naive_datetime_is_refused_naming_the_field(
    make_client: Any, api: FakeAPI, call: Any, field: str
) -> None:
    cal = make_client()
    with pytest.raises(CalComUsageError) as caught:
        await call(cal)
    message = str(caught.value)
    assert field in message and "naive datetime" in message
    assert 'datetime(2026, 12, 10, 8, 0, tzinfo=ZoneInfo("Europe/Rome"))' in message
    assert api.calls == []  # before anything was sent


NAIVE_TEXT = "2026-12-10T08:00:00"  # no Z, no offset: the API would read 08:00 UTC


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (
            lambda cal: cal.bookings.create(
                {"eventTypeId": 1, "start": NAIVE_TEXT, "attendee": ATTENDEE_JSON}
            ),
            "body.start",
        ),
        (
            lambda cal: cal.bookings.create(event_type_id=1, start=NAIVE_TEXT, attendee=ATTENDEE),
            "CreateBookingInput_2024_08_13.start",
        ),
        (
            lambda cal: cal.bookings.create(
                models.CreateBookingInput_2024_08_13(
                    event_type_id=1,
                    start=NAIVE_TEXT,  # type: ignore[arg-type]
                    attendee=ATTENDEE,
                )
            ),
            "CreateBookingInput_2024_08_13.start",
        ),
        (
            lambda cal: cal.bookings.reschedule("uid-1", {"start": "2026-12-10 08:00"}),
            "body.start",
        ),
        (
            lambda cal: cal.bookings.list(after_start=NAIVE_TEXT).to_list(),
            "argument 'after_start'",
        ),
        (lambda cal: cal.bookings.list(before_end="2026-12-10T08:00", take=5), "'before_end'"),
    ],
)
async def test_a_naive_date_time_string_is_refused_naming_the_field(
    make_client: Any, api: FakeAPI, call: Any, field: str
) -> None:
    cal = make_client()
    with pytest.raises(CalComUsageError) as caught:
        await call(cal)
    message = str(caught.value)
    assert field in message and "date-time string without an offset" in message
    assert "'Z'" in message or "Z' for UTC" in message
    assert "+01:00" in message and "aware datetime" in message
    assert api.calls == []  # before anything was sent


@pytest.mark.parametrize(
    "value", ["2026-12-10T08:00:00Z", "2026-12-10T08:00:00.000+01:00", "2026-12-10", "soon"]
)
async def test_date_time_strings_with_an_offset_and_dates_alone_are_sent_as_given(
    make_client: Any, api: FakeAPI, value: str
) -> None:
    """With ``Z`` or an offset the instant is named; a date alone is a day; what is no ISO
    date-time at all is the server's to judge (it answers 400)."""
    cal = make_client()
    api.queue(json_reply({"status": "success", "data": []}))
    await cal.bookings.list(after_start=value, take=5)
    await cal.bookings.create({"eventTypeId": 1, "start": value, "attendee": ATTENDEE_JSON})
    (listed, created) = api.calls
    assert dict(listed.params)["afterStart"] == value
    assert created.json()["start"] == value


async def test_an_aware_datetime_books_the_instant_it_names() -> None:
    """08:00 in Rome is 07:00 UTC in December: the booking the trap booked at 08:00 UTC."""
    async with FakeCalCom() as fake:
        fake.seed(event_types=1)
        et_id = sorted(fake.store.event_types)[0]
        fake.advance(0)
        async with fake.client() as cal:
            when = dt.datetime.fromtimestamp(fake.now(), ROME).replace(
                minute=0, second=0, microsecond=0
            ) + dt.timedelta(days=30)
            while when.weekday() > 4 or not 9 <= when.hour < 16:
                when += dt.timedelta(hours=1)
            booked = await cal.bookings.create(
                event_type_id=et_id,
                start=when,
                attendee=models.CreateBookingAttendee(
                    name="Ada", email="ada@example.com", time_zone="Europe/Rome"
                ),
            )
            with pytest.raises(CalComUsageError, match="naive"):
                await cal.bookings.list(after_start=when.replace(tzinfo=None))
    assert isinstance(booked, models.BookingOutput_2024_08_13)
    assert booked.start == when  # the same instant (compared across time zones)
    assert booked.start.utcoffset() == dt.timedelta(0)  # the API answers in UTC


# -- the blocking client agrees -----------------------------------------------------------------


def test_calcomsync_takes_keyword_fields_and_refuses_the_same() -> None:
    with FakeOnThread() as fake:
        fake.seed(bookings=3, event_types=1)
        et_id = sorted(fake.store.event_types)[0]
        with CalComSync(api_key=fake.api_key, base_url=fake.base_url) as cal:
            with pytest.raises(CalComUsageError, match="naive datetime"):
                cal.bookings.create(event_type_id=et_id, start=NAIVE, attendee=ATTENDEE)
            with pytest.raises(CalComUsageError, match="use 'eventTypeId'"):
                cal.bookings.create({"event_type_id": et_id, "start": START})
            with pytest.raises(CalComUsageError, match=r"eventTypeId must be int"):
                cal.bookings.create({"eventTypeId": "one", "start": START, "attendee": {}})
            with pytest.raises(CalComUsageError, match="missing required field 'attendee'"):
                cal.bookings.create(event_type_id=et_id, start=START)
            assert fake.requests == []
            booking = cal.bookings.list(max_items=1).to_list()[0]
            cancelled = cal.bookings.cancel(booking.uid, cancellation_reason="Moved")
    assert isinstance(cancelled, models.BookingOutput_2024_08_13)
    assert cancelled.cancellation_reason == "Moved"


# -- mypy --strict over user code that uses keyword fields ---------------------------------------

GOOD = """
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from calcom_async import CalCom, models
from calcom_async.blocking import CalComSync

ROME = ZoneInfo("Europe/Rome")
ATTENDEE = models.CreateBookingAttendee(name="Ada", email="ada@x.com", time_zone="Europe/Rome")


async def book(cal: CalCom) -> None:
    start = dt.datetime(2026, 12, 10, 8, 0, tzinfo=ROME)
    booked = await cal.bookings.create(event_type_id=1, start=start, attendee=ATTENDEE)
    if isinstance(booked, models.BookingOutput_2024_08_13):
        print(booked.uid)
    await cal.bookings.create(start=start, attendee=ATTENDEE, event_type_id=1, instant=True)
    await cal.bookings.cancel("uid", cancellation_reason="Moved")
    await cal.bookings.cancel("uid", {"cancellationReason": "Moved"})  # a dict body
    await cal.bookings.reschedule("uid", start=start, rescheduling_reason="Later")
    trigger = models.WebhookTriggerEvent.BOOKING_CREATED
    await cal.webhooks.create(subscriber_url="https://example.com/h", triggers=[trigger])


def book_blocking(cal: CalComSync) -> None:
    start = dt.datetime(2026, 12, 10, 8, 0, tzinfo=ROME)
    cal.bookings.create(event_type_id=1, start=start, attendee=ATTENDEE)
    cal.bookings.cancel("uid", cancellation_reason="Moved")
"""

BAD = """
import datetime as dt

from calcom_async import CalCom, models
from calcom_async.blocking import CalComSync


async def misuse(cal: CalCom, sync: CalComSync, start: dt.datetime) -> None:
    await cal.bookings.create(event_type_id="one", start=start)  # E: arg-type
    await cal.bookings.create(event_type=1, start=start)  # E: call-arg
    await cal.bookings.create(start="tomorrow 9am", attendee={"name": "A"})  # E: arg-type
    await cal.bookings.cancel("uid", cancellation_reason=5)  # E: arg-type
    sync.bookings.create(event_type_id="one", start=start)  # E: arg-type
    sync.bookings.cancel("uid", reason="Moved")  # E: call-arg
"""


def test_keyword_fields_type_check_under_mypy_strict(tmp_path: Path) -> None:
    found = run_mypy({"good": snippet(GOOD), "bad": snippet(BAD)}, tmp_path)
    assert errors(found["good"]) == set(), found["good"]
    assert errors(found["bad"]) == set(marked(BAD, "# E: ").items()), found["bad"]
