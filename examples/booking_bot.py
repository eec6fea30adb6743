"""A booking bot: Cal.com webhooks in, chat messages out.

    python examples/booking_bot.py            # demo: runs against FakeCalCom, no account needed
    python examples/booking_bot.py --serve    # a real receiver on 127.0.0.1:8080 (behind your
                                              # HTTPS proxy; CAL_WEBHOOK_SECRET, --host, --port)

The bot is an aiohttp.web app built from ``calcom_async.webhooks.Router``: every delivery is
verified (``X-Cal-Signature-256``), parsed into a typed event, acknowledged at once, and handled
in the background. Here the "chat" is a stub that prints and records what it would post; swap it
for Slack, Discord or Matrix.

In demo mode the script starts the bot on a free loopback port and a FakeCalCom, registers the
bot as a webhook subscriber through the API (as you would on Cal.com), then books, reschedules
and cancels a meeting with the client; the fake signs and delivers each event to the bot.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import os
import sys
from collections.abc import Sequence

from aiohttp import web

from calcom_async import CalCom, models
from calcom_async.webhooks import BookingPayload, Router, WebhookEvent, WebhookTriggerEvent


class ChatStub:
    """Stands in for a chat API: ``await chat.post(channel, text)``."""

    def __init__(self, *, echo: bool = True) -> None:
        self.messages: list[tuple[str, str]] = []
        self.echo = echo

    async def post(self, channel: str, text: str) -> None:
        await asyncio.sleep(0)  # a real client would await an HTTP call here
        self.messages.append((channel, text))
        if self.echo:
            print(f"[{channel}] {text}", flush=True)


def _when(booking: BookingPayload) -> str:
    return booking.start_time.strftime("%a %d %b %H:%M UTC")


def _who(booking: BookingPayload) -> str:
    return ", ".join(a.name or a.email for a in booking.attendees) or "someone"


def build_router(secret: str | Sequence[str], chat: ChatStub, channel: str = "#bookings") -> Router:
    """The bot: one handler per booking trigger, and a catch-all for the rest."""
    router = Router(secret, replay_window=24 * 3600)

    @router.on("BOOKING_CREATED")
    async def created(event: WebhookEvent) -> None:
        booking = event.booking
        if booking is None:  # e.g. a custom payload template
            return
        await chat.post(channel, f"📅 New: {booking.title} with {_who(booking)}, {_when(booking)}")

    @router.on("BOOKING_REQUESTED")
    async def requested(event: WebhookEvent) -> None:
        if booking := event.booking:
            await chat.post(channel, f"🙋 {_who(booking)} asks for {_when(booking)}: confirm?")

    @router.on("BOOKING_RESCHEDULED")
    async def rescheduled(event: WebhookEvent) -> None:
        if booking := event.booking:
            await chat.post(channel, f"🔁 Moved: {booking.title} is now {_when(booking)}")

    @router.on("BOOKING_CANCELLED", "BOOKING_REJECTED")
    async def cancelled(event: WebhookEvent) -> None:
        if booking := event.booking:
            reason = booking.cancellation_reason or booking.rejection_reason or "no reason given"
            await chat.post(channel, f"❌ Off: {booking.title} ({reason})")

    @router.fallback
    async def other(event: WebhookEvent) -> None:
        await chat.post("#cal-log", f"(ignored {event.trigger_event or 'templated'} delivery)")

    return router


async def demo(*, echo: bool = True) -> list[tuple[str, str]]:
    """Run the bot against FakeCalCom; return what it posted."""
    from calcom_async.testing import FakeCalCom

    secret = "whsec_demo_0123456789"
    chat = ChatStub(echo=echo)
    router = build_router(secret, chat)
    runner = web.AppRunner(router.app("/webhooks/cal"))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()  # a free loopback port
    host, port = runner.addresses[0][:2]
    try:
        async with FakeCalCom(webhook_backoff=0.05) as fake:
            cal = fake.client()
            await cal.webhooks.create(
                subscriber_url=f"http://{host}:{port}/webhooks/cal",
                triggers=[
                    WebhookTriggerEvent.BOOKING_CREATED,
                    WebhookTriggerEvent.BOOKING_RESCHEDULED,
                    WebhookTriggerEvent.BOOKING_CANCELLED,
                ],
                active=True,
                secret=secret,
            )
            event_type = await cal.event_types.create(
                title="Intro call", slug="intro-call", length_in_minutes=30
            )
            slots = await _free_slots(cal, int(event_type.id))
            booking = await cal.bookings.create(
                models.CreateBookingInput_2024_08_13(
                    event_type_id=event_type.id,
                    start=slots[0],
                    attendee=models.CreateBookingAttendee(
                        name="Ada Lovelace", email="ada@example.org", time_zone="UTC"
                    ),
                )
            )
            assert not isinstance(booking, list)  # one booking, not a recurring series
            await fake.deliveries.wait(1)
            moved = await cal.bookings.reschedule(
                booking.uid, models.RescheduleBookingInput_2024_08_13(start=slots[3])
            )
            await fake.deliveries.wait(2)
            await cal.bookings.cancel(
                moved.uid, models.CancelBookingInput_2024_08_13(cancellation_reason="Double-booked")
            )
            await fake.deliveries.wait(3)
    finally:
        await runner.cleanup()  # the app's cleanup waits for handlers still running
    return chat.messages


async def _free_slots(cal: CalCom, event_type_id: int) -> list[dt.datetime]:
    today = dt.datetime.now(dt.UTC).date()
    raw = await cal.slots.with_raw_response.get_available(
        event_type_id=event_type_id,
        start=(today + dt.timedelta(days=1)).isoformat(),
        end=(today + dt.timedelta(days=7)).isoformat(),
    )
    days = raw.json()["data"].values()
    return [dt.datetime.fromisoformat(slot["start"]) for day in days for slot in day]


def serve(host: str, port: int) -> None:
    """A real receiver: point a Cal.com webhook at https://<your host>/webhooks/cal."""
    secrets = [s for s in os.environ.get("CAL_WEBHOOK_SECRET", "").split(",") if s]
    if not secrets:
        sys.exit("set CAL_WEBHOOK_SECRET (comma-separated during a rotation)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    router = build_router(secrets, ChatStub())
    web.run_app(router.app("/webhooks/cal"), host=host, port=port)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--serve", action="store_true", help="receive real webhooks")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.host, args.port)
    else:
        messages = asyncio.run(demo())
        print(f"demo done: the bot posted {len(messages)} messages")


if __name__ == "__main__":
    main()
