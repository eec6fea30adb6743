"""The booking list as msgspec ``Struct``s: the practical limit for typed decoding in Python.

Same fields and types as ``BookingOutput_2024_08_13`` (enums as ``str`` enums, date-times as
aware ``datetime``s). msgspec cannot pick between untagged object types, so ``data`` is a list of
the plain booking type only (the other three members of calcom_async's union are not tried).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import msgspec


class BookingStatus(enum.StrEnum):
    CANCELLED = "cancelled"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    PENDING = "pending"


class Host(msgspec.Struct, rename="camel"):
    id: float
    name: str
    email: str
    username: str
    time_zone: str


class Attendee(msgspec.Struct, rename="camel"):
    name: str
    email: str
    time_zone: str
    absent: bool
    language: str | None = None
    phone_number: str | None = None


class EventType(msgspec.Struct):
    id: float
    slug: str


class Booking(msgspec.Struct, rename="camel"):
    id: float
    uid: str
    title: str
    description: str
    hosts: list[Host]
    status: BookingStatus
    start: dt.datetime
    end: dt.datetime
    duration: float
    event_type_id: float
    event_type: EventType
    location: str
    absent_host: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    attendees: list[Attendee]
    booking_fields_responses: dict[str, Any]
    cancellation_reason: str | None = None
    cancelled_by_email: str | None = None
    rescheduling_reason: str | None = None
    rescheduled_by_email: str | None = None
    rescheduled_from_uid: str | None = None
    rescheduled_to_uid: str | None = None
    meeting_url: str | None = None
    metadata: dict[str, Any] | None = None
    rating: float | None = None
    ics_uid: str | None = None
    guests: list[str] | None = None


class PaginationMeta(msgspec.Struct, rename="camel"):
    total_items: float
    remaining_items: float
    returned_items: float
    items_per_page: float
    current_page: float
    total_pages: float
    has_next_page: bool
    has_previous_page: bool


class GetBookingsOutput(msgspec.Struct):
    status: str
    data: list[Booking]
    pagination: PaginationMeta
    error: dict[str, Any] | None = None


decoder = msgspec.json.Decoder(GetBookingsOutput)
