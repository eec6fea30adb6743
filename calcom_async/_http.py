"""The default transport: one pooled aiohttp ``ClientSession`` (:class:`AiohttpTransport`).

Everything aiohttp-specific lives here, and aiohttp is imported on the first request only, so
``import calcom_async`` stays cheap. Every aiohttp failure leaves as a
:class:`~calcom_async._transport.TransportError` saying what kind of failure it was; the
session makes it a typed :class:`~calcom_async.APIConnectionError`.
"""

from __future__ import annotations

import functools
import warnings
from typing import TYPE_CHECKING, Any

from ._errors import CalComUsageError
from ._retry import Failure
from ._transport import Request, Response, TransportError, describe

if TYPE_CHECKING:
    import aiohttp
    from yarl import URL

__all__ = ["AiohttpTransport"]


class AiohttpTransport:
    """:class:`~calcom_async._transport.Transport` on aiohttp. ``http_session``: your own
    ``aiohttp.ClientSession`` (left open on close); otherwise one of its own is opened on the
    first request, with a connection pool of ``max_connections``. Shared by a client and its
    ``with_options`` copies; closed by any of them."""

    def __init__(
        self,
        *,
        http_session: aiohttp.ClientSession | None = None,
        max_connections: int = 64,
    ) -> None:
        if isinstance(max_connections, bool) or not isinstance(max_connections, int):
            raise CalComUsageError("max_connections must be an integer >= 1")
        if max_connections < 1:
            raise CalComUsageError("max_connections must be an integer >= 1")
        self.max_connections = max_connections
        self._session = http_session
        self._owned = http_session is None
        self._closed = False

    def __repr__(self) -> str:
        return f"AiohttpTransport(max_connections={self.max_connections})"

    @property
    def closed(self) -> bool:
        return self._closed

    def _http(self) -> aiohttp.ClientSession:
        if self._closed:
            raise CalComUsageError("this CalCom client is closed")
        if self._session is not None and self._session.closed:
            raise CalComUsageError("the aiohttp ClientSession given as http_session is closed")
        if self._session is None:
            import aiohttp

            connector = aiohttp.TCPConnector(
                limit=self.max_connections, limit_per_host=self.max_connections
            )
            self._session = aiohttp.ClientSession(connector=connector)
        return self._session

    async def aclose(self) -> None:
        self._closed = True
        session, self._session = self._session, None
        if session is not None and self._owned:
            await session.close()

    def __del__(self) -> None:
        try:
            session = self._session
            if session is None or not self._owned or session.closed:
                return
            self._session = None
            connector = session.connector
            session.detach()  # aiohttp would otherwise warn about the session and the connector
            if connector is not None:
                connector._close()
            warnings.warn(
                "CalCom client was not closed: use `async with CalCom(...)` or "
                "`await cal.aclose()`",
                ResourceWarning,
                stacklevel=2,
            )
        except Exception:  # never crash at garbage collection
            pass

    async def send(self, request: Request) -> Response:
        """One attempt on the pooled session: the answer, whatever its status."""
        import aiohttp  # (imported by the first request)

        http = self._http()
        try:
            async with http.request(
                request.method,
                _url_class()(request.url, encoded=True),
                params=request.params or None,
                headers=request.headers,
                data=request.content,
                timeout=_client_timeout(request.timeout, request.connect_timeout),
                allow_redirects=False,
            ) as response:
                try:
                    content = await response.read()
                except aiohttp.ClientPayloadError:
                    if response.status < 400:
                        raise  # a success we could not read: a connection error below
                    # an error status whose body was cut short: the status still counts
                    content = b"(the error body was truncated)"
                return Response(response.status, response.headers, content, response.reason or "")
        except aiohttp.ConnectionTimeoutError as exc:
            raise _failed("connecting timed out", exc, Failure.NOT_SENT, timed_out=True) from exc
        except TimeoutError as exc:
            raise _failed("request timed out", exc, Failure.TIMEOUT, timed_out=True) from exc
        except (aiohttp.ClientSSLError, aiohttp.ServerFingerprintMismatch) as exc:
            raise _failed("TLS error", exc, None) from exc
        except aiohttp.ClientConnectorError as exc:
            raise _failed("could not connect", exc, Failure.NOT_SENT) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise _failed("connection error", exc, Failure.CONNECTION) from exc
        except ValueError as exc:  # aiohttp refused to send the request as given
            raise _failed("invalid request", exc, None) from exc


@functools.cache
def _url_class() -> type[URL]:
    """yarl's ``URL``, imported on the first request (not by ``import calcom_async``); a
    ``from yarl import URL`` on every request costs more than the look-up."""
    from yarl import URL

    return URL


#: (total, connect) -> aiohttp.ClientTimeout (immutable): built once, not per request
_TIMEOUTS: dict[tuple[float | None, float | None], Any] = {}


def _client_timeout(total: float | None, connect: float | None) -> Any:
    timeout = _TIMEOUTS.get((total, connect))
    if timeout is None:
        import aiohttp

        if len(_TIMEOUTS) >= 64:
            _TIMEOUTS.clear()
        timeout = _TIMEOUTS[total, connect] = aiohttp.ClientTimeout(total=total, connect=connect)
    return timeout


def _failed(
    what: str, exc: BaseException, failure: Failure | None, *, timed_out: bool = False
) -> TransportError:
    return TransportError(f"{what} ({describe(exc)})", failure, timed_out=timed_out)
