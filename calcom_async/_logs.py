"""The pipeline's log lines (logger ``calcom_async``), each with its facts as ``calcom_*``
fields too, for structured log handlers: an attempt (DEBUG) and a retry about to wait (INFO).
The waits of the gate and the deadline are logged by ``_deadline.log_wait``."""

from __future__ import annotations

import logging

from ._clock import Clock
from ._operation import Operation

__all__ = ["log_attempt", "log_retry"]

logger = logging.getLogger("calcom_async")


def log_attempt(
    op: Operation,
    url_path: str,
    outcome: str,
    sent: float,
    clock: Clock,
    request_id: str,
    attempt: int,
) -> None:
    """One attempt and how it ended (a status, or the connection error), at DEBUG."""
    duration = clock.monotonic() - sent
    logger.debug(
        "%s %s -> %s in %.3fs (request id %s, retry %d)",
        op.method,
        url_path,
        outcome,
        duration,
        request_id,
        attempt,
        extra={
            "calcom_operation": op.name,
            "calcom_method": op.method,
            "calcom_path": url_path,
            "calcom_outcome": outcome,
            "calcom_duration": duration,
            "calcom_request_id": request_id,
            "calcom_retry": attempt,
        },
    )


def log_retry(
    op: Operation,
    url_path: str,
    outcome: str,
    delay: float,
    waiting_for: str,
    limit: str | None,
    request_id: str | None,
    retry: int,
) -> None:
    """A retry that waits ``delay`` seconds first (for the rate limit or the backoff), at INFO."""
    logger.info(
        "retrying %s %s in %.2fs after %s (request id %s, retry %d)",
        op.method,
        url_path,
        delay,
        outcome,
        request_id,
        retry,
        extra={
            "calcom_operation": op.name,
            "calcom_method": op.method,
            "calcom_path": url_path,
            "calcom_outcome": outcome,
            "calcom_wait": delay,
            "calcom_waiting_for": waiting_for,
            "calcom_limit": limit,
            "calcom_request_id": request_id,
            "calcom_retry": retry,
        },
    )
