"""``Progress``: how far a long walk has come (paginators and ``cal.bookings.sync()``).

    def show(p: Progress) -> None:
        print(f"{p.items}/{p.total or '?'} items, {p.requests} requests, "
              f"{p.rate_limit_wait:.1f}s waiting for the rate limit")

    async for booking in cal.bookings.list(on_page=show): ...
    walk = cal.bookings.list(); ...; walk.progress          # the same, read when you like

The time spent waiting for the rate limit is measured where the client waits (its limiter, a
shared store's budget, a retry after a 429) and credited to the request that waited, so
concurrent walks on one client each see their own waits.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import TypeVar

import attrs

__all__ = ["OnPage", "Progress"]

T = TypeVar("T")


@attrs.frozen(slots=True)
class Progress:
    """A snapshot of a walk, handed to ``on_page`` after each page and kept as ``.progress``."""

    #: items received so far (a paginator: up to ``max_items``; a sync: bookings yielded or
    #: about to be, repeats at the watermark not counted)
    items: int = 0
    #: how many items the walk will have in all, when the server says (``totalItems``): for a
    #: sync an estimate, since bookings change while it runs; None when unknown
    total: int | None = None
    requests: int = 0  #: pages fetched (retries of a page not counted)
    rate_limit_wait: float = 0.0  #: seconds spent waiting for the rate limit in those requests
    elapsed: float = 0.0  #: seconds since the walk started

    @property
    def fraction(self) -> float | None:
        """``items / total`` in ``[0, 1]`` when the total is known."""
        if not self.total:
            return None
        return min(1.0, self.items / self.total)


#: what ``on_page=`` takes: a plain callable, called in the event loop's thread (keep it quick)
OnPage = Callable[[Progress], object]

# a mutable cell per metered request: waits anywhere below add to it (tasks started inside copy
# the context, so prefetched pages are metered too)
_WAITED: ContextVar[list[float] | None] = ContextVar("calcom_async_waited", default=None)


def record_wait(seconds: float) -> None:
    """Credit a rate-limit wait to the request being metered (if any)."""
    cell = _WAITED.get()
    if cell is not None and seconds > 0:
        cell[0] += seconds


async def metered(call: Callable[[], Awaitable[T]]) -> tuple[T, float]:
    """Run ``call()`` and return its result with the seconds it waited for the rate limit."""
    cell = [0.0]
    token = _WAITED.set(cell)
    try:
        result = await call()
    finally:
        _WAITED.reset(token)
    return result, cell[0]
