"""Webhook bodies shaped like Cal.com's (payload builders of webhook version 2021-10-20)."""

from __future__ import annotations

import copy
from typing import Any

import orjson

from calcom_async.webhooks import WebhookTriggerEvent

T = WebhookTriggerEvent
CREATED_AT = "2026-03-02T09:15:30.538Z"

ORGANIZER = {
    "id": 5,
    "name": "Olga Organizer",
    "email": "olga@example.com",
    "username": "olga",
    "timeZone": "Europe/Berlin",
    "language": {"locale": "en"},
    "timeFormat": "h:mma",
    "utcOffset": 60,
}
ATTENDEE = {
    "name": "Ann Attendee",
    "email": "ann@example.org",
    "firstName": "Ann",
    "lastName": "Attendee",
    "timeZone": "America/New_York",
    "phoneNumber": None,
    "language": {"locale": "en"},
    "utcOffset": -300,
}

BOOKING: dict[str, Any] = {
    "type": "30min",
    "title": "30 Min Meeting between Olga Organizer and Ann Attendee",
    "description": "Let's talk about the roadmap",
    "additionalNotes": "Let's talk about the roadmap",
    "customInputs": {},
    "startTime": "2026-03-10T14:00:00.000Z",
    "endTime": "2026-03-10T14:30:00.000Z",
    "organizer": ORGANIZER,
    "responses": {
        "name": {"label": "your_name", "value": "Ann Attendee"},
        "email": {"label": "email_address", "value": "ann@example.org"},
        "notes": {"label": "additional_notes", "value": "Let's talk about the roadmap"},
        "guests": {"label": "additional_guests", "value": [], "isHidden": False},
    },
    "userFieldsResponses": {},
    "attendees": [ATTENDEE],
    "location": "integrations:daily",
    "destinationCalendar": None,
    "hideCalendarNotes": False,
    "requiresConfirmation": None,
    "eventTypeId": 7,
    "seatsShowAttendees": True,
    "seatsPerTimeSlot": None,
    "seatsShowAvailabilityCount": True,
    "schedulingType": None,
    "iCalUID": "aXzGKUXZ5@Cal.com",
    "iCalSequence": 0,
    "uid": "aXzGKUXZ5Jcp9RrL7dpyNV",
    "conferenceData": {"createRequest": {"requestId": "d6e1d6a3"}},
    "videoCallData": {
        "type": "daily_video",
        "id": "room-aXzGKUXZ5",
        "password": "",
        "url": "https://app.cal.com/video/aXzGKUXZ5Jcp9RrL7dpyNV",
    },
    "appsStatus": [{"appName": "Cal Video", "type": "daily_video", "success": 1, "failures": 0}],
    "eventTitle": "30 Min Meeting",
    "eventDescription": None,
    "price": 0,
    "currency": "usd",
    "length": 30,
    "bookingId": 91,
    "metadata": {"videoCallUrl": "https://app.cal.com/video/aXzGKUXZ5Jcp9RrL7dpyNV"},
    "status": "ACCEPTED",
    "hashedLink": None,
    "assignmentReason": None,
}

EXTRAS: dict[WebhookTriggerEvent, dict[str, Any]] = {
    T.BOOKING_CREATED: {},
    T.BOOKING_REQUESTED: {"status": "PENDING", "requiresConfirmation": True},
    T.BOOKING_RESCHEDULED: {
        "rescheduleId": 90,
        "rescheduleUid": "oldUid123",
        "rescheduleStartTime": "2026-03-09T14:00:00.000Z",
        "rescheduleEndTime": "2026-03-09T14:30:00.000Z",
        "rescheduledBy": "ann@example.org",
    },
    T.BOOKING_CANCELLED: {
        "status": "CANCELLED",
        "cancellationReason": "Something came up",
        "cancelledBy": "olga@example.com",
        "requestReschedule": False,
    },
    T.BOOKING_REJECTED: {"status": "REJECTED", "rejectionReason": "Fully booked that week"},
    T.BOOKING_PAYMENT_INITIATED: {
        "paymentId": 12,
        "paymentData": {"amount": 5000, "currency": "usd", "success": False},
        "price": 50,
    },
    T.BOOKING_PAID: {
        "paymentId": 12,
        "paymentData": {"amount": 5000, "currency": "usd", "success": True},
        "price": 50.5,
    },
}

