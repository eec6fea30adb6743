"""Receive Cal.com webhooks: verify the signature, parse a typed event, dispatch it.

::

    from calcom_async import webhooks

    router = webhooks.Router(secret=os.environ["CAL_WEBHOOK_SECRET"])

    @router.on("BOOKING_CREATED")
    async def booked(event: webhooks.WebhookEvent) -> None:
        booking = event.booking              # a BookingPayload (None for a templated body)
        ...

    web.run_app(router.app())                # or router.mount(your_app, "/webhooks/cal")

Cal.com signs a delivery with ``X-Cal-Signature-256``: the lower-case hex HMAC-SHA256 of the
**raw body**, keyed with the webhook's secret (some proxies add a ``sha256=`` prefix). There is no
timestamp in the signature, so a captured delivery can be replayed; :class:`Router` can remember
recent deliveries (``replay_window``) and acknowledge a repeat without dispatching it again.

Without a server of your own, :func:`construct_event` (verify, then parse) and
:func:`verify_signature` / :func:`parse_event` work on the raw bytes of any framework's request.

Typed payloads (see :data:`PAYLOAD_TYPES`): every trigger of the pinned document, from Cal.com's
own payload builders. A trigger newer than the document keeps its payload as decoded JSON; so
does a body rendered from a custom ``payloadTemplate`` (``event.templated``), and a payload whose
shape no longer fits its class (logged as a warning, never an error). ``import`` of this module
does not import aiohttp; the server parts load it on first use.

The rooms: ``errors``, ``signature`` (:func:`sign`, :func:`verify_signature`), ``events``
(:class:`WebhookEvent`, :func:`parse_event`, :func:`construct_event`), ``booking_payload`` and
``payloads`` (the typed payloads, :data:`PAYLOAD_TYPES`), ``router`` (:class:`Router`).
"""

from .._generated.models.webhook_trigger_event import WebhookTriggerEvent
from .booking_payload import (
    BookingPayload,
    BookingResponse,
    BookingTeam,
    VideoCallData,
    WebhookBookingStatus,
    WebhookLanguage,
    WebhookPerson,
)
from .errors import WebhookError, WebhookPayloadError, WebhookSignatureError
from .events import WebhookEvent, construct_event, parse_event
from .payloads import (
    PAYLOAD_TYPES,
    CalVideoNoShowPayload,
    FormSubmittedPayload,
    InstantMeetingPayload,
    MeetingPayload,
    NoShowAttendee,
    NoShowUpdatedPayload,
    OutOfOfficeEntry,
    OutOfOfficePayload,
    OutOfOfficeReason,
    OutOfOfficeUser,
    RecordingReadyPayload,
    TranscriptionDownloadLinks,
    TranscriptionPayload,
    TranscriptLink,
    TypedPayload,
)
from .router import DEFAULT_MAX_BODY_SIZE, Handler, Router
from .signature import SIGNATURE_HEADER, sign, verify_signature

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "PAYLOAD_TYPES",
    "SIGNATURE_HEADER",
    "BookingPayload",
    "BookingResponse",
    "BookingTeam",
    "CalVideoNoShowPayload",
    "FormSubmittedPayload",
    "Handler",
    "InstantMeetingPayload",
    "MeetingPayload",
    "NoShowAttendee",
    "NoShowUpdatedPayload",
    "OutOfOfficeEntry",
    "OutOfOfficePayload",
    "OutOfOfficeReason",
    "OutOfOfficeUser",
    "RecordingReadyPayload",
    "Router",
    "TranscriptLink",
    "TranscriptionDownloadLinks",
    "TranscriptionPayload",
    "TypedPayload",
    "VideoCallData",
    "WebhookBookingStatus",
    "WebhookError",
    "WebhookEvent",
    "WebhookLanguage",
    "WebhookPayloadError",
    "WebhookPerson",
    "WebhookSignatureError",
    "WebhookTriggerEvent",
    "construct_event",
    "parse_event",
    "sign",
    "verify_signature",
]
