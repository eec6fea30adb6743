"""Typed webhook delivery payloads (hand-written: the OpenAPI document has no schema for them).

The shapes follow Cal.com's own payload builders (``packages/features/webhooks``, webhook version
``2021-10-20``, and ``sendPayload.ts``): the booking payload is the ``CalendarEvent`` spread with
the booking id, status, event-type facts and the trigger's extras; meeting started/ended send the
stored booking row; recording, transcription, form, out-of-office, instant-meeting and Cal Video
no-show events have small payloads of their own.

Conventions are those of the generated models: ``attrs`` classes, keyword-only, snake_case
attributes with the JSON name in field metadata, optional fields default to ``UNSET``, unknown
fields are ignored (the whole payload is always kept raw on ``WebhookEvent.raw_payload``). Only
fields every sender fills are required, so that a payload missing some optional part still types.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from .._types import UNSET, OpenStrEnum, Unset

__all__ = [
    "BookingPayload",
    "BookingResponse",
    "BookingTeam",
    "VideoCallData",
    "WebhookBookingStatus",
    "WebhookLanguage",
    "WebhookPerson",
]


class WebhookBookingStatus(OpenStrEnum):
    """A booking's status as webhooks spell it (upper case, unlike the REST API's lower case)."""

    ACCEPTED = "ACCEPTED"
    PENDING = "PENDING"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"
    AWAITING_HOST = "AWAITING_HOST"


@attrs.define(kw_only=True)
class WebhookLanguage:
    locale: str | Unset = UNSET


@attrs.define(kw_only=True)
class WebhookPerson:
    """An organizer, attendee, team member or meeting user in a payload."""

    name: str | None
    email: str
    time_zone: str | Unset = attrs.field(default=UNSET, metadata={"json": "timeZone"})
    language: WebhookLanguage | Unset = UNSET
    username: str | None | Unset = UNSET
    id: int | None | Unset = UNSET
    locale: str | None | Unset = UNSET
    utc_offset: int | None | Unset = attrs.field(default=UNSET, metadata={"json": "utcOffset"})
    phone_number: str | None | Unset = attrs.field(default=UNSET, metadata={"json": "phoneNumber"})
    first_name: str | None | Unset = attrs.field(default=UNSET, metadata={"json": "firstName"})
    last_name: str | None | Unset = attrs.field(default=UNSET, metadata={"json": "lastName"})
    no_show: bool | None | Unset = attrs.field(default=UNSET, metadata={"json": "noShow"})


@attrs.define(kw_only=True)
class BookingResponse:
    """One answer of the booking form: ``responses["email"].value``."""

    value: Any = UNSET
    label: str | None | Unset = UNSET
    is_hidden: bool | None | Unset = attrs.field(default=UNSET, metadata={"json": "isHidden"})


@attrs.define(kw_only=True)
class VideoCallData:
    type: str | None | Unset = UNSET
    id: str | None | Unset = UNSET
    password: str | None | Unset = UNSET
    url: str | None | Unset = UNSET


@attrs.define(kw_only=True)
class BookingTeam:
    id: int | None | Unset = UNSET
    name: str | None | Unset = UNSET
    members: list[WebhookPerson] | Unset = UNSET


@attrs.define(kw_only=True)
class BookingPayload:
    """``BOOKING_CREATED``, ``_RESCHEDULED``, ``_CANCELLED``, ``_REQUESTED``, ``_REJECTED``,
    ``_PAYMENT_INITIATED`` and ``_PAID``: the booking as Cal.com's ``CalendarEvent``.

    ``type`` is the event type's slug; ``responses`` every booking-form answer by field name;
    the reschedule, cancellation, rejection and payment fields are set by the matching triggers.
    """

    title: str
    start_time: datetime = attrs.field(metadata={"json": "startTime"})
    end_time: datetime = attrs.field(metadata={"json": "endTime"})
    organizer: WebhookPerson
    attendees: list[WebhookPerson]
    type: str | Unset = UNSET
    uid: str | None | Unset = UNSET
    booking_id: int | None | Unset = attrs.field(default=UNSET, metadata={"json": "bookingId"})
    status: WebhookBookingStatus | Unset = UNSET
    description: str | None | Unset = UNSET
    additional_notes: str | None | Unset = attrs.field(
        default=UNSET, metadata={"json": "additionalNotes"}
    )
    location: str | None | Unset = UNSET
    event_type_id: int | None | Unset = attrs.field(default=UNSET, metadata={"json": "eventTypeId"})
    event_title: str | None | Unset = attrs.field(default=UNSET, metadata={"json": "eventTitle"})
    event_description: str | None | Unset = attrs.field(
        default=UNSET, metadata={"json": "eventDescription"}
    )
    length: int | None | Unset = UNSET
    price: float | None | Unset = UNSET
    currency: str | None | Unset = UNSET
    requires_confirmation: bool | None | Unset = attrs.field(
        default=UNSET, metadata={"json": "requiresConfirmation"}
    )
    team: BookingTeam | None | Unset = UNSET
    metadata: dict[str, Any] | None | Unset = UNSET
    responses: dict[str, BookingResponse] | None | Unset = UNSET
    user_fields_responses: dict[str, BookingResponse] | None | Unset = attrs.field(
        default=UNSET, metadata={"json": "userFieldsResponses"}
    )
    custom_inputs: dict[str, Any] | None | Unset = attrs.field(
        default=UNSET, metadata={"json": "customInputs"}
    )
    video_call_data: VideoCallData | None | Unset = attrs.field(
        default=UNSET, metadata={"json": "videoCallData"}
    )
    additional_information: dict[str, Any] | None | Unset = attrs.field(
        default=UNSET, metadata={"json": "additionalInformation"}
    )
    destination_calendar: list[dict[str, Any]] | None | Unset = attrs.field(
        default=UNSET, metadata={"json": "destinationCalendar"}
    )
    recurring_event: dict[str, Any] | None | Unset = attrs.field(
        default=UNSET, metadata={"json": "recurringEvent"}
    )
    i_cal_uid: str | None | Unset = attrs.field(default=UNSET, metadata={"json": "iCalUID"})
    hashed_link: str | None | Unset = attrs.field(default=UNSET, metadata={"json": "hashedLink"})
    sms_reminder_number: str | None | Unset = attrs.field(
        default=UNSET, metadata={"json": "smsReminderNumber"}
    )
    # BOOKING_RESCHEDULED
    reschedule_id: int | None | Unset = attrs.field(
        default=UNSET, metadata={"json": "rescheduleId"}
    )
    reschedule_uid: str | None | Unset = attrs.field(
        default=UNSET, metadata={"json": "rescheduleUid"}
    )
    reschedule_start_time: datetime | None | Unset = attrs.field(
        default=UNSET, metadata={"json": "rescheduleStartTime"}
    )
    reschedule_end_time: datetime | None | Unset = attrs.field(
        default=UNSET, metadata={"json": "rescheduleEndTime"}
    )
    rescheduled_by: str | None | Unset = attrs.field(
        default=UNSET, metadata={"json": "rescheduledBy"}
    )
    # BOOKING_CANCELLED / BOOKING_REJECTED
    cancellation_reason: str | None | Unset = attrs.field(
        default=UNSET, metadata={"json": "cancellationReason"}
    )
    cancelled_by: str | None | Unset = attrs.field(default=UNSET, metadata={"json": "cancelledBy"})
    request_reschedule: bool | None | Unset = attrs.field(
        default=UNSET, metadata={"json": "requestReschedule"}
    )
    rejection_reason: str | None | Unset = attrs.field(
        default=UNSET, metadata={"json": "rejectionReason"}
    )
    # BOOKING_PAYMENT_INITIATED / BOOKING_PAID
    payment_id: int | None | Unset = attrs.field(default=UNSET, metadata={"json": "paymentId"})
    payment_data: dict[str, Any] | None | Unset = attrs.field(
        default=UNSET, metadata={"json": "paymentData"}
    )

    def response(self, name: str) -> Any:
        """The value of one booking-form answer (``"name"``, ``"email"``, ``"notes"``…), or None."""
        if not isinstance(self.responses, dict):
            return None
        answer = self.responses.get(name)
        return None if answer is None or isinstance(answer.value, Unset) else answer.value