OTHERS: dict[WebhookTriggerEvent, dict[str, Any]] = {
    T.BOOKING_NO_SHOW_UPDATED: {
        "message": "ann@example.org marked as no-show",
        "bookingUid": "aXzGKUXZ5Jcp9RrL7dpyNV",
        "bookingId": 91,
        "attendees": [{"email": "ann@example.org", "noShow": True}],
    },
    T.MEETING_STARTED: {
        "id": 91,
        "uid": "aXzGKUXZ5Jcp9RrL7dpyNV",
        "title": "30 Min Meeting",
        "description": "",
        "startTime": "2026-03-10T14:00:00.000Z",
        "endTime": "2026-03-10T14:30:00.000Z",
        "status": "ACCEPTED",
        "location": "integrations:daily",
        "customInputs": {},
        "responses": {"name": "Ann Attendee", "email": "ann@example.org"},
        "userId": 5,
        "userPrimaryEmail": "olga@example.com",
        "eventTypeId": 7,
        "metadata": {},
        "paid": False,
        "createdAt": "2026-03-02T09:15:29.000Z",
        "updatedAt": "2026-03-02T09:15:29.000Z",
        "user": {
            "email": "olga@example.com",
            "name": "Olga Organizer",
            "username": "olga",
            "timeZone": "Europe/Berlin",
            "locale": "en",
        },
        "attendees": [
            {
                "id": 1,
                "name": "Ann Attendee",
                "email": "ann@example.org",
                "timeZone": "America/New_York",
                "locale": "en",
                "phoneNumber": None,
                "bookingId": 91,
                "noShow": False,
            }
        ],
        "payment": [],
        "references": [],
    },
    T.RECORDING_READY: {"downloadLink": "https://download.example/rec/91.mp4?token=t"},
    T.RECORDING_TRANSCRIPTION_GENERATED: {
        "downloadLinks": {
            "transcription": [{"format": "json", "link": "https://download.example/t/91.json"}],
            "recording": "https://download.example/rec/91.mp4",
        }
    },
    T.FORM_SUBMITTED: {
        "formId": "f1b5c8e0-4c4e-4f7e-9f1e-2a0b1c2d3e4f",
        "formName": "Sales routing",
        "teamId": None,
        "responses": {
            "b0f8": {"value": "ann@example.org", "response": "ann@example.org"},
            "c1a2": {"value": "Enterprise", "response": "Enterprise"},
        },
        "b0f8": "ann@example.org",
        "c1a2": "Enterprise",
    },
    T.OOO_CREATED: {
        "oooEntry": {
            "id": 3,
            "start": "2026-04-01T00:00:00.000Z",
            "end": "2026-04-05T23:59:59.999Z",
            "createdAt": "2026-03-02T09:15:29.000Z",
            "updatedAt": "2026-03-02T09:15:29.000Z",
            "notes": "Vacation",
            "reason": {"emoji": "🏝️", "reason": "vacation"},
            "reasonId": 1,
            "user": {
                "id": 5,
                "name": "Olga Organizer",
                "username": "olga",
                "timeZone": "Europe/Berlin",
                "email": "olga@example.com",
            },
            "toUser": None,
            "uuid": "5b9a3b76-8f77-4f25-9c1d-57b5d4a7a5c1",
        }
    },
    T.INSTANT_MEETING: {
        "title": "Instant meeting",
        "body": "Ann Attendee wants to meet now",
        "icon": "https://app.cal.com/cal-com-icon.svg",
        "url": "https://app.cal.com/video/instant123",
        "actions": [{"action": "connect-action", "title": "Join", "type": "button"}],
        "requireInteraction": True,
        "type": "INSTANT_MEETING",
    },
    T.AFTER_HOSTS_CAL_VIDEO_NO_SHOW: {
        "title": "30 Min Meeting",
        "bookingId": 91,
        "bookingUid": "aXzGKUXZ5Jcp9RrL7dpyNV",
        "startTime": "2026-03-10T14:00:00.000Z",
        "endTime": "2026-03-10T14:30:00.000Z",
        "attendees": [{"name": "Ann Attendee", "email": "ann@example.org", "noShow": False}],
        "participants": [{"user_id": None, "participant_id": "p1", "duration": 600}],
        "hostEmail": "olga@example.com",
        "eventType": {"id": 7, "teamId": None},
        "webhook": {"id": "wh1", "subscriberUrl": "https://hooks.example/cal", "time": 5},
        "message": "Host with email olga@example.com didn't join the call",
    },
    T.FORM_SUBMITTED_NO_EVENT: {
        "formId": "f1b5c8e0-4c4e-4f7e-9f1e-2a0b1c2d3e4f",
        "formName": "Sales routing",
        "teamId": 4,
        "responses": {"c1a2": {"value": "Hobby", "response": "Hobby"}},
        "c1a2": "Hobby",
    },
    # the fields of Cal.com's DelegationCredentialErrorWebhookService / WRONG_ASSIGNMENT_REPORT
    # producers (packages/features/webhooks), values ours
    T.DELEGATION_CREDENTIAL_ERROR: {
        "error": {"type": "CalendarAppDelegationCredentialError", "message": "invalid_grant"},
        "credential": {"id": 17, "type": "google_calendar", "appId": "google-calendar"},
        "user": {"id": 5, "email": "olga@example.com", "name": "Olga Organizer"},
    },
    T.WRONG_ASSIGNMENT_REPORT: {
        "booking": {"uid": "aXzGKUXZ5Jcp9RrL7dpyNV", "id": 91, "title": "Sales call"},
        "report": {
            "reportedBy": {"id": 5, "email": "olga@example.com", "name": "Olga Organizer"},
            "correctAssignee": "sam@example.com",
            "additionalNotes": "Sam covers this region",
        },
    },
}
OTHERS[T.MEETING_ENDED] = OTHERS[T.MEETING_STARTED]
OTHERS[T.AFTER_GUESTS_CAL_VIDEO_NO_SHOW] = {
    **OTHERS[T.AFTER_HOSTS_CAL_VIDEO_NO_SHOW],
    "message": "Guest didn't join the call",
}
OTHERS[T.AFTER_GUESTS_CAL_VIDEO_NO_SHOW].pop("hostEmail")


def payload_for(trigger: WebhookTriggerEvent) -> dict[str, Any]:
    """A realistic payload for a trigger of the document (KeyError for one without a sample)."""
    if trigger in EXTRAS:
        return {**copy.deepcopy(BOOKING), **copy.deepcopy(EXTRAS[trigger])}
    return copy.deepcopy(OTHERS[trigger])


def body_for(trigger: str, payload: Any = None, created_at: str = CREATED_AT) -> bytes:
    """The body Cal.com sends: ``{"triggerEvent", "createdAt", "payload"}``."""
    if payload is None:
        payload = payload_for(WebhookTriggerEvent(trigger))
    return orjson.dumps({"triggerEvent": trigger, "createdAt": created_at, "payload": payload})
