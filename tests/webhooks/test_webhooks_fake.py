"""End to end: the client books on FakeCalCom -> the fake signs and delivers -> the Router
verifies, parses and a handler receives a typed event (loopback only)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from calcom_async import CalCom
from calcom_async.testing import FakeCalCom
from calcom_async.webhooks import (
    BookingPayload,
    Router,
    WebhookBookingStatus,
    WebhookEvent,
    WebhookTriggerEvent,
)

KEY = "whsec_SECRET_e2e_current"
NEW_KEY = "whsec_SECRET_e2e_rotated"
OTHER_KEY = "whsec_SECRET_e2e_not_ours"
LOGGER = "calcom_async.webhooks"


def _day(days: int) -> str:
    return (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=days)).isoformat()


async def _free_starts(cal: CalCom, et_id: int) -> list[str]:
    raw = await cal.slots.with_raw_response.get_available(
        event_type_id=et_id, start=_day(1), end=_day(8)
    )
    return [item["start"] for day in raw.json()["data"].values() for item in day]


async def _book(cal: CalCom, et_id: int, nth: int, name: str) -> Any:
    start = (await _free_starts(cal, et_id))[nth]
    email = f"{name.lower()}@example.org"
    return await cal.bookings.create(
        {
            "eventTypeId": et_id,
            "start": start,
            "attendee": {"name": name, "email": email, "timeZone": "Europe/Paris"},
        }
    )


@pytest.fixture
async def receiver() -> AsyncIterator[Callable[[web.Application], Awaitable[str]]]:
    servers: list[TestServer] = []

    async def start(app: web.Application) -> str:
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return str(server.make_url("")).rstrip("/")

    yield start
    for server in servers:
        await server.close()


class Inbox:
    def __init__(self) -> None:
        self.events: list[WebhookEvent] = []
        self.by_trigger: dict[str, list[WebhookEvent]] = {}

    async def add(self, event: WebhookEvent) -> None:
        self.events.append(event)
        self.by_trigger.setdefault(str(event.trigger_event), []).append(event)


async def test_booking_lifecycle_reaches_typed_handlers(
    receiver: Callable[[web.Application], Awaitable[str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    router = Router([KEY, NEW_KEY], replay_window=600)
    inbox = Inbox()
    typed: dict[tuple[str, str | None], BookingPayload] = {}

    @router.on(
        "BOOKING_CREATED",
        "BOOKING_REQUESTED",
        "BOOKING_RESCHEDULED",
        "BOOKING_REJECTED",
    )
    async def on_booking(event: WebhookEvent) -> None:
        if event.booking is not None:
            assert isinstance(event.booking.uid, str)
            typed[str(event.trigger_event), event.booking.uid] = event.booking

    @router.on("BOOKING_CANCELLED")
    async def broken_bot(event: WebhookEvent) -> None:
        raise RuntimeError("the chat service is down")

    router.on_any(inbox.add)

    flaky = {"left": 1}

    @web.middleware
    async def fail_first(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path == "/hooks/cal" and flaky["left"]:
            flaky["left"] -= 1
            return web.Response(status=502, text="bad gateway")  # a proxy hiccup: retried
        return await handler(request)  # type: ignore[no-any-return]

    async def broken(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=500)

    app = web.Application(middlewares=[fail_first])
    router.mount(app, "/hooks/cal")
    app.router.add_post("/hooks/template", router.handler)
    app.router.add_post("/hooks/other", router.handler)
    app.router.add_post("/broken", broken)
    base = await receiver(app)

    async with FakeCalCom(webhook_backoff=0.01, webhook_retries=2) as fake:
        cal = fake.client()
        plain = await cal.event_types.create(
            {"title": "Intro", "slug": "intro-e2e", "lengthInMinutes": 30}
        )
        gated = await cal.event_types.create(
            {
                "title": "Gated",
                "slug": "gated-e2e",
                "lengthInMinutes": 30,
                "confirmationPolicy": {
                    "type": "always",
                    "blockUnconfirmedBookingsInBooker": False,
                },
            }
        )
        user_hook = await cal.webhooks.create(
            subscriber_url=f"{base}/hooks/cal",
            triggers=[
                WebhookTriggerEvent.BOOKING_CREATED,
                WebhookTriggerEvent.BOOKING_REQUESTED,
                WebhookTriggerEvent.BOOKING_RESCHEDULED,
                WebhookTriggerEvent.BOOKING_CANCELLED,
                WebhookTriggerEvent.BOOKING_REJECTED,
            ],
            active=True,
            secret=KEY,
        )
        await cal.webhooks.create(  # signed with a secret the router does not know
            subscriber_url=f"{base}/hooks/other",
            triggers=[WebhookTriggerEvent.BOOKING_CREATED],
            active=True,
            secret=OTHER_KEY,
        )
        await cal.event_types.webhooks.create(  # a subscriber that always fails
            int(plain.id),
            subscriber_url=f"{base}/broken",
            triggers=[WebhookTriggerEvent.BOOKING_CREATED],
            active=True,
            secret=KEY,
        )
        await cal.event_types.webhooks.create(  # a custom payload template
            int(plain.id),
            subscriber_url=f"{base}/hooks/template",
            triggers=[WebhookTriggerEvent.BOOKING_CREATED],
            active=True,
            secret=KEY,
            payload_template='{"kind":"custom","uid":"{{uid}}","who":"{{attendees.0.name}}"}',
        )

        booking = await _book(cal, int(plain.id), 0, "Ann")
        moved = await cal.bookings.reschedule(
            booking.uid, {"start": (await _free_starts(cal, int(plain.id)))[4]}
        )
        requested = await _book(cal, int(gated.id), 1, "Bob")
        await cal.bookings.confirm(requested.uid)
        declined = await _book(cal, int(gated.id), 2, "Cid")
        await cal.bookings.decline(declined.uid, reason="no capacity")
        # rotation: Cal.com now signs with the new secret; the router accepts both
        await cal.webhooks.update(user_hook.id, secret=NEW_KEY)
        await cal.bookings.cancel(moved.uid, {"cancellationReason": "plans changed"})

        deliveries = await fake.deliveries.wait(len(fake.deliveries), timeout=10)
        assert len(deliveries) == len(fake.deliveries)

        # replay: the delivery the router accepted, sent again verbatim
        first = next(
            d for d in deliveries if d.url.endswith("/hooks/cal") and d.trigger == "BOOKING_CREATED"
        )
        async with (
            aiohttp.ClientSession() as session,
            session.post(first.url, data=first.body, headers=first.headers) as again,
        ):
            assert again.status == 200
            assert (await again.json())["status"] == "duplicate"

    assert await router.drain(5)

    by_url: dict[str, list[Any]] = {}
    for d in deliveries:
        by_url.setdefault(d.url.removeprefix(base), []).append(d)

    # the failing subscriber was retried, then given up on; nothing reached a handler from it
    assert [len(d.attempts) for d in by_url["/broken"]] == [3]
    assert not by_url["/broken"][0].delivered
    # a wrong secret: 401 on every attempt, never dispatched
    other = by_url["/hooks/other"]
    assert len(other) == 2  # the booking and the confirmation
    assert all(a.status == 401 for d in other for a in d.attempts) and not any(
        d.delivered for d in other
    )
    # the proxy hiccup: redelivered, then accepted, and dispatched exactly once
    ours = by_url["/hooks/cal"]
    assert [a.status for a in ours[0].attempts] == [502, 200]
    assert all(d.delivered for d in ours)
    assert [d.trigger for d in ours] == [
        "BOOKING_CREATED",
        "BOOKING_RESCHEDULED",
        "BOOKING_REQUESTED",
        "BOOKING_CREATED",
        "BOOKING_REQUESTED",
        "BOOKING_REJECTED",
        "BOOKING_CANCELLED",
    ]
    assert all(len(d.attempts) == 1 for d in ours[1:])  # a failing handler is not a failed delivery

    # every delivery from /hooks/cal and /hooks/template reached on_any once, the rest never
    expected = {d.delivery_id for d in inbox.events}
    assert len(inbox.events) == len(ours) + len(by_url["/hooks/template"]) == len(expected)

    # typed payloads (a retried delivery may arrive after later ones: no order across them)
    assert {key: p.status for key, p in typed.items()} == {
        ("BOOKING_CREATED", booking.uid): WebhookBookingStatus.ACCEPTED,
        ("BOOKING_RESCHEDULED", moved.uid): WebhookBookingStatus.ACCEPTED,
        ("BOOKING_REQUESTED", requested.uid): WebhookBookingStatus.PENDING,
        ("BOOKING_CREATED", requested.uid): WebhookBookingStatus.ACCEPTED,
        ("BOOKING_REQUESTED", declined.uid): WebhookBookingStatus.PENDING,
        ("BOOKING_REJECTED", declined.uid): WebhookBookingStatus.REJECTED,
    }
    created = typed["BOOKING_CREATED", booking.uid]
    assert created.attendees[0].email == "ann@example.org"
    assert created.attendees[0].time_zone == "Europe/Paris"
    assert created.response("name") == "Ann"
    assert created.start_time.tzinfo is not None
    assert created.start_time == booking.start
    assert created.event_type_id == int(plain.id)
    assert isinstance(created.organizer.email, str)
    assert typed["BOOKING_RESCHEDULED", moved.uid].reschedule_uid == booking.uid
    assert typed["BOOKING_REJECTED", declined.uid].rejection_reason == "no capacity"

    cancelled = inbox.by_trigger["BOOKING_CANCELLED"]
    assert len(cancelled) == 1 and cancelled[0].booking is not None
    assert cancelled[0].booking.cancellation_reason == "plans changed"
    assert cancelled[0].booking.status is WebhookBookingStatus.CANCELLED

    # the template body: verified, delivered raw
    (templated,) = [e for e in inbox.events if e.templated]
    assert templated.trigger_event is None
    assert templated.payload == {"kind": "custom", "uid": booking.uid, "who": "Ann"}

    # the failing handler: logged with its trigger and delivery, the others still ran
    errors = [r for r in caplog.records if r.name == LOGGER and r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "broken_bot" in errors[0].getMessage()
    assert "BOOKING_CANCELLED" in errors[0].getMessage()
    assert cancelled[0].delivery_id in errors[0].getMessage()
    refused = [r for r in caplog.records if r.name == LOGGER and "signature" in r.getMessage()]
    assert len(refused) == sum(len(d.attempts) for d in other)


async def test_delivery_while_the_receiver_is_down_is_retried(
    receiver: Callable[[web.Application], Awaitable[str]],
) -> None:
    """The subscriber answers nothing at first (connection refused), then comes up."""
    router = Router(KEY)
    got: list[WebhookEvent] = []
    arrived = asyncio.Event()

    @router.on("BOOKING_CREATED")
    async def handle(event: WebhookEvent) -> None:
        got.append(event)
        arrived.set()

    up = {"yes": False}

    @web.middleware
    async def gate(request: web.Request, handler: Any) -> web.StreamResponse:
        if not up["yes"]:
            up["yes"] = True
            raise web.HTTPServiceUnavailable()
        return await handler(request)  # type: ignore[no-any-return]

    app = web.Application(middlewares=[gate])
    router.mount(app, "/cal")
    base = await receiver(app)
    async with FakeCalCom(webhook_backoff=0.01) as fake:
        cal = fake.client()
        et = await cal.event_types.create({"title": "T", "slug": "t-e2e", "lengthInMinutes": 15})
        await cal.webhooks.create(
            subscriber_url=f"{base}/cal",
            triggers=[WebhookTriggerEvent.BOOKING_CREATED],
            active=True,
            secret=KEY,
        )
        booking = await _book(cal, int(et.id), 0, "Dee")
        (delivery,) = await fake.deliveries.wait(1)
        async with asyncio.timeout(5):
            await arrived.wait()
    assert [a.status for a in delivery.attempts] == [503, 200]
    (event,) = got
    assert isinstance(event.payload, BookingPayload) and event.payload.uid == booking.uid
