"""Per-call options, accepted by every generated method as ``request_options=``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["RequestOptions", "check_retries", "check_seconds"]


def check_seconds(name: str, value: Any) -> None:
    """A timeout is ``None`` (no limit) or a positive number of seconds."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        from ._errors import CalComUsageError

        raise CalComUsageError(
            f"{name} must be a positive number of seconds or None, got {value!r}"
        )


def check_retries(value: Any, *, optional: bool = False) -> None:
    """``max_retries`` is an integer >= 0 (``optional``: or None, the client's setting)."""
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        from ._errors import CalComUsageError

        allowed = "an integer >= 0 or None" if optional else "an integer >= 0"
        raise CalComUsageError(f"max_retries must be {allowed}, got {value!r}")


def _seconds(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    check_seconds(attribute.name, value)


def _retries(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    check_retries(value, optional=True)


@attrs.frozen(slots=True, kw_only=True)
class RequestOptions:
    """Overrides for one call. Every field left as ``None`` takes the client's setting.

    - ``api_version``: send this ``cal-api-version`` instead of the operation's own (must be known).
    - ``timeout`` / ``connect_timeout``: seconds, total and for connecting.
    - ``max_retries``: retries after the first attempt.
    - ``retry_unsafe``: allow re-sending a POST/PATCH after an error the server may have processed.
    - ``extra_headers``: more headers (never overrides auth or version headers).
    - ``strict``: raise ``ResponseValidationError`` when the answer deviates from its model,
      instead of reading it tolerantly (the value kept as sent, the deviation logged on
      ``calcom_async.drift``).
    """

    api_version: str | None = None
    timeout: float | None = attrs.field(default=None, validator=_seconds)
    connect_timeout: float | None = attrs.field(default=None, validator=_seconds)
    max_retries: int | None = attrs.field(default=None, validator=_retries)
    retry_unsafe: bool | None = None
    extra_headers: Mapping[str, str] | None = None
    strict: bool | None = None
