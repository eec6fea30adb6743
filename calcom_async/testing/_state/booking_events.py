"""A booking's webhook events: which webhooks get one, and Cal.com's payload."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from .._records import Booking
from .._util import iso
from .event_types import EventTypesState

__all__ = ["BookingEventsState"]


class BookingEventsState(EventTypesState):
    """The webhook events of the bookings."""

    def emit(self, trigger: str, booking: Booking, **extra: Any) -> None:
        if self.on_event is None:
            return
        et_id = booking.event_type_id
        targets = []
        for hook in self.webhooks.values():
            if not hook.data.get("active", True) or trigger not in hook.data.get("triggers", []):
                continue
            if (
                (hook.scope == "user" and hook.owner == booking.host_id)
                or (hook.scope == "event_type" and hook.owner == et_id)
                or (hook.scope == "oauth_client" and hook.owner == booking.client_id)
                or (hook.scope == "org" and self.user(booking.host_id).get("_org"))
            ):
                targets.append(hook)
        if not targets:
            return
        payload = self.webhook_payload(booking, trigger, extra)
        for hook in targets:
            self.on_event(hook.out(), trigger, payload, iso(self.now()))

    def webhook_payload(
        self, booking: Booking, trigger: str, extra: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Cal.com's booking webhook payload (``payload`` of the delivery)."""
        data = booking.data
        et = self.event_types.get(booking.event_type_id, {})
        host = self.user(booking.host_id)

        def person(p: Mapping[str, Any]) -> dict[str, Any]:
            tz = str(p.get("timeZone") or "UTC")
            offset = dt.datetime.fromtimestamp(booking.start, ZoneInfo(tz)).utcoffset()
            return {
                "name": p["name"],
                "email": p["email"],
                "timeZone": tz,
                "language": {"locale": p.get("language") or "en"},
                "utcOffset": int(offset.total_seconds() // 60) if offset else 0,
            }

        organizer = {
            "id": host["id"],
            "username": host["username"],
            "timeFormat": "h:mma" if host.get("timeFormat") == 12 else "HH:mm",
            **person(host),
        }
        attendees = [person(a) for a in data["attendees"]]
        responses: dict[str, Any] = {
            "name": {"label": "your_name", "value": data["attendees"][0]["name"]},
            "email": {"label": "email_address", "value": data["attendees"][0]["email"]},
            "location": {
                "label": "location",
                "value": {"optionValue": "", "value": data["location"]},
            },
        }
        if data.get("guests"):
            responses["guests"] = {"label": "additional_guests", "value": data["guests"]}
        payload: dict[str, Any] = {
            "type": data["eventType"]["slug"],
            "title": data["title"],
            "description": data.get("description", ""),
            "additionalNotes": "",
            "customInputs": {},
            "startTime": data["start"].replace(".000Z", "Z"),
            "endTime": data["end"].replace(".000Z", "Z"),
            "organizer": organizer,
            "responses": responses,
            "userFieldsResponses": {},
            "attendees": attendees,
            "location": data["location"],
            "destinationCalendar": None,
            "hideCalendarNotes": False,
            "requiresConfirmation": self.requires_confirmation(et) if et else False,
            "eventTypeId": booking.event_type_id,
            "seatsShowAttendees": True,
            "seatsPerTimeSlot": None,
            "uid": data["uid"],
            "bookingId": data["id"],
            "eventTitle": et.get("title"),
            "eventDescription": et.get("description", ""),
            "price": 0,
            "currency": "usd",
            "length": data["duration"],
            "iCalUID": data["icsUid"],
            "metadata": {"videoCallUrl": data.get("meetingUrl")} | dict(data.get("metadata", {})),
            "status": data["status"].upper(),
            "triggerEvent": trigger,
        }
        if booking.recurring_uid:
            payload["recurringEventId"] = booking.recurring_uid
        if booking.team_id is not None:
            payload["team"] = {"id": booking.team_id, "name": self.teams[booking.team_id]["name"]}
        payload.update(extra)
        return payload
