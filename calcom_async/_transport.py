"""The transport seam: a :class:`Request` goes in, a :class:`Response` comes out.

A :class:`Transport` sends one attempt of one request and gives back what the server answered
(any status: a 404 or a 503 is an answer, not an error) or raises :class:`TransportError` when
there was no answer. That is all it does. Everything else — auth, the rate limiter and the
concurrency cap, retries, deadlines, status errors, models — is the session's
(``calcom_async._pipeline``), so a transport you plug in (``CalCom(transport=…)``) gets all of
it. The default is :class:`~calcom_async._http.AiohttpTransport`; tests may use
``calcom_async.testing.MockTransport``. It is the shape of httpx's ``AsyncBaseTransport``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

import attrs

from ._retry import Failure

__all__ = ["Request", "Response", "Transport", "TransportError"]


def _names(headers: Mapping[str, str]) -> str:
    """Headers in a repr: their names only (values may be credentials)."""
    return repr(list(headers))


def _size(content: bytes | None) -> str:
    """A body in a repr: its size only (it may hold tokens)."""
    return "None" if content is None else f"<{len(content)} bytes>"


@attrs.define(kw_only=True)
class Request:
    """One attempt of a request, ready for the wire.

    ``url``: absolute, its path already percent-encoded (send it as it is); ``params``: the
    query pairs, in order, not yet encoded; ``headers``: every header to send, auth included;
    ``content``: the JSON body (None: no body); ``timeout``: seconds for the whole attempt
    (what is left of the call's deadline, at most its ``timeout``) and ``connect_timeout`` for
    opening the connection (None: no limit). Redirects are not followed. Its ``repr`` shows
    header names and the body's size only (they may carry credentials).

    The session builds one for each attempt, and a transport reads it; it is not frozen only
    because a frozen attrs class sets each field through ``object.__setattr__`` on every
    request (``docs/design-notes.md``, "Session hot path"). The same goes for
    :class:`Response`.
    """

    method: str
    url: str
    params: Sequence[tuple[str, str]] = ()
    headers: Mapping[str, str] = attrs.field(factory=dict, repr=_names)
    content: bytes | None = attrs.field(default=None, repr=_size)
    timeout: float | None = None
    connect_timeout: float | None = None

    def for_attempt(
        self, headers: Mapping[str, str], timeout: float | None, connect_timeout: float | None
    ) -> Request:
        """This request with an attempt's headers (auth added) and timeouts."""
        return Request(
            method=self.method,
            url=self.url,
            params=self.params,
            headers=headers,
            content=self.content,
            timeout=timeout,
            connect_timeout=connect_timeout,
        )


def _case_insensitive(headers: Mapping[str, str]) -> Mapping[str, str]:
    """Headers whose lookups ignore case (aiohttp's and multidict's already do)."""
    if hasattr(headers, "getall"):  # a multidict (aiohttp's answer headers)
        return headers
    from multidict import CIMultiDict

    return CIMultiDict(headers)


@attrs.define
class Response:
    """What the server answered to one attempt: any status, its headers (looked up without
    regard to case) and the whole body."""

    status: int
    headers: Mapping[str, str] = attrs.field(factory=dict, converter=_case_insensitive, repr=_names)
    content: bytes = attrs.field(default=b"", repr=_size)
    reason: str = ""  #: the status line's text ("Not Found"), when the server sent one


class TransportError(Exception):
    """A request got no HTTP answer (the session turns it into an ``APIConnectionError``).

    ``failure`` says what kind, which decides a retry: ``Failure.NOT_SENT`` (nothing reached
    the server: always worth retrying), ``Failure.CONNECTION`` / ``Failure.TIMEOUT`` (it may
    have been processed), None (never worth retrying: a TLS certificate error, a request the
    HTTP library refused). ``timed_out``: a timeout (an ``APITimeoutError``). Raise it ``from``
    the library's own exception: that becomes the typed error's ``__cause__``.
    """

    def __init__(self, message: str, failure: Failure | None, *, timed_out: bool = False):
        super().__init__(message)
        self.failure = failure
        self.timed_out = timed_out


@runtime_checkable
class Transport(Protocol):
    """What sends a request: ``async def send(request) -> Response``, and ``aclose()``."""

    async def send(self, request: Request) -> Response:
        """One attempt: the server's answer, whatever its status; :class:`TransportError`
        when there was none."""
        ...

    async def aclose(self) -> None:
        """Release connections (called by ``CalCom.aclose``)."""
        ...


def describe(exc: BaseException) -> str:
    """``Type: text`` of a library's exception, for a :class:`TransportError`'s message."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
