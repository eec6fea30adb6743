"""Time, injectable: the session reads the clock and sleeps only through a :class:`Clock`.

Tests pass a fake clock so retries, backoff and rate-limit waits run without real sleeps.
"""

from __future__ import annotations

import time
from typing import Protocol

import anyio

__all__ = ["Clock", "SystemClock"]


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (waits and deadlines)."""
        ...

    def time(self) -> float:
        """Seconds since the Unix epoch (token expiry, HTTP dates, Unix-time reset headers)."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock (read on every request: the C functions themselves, no frame around them)."""

    monotonic = staticmethod(time.monotonic)
    time = staticmethod(time.time)

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)
