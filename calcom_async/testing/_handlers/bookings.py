"""Bookings: create, list, get, cancel, reschedule, confirm, decline, no-shows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .._pages import ok
from .._records import Ctx
from .._state import FakeState
from .._util import bad_request, parse_time
from ._registry import Registry

handles = Registry()


_UNAVAILABLE = "User either already has booking at this time or is not available"


# -- bookings -----------------------------------------------------------------------------------


def _parse_start(value: Any) -> float:
    try:
        return parse_time(str(value))
    except ValueError:
        raise bad_request("start must be a valid ISO 8601 date string in UTC", ["start"]) from None


@handles("bookings.create")
def bookings_create(store: FakeState, ctx: Ctx) -> Any:
    body = ctx.body
    et_id = store.find_event_type(body)
    et = store.event_types[et_id]
    start = _parse_start(body["start"])
    length = int(body.get("lengthInMinutes") or et["lengthInMinutes"])
    a = body["attendee"]
    if not a.get("timeZone"):
        raise bad_request("attendee.timeZone should not be empty", ["attendee.timeZone"])
    attendee = {
        "name": a.get("name") or a.get("email", "Guest"),
        "email": a.get("email") or f"{a.get('phoneNumber', 'guest')}@sms.cal.com",
        "timeZone": a["timeZone"],
        "language": a.get("language") or "en",
        "absent": False,
    }
    if a.get("phoneNumber"):
        attendee["phoneNumber"] = a["phoneNumber"]
    guests = [str(g) for g in body.get("guests") or []]
    fields: dict[str, Any] = {
        "guests": guests,
        "metadata": dict(body.get("metadata") or {}),
        "location": _location(body.get("location")),
        "responses": {"name": attendee["name"], "email": attendee["email"], "guests": guests}
        | dict(body.get("bookingFieldsResponses") or {}),
    }
    client_id = ctx.principal.client_id
    if body.get("instant"):
        if et_id not in store.event_type_team or not et.get("isInstantEvent"):
            raise bad_request(
                "Instant bookings are only possible for team event types that allow them"
            )
        booking = store.add_booking(
            et_id, start, [attendee], length=length, client_id=client_id, **fields
        )
        store.emit("INSTANT_MEETING", booking)
        store.emit("BOOKING_CREATED", booking)
        return ok(booking.data)
    if start < store.now():
        raise bad_request("Attempting to book a meeting in the past.")
    recurrence = et.get("recurrence")
    starts = [start]
    if recurrence:
        count = int(body.get("recurrenceCount") or recurrence["occurrences"])
        count = max(1, min(count, int(recurrence["occurrences"])))
        starts = _recurring_starts(start, recurrence, count)
    for when in starts:
        if not store.is_free(et_id, when, length):
            raise bad_request(_UNAVAILABLE)
    pending = store.requires_confirmation(et)
    status = "pending" if pending else "accepted"
    trigger = "BOOKING_REQUESTED" if pending else "BOOKING_CREATED"
    if not recurrence:
        booking = store.add_booking(
            et_id, start, [attendee], length=length, status=status, client_id=client_id, **fields
        )
        store.emit(trigger, booking)
        return ok(booking.data)
    series = store.uid()
    rows = [
        store.add_booking(
            et_id,
            when,
            [dict(attendee)],
            length=length,
            status=status,
            recurring_uid=series,
            client_id=client_id,
            **fields,
        )
        for when in starts
    ]
    store.emit(trigger, rows[0])
    return ok([b.data for b in rows])


def _location(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ("address", "link", "phone", "integration", "type"):
            if value.get(key):
                return str(value[key])
    return None


def _recurring_starts(start: float, recurrence: dict[str, Any], count: int) -> list[float]:
    interval = int(recurrence.get("interval") or 1)
    frequency = recurrence.get("frequency", "weekly")
    first = dt.datetime.fromtimestamp(start, dt.UTC)
    out = []
    for i in range(count):
        if frequency == "weekly":
            when = first + dt.timedelta(weeks=interval * i)
        else:
            months = interval * i * (12 if frequency == "yearly" else 1)
            year, month = divmod(first.month - 1 + months, 12)
            when = first.replace(year=first.year + year, month=month + 1, day=min(first.day, 28))
        out.append(when.timestamp())
    return out


@handles("bookings.list")
def bookings_list(store: FakeState, ctx: Ctx) -> Any:
    return store.list_bookings(ctx)


@handles("bookings.get")
def bookings_get(store: FakeState, ctx: Ctx) -> Any:
    uid = ctx.path["bookingUid"]
    series = [b.data for b in store.bookings.values() if b.recurring_uid == uid]
    if series and uid not in store.bookings:
        return ok(sorted(series, key=lambda d: d["start"]))
    return ok(store.get_booking(uid).data)


@handles("bookings.cancel")
def bookings_cancel(store: FakeState, ctx: Ctx) -> Any:
    uid = ctx.path["bookingUid"]
    body = ctx.body or {}
    series = sorted(
        (b for b in store.bookings.values() if b.recurring_uid == uid), key=lambda b: b.start
    )
    if series and uid not in store.bookings:
        targets = [b for b in series if b.status in ("accepted", "pending")]
    else:
        booking = store.get_booking(uid)
        if booking.status in ("cancelled", "rejected"):
            raise bad_request("This booking has already been cancelled.")
        targets = [booking]
        if body.get("cancelSubsequentBookings") and booking.recurring_uid:
            targets += [
                b
                for b in store.bookings.values()
                if b.recurring_uid == booking.recurring_uid
                and b.start > booking.start
                and b.status in ("accepted", "pending")
            ]
    for b in targets:
        b.data["status"] = "cancelled"
        if body.get("cancellationReason"):
            b.data["cancellationReason"] = body["cancellationReason"]
        b.data["cancelledByEmail"] = store.users[store.owner_id]["email"]
        store.touch(b)
    if targets:
        store.emit(
            "BOOKING_CANCELLED",
            targets[0],
            cancellationReason=body.get("cancellationReason", ""),
            cancelledBy=targets[0].data["cancelledByEmail"],
        )
    if series and uid not in store.bookings:
        return 200, ok([b.data for b in series])
    return 200, ok(targets[0].data)


@handles("bookings.reschedule")
def bookings_reschedule(store: FakeState, ctx: Ctx) -> Any:
    old = store.get_booking(ctx.path["bookingUid"])
    if old.status in ("cancelled", "rejected"):
        raise bad_request("Can't reschedule a booking that has been cancelled or rejected.")
    body = ctx.body
    start = _parse_start(body["start"])
    length = old.data["duration"]
    if start < store.now():
        raise bad_request("Attempting to book a meeting in the past.")
    if not store.is_free(old.event_type_id, start, length, exclude=old.uid):
        raise bad_request(_UNAVAILABLE)
    new = store.add_booking(
        old.event_type_id,
        start,
        [dict(a) for a in old.data["attendees"]],
        length=length,
        status=old.status,
        host_id=old.host_id,
        recurring_uid=old.recurring_uid,
        client_id=old.client_id,
        guests=list(old.data.get("guests", [])),
        location=old.data["location"],
        metadata=dict(old.data.get("metadata", {})),
        responses=dict(old.data["bookingFieldsResponses"]),
    )
    new.data["rescheduledFromUid"] = old.uid
    if body.get("reschedulingReason"):
        new.data["reschedulingReason"] = body["reschedulingReason"]
    if body.get("rescheduledBy"):
        new.data["rescheduledByEmail"] = body["rescheduledBy"]
    old.data["status"] = "cancelled"
    old.data["rescheduledToUid"] = new.uid
    if body.get("reschedulingReason"):
        old.data["reschedulingReason"] = body["reschedulingReason"]
    if body.get("rescheduledBy"):
        old.data["rescheduledByEmail"] = body["rescheduledBy"]
    store.touch(old)
    store.emit(
        "BOOKING_RESCHEDULED",
        new,
        rescheduleUid=old.uid,
        rescheduleId=old.data["id"],
        rescheduleStartTime=old.data["start"],
        rescheduleEndTime=old.data["end"],
        rescheduledBy=body.get("rescheduledBy"),
    )
    return ok(new.data)


def _pending(store: FakeState, uid: str) -> Any:
    booking = store.get_booking(uid)
    if booking.status != "pending":
        raise bad_request(f"Booking with uid={uid} is not pending (status: {booking.status})")
    return booking


@handles("bookings.confirm")
def bookings_confirm(store: FakeState, ctx: Ctx) -> Any:
    booking = _pending(store, ctx.path["bookingUid"])
    booking.data["status"] = "accepted"
    store.touch(booking)
    store.emit("BOOKING_CREATED", booking)
    return 200, ok(booking.data)


@handles("bookings.decline")
def bookings_decline(store: FakeState, ctx: Ctx) -> Any:
    booking = _pending(store, ctx.path["bookingUid"])
    reason = (ctx.body or {}).get("reason")
    booking.data["status"] = "rejected"
    if reason:
        booking.data["cancellationReason"] = reason
    store.touch(booking)
    store.emit("BOOKING_REJECTED", booking, rejectionReason=reason)
    return 200, ok(booking.data)


@handles("bookings.mark_absent")
def bookings_mark_absent(store: FakeState, ctx: Ctx) -> Any:
    booking = store.get_booking(ctx.path["bookingUid"])
    body = ctx.body or {}
    if booking.start > store.now():
        raise bad_request("Can't mark absent a booking that has not started yet.")
    if "host" in body:
        booking.data["absentHost"] = bool(body["host"])
    emails = {a["email"]: a for a in booking.data["attendees"]}
    for item in body.get("attendees") or []:
        attendee = emails.get(item.get("email"))
        if attendee is None:
            raise bad_request(f"Attendee with email {item.get('email')!r} is not in this booking")
        attendee["absent"] = bool(item.get("absent"))
    store.touch(booking)
    store.emit("BOOKING_NO_SHOW_UPDATED", booking)
    return 200, ok(booking.data)
