"""Bookings: their JSON (as the 2024-08-13 API answers it), made, found and stamped, and the event
type a booking request names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._records import Booking
from .._util import bad_request, iso, ms, not_found
from .event_types import EventTypesState

__all__ = ["BookingsState"]


class BookingsState(EventTypesState):
    """The bookings."""

    def booking_json(
        self,
        *,
        booking_id: int,
        uid: str,
        et: dict[str, Any],
        host_id: int,
        start: float,
        end: float,
        status: str,
        attendees: list[dict[str, Any]],
        created: float,
        guests: list[str] | None = None,
        location: str | None = None,
        metadata: dict[str, Any] | None = None,
        responses: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        first = attendees[0]
        data: dict[str, Any] = {
            "id": booking_id,
            "uid": uid,
            "title": f"{et['title']} between {self.user(host_id)['name']} and {first['name']}",
            "description": "",
            "hosts": [self.host(host_id)],
            "status": status,
            "start": iso(start),
            "end": iso(end),
            "duration": round((end - start) / 60),
            "eventTypeId": et["id"],
            "eventType": {"id": et["id"], "slug": et["slug"]},
            "location": location or f"https://app.cal.com/video/{uid}",
            "absentHost": False,
            "createdAt": iso(created),
            "updatedAt": iso(created),
            "metadata": metadata or {},
            "icsUid": f"{uid}@Cal.com",
            "attendees": [{"displayEmail": a["email"], **a} for a in attendees],
            "guests": guests or [],
            "bookingFieldsResponses": responses
            or {"name": first["name"], "email": first["email"], "guests": guests or []},
        }
        if data["location"].startswith("https://"):
            data["meetingUrl"] = data["location"]
        # as the live API sends them: nulls the document types otherwise, an undeclared field,
        # and on some bookings no guests key at all and empty cancellation fields
        data["rescheduledByEmail"] = None
        data["rating"] = None
        data["isPlatformManagedUserBooking"] = False
        if booking_id % 2 and not data["guests"]:
            del data["guests"]
        if booking_id % 3 == 0 and status != "cancelled":
            data["cancellationReason"] = ""
            data["cancelledByEmail"] = ""
        return data

    def get_booking(self, uid: str) -> Booking:
        booking = self.bookings.get(uid)
        if booking is None:
            raise not_found(f"Booking with uid={uid} was not found in the database")
        return booking

    def touch(self, booking: Booking) -> None:
        last = booking.created if booking.updated is None else booking.updated
        now = ms(max(self.now(), last + 0.001))
        booking.updated = now
        self.bookings_version += 1
        booking.data["updatedAt"] = iso(now)

    def add_booking(
        self,
        et_id: int,
        start: float,
        attendees: list[dict[str, Any]],
        *,
        length: int | None = None,
        status: str = "accepted",
        host_id: int | None = None,
        created: float | None = None,
        recurring_uid: str | None = None,
        client_id: str | None = None,
        **fields: Any,
    ) -> Booking:
        et = self.event_types[et_id]
        host = host_id or self.event_type_owner[et_id]
        minutes = length or int(et["lengthInMinutes"])
        start = ms(start)
        end = start + minutes * 60
        when = ms(self.now() if created is None else created)
        booking_id = self.next_id("booking")
        uid = self.uid()
        data = self.booking_json(
            booking_id=booking_id,
            uid=uid,
            et=et,
            host_id=host,
            start=start,
            end=end,
            status=status,
            attendees=attendees,
            created=when,
            **fields,
        )
        if recurring_uid:
            data["recurringBookingUid"] = recurring_uid
        booking = Booking(
            data,
            start,
            end,
            when,
            when,
            et_id,
            host,
            self.event_type_team.get(et_id),
            recurring_uid,
            client_id,
        )
        self.bookings[uid] = booking
        self.bookings_version += 1
        return booking

    def find_event_type(self, body: Mapping[str, Any]) -> int:
        if body.get("eventTypeId") is not None:
            et_id = body["eventTypeId"]
            if type(et_id) is not int:  # class-validator's wording
                raise bad_request("eventTypeId must be an integer number", ["eventTypeId"])
            if et_id not in self.event_types:
                raise not_found(f"Event type with id={et_id} not found")
            return et_id
        slug = body.get("eventTypeSlug")
        if slug:
            for et_id, et in self.event_types.items():
                if et["slug"] != slug:
                    continue
                team_id = self.event_type_team.get(et_id)
                if body.get("teamSlug") and team_id is not None:
                    if self.teams[team_id].get("slug") == body["teamSlug"]:
                        return et_id
                elif body.get("username") and team_id is None:
                    owner = self.user(self.event_type_owner[et_id])
                    if owner["username"] == body["username"]:
                        return et_id
            raise not_found(f"Event type with slug {slug!r} not found")
        raise bad_request(
            "Either eventTypeId or eventTypeSlug + username or eventTypeSlug + teamSlug "
            "must be provided",
            ["eventTypeId should not be empty"],
        )
