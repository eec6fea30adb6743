"""When to re-send a request, and how long to wait first.

- 429 is re-sent for every method: the server refused it without processing it.
- 502, 503, 504, timeouts and broken connections are re-sent for GET, PUT and DELETE, and for
  POST/PATCH only if the caller opted in (``retry_unsafe``): the server may have processed them.
- A connection that could not be opened (refused, DNS) is re-sent for every method.
- 500 and other statuses are not re-sent.

The wait is the server's ``Retry-After`` / ``X-RateLimit-Reset-*`` when it gave one, otherwise
exponential backoff with full jitter: ``uniform(0, min(cap, base * 2**attempt))``.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable

import attrs

__all__ = ["Failure", "RetryPolicy"]

RETRY_STATUSES = frozenset({429, 502, 503, 504})


class Failure(enum.Enum):
    """What went wrong with one attempt."""

    STATUS = "status"  #: an HTTP answer with an error status
    NOT_SENT = "not_sent"  #: the connection could not be opened: nothing reached the server
    CONNECTION = "connection"  #: the connection broke after the request may have been sent
    TIMEOUT = "timeout"


@attrs.frozen(slots=True, kw_only=True)
class RetryPolicy:
    max_retries: int = 2
    backoff_base: float = 0.5  #: seconds; the first retry waits up to this
    backoff_cap: float = 8.0  #: seconds; no computed backoff is longer
    max_wait: float = 120.0  #: a server asking for a longer wait is not retried
    random: Callable[[], float] = attrs.field(default=random.random, repr=False)

    def should_retry(
        self,
        attempt: int,
        failure: Failure,
        *,
        idempotent: bool,
        status: int | None = None,
        retry_unsafe: bool = False,
        max_retries: int | None = None,
    ) -> bool:
        """Whether attempt number ``attempt`` (0 = the first) may be followed by another."""
        limit = self.max_retries if max_retries is None else max_retries
        if attempt >= limit:
            return False
        if failure is Failure.NOT_SENT or (failure is Failure.STATUS and status == 429):
            return True
        if failure is Failure.STATUS and status not in RETRY_STATUSES:
            return False
        return idempotent or retry_unsafe

    def delay(self, attempt: int, retry_after: float | None = None) -> float | None:
        """Seconds to wait before the retry that follows ``attempt``; None: do not retry."""
        if retry_after is not None:
            return retry_after if retry_after <= self.max_wait else None
        return self.random() * min(self.backoff_cap, self.backoff_base * 2.0**attempt)
