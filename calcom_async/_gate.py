"""What each attempt passes before it is sent: the concurrency cap and the rate limiter.

A :class:`Gate` is shared by a client and its ``with_options`` copies (closing any of them
closes it). Before an attempt goes to the transport it takes a place under
``max_concurrency`` and a turn from the rate limiter of its credential (in-process,
``_ratelimit.RateLimiter``; or the budget a distributed store such as ``RedisStore`` shares
between processes), each wait within the call's deadline; afterwards the answer's
``X-RateLimit-*`` headers teach the limiter. These are the session's steps, not the
transport's, so that any transport (``CalCom(transport=…)``) is paced the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import anyio
import attrs

from ._clock import Clock
from ._deadline import Deadline, log_wait
from ._errors import CalComError, CalComUsageError
from ._limiters import PROCESS_LIMITERS, LimiterRegistry
from ._ratelimit import RateLimit, RateLimiter, parse_rate_limits, retry_after_seconds
from ._transport import Response
from .stores import MemoryStore, Store, credential_bucket

__all__ = ["Gate", "Turn"]

logger = logging.getLogger("calcom_async")


@attrs.define
class Turn:
    """An attempt's place, held until :meth:`Gate.release`: the in-process limiter it took a
    turn from, or the shared budget's bucket."""

    limiter: RateLimiter | None
    bucket: str | None


class Gate:
    """The concurrency cap and the rate limiters of one client (and its copies)."""

    def __init__(
        self,
        *,
        clock: Clock,
        max_concurrency: int,
        rate_limit: bool = True,
        max_wait: float = 120.0,
        store: Store | None = None,
        scope: str = "",
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.clock = clock
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
        self.closed = False  #: the client was closed: no attempt passes

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

    def try_acquire(self, headers: Mapping[str, str]) -> Turn | None:
        """:meth:`acquire` when neither the cap nor the in-process limiter would make the
        attempt wait: its turn, taken without a coroutine. None: ``await acquire()``."""
        if self.closed or self._shared:
            return None  # acquire() says it is closed; the shared budget is awaited
        try:
            self.capacity.acquire_nowait()
        except anyio.WouldBlock:
            return None
        limiter = self.limiter_for(headers)
        if limiter.try_acquire():
            return Turn(limiter, None)
        self.capacity.release()  # acquire() takes the place again and waits for the limiter
        return None

    async def acquire(self, headers: Mapping[str, str], deadline: Deadline | None) -> Turn:
        """A place under the cap, then a turn from the credential's limiter (or the shared
        budget), every wait within ``deadline``. Give it back with :meth:`release` (or
        :meth:`release_shared` for a turn of the shared budget)."""
        if self.closed:
            raise CalComUsageError("this CalCom client is closed")
        try:  # a free slot is taken without the checkpoint (a loop round trip) of acquire()
            self.capacity.acquire_nowait()
        except anyio.WouldBlock:
            await self._wait_for_slot(deadline)
        try:
            if self._shared:
                bucket = credential_bucket(headers)
                await self.store.rate_acquire(bucket, self._max_wait)
                return Turn(None, bucket)
            limiter = self.limiter_for(headers)
            if not limiter.try_acquire():  # room now: no coroutine, no wait
                await limiter.acquire(deadline, self._max_wait)
            return Turn(limiter, None)
        except BaseException:
            self.capacity.release()
            raise

    def release(self, turn: Turn, answer: Response | None) -> dict[str, RateLimit] | None:
        """Give back a turn of the in-process limiter; it learns from ``answer`` (None: there
        was none). Returns the rate limits the answer's headers report, when they were parsed."""
        try:
            assert turn.limiter is not None, "a turn of the shared budget: release_shared()"
            if answer is None:
                turn.limiter.release()
                return None
            return turn.limiter.release(answer.headers, answer.status)
        finally:
            self.capacity.release()

    async def release_shared(
        self, turn: Turn, answer: Response | None
    ) -> dict[str, RateLimit] | None:
        """Give back a turn of the shared budget, which learns from ``answer``'s headers."""
        try:
            assert turn.bucket is not None
            return await self._shared_release(turn.bucket, answer)
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

    async def _shared_release(
        self, bucket: str, answer: Response | None
    ) -> dict[str, RateLimit] | None:
        """Teach the shared budget what the answer's ``X-RateLimit-*`` headers say."""
        if answer is None:
            try:  # no answer: the request's own error is the one to raise, not the store's
                await self.store.rate_release(bucket, None, None, None)
            except CalComError as exc:
                logger.warning("could not update the shared rate-limit budget: %s", exc)
            return None
        wall = self.clock.time()
        limits = parse_rate_limits(answer.headers, wall)
        wait = retry_after_seconds(answer.headers, wall) if answer.status == 429 else None
        try:
            await self.store.rate_release(bucket, limits, answer.status, wait)
        except CalComError as exc:
            # the server answered: that answer must not be lost (a POST may have created
            # something). The shared budget learns from the next answer instead.
            logger.warning("could not update the shared rate-limit budget: %s", exc)
        return limits
