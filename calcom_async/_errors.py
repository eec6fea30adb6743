"""The exception tree. Every failure the client reports is a :class:`CalComError`.

::

    CalComError
    ├── CalComUsageError (also ValueError)    bad input, caught before anything is sent
    │   └── UnknownAPIVersionError
    ├── APIConnectionError                    the request did not get an HTTP answer
    │   └── APITimeoutError                   the call's timeout ran out (connecting, reading)
    │       └── DeadlineExceededError         ... or would run out during a wait (the rate
    │                                         limit, a retry's backoff, a token refresh):
    │                                         raised at once, naming the wait
    ├── APIStatusError                        the server answered with status >= 400
    │   ├── BadRequestError 400, AuthenticationError 401, PermissionDeniedError 403
    │   │                                     (InsufficientScopeError: an OAuth token's scopes)
    │   ├── NotFoundError 404, ConflictError 409, UnprocessableEntityError 422,
    │   └── RateLimitError 429, InternalServerError 5xx
    ├── ResponseValidationError               a 2xx body that is not JSON or does not fit its model
    │   └── UnexpectedResponseTypeError       ... or is not the one of its types that
    │                                         ``expect=`` asked for
    ├── StoreUnavailableError                 the shared store (Redis) did not answer in time
    └── StoreDataError                        a stored token pair cannot be read

Messages never contain credentials: they are built from the server's answer, never from the
request headers.
"""

from __future__ import annotations

import contextlib
import http
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from ._scopes import Scope

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "CalComError",
    "CalComUsageError",
    "ConflictError",
    "DeadlineExceededError",
    "InsufficientScopeError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseValidationError",
    "StoreDataError",
    "StoreUnavailableError",
    "UnexpectedResponseTypeError",
    "UnknownAPIVersionError",
    "UnprocessableEntityError",
    "make_status_error",
]

_TEXT_LIMIT = 500  # characters of a non-JSON body kept in a message


class CalComError(Exception):
    """The root of every error raised by calcom-async."""

    message: str

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CalComUsageError(CalComError, ValueError):
    """Bad input detected before a request was sent (missing path value, wrong type, …)."""


class UnknownAPIVersionError(CalComUsageError):
    """A malformed ``cal-api-version`` value (not a date like ``2024-08-13``)."""


class APIConnectionError(CalComError):
    """No HTTP answer: DNS, refused or reset connection, TLS failure, broken response body."""

    def __init__(self, message: str = "Connection error.", *, request_id: str | None = None):
        super().__init__(message)
        self.request_id = request_id


class APITimeoutError(APIConnectionError):
    """The request took longer than its connect or total timeout."""

    def __init__(self, message: str = "Request timed out.", *, request_id: str | None = None):
        super().__init__(message, request_id=request_id)


class DeadlineExceededError(APITimeoutError):
    """A wait the call would have to make does not fit in what is left of its ``timeout``:
    raised at once instead of waiting (and nothing more is sent).

    ``waiting_for``: what the wait was for (``"rate limit"``, ``"retry backoff"``,
    ``"token refresh"``); ``limit``: the rate limit's name (``"default"``, or the name in
    ``X-RateLimit-*-<Name>``), when a limit was the reason; ``wait``: the seconds the wait would
    take (None when not known: waiting for an answer, or a lock); ``timeout``: the call's
    timeout; ``remaining``: seconds of it left when the wait came up; ``retry_after``: when
    trying again could succeed (seconds from now), when known.

    A subclass of :class:`APITimeoutError`: ``except APITimeoutError`` catches every way a call
    runs out of time. (``RetryPolicy(max_wait=...)`` is a separate switch: a rate-limit wait
    longer than it raises :class:`RateLimitError` with ``code="ClientSideRateLimit"``.)
    """

    def __init__(
        self,
        message: str,
        *,
        waiting_for: str,
        limit: str | None = None,
        wait: float | None = None,
        timeout: float | None = None,
        remaining: float | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, request_id=request_id)
        self.waiting_for = waiting_for
        self.limit = limit
        self.wait = wait
        self.timeout = timeout
        self.remaining = remaining
        self.retry_after = wait


