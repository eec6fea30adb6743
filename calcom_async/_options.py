"""Per-call options, accepted by every generated method as ``request_options=``."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

__all__ = ["RequestOptions"]


@attrs.frozen(slots=True, kw_only=True)
class RequestOptions:
    """Overrides for one call. Every field left as ``None`` takes the client's setting.

    - ``api_version``: send this ``cal-api-version`` instead of the operation's own (must be known).
    - ``timeout`` / ``connect_timeout``: seconds, total and for connecting.
    - ``max_retries``: retries after the first attempt.
    - ``retry_unsafe``: allow re-sending a POST/PATCH after an error the server may have processed.
    - ``extra_headers``: more headers (never overrides auth or version headers).
    """

    api_version: str | None = None
    timeout: float | None = None
    connect_timeout: float | None = None
    max_retries: int | None = None
    retry_unsafe: bool | None = None
    extra_headers: Mapping[str, str] | None = None
