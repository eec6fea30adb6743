"""A call's deadline, seen by every wait the call makes.

``timeout`` (``CalCom(timeout=…)``, ``RequestOptions(timeout=…)``) covers the whole call: the
rate limiter, a free connection slot, the attempts, the backoff between them and the wait for a
token refresh. Each wait asks its :class:`Deadline` first; a wait of known length that does not
fit raises :class:`~calcom_async.DeadlineExceededError` at once (nothing more is sent), a wait of
unknown length (an answer, a lock) is cut off when the deadline comes.

``Session`` sets :data:`CURRENT` for the duration of a call, so the waits that sit behind
interfaces (a :class:`~calcom_async.stores.Store`, the refresh lock) find it without a new
parameter. A call made *for* the call (a token refresh) has its own deadline: the refresh serves
every waiting call, and cutting it short could lose a rotated token pair.

Every wait longer than :data:`LOG_WAITS_OVER` seconds is logged at INFO on ``calcom_async``.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

import attrs

from ._errors import DeadlineExceededError

__all__ = ["CURRENT", "LOG_WAITS_OVER", "Deadline", "current", "log_wait"]

logger = logging.getLogger("calcom_async")

#: waits longer than this (seconds) are logged at INFO
LOG_WAITS_OVER = 1.0


@attrs.frozen(slots=True)
class Deadline:
    """``at``: the monotonic time the call must be done by (None: no limit)."""

    at: float | None
    timeout: float | None
    request_id: str | None = None
    call: str = ""  #: "GET /v2/me", for messages and log lines

    def remaining(self, now: float) -> float | None:
        return None if self.at is None else self.at - now

    def exceeded(
        self,
        now: float,
        waiting_for: str,
        *,
        limit: str | None = None,
        wait: float | None = None,
        cause: str = "",
    ) -> DeadlineExceededError:
        left = self.remaining(now)
        left_text = f"{max(0.0, left):.2f}s left" if left is not None else "no limit"
        what = f"{waiting_for} ({limit!r} limit)" if limit is not None else waiting_for
        how_long = f"a {wait:.2f}s wait for the {what}" if wait is not None else f"the {what}"
        message = (
            f"{self.call + ': ' if self.call else ''}{how_long} does not fit in the call's "
            f"timeout of {self.timeout:g}s ({left_text}): raised at once instead of waiting"
            if wait is not None
            else f"{self.call + ': ' if self.call else ''}the call's timeout of "
            f"{self.timeout:g}s ran out waiting for {how_long.removeprefix('the ')}"
        )
        if cause:
            message += f" (after {cause})"
        if self.request_id:
            message += f" (request id {self.request_id})"
        return DeadlineExceededError(
            message,
            waiting_for=waiting_for,
            limit=limit,
            wait=wait,
            timeout=self.timeout,
            remaining=left,
            request_id=self.request_id,
        )

    def check(
        self,
        now: float,
        wait: float,
        waiting_for: str,
        *,
        limit: str | None = None,
        cause: str = "",
    ) -> None:
        """Raise :class:`DeadlineExceededError` if a wait of ``wait`` seconds ends too late."""
        if self.at is not None and now + wait > self.at:
            raise self.exceeded(now, waiting_for, limit=limit, wait=wait, cause=cause)


#: the deadline of the call running in this context (set by ``Session`` around each call)
CURRENT: ContextVar[Deadline | None] = ContextVar("calcom_async_deadline", default=None)


def current() -> Deadline | None:
    return CURRENT.get()


def log_wait(
    seconds: float,
    waiting_for: str,
    limit: str | None,
    deadline: Deadline | None,
    now: float,
) -> None:
    """Log a wait at INFO when it is longer than :data:`LOG_WAITS_OVER` (message and fields)."""
    if seconds <= LOG_WAITS_OVER or not logger.isEnabledFor(logging.INFO):
        return
    call = deadline.call if deadline is not None else ""
    request_id = deadline.request_id if deadline is not None else None
    left = deadline.remaining(now) if deadline is not None else None
    logger.info(
        "waiting %.2fs for the %s%s%s%s",
        seconds,
        waiting_for,
        f" ({limit!r} limit)" if limit is not None else "",
        f" before {call}" if call else "",
        f" (request id {request_id})" if request_id else "",
        extra={
            "calcom_wait": seconds,
            "calcom_waiting_for": waiting_for,
            "calcom_limit": limit,
            "calcom_call": call or None,
            "calcom_request_id": request_id,
            "calcom_deadline_left": left,
        },
    )
