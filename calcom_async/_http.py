"""The HTTP transport: one pooled aiohttp ``ClientSession``, the concurrency cap and the limiter.

Everything aiohttp-specific lives here, and aiohttp is imported on the first request only, so
``import calcom_async`` stays cheap. Every aiohttp failure leaves as an :class:`AttemptError`
carrying a typed :class:`~calcom_async.APIConnectionError` and what kind of failure it was.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import anyio

from ._clock import Clock
from ._deadline import Deadline, log_wait
from ._errors import APIConnectionError, APITimeoutError, CalComError, CalComUsageError
from ._limiters import PROCESS_LIMITERS, LimiterRegistry
from ._ratelimit import RateLimit, RateLimiter, parse_rate_limits, retry_after_seconds
from ._retry import Failure
from .stores import MemoryStore, Store, credential_bucket

if TYPE_CHECKING:
    import aiohttp

__all__ = ["AttemptError", "RawAnswer", "Transport"]

logger = logging.getLogger("calcom_async")


class AttemptError(Exception):
    """One attempt got no HTTP answer (internal: the session decides whether to retry)."""

    def __init__(self, error: APIConnectionError, failure: Failure | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.failure = failure  #: None: never worth retrying (e.g. a TLS certificate error)


class RawAnswer:
    __slots__ = ("content", "headers", "rate_limits", "reason", "status")

    def __init__(self, status: int, reason: str, headers: Mapping[str, str], content: bytes):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.content = content
        #: the rate limits in ``headers``, when the limiter has parsed them already
        self.rate_limits: dict[str, RateLimit] | None = None


class Transport:
    """Shared by a client and its ``with_options`` copies; closed by any of them."""

    def __init__(
        self,
        *,
        clock: Clock,
        max_concurrency: int,
        http_session: aiohttp.ClientSession | None = None,
        rate_limit: bool = True,
        max_wait: float = 120.0,
        store: Store | None = None,
        scope: str = "",
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.clock = clock
        self.max_concurrency = max_concurrency
        self.capacity = anyio.CapacityLimiter(max_concurrency)
        #: where shared state lives (``calcom_async.stores``); a distributed store takes the
        #: rate-limit budget in place of the in-process limiter
        self.store: Store = store if store is not None else MemoryStore()
        self._shared = rate_limit and self.store.distributed
        #: one in-process budget per credential: from the process-wide registry, or from the
        #: MemoryStore given as ``store=`` (clients given that store share it, and only it)
        registry = getattr(store, "limiters", None) if store is not None else PROCESS_LIMITERS
        self._registry: LimiterRegistry = (
            registry if isinstance(registry, LimiterRegistry) else LimiterRegistry()
        )
        self._scope = scope  #: the server (base URL): another server, another budget
        self._rate_limit = rate_limit
        self._off = RateLimiter(clock, enabled=False)  #: ``rate_limit=False``
        #: credential header value -> its limiter (from ``_registry``)
        self._limiters: dict[str, RateLimiter] = {}
        self._max_wait = max_wait
        self._session = http_session
        self._owned = http_session is None
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def limiter_for(self, headers: Mapping[str, str]) -> RateLimiter:
        """The in-process limiter of the credential in ``headers`` (shared by every client of
        this process that sends it to the same server, see ``_limiters``)."""
        if not self._rate_limit:
            return self._off
        credential = headers.get("Authorization") or headers.get("x-cal-client-id") or ""
        limiters = self._limiters
        limiter = limiters.get(credential)
        if limiter is None:
            if len(limiters) >= 64:  # bounded: a client holds a few credentials
                limiters.clear()
            limiter = limiters[credential] = self._registry.get(
                self._scope, credential_bucket(headers), self.clock, self._max_wait
            )
        return limiter

    def _http(self) -> aiohttp.ClientSession:
        if self._closed:
            raise CalComUsageError("this CalCom client is closed")
        if self._session is not None and self._session.closed:
            raise CalComUsageError("the aiohttp ClientSession given as http_session is closed")
        if self._session is None:
            import aiohttp

            connector = aiohttp.TCPConnector(
                limit=self.max_concurrency, limit_per_host=self.max_concurrency
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

    async def send(
        self,
        method: str,
        url: str,
        *,
        params: Sequence[tuple[str, str]],
        headers: Mapping[str, str],
        data: bytes | None,
        timeout: float | None,  # noqa: ASYNC109 - handed to aiohttp's ClientTimeout
        connect_timeout: float | None,
        request_id: str,
        deadline: Deadline | None = None,
    ) -> RawAnswer:
        """One attempt under the concurrency cap and the rate limiter; every wait, and the
        attempt itself, within ``deadline`` (the call's)."""
        import aiohttp

        URL = _yarl_url()
        http = self._http()
        try:  # a free slot is taken without the checkpoint (a loop round trip) of acquire()
            self.capacity.acquire_nowait()
        except anyio.WouldBlock:
            await self._wait_for_slot(deadline)
        bucket = credential_bucket(headers) if self._shared else None
        limiter = self._off if bucket is not None else self.limiter_for(headers)
        try:
            if bucket is not None:
                await self.store.rate_acquire(bucket, self._max_wait)
            elif not limiter.try_acquire():  # room now: no coroutine, no wait
                await limiter.acquire(deadline, self._max_wait)
            answer: RawAnswer | None = None
            try:
                if deadline is not None and deadline.at is not None:
                    left = deadline.at - self.clock.monotonic()
                    if left <= 0:
                        raise deadline.exceeded(self.clock.monotonic(), "a turn to send")
                    # the attempt gets what is left of the call's timeout (to a tenth of a
                    # second up: the usual first attempt keeps the timeout as given, and the
                    # ClientTimeout cache its hits)
                    left = math.ceil(left * 10) / 10
                    timeout = left if timeout is None else min(timeout, left)
                client_timeout = _client_timeout(timeout, connect_timeout)
                async with http.request(
                    method,
                    URL(url, encoded=True),
                    params=params or None,
                    headers=headers,
                    data=data,
                    timeout=client_timeout,
                    allow_redirects=False,
                ) as response:
                    try:
                        content = await response.read()
                    except aiohttp.ClientPayloadError:
                        if response.status < 400:
                            raise  # a success we could not read: a connection error below
                        # an error status whose body was cut short: the status still counts
                        content = b"(the error body was truncated)"
                    answer = RawAnswer(
                        response.status, response.reason or "", response.headers, content
                    )
            except aiohttp.ConnectionTimeoutError as exc:
                raise _failed(
                    APITimeoutError, "connecting timed out", exc, request_id, Failure.NOT_SENT
                ) from exc
            except TimeoutError as exc:
                raise _failed(
                    APITimeoutError, "request timed out", exc, request_id, Failure.TIMEOUT
                ) from exc
            except (aiohttp.ClientSSLError, aiohttp.ServerFingerprintMismatch) as exc:
                raise _failed(APIConnectionError, "TLS error", exc, request_id, None) from exc
            except aiohttp.ClientConnectorError as exc:
                raise _failed(
                    APIConnectionError, "could not connect", exc, request_id, Failure.NOT_SENT
                ) from exc
            except (aiohttp.ClientError, OSError) as exc:
                raise _failed(
                    APIConnectionError, "connection error", exc, request_id, Failure.CONNECTION
                ) from exc
            except ValueError as exc:  # aiohttp refused to send the request as given
                raise _failed(APIConnectionError, "invalid request", exc, request_id, None) from exc
            finally:
                if bucket is not None:
                    await self._shared_release(bucket, answer)
                elif answer is None:
                    limiter.release()
                else:
                    answer.rate_limits = limiter.release(answer.headers, answer.status)
            return answer
        finally:
            self.capacity.release()

    async def _wait_for_slot(self, deadline: Deadline | None) -> None:
        """A free place under ``max_concurrency``, within the call's deadline."""
        now = self.clock.monotonic()
        left = deadline.remaining(now) if deadline is not None else None
        if left is None:
            await self.capacity.acquire()
            return
        with anyio.move_on_after(max(0.0, left)) as scope:
            await self.capacity.acquire()
        if scope.cancelled_caught:
            assert deadline is not None
            raise deadline.exceeded(self.clock.monotonic(), "a free slot under max_concurrency")
        waited = self.clock.monotonic() - now
        log_wait(waited, "a free slot under max_concurrency", None, deadline, now)

    async def _shared_release(self, bucket: str, answer: RawAnswer | None) -> None:
        """Teach the shared budget what the answer's ``X-RateLimit-*`` headers say."""
        if answer is None:
            try:  # no answer: the request's own error is the one to raise, not the store's
                await self.store.rate_release(bucket, None, None, None)
            except CalComError as exc:
                logger.warning("could not update the shared rate-limit budget: %s", exc)
            return
        wall = self.clock.time()
        answer.rate_limits = parse_rate_limits(answer.headers, wall)
        wait = retry_after_seconds(answer.headers, wall) if answer.status == 429 else None
        try:
            await self.store.rate_release(bucket, answer.rate_limits, answer.status, wait)
        except CalComError as exc:
            # the server answered: that answer must not be lost (a POST may have created
            # something). The shared budget learns from the next answer instead.
            logger.warning("could not update the shared rate-limit budget: %s", exc)


_URL: Any = None
#: (total, connect) -> aiohttp.ClientTimeout (immutable): built once, not per request
_TIMEOUTS: dict[tuple[float | None, float | None], Any] = {}


def _yarl_url() -> Any:
    global _URL
    if _URL is None:
        from yarl import URL

        _URL = URL
    return _URL


def _client_timeout(total: float | None, connect: float | None) -> Any:
    timeout = _TIMEOUTS.get((total, connect))
    if timeout is None:
        import aiohttp

        if len(_TIMEOUTS) >= 64:
            _TIMEOUTS.clear()
        timeout = _TIMEOUTS[total, connect] = aiohttp.ClientTimeout(total=total, connect=connect)
    return timeout


def _failed(
    cls: type[APIConnectionError],
    what: str,
    exc: BaseException,
    request_id: str,
    failure: Failure | None,
) -> AttemptError:
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    error = cls(f"{what} ({detail})", request_id=request_id)
    error.__cause__ = exc
    return AttemptError(error, failure)
