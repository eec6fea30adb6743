"""The typed payloads of the triggers other than bookings, and which class each trigger's
payload is structured into (:data:`PAYLOAD_TYPES`). Conventions: see ``booking_payload``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from .._types import UNSET, Unset
from .booking_payload import BookingPayload, WebhookBookingStatus, WebhookPerson

__all__ = [
    "CalVideoNoShowPayload",
    "DelegationCredential",
    "DelegationCredentialError",
    "DelegationCredentialErrorPayload",
    "DelegationUser",
    "FormSubmittedPayload",
    "InstantMeetingPayload",
    "MeetingPayload",
    "NoShowAttendee",
    "NoShowUpdatedPayload",
    "OutOfOfficeEntry",
    "OutOfOfficePayload",
    "OutOfOfficeReason",
    "OutOfOfficeUser",
    "PAYLOAD_TYPES",
    "RecordingReadyPayload",
    "TranscriptLink",
    "TranscriptionDownloadLinks",
    "TranscriptionPayload",
    "TypedPayload",
    "WrongAssignmentBooking",
    "WrongAssignmentReport",
    "WrongAssignmentReportPayload",
]


@attrs.define(kw_only=True)
class NoShowAttendee:
    email: str
    no_show: bool | None | Unset = attrs.field(default=UNSET, metadata={"json": "noShow"})


@attrs.define(kw_only=True)
class NoShowUpdatedPayload:
    """``BOOKING_NO_SHOW_UPDATED``: who was marked (or unmarked) as a no-show."""

    booking_uid: str = attrs.field(metadata={"json": "bookingUid"})
    message: str | None | Unset = UNSET
    booking_id: int | None | Unset = attrs.field(default=UNSET, metadata={"json": "bookingId"})
    attendees: list[NoShowAttendee] | Unset = UNSET


@attrs.define(kw_only=True)
class MeetingPayload:
    """``MEETING_STARTED`` / ``MEETING_ENDED``: the stored booking (``id`` is the booking id,
    ``user`` the organizer, ``responses`` the raw form answers)."""

    id: int
    uid: str
    title: str | None | Unset = UNSET
    description: str | None | Unset = UNSET
    start_time: datetime | Unset = attrs.field(default=UNSET, metadata={"json": "startTime"})
    end_time: datetime | Unset = attrs.field(default=UNSET, metadata={"json": "endTime"})
    status: WebhookBookingStatus | Unset = UNSET
    location: str | None | Unset = UNSET
    user_id: int | None | Unset = attrs.field(default=UNSET, metadata={"json": "userId"})
    user_primary_email: str | None | Unset = attrs.field(
        default=UNSET, metadata={"json": "userPrimaryEmail"}
    )
    user: WebhookPerson | None | Unset = UNSET
    attendees: list[WebhookPerson] | Unset = UNSET
    event_type_id: int | None | Unset = attrs.field(default=UNSET, metadata={"json": "eventTypeId"})
    metadata: dict[str, Any] | None | Unset = UNSET
    responses: dict[str, Any] | None | Unset = UNSET
    custom_inputs: dict[str, Any] | None | Unset = attrs.field(
        default=UNSET, metadata={"json": "customInputs"}
    )
    paid: bool | None | Unset = UNSET
    created_at: datetime | None | Unset = attrs.field(default=UNSET, metadata={"json": "createdAt"})
    updated_at: datetime | None | Unset = attrs.field(default=UNSET, metadata={"json": "updatedAt"})


@attrs.define(kw_only=True)
class RecordingReadyPayload:
    """``RECORDING_READY``: a (time-limited) link to the Cal Video recording."""

    download_link: str = attrs.field(metadata={"json": "downloadLink"})


@attrs.define(kw_only=True)
class TranscriptLink:
    format: str | Unset = UNSET
    link: str | Unset = UNSET


@attrs.define(kw_only=True)
class TranscriptionDownloadLinks:
    transcription: list[TranscriptLink] | Unset = UNSET
    recording: str | None | Unset = UNSET


@attrs.define(kw_only=True)
class TranscriptionPayload:
    """``RECORDING_TRANSCRIPTION_GENERATED``: links to the transcript(s) and the recording."""

    download_links: TranscriptionDownloadLinks | Unset = attrs.field(
        default=UNSET, metadata={"json": "downloadLinks"}
    )


@attrs.define(kw_only=True)
class FormSubmittedPayload:
    """``FORM_SUBMITTED`` / ``FORM_SUBMITTED_NO_EVENT``: a routing-form submission.

    ``responses`` maps field ids to ``{"value": …, "response": …}`` objects; Cal.com also copies
    each value to the top level of the payload (kept in ``WebhookEvent.raw_payload``).
    """

    form_id: str = attrs.field(metadata={"json": "formId"})
    form_name: str | None | Unset = attrs.field(default=UNSET, metadata={"json": "formName"})
    team_id: int | None | Unset = attrs.field(default=UNSET, metadata={"json": "teamId"})
    responses: dict[str, Any] | Unset = UNSET


@attrs.define(kw_only=True)
class OutOfOfficeReason:
    emoji: str | None | Unset = UNSET
    reason: str | None | Unset = UNSET


@attrs.define(kw_only=True)
class OutOfOfficeUser:
    id: int
    name: str | None | Unset = UNSET
    username: str | None | Unset = UNSET
    time_zone: str | None | Unset = attrs.field(default=UNSET, metadata={"json": "timeZone"})
    email: str | None | Unset = UNSET


@attrs.define(kw_only=True)
class OutOfOfficeEntry:
    id: int
    start: datetime
    end: datetime
    uuid: str | Unset = UNSET
    created_at: datetime | Unset = attrs.field(default=UNSET, metadata={"json": "createdAt"})
    updated_at: datetime | Unset = attrs.field(default=UNSET, metadata={"json": "updatedAt"})
    notes: str | None | Unset = UNSET
    reason: OutOfOfficeReason | None | Unset = UNSET
    reason_id: int | None | Unset = attrs.field(default=UNSET, metadata={"json": "reasonId"})
    user: OutOfOfficeUser | Unset = UNSET
    to_user: OutOfOfficeUser | None | Unset = attrs.field(
        default=UNSET, metadata={"json": "toUser"}
    )


@attrs.define(kw_only=True)
class OutOfOfficePayload:
    """``OOO_CREATED``: the out-of-office entry (``to_user``: whom bookings are redirected to)."""

    ooo_entry: OutOfOfficeEntry = attrs.field(metadata={"json": "oooEntry"})


@attrs.define(kw_only=True)
class InstantMeetingPayload:
    """``INSTANT_MEETING``: a notification-style payload (title, body, link to join)."""

    title: str | None | Unset = UNSET
    body: str | None | Unset = UNSET
    icon: str | None | Unset = UNSET
    url: str | None | Unset = UNSET
    actions: list[dict[str, Any]] | None | Unset = UNSET
    require_interaction: bool | None | Unset = attrs.field(
        default=UNSET, metadata={"json": "requireInteraction"}
    )
    type: str | None | Unset = UNSET


@attrs.define(kw_only=True)
class CalVideoNoShowPayload:
    """``AFTER_HOSTS_CAL_VIDEO_NO_SHOW`` / ``AFTER_GUESTS_CAL_VIDEO_NO_SHOW``.

    ``participants`` are Cal Video (Daily) session participants, kept as dicts; ``webhook`` and
    ``event_type`` are kept as dicts too (Cal.com sends its own rows there, secret removed).
    """

    booking_id: int = attrs.field(metadata={"json": "bookingId"})
    booking_uid: str | None | Unset = attrs.field(default=UNSET, metadata={"json": "bookingUid"})
    title: str | None | Unset = UNSET
    start_time: datetime | None | Unset = attrs.field(default=UNSET, metadata={"json": "startTime"})
    end_time: datetime | None | Unset = attrs.field(default=UNSET, metadata={"json": "endTime"})
    message: str | None | Unset = UNSET
    host_email: str | None | Unset = attrs.field(default=UNSET, metadata={"json": "hostEmail"})
    rescheduled_by: str | None | Unset = attrs.field(
        default=UNSET, metadata={"json": "rescheduledBy"}
    )
    attendees: list[WebhookPerson] | Unset = UNSET
    participants: list[dict[str, Any]] | Unset = UNSET
    event_type: dict[str, Any] | None | Unset = attrs.field(
        default=UNSET, metadata={"json": "eventType"}
    )
    webhook: dict[str, Any] | None | Unset = UNSET


@attrs.define(kw_only=True)
class DelegationCredentialError:
    type: str | Unset = UNSET
    message: str | Unset = UNSET


@attrs.define(kw_only=True)
class DelegationCredential:
    id: int | Unset = UNSET
    type: str | Unset = UNSET
    app_id: str | Unset = attrs.field(default=UNSET, metadata={"json": "appId"})


@attrs.define(kw_only=True)
class DelegationUser:
    id: int | Unset = UNSET
    email: str | Unset = UNSET
    name: str | None | Unset = UNSET


@attrs.define(kw_only=True)
class DelegationCredentialErrorPayload:
    """``DELEGATION_CREDENTIAL_ERROR``: a delegation credential (an organization's Google or
    Microsoft service account) failed for a user: the error, the credential and the user."""

    error: DelegationCredentialError | Unset = UNSET
    credential: DelegationCredential | Unset = UNSET
    user: DelegationUser | Unset = UNSET


@attrs.define(kw_only=True)
class WrongAssignmentBooking:
    id: int | Unset = UNSET
    uid: str | Unset = UNSET
    title: str | None | Unset = UNSET


@attrs.define(kw_only=True)
class WrongAssignmentReport:
    reported_by: DelegationUser | Unset = attrs.field(
        default=UNSET, metadata={"json": "reportedBy"}
    )
    correct_assignee: str | None | Unset = attrs.field(
        default=UNSET, metadata={"json": "correctAssignee"}
    )
    additional_notes: str | None | Unset = attrs.field(
        default=UNSET, metadata={"json": "additionalNotes"}
    )


@attrs.define(kw_only=True)
class WrongAssignmentReportPayload:
    """``WRONG_ASSIGNMENT_REPORT``: a host reported a routed booking as assigned to the wrong
    person: the booking and the report (who reported it, the correct assignee, notes)."""

    booking: WrongAssignmentBooking | Unset = UNSET
    report: WrongAssignmentReport | Unset = UNSET


TypedPayload = (
    BookingPayload
    | NoShowUpdatedPayload
    | MeetingPayload
    | RecordingReadyPayload
    | TranscriptionPayload
    | FormSubmittedPayload
    | OutOfOfficePayload
    | InstantMeetingPayload
    | CalVideoNoShowPayload
    | DelegationCredentialErrorPayload
    | WrongAssignmentReportPayload
)

#: Which class a known trigger's payload is structured into, by the trigger's value (so that a
#: package generated from an older release, whose enum lacks some, imports all the same). A trigger
#: missing here (a value newer than the pinned document) keeps its payload as the decoded JSON.
PAYLOAD_TYPES: dict[str, type[Any]] = {
    "BOOKING_CREATED": BookingPayload,
    "BOOKING_RESCHEDULED": BookingPayload,
    "BOOKING_CANCELLED": BookingPayload,
    "BOOKING_REQUESTED": BookingPayload,
    "BOOKING_REJECTED": BookingPayload,
    "BOOKING_PAYMENT_INITIATED": BookingPayload,
    "BOOKING_PAID": BookingPayload,
    "BOOKING_NO_SHOW_UPDATED": NoShowUpdatedPayload,
    "MEETING_STARTED": MeetingPayload,
    "MEETING_ENDED": MeetingPayload,
    "RECORDING_READY": RecordingReadyPayload,
    "RECORDING_TRANSCRIPTION_GENERATED": TranscriptionPayload,
    "FORM_SUBMITTED": FormSubmittedPayload,
    "FORM_SUBMITTED_NO_EVENT": FormSubmittedPayload,
    "OOO_CREATED": OutOfOfficePayload,
    "INSTANT_MEETING": InstantMeetingPayload,
    "AFTER_HOSTS_CAL_VIDEO_NO_SHOW": CalVideoNoShowPayload,
    "AFTER_GUESTS_CAL_VIDEO_NO_SHOW": CalVideoNoShowPayload,
    "DELEGATION_CREDENTIAL_ERROR": DelegationCredentialErrorPayload,
    "WRONG_ASSIGNMENT_REPORT": WrongAssignmentReportPayload,
}
