"""Client-side rate limiting, fed by the server's ``X-RateLimit-*`` headers.

Cal.com sends, for each named limit, ``X-RateLimit-Limit-<Name>``, ``X-RateLimit-Remaining-<Name>``
and ``X-RateLimit-Reset-<Name>`` (seconds until the window ends). The :class:`RateLimiter` keeps a
budget per named limit and lets a request start only when every limit has room, so a burst of
1,000 concurrent calls paces itself instead of collecting 429s:

- before anything is known (first request), one request goes first as a probe;
- each answer sets the budget to ``remaining`` minus the requests still in flight;
- an exhausted budget waits for its window to reset (then refills to ``limit``);
- a 429 blocks every request until ``Retry-After`` / the reset the server gave.

Every wait is bounded by the call's deadline (``_deadline``): a wait of known length that would
end after it raises :class:`~calcom_async.DeadlineExceededError` at once, a wait for an answer is
cut off at the deadline; waits longer than a second are logged at INFO.

One budget per credential per process: the clients that send the same credential to the same
server share one :class:`RateLimiter`, whatever their event loop or thread (``_limiters``).

Answers without rate-limit headers leave the limiter open (self-hosted servers may have none).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
from collections.abc import Mapping
from typing import Any, Literal

import anyio
import attrs

from ._clock import Clock
from ._deadline import Deadline, log_wait
from ._errors import RateLimitError
from ._progress import record_wait

__all__ = ["RateLimit", "RateLimiter", "parse_rate_limits", "retry_after_seconds", "spent_limit"]

_HEADER = re.compile(r"^(?:x-)?ratelimit-(limit|remaining|reset)(?:-(.+))?$", re.IGNORECASE)
_DEFAULT_BLOCK = 60.0  # seconds to hold back after a 429 that says nothing about when to retry
_SAME_WINDOW = 1.5  # reset times closer than this (s) belong to the same window


@attrs.frozen(slots=True)
class RateLimit:
    """One named limit as the last answer reported it. ``reset``: seconds until the window ends."""

    name: str
    limit: int | None
    remaining: int | None
    reset: float | None


def _number(value: str) -> float | None:
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if number == number and number >= 0 else None  # drop NaN


def reset_seconds(value: float, now: float) -> float:
    """A reset header value as seconds from now: accepts seconds, Unix seconds or Unix millis."""
    if value >= 1e12:
        return max(0.0, value / 1000.0 - now)
    if value >= 1e9:
        return max(0.0, value - now)
    return value


#: header name -> (0 limit | 1 remaining | 2 reset, limit name), or None for any other header:
#: each header name is looked at once
_KEYS: dict[str, tuple[int, str] | None] = {}
_KEYS_SIZE = 512  #: bounded: header names come from the server
_KINDS = {"limit": 0, "remaining": 1, "reset": 2}
_UNKNOWN: Any = object()


def _classify(key: str) -> tuple[int, str] | None:
    what: tuple[int, str] | None = None
    if "RATELIMIT" in key.upper():  # most headers: skipped without the regex
        match = _HEADER.match(key)
        if match is not None:
            what = (_KINDS[match.group(1).lower()], (match.group(2) or "").lower())
    if len(_KEYS) >= _KEYS_SIZE:
        _KEYS.clear()
    _KEYS[key] = what
    return what


def parse_rate_limits(headers: Mapping[str, str], now: float) -> dict[str, RateLimit]:
    """The named limits in ``headers`` (plain ``X-RateLimit-*`` is the name ``""``).

    ``now`` is the Unix time, used for reset values given as a Unix time.
    """
    found: dict[str, list[float | None]] = {}
    for key, value in headers.items():  # read on every answer: kept short
        what = _KEYS.get(key, _UNKNOWN)
        if what is None:
            continue
        if what is _UNKNOWN:
            what = _classify(key)
            if what is None:
                continue
        try:
            number = float(value)  # float() ignores surrounding whitespace itself
        except ValueError:
            continue
        if not number >= 0:  # negative, or NaN
            continue
        slot, name = what
        values = found.get(name)
        if values is None:
            values = found[name] = [None, None, None]
        values[slot] = number
    limits = {}
    for name, (limit, remaining, reset) in found.items():
        limits[name] = RateLimit(
            name,
            int(limit) if limit is not None else None,
            int(remaining) if remaining is not None else None,
            reset_seconds(reset, now) if reset is not None else None,
        )
    return limits


def spent_limit(headers: Mapping[str, str]) -> str:
    """The name of the limit a 429 says is spent (``default`` when it names none)."""
    limits = parse_rate_limits(headers, 0.0)
    spent = [name or "default" for name, x in limits.items() if x.remaining == 0]
    return ", ".join(spent) if spent else "default"


def retry_after_seconds(
    headers: Mapping[str, str], now: float, *, use_reset: bool = True
) -> float | None:
    """How long the server asked us to wait: ``Retry-After`` (seconds or HTTP date), else (with
    ``use_reset``) the reset of the exhausted limits, or of any limit. ``now``: the Unix time."""
    value = headers.get("Retry-After") or headers.get("retry-after")
    if value:
        seconds = _number(value)
        if seconds is not None:
            return reset_seconds(seconds, now) if seconds >= 1e9 else seconds
        import email.utils  # only for HTTP dates: keeps the import of the package light

        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            when = None
        if when is not None and when.tzinfo is not None:
            return max(0.0, when.timestamp() - now)
    if not use_reset:
        return None
    limits = parse_rate_limits(headers, now).values()
    exhausted = [x.reset for x in limits if x.reset is not None and x.remaining == 0]
    resets = exhausted or [x.reset for x in limits if x.reset is not None]
    return max(resets) if resets else None


@attrs.define(slots=True)
class _Window:
    limit: int
    remaining: int
    reset_at: float | None  #: monotonic time the window ends; None: not known yet


class RateLimiter:
    """Paces requests under the limits the server reports (see the module docstring).

    Use as ``await limiter.acquire()`` before sending and ``limiter.release(headers, status)``
    after the answer (``headers=None`` when there was none). One limiter may serve several event
    loops and threads at once (every ``CalComSync`` runs a loop of its own): its budget is plain
    state under a ``threading.Lock``, and a task waiting for an answer waits on a future of its
    own loop, which ``release`` resolves from whichever thread the answer came in on.
    """

    def __init__(
        self, clock: Clock, *, enabled: bool = True, slack: float = 0.25, max_wait: float = 120.0
    ) -> None:
        self._clock = clock
        self._enabled = enabled
        self._max_wait = max_wait  #: a longer wait raises RateLimitError instead of sleeping
        self._slack = slack  #: added to every reset: the server's clock rounds to seconds
        self._lock = threading.Lock()  #: guards everything below (held for microseconds)
        self._windows: dict[str, _Window] = {}
        self._seen = False
        self._in_flight = 0
        self._blocked_until = 0.0
        self._blocked_by = "default"  #: the limit a 429 named (for messages and logs)
        self._waiters: list[asyncio.Future[None]] = []  #: tasks waiting for an answer, any loop

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def snapshot(self) -> dict[str, RateLimit]:
        """The limiter's current budgets (for diagnostics)."""
        now = self._clock.monotonic()
        with self._lock:
            return {
                name: RateLimit(
                    name, w.limit, w.remaining, None if w.reset_at is None else w.reset_at - now
                )
                for name, w in self._windows.items()
            }

    def idle(self) -> bool:
        """Nothing in flight or waiting, no block, every window ended: a fresh limiter would
        do the same (a first request as a probe), so forgetting this one loses nothing."""
        now = self._clock.monotonic()
        with self._lock:
            return (
                not self._in_flight
                and not self._waiters
                and now >= self._blocked_until
                and all(w.reset_at is None or now >= w.reset_at for w in self._windows.values())
            )

    def try_acquire(self) -> bool:
        """``acquire()`` when it would not wait (and without a coroutine): take one request from
        each limit and return True, or change nothing and return False."""
        with self._lock:
            return self._take(self._clock.monotonic()) is None

    async def acquire(
        self, deadline: Deadline | None = None, max_wait: float | None = None
    ) -> None:
        """Wait until every known limit has room, then take one request from each.

        ``deadline``: the call's (a wait past it raises ``DeadlineExceededError`` at once);
        ``max_wait``: a longer wait raises ``RateLimitError`` (default: the limiter's)."""
        limit_wait = self._max_wait if max_wait is None else max_wait
        while True:
            with self._lock:
                wait = self._take(self._clock.monotonic())
                if wait == "answer":  # registered under the lock: no answer can slip by
                    waiter = asyncio.get_running_loop().create_future()
                    self._waiters.append(waiter)
            if wait is None:
                return
            if wait == "answer":
                await self._wait_for_answer(waiter, deadline)
            else:
                seconds, limit, blocked = wait
                await self._sleep(seconds, limit, blocked, deadline, limit_wait)

    def _take(self, now: float) -> tuple[float, str, bool] | Literal["answer"] | None:
        """Under the lock: take one request from every limit (None), or say what to wait for:
        ``(seconds, limit, blocked by a 429)`` for a known time, ``"answer"`` for an answer."""
        if self._enabled:
            if now < self._blocked_until:
                return self._blocked_until - now, self._blocked_by, True
            windows = self._windows
            for window in windows.values():
                if window.reset_at is not None and now >= window.reset_at:
                    window.remaining, window.reset_at = window.limit, None
            if not self._seen:  # nothing known yet: one probe at a time
                if self._in_flight:
                    return "answer"
            elif all(window.remaining >= 1 for window in windows.values()):
                for window in windows.values():
                    window.remaining -= 1
            else:  # a limit is spent: wait for its reset, for an answer, or probe
                empty = [(n, w) for n, w in windows.items() if w.remaining < 1]
                resets = [(w.reset_at, n) for n, w in empty if w.reset_at is not None]
                if resets:
                    reset_at, name = max(resets)
                    return reset_at - now, name or "default", False
                if self._in_flight:
                    return "answer"
                # else no answer is coming to tell us more: probe
        self._in_flight += 1
        return None

    def release(
        self, headers: Mapping[str, str] | None = None, status: int | None = None
    ) -> dict[str, RateLimit] | None:
        """Give back an in-flight slot, learning from the answer's headers if there was one.

        Returns the limits parsed from ``headers`` (None when it learnt nothing).
        """
        limits = None
        with self._lock:
            try:
                if headers is not None and self._enabled:
                    limits = self._learn(headers, status)
            finally:
                self._in_flight -= 1
                waiters = self._waiters
                if waiters:
                    self._waiters = []
        for waiter in waiters:  # outside the lock: another loop's waiter is woken thread-safely
            _wake(waiter)
        return limits

    async def _sleep(
        self,
        seconds: float,
        limit: str,
        blocked: bool,
        deadline: Deadline | None,
        max_wait: float,
    ) -> None:
        now = self._clock.monotonic()
        left = deadline.remaining(now) if deadline is not None else None
        if seconds > max_wait and (left is None or left >= max_wait):
            why = (
                f"the server asked to wait {seconds:.0f}s more ({limit!r} limit)"
                if blocked
                else f"the {limit!r} limit frees up in {seconds:.0f}s"
            )
            raise RateLimitError(
                f"rate limited: {why}, longer than max_wait={max_wait:.0f}s",
                retry_after=seconds,
                status_code=429,
                code="ClientSideRateLimit",
            )
        if deadline is not None:
            deadline.check(now, seconds, "rate limit", limit=limit)
        log_wait(seconds, "rate limit", limit, deadline, now)
        await self._clock.sleep(seconds)
        record_wait(seconds)

    async def _wait_for_answer(
        self, waiter: asyncio.Future[None], deadline: Deadline | None = None
    ) -> None:
        since = self._clock.monotonic()
        try:
            left = None if deadline is None else deadline.remaining(since)
            if left is None:
                await waiter
                return
            with anyio.move_on_after(max(0.0, left)) as scope:
                await waiter
            if scope.cancelled_caught:
                raise deadline.exceeded(  # type: ignore[union-attr]
                    self._clock.monotonic(),
                    "rate limit",
                    limit=None,
                    cause="waiting for an answer that tells the budget",
                )
        finally:
            if waiter.cancelled() or not waiter.done():  # given up: not woken by a release
                with self._lock, contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            record_wait(self._clock.monotonic() - since)

    def _learn(self, headers: Mapping[str, str], status: int | None) -> dict[str, RateLimit]:
        self._seen = True
        now, wall = self._clock.monotonic(), self._clock.time()
        others = self._in_flight - 1  # requests sent that the server may not have counted yet
        limits = parse_rate_limits(headers, wall)
        for name, info in limits.items():
            if info.limit is None or info.remaining is None:
                continue
            reset_at = None if info.reset is None else now + info.reset + self._slack
            remaining = info.remaining - others
            window = self._windows.get(name)
            if (
                window is None
                or window.reset_at is None
                or (reset_at is not None and reset_at > window.reset_at + _SAME_WINDOW)
            ):
                self._windows[name] = _Window(info.limit, remaining, reset_at)
            else:
                window.limit = info.limit
                window.remaining = min(window.remaining, remaining)
                if reset_at is not None:
                    window.reset_at = max(window.reset_at, reset_at)
        if status == 429:
            wait = retry_after_seconds(headers, wall)
            wait = _DEFAULT_BLOCK if wait is None else wait
            self._blocked_until = max(self._blocked_until, now + wait + self._slack)
            spent = [n or "default" for n, x in limits.items() if x.remaining == 0]
            self._blocked_by = ", ".join(spent) if spent else "default"
        return limits


def _wake(waiter: asyncio.Future[None]) -> None:
    """Resolve ``waiter`` on its own loop: here when it is this thread's, else thread-safely."""
    loop = waiter.get_loop()
    try:
        here = asyncio.get_running_loop() is loop
    except RuntimeError:
        here = False
    if here:
        _resolve(waiter)
        return
    with contextlib.suppress(RuntimeError):  # that loop is closed: nobody is waiting any more
        loop.call_soon_threadsafe(_resolve, waiter)


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
