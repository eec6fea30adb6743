"""A delivery parsed from its raw body: :class:`WebhookEvent` with a typed payload."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import attrs
import orjson

from .._generated.models.webhook_trigger_event import WebhookTriggerEvent
from .._serde import structure
from .booking_payload import BookingPayload
from .errors import WebhookPayloadError
from .payloads import PAYLOAD_TYPES, TypedPayload
from .signature import _raw_bytes, verify_signature

__all__ = ["JSONValue", "WebhookEvent", "construct_event", "parse_event"]

logger = logging.getLogger("calcom_async.webhooks")


JSONValue = dict[str, Any] | list[Any] | str | int | float | bool | None


@attrs.frozen(kw_only=True)
class WebhookEvent:
    """One delivery, parsed from its raw body (verified when it came through
    :func:`construct_event` or :class:`Router`).

    - ``trigger_event``: a :class:`WebhookTriggerEvent` (an unknown trigger is kept as a pseudo
      member whose ``is_known`` is False); ``None`` only for a templated body without one.
    - ``created_at``: when Cal.com built the delivery (aware ``datetime``); ``None`` only for a
      templated body without a readable ``createdAt``.
    - ``payload``: the typed payload (:data:`PAYLOAD_TYPES`), else the decoded JSON — or, for a
      templated body, the whole decoded body (the text if it is not JSON).
    - ``raw_payload``: the decoded JSON ``payload`` (or the whole templated body), always raw.
    - ``templated``: True when the body is not Cal.com's ``{"triggerEvent", "createdAt",
      "payload"}`` envelope (a custom ``payloadTemplate``).
    - ``delivery_id``: the sha256 hex of the raw body; the same delivery sent again has the same id.
    - ``body``: the raw bytes.
    """

    trigger_event: WebhookTriggerEvent | None
    created_at: datetime | None
    payload: TypedPayload | JSONValue
    raw_payload: JSONValue
    templated: bool = False
    delivery_id: str
    body: bytes = attrs.field(repr=False)

    @property
    def booking(self) -> BookingPayload | None:
        """The payload when it is a booking (``BOOKING_*`` triggers), else None."""
        return self.payload if isinstance(self.payload, BookingPayload) else None


def _delivery_id(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _parse_created_at(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed: datetime = structure(value, datetime)
    except ValueError:
        return None
    return parsed


def _templated(body: bytes, data: JSONValue) -> WebhookEvent:
    trigger: WebhookTriggerEvent | None = None
    created: datetime | None = None
    if isinstance(data, dict):
        value = data.get("triggerEvent")
        if isinstance(value, str) and value:
            trigger = WebhookTriggerEvent(value)
        created = _parse_created_at(data.get("createdAt"))
    return WebhookEvent(
        trigger_event=trigger,
        created_at=created,
        payload=data,
        raw_payload=data,
        templated=True,
        delivery_id=_delivery_id(body),
        body=body,
    )


def parse_event(raw_body: bytes) -> WebhookEvent:
    """Parse a delivery's raw body into a :class:`WebhookEvent`. Does **not** verify it: use
    :func:`construct_event` (or :func:`verify_signature` first) on anything from the network.

    Raises :class:`WebhookPayloadError` for an empty body or one that is not UTF-8. A body that is
    not Cal.com's envelope (a custom ``payloadTemplate``, JSON or not) comes back raw with
    ``templated=True``; a payload that does not fit its typed class comes back as decoded JSON.
    """
    body = _raw_bytes(raw_body, "parse_event()")
    if not body.strip():
        raise WebhookPayloadError("the webhook body is empty")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WebhookPayloadError(
            f"the webhook body is not UTF-8 (byte 0x{body[exc.start]:02x} at offset {exc.start})"
        ) from None
    try:
        data: JSONValue = orjson.loads(body)
    except orjson.JSONDecodeError:
        try:  # what orjson refuses but JSON allows: integers past 64 bits
            data = json.loads(text)
        except ValueError:
            return _templated(body, text)  # e.g. a form-encoded template
    if not (
        isinstance(data, dict)
        and isinstance(data.get("triggerEvent"), str)
        and data["triggerEvent"]
        and "payload" in data
    ):
        return _templated(body, data)
    created_at = _parse_created_at(data.get("createdAt"))
    if created_at is None:
        return _templated(body, data)
    trigger = WebhookTriggerEvent(data["triggerEvent"])
    raw_payload: JSONValue = data["payload"]
    payload: TypedPayload | JSONValue = raw_payload
    model = PAYLOAD_TYPES.get(trigger)
    if model is not None and isinstance(raw_payload, dict):
        try:
            payload = structure(raw_payload, model)
        except Exception as exc:  # shape drift must not lose the delivery
            logger.warning(
                "webhook %s delivery %s: payload does not fit %s (%s); kept as raw JSON",
                trigger,
                _delivery_id(body),
                model.__name__,
                exc,
            )
    return WebhookEvent(
        trigger_event=trigger,
        created_at=created_at,
        payload=payload,
        raw_payload=raw_payload,
        delivery_id=_delivery_id(body),
        body=body,
    )


def construct_event(
    raw_body: bytes, signature_header: str | None, secret: str | Sequence[str]
) -> WebhookEvent:
    """Verify the signature, then parse: the one call for a receiver of your own."""
    verify_signature(raw_body, signature_header, secret)
    return parse_event(raw_body)
