"""The errors of a webhook delivery that cannot be accepted."""

from __future__ import annotations

from typing import Literal

from .._errors import CalComError

__all__ = ["WebhookError", "WebhookPayloadError", "WebhookSignatureError"]


class WebhookError(CalComError):
    """A webhook delivery that cannot be accepted."""


class WebhookSignatureError(WebhookError):
    """The signature is missing, malformed or does not match the body for any secret.

    ``reason`` is ``"missing"``, ``"malformed"`` or ``"mismatch"``. Neither the secret nor the
    received header value is part of the message.
    """

    def __init__(self, message: str, *, reason: Literal["missing", "malformed", "mismatch"]):
        super().__init__(message)
        self.reason = reason


class WebhookPayloadError(WebhookError, ValueError):
    """A (verified) body that cannot be read at all: not UTF-8, or empty."""
