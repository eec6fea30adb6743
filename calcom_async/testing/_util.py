"""Small helpers of the fake server: errors, times, envelopes."""

from __future__ import annotations

import datetime as dt
from typing import Any

__all__ = ["ApiError", "iso", "now_iso", "parse_time"]


class ApiError(Exception):
    """Answered as Cal.com's error envelope."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        headers: Any = None,
        *,
        bare: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers: dict[str, str] = dict(headers or {})
        #: answered without the envelope, as ``{"error": {"message": …}}`` (the live API does so
        #: for some failures, e.g. a slot reservation that overlaps another)
        self.bare = bare


def bad_request(message: str, details: Any = None) -> ApiError:
    return ApiError(400, "BadRequestException", message, details)


def not_found(message: str) -> ApiError:
    """NestJS's NotFoundException as the live API sends it: ``details`` repeats the message with
    ``error`` and ``statusCode``."""
    details = {"message": message, "error": "Not Found", "statusCode": 404}
    return ApiError(404, "NotFoundException", message, details)


def ms(ts: float) -> float:
    """A time kept at the API's precision: whole milliseconds."""
    return round(ts * 1000) / 1000


def iso(ts: float) -> str:
    """Unix seconds -> ``2024-08-13T15:30:00.000Z`` (to the nearest millisecond)."""
    millis = round(ts * 1000)
    when = dt.datetime.fromtimestamp(millis // 1000, dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis % 1000:03d}Z"


def now_iso(ts: float) -> str:
    return iso(ts)


def parse_time(value: str, *, end_of_day: bool = False) -> float:
    """An ISO date or date-time (``Z`` or offset; naive means UTC) -> Unix seconds.

    A bare date is the start of that day (or its end with ``end_of_day``). Raises ValueError."""
    text = value.strip()
    if len(text) == 10:
        day = dt.date.fromisoformat(text)
        start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()
        return start + 86400 - 0.001 if end_of_day else start
    when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def slugify(text: str) -> str:
    out = "".join(c.lower() if c.isalnum() else "-" for c in text)
    return "-".join(part for part in out.split("-") if part)