class APIStatusError(CalComError):
    """The server answered with an error status.

    ``code`` is Cal.com's error code (``NotFoundException``, …) when the body is the error
    envelope; ``details`` is its free-form ``details``; ``body`` the decoded JSON, or the text for
    HTML or other non-JSON answers.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str | None = None,
        details: Any = None,
        body: Any = None,
        request_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.details = details
        self.body = body
        self.request_id = request_id
        self.headers: Mapping[str, str] = headers if headers is not None else {}

    @property
    def status(self) -> int:
        """Alias of :attr:`status_code`."""
        return self.status_code

    def __str__(self) -> str:
        parts = [f"{self.status_code}"]
        if self.code:
            parts.append(self.code)
        text = f"{' '.join(parts)}: {self.message}"
        if self.request_id:
            text += f" (request id {self.request_id})"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code}, code={self.code!r}, "
            f"message={self.message!r}, request_id={self.request_id!r})"
        )


class BadRequestError(APIStatusError):
    """400."""


class AuthenticationError(APIStatusError):
    """401: missing, wrong or expired credentials."""


class PermissionDeniedError(APIStatusError):
    """403."""


class InsufficientScopeError(PermissionDeniedError):
    """403 ``insufficient_scope: …``: a third-party OAuth token lacks scopes for this endpoint.

    ``required``: the scopes the server said are missing; ``held``: the token's scopes (both
    :class:`~calcom_async.oauth.Scope` tuples). ``not_available``: the endpoint takes no
    third-party OAuth token at all (both tuples are then empty). Re-run the authorization with
    the missing scopes to fix it.
    """

    def __init__(
        self,
        message: str,
        *,
        required: tuple[Scope, ...] = (),
        held: tuple[Scope, ...] = (),
        not_available: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.required = required
        self.held = held
        self.not_available = not_available


_INSUFFICIENT_SCOPE = "insufficient_scope:"
_SCOPE_LISTS = re.compile(r"Required:\s*(?P<required>[^.]*)\.?(?:\s*Token has:\s*(?P<held>[^.]*))?")


def _insufficient_scope(message: str, kwargs: dict[str, Any]) -> InsufficientScopeError:
    from ._scopes import parse_scopes

    match = _SCOPE_LISTS.search(message)
    if match is None:
        return InsufficientScopeError(message, not_available="not available" in message, **kwargs)
    return InsufficientScopeError(
        message,
        required=parse_scopes(match.group("required")),
        held=parse_scopes(match.group("held") or ""),
        **kwargs,
    )


class NotFoundError(APIStatusError):
    """404."""


class ConflictError(APIStatusError):
    """409."""


class UnprocessableEntityError(APIStatusError):
    """422."""


class RateLimitError(APIStatusError):
    """429. ``retry_after``: seconds to wait before trying again, when the server said."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class InternalServerError(APIStatusError):
    """5xx (including HTML or empty answers from a proxy in front of the API)."""


class ResponseValidationError(CalComError):
    """A successful answer whose body is not JSON or does not fit the expected model.

    ``raw`` holds what was received: the decoded JSON, or the text when it was not JSON.
    """

    def __init__(
        self,
        message: str,
        *,
        raw: Any = None,
        status_code: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.raw = raw
        self.status_code = status_code
        self.request_id = request_id


class UnexpectedResponseTypeError(ResponseValidationError):
    """A union answer that is not the type ``expect=`` asked for, e.g.
    ``cal.bookings.get(uid, expect=models.BookingOutput_2024_08_13)`` answered with the list of
    a recurring booking's occurrences. ``expected`` is the type asked for, ``value`` the answer
    as it was parsed (use it, or call without ``expect=`` and narrow with ``isinstance``)."""

    def __init__(self, message: str, *, expected: Any, value: Any) -> None:
        super().__init__(message)
        self.expected = expected
        self.value = value


class StoreUnavailableError(CalComError):
    """The shared store (Redis) did not answer within its deadline, or refused the connection.
    Nothing was decided on a guess: a rate-limit slot was not taken, a token was not refreshed."""


class StoreDataError(CalComError):
    """A token pair in the store cannot be read: it does not decrypt with this store's cipher (a
    different key, or a pair written without one), or it is not a token pair. Retrying does not
    help; the message names the problem, never the stored value."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def _status_class(status: int) -> type[APIStatusError]:
    if status >= 500:
        return InternalServerError
    return _BY_STATUS.get(status, APIStatusError)


def _text(content: bytes) -> str:
    text = content.decode("utf-8", errors="replace").strip()
    return text if len(text) <= _TEXT_LIMIT else text[:_TEXT_LIMIT] + "…"


def make_status_error(
    status: int,
    content: bytes,
    *,
    reason: str | None = None,
    headers: Mapping[str, str] | None = None,
    request_id: str | None = None,
    retry_after: float | None = None,
) -> APIStatusError:
    """Build the typed error for an HTTP answer with ``status >= 400``.

    Reads Cal.com's error envelope ``{"status": "error", "error": {"code", "message",
    "details"}}`` when present; HTML, empty, truncated or otherwise malformed bodies still give the
    right class, with the (shortened) text as message.
    """
    code: str | None = None
    details: Any = None
    message: str | None = None
    body: Any
    try:
        body = orjson.loads(content) if content else None
    except orjson.JSONDecodeError:
        body = _text(content)
        message = body or None
    else:
        if isinstance(body, dict):
            error = body.get("error")
            if isinstance(error, dict):
                code = _str_or_none(error.get("code"))
                message = _str_or_none(error.get("message"))
                details = error.get("details")
            elif isinstance(error, str):  # bare OAuth-style {"error": "...", ...}
                code = error
                message = _str_or_none(body.get("error_description"))
            if message is None:
                message = _str_or_none(body.get("message"))
        elif isinstance(body, str):
            message = _text(body.encode())
        elif body is not None:
            message = _text(content)
    if not reason:
        with contextlib.suppress(ValueError):
            reason = http.HTTPStatus(status).phrase
    if not message:
        message = (
            f"HTTP {status}"
            + (f" {reason}" if reason else "")
            + (" (empty body)" if not content else "")
        )
    cls = _status_class(status)
    kwargs: dict[str, Any] = {
        "status_code": status,
        "code": code,
        "details": details,
        "body": body,
        "request_id": request_id,
        "headers": headers,
    }
    if cls is RateLimitError:
        return RateLimitError(message, retry_after=retry_after, **kwargs)
    if cls is PermissionDeniedError and message.startswith(_INSUFFICIENT_SCOPE):
        return _insufficient_scope(message, kwargs)
    return cls(message, **kwargs)


def _str_or_none(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)
