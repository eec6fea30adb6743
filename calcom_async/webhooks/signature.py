"""``X-Cal-Signature-256``: the HMAC-SHA256 of the raw body, made and checked (constant time)."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from typing import Any

from .._errors import CalComUsageError
from .errors import WebhookSignatureError

__all__ = ["SIGNATURE_HEADER", "sign", "verify_signature"]


#: The request header carrying the signature.
SIGNATURE_HEADER = "X-Cal-Signature-256"

_HEX_SIGNATURE = re.compile(r"[0-9a-fA-F]{64}")

_NO_SECRET = "no-secret-provided"  # what Cal.com sends when the webhook has no secret


def _raw_bytes(raw_body: Any, what: str) -> bytes:
    if isinstance(raw_body, bytes):
        return raw_body
    if isinstance(raw_body, bytearray | memoryview):
        return bytes(raw_body)
    if isinstance(raw_body, str):
        raise CalComUsageError(
            f"{what} needs the raw request bytes (e.g. `await request.read()`), not a str: "
            "a decoded or re-serialised body may not match its signature"
        )
    raise CalComUsageError(f"{what} needs the raw request bytes, got {type(raw_body).__name__}")


def _secret_keys(secret: str | bytes | Sequence[str]) -> tuple[bytes, ...]:
    secrets: Iterable[Any]
    if isinstance(secret, str | bytes):
        secrets = (secret,)
    elif isinstance(secret, Sequence):
        secrets = secret
    else:
        raise CalComUsageError(
            f"the webhook secret must be a string or a list of strings, got {type(secret).__name__}"
        )
    keys = []
    for value in secrets:
        if isinstance(value, str) and value:
            keys.append(value.encode())
        elif isinstance(value, bytes) and value:
            keys.append(value)
        else:
            raise CalComUsageError("a webhook secret must be a non-empty string")
    if not keys:
        raise CalComUsageError("give at least one webhook secret")
    return tuple(keys)


def _digest(key: bytes, body: bytes) -> str:
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def sign(raw_body: bytes, secret: str) -> str:
    """The ``X-Cal-Signature-256`` value Cal.com sends for ``raw_body``: lower-case hex.

    For tests and for senders (e.g. a relay that re-signs what it forwards).
    """
    if not isinstance(secret, str | bytes):
        raise CalComUsageError("sign() takes one secret")
    (key,) = _secret_keys(secret)
    return _digest(key, _raw_bytes(raw_body, "sign()"))


def verify_signature(
    raw_body: bytes,
    signature_header: str | None,
    secret: str | Sequence[str],
) -> None:
    """Check ``X-Cal-Signature-256`` against the raw body; raise :class:`WebhookSignatureError`.

    ``secret`` may be several secrets (during a rotation): the signature must match one of them.
    The header may carry a ``sha256=`` prefix. Comparison is constant-time.
    """
    _verify(_raw_bytes(raw_body, "verify_signature()"), signature_header, _secret_keys(secret))


def _verify(body: bytes, signature_header: str | None, keys: tuple[bytes, ...]) -> None:
    if signature_header is None or not signature_header.strip():
        raise WebhookSignatureError(
            f"the {SIGNATURE_HEADER} header is missing: the request was not signed by Cal.com "
            "(or the webhook has no secret)",
            reason="missing",
        )
    given = signature_header.strip()
    if given[:7].lower() == "sha256=":
        given = given[7:].strip()
    if given == _NO_SECRET:
        raise WebhookSignatureError(
            f"{SIGNATURE_HEADER} says {_NO_SECRET!r}: the webhook has no secret in Cal.com; set "
            "the same secret there",
            reason="malformed",
        )
    if not _HEX_SIGNATURE.fullmatch(given):
        raise WebhookSignatureError(
            f"the {SIGNATURE_HEADER} header is not a hex HMAC-SHA256 (64 hex digits, "
            "optionally prefixed with 'sha256=')",
            reason="malformed",
        )
    given_bytes = given.lower().encode()
    matched = False
    for key in keys:  # every key is tried: the time taken does not say which one matched
        matched |= hmac.compare_digest(_digest(key, body).encode(), given_bytes)
    if not matched:
        raise WebhookSignatureError(
            f"the {SIGNATURE_HEADER} signature does not match the body for "
            + ("the secret" if len(keys) == 1 else f"any of the {len(keys)} secrets")
            + " (a wrong secret, or a body changed or re-serialised on the way)",
            reason="mismatch",
        )
