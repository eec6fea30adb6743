"""Building the request: the first step of the pipeline (``Session.request``, ``_pipeline.py``).

:func:`build` turns one call — an operation row, its path, query and body values, the per-call
options — into the :class:`~calcom_async._transport.Request` every attempt sends (auth is added
per attempt): the row of a pinned version (:func:`route`), the values encoded and checked
(``_session.py``: bad input raises :class:`CalComUsageError` before anything is sent), and the
headers that do not depend on the attempt (:func:`headers`).
"""

from __future__ import annotations

import functools
import logging
import os
import platform
from collections.abc import Mapping
from typing import Any

import attrs

from ._errors import CalComUsageError
from ._operation import Operation
from ._options import RequestOptions
from ._retry import RetryPolicy
from ._session import check_api_version, encode_body, encode_query, render_path
from ._transport import Request
from ._version import __version__

__all__ = [
    "NO_OPTIONS",
    "SessionConfig",
    "api_version",
    "build",
    "headers",
    "new_request_id",
    "route",
    "user_agent",
]

logger = logging.getLogger("calcom_async")

NO_OPTIONS = RequestOptions()
#: Headers a caller's extra headers may not replace.
_PROTECTED = frozenset({"authorization", "x-cal-client-id", "x-cal-secret-key", "cal-api-version"})
#: (operation, version) pairs already warned about: one warning per process each
_WARNED_VERSIONS: set[tuple[str, str]] = set()


@attrs.frozen(kw_only=True)
class SessionConfig:
    """A client's settings (a ``with_options`` copy gets its own)."""

    base_url: str  #: scheme://host[:port][/prefix], without a trailing ``/v2``
    timeout: float | None = 120.0
    connect_timeout: float | None = 10.0
    retry: RetryPolicy = attrs.field(factory=RetryPolicy)
    retry_unsafe: bool = False
    #: raise ResponseValidationError on an answer that deviates from its model (else tolerate)
    strict: bool = False
    api_versions: Mapping[str, str] = attrs.field(factory=dict)  #: op name / family -> version
    default_headers: Mapping[str, str] = attrs.field(factory=dict)


@functools.cache
def user_agent() -> str:
    import aiohttp

    return (
        f"calcom-async/{__version__} python/{platform.python_version()} "
        f"aiohttp/{aiohttp.__version__}"
    )


#: the bits of a version-4 UUID (RFC 9562) that are not random: the version and the variant
_UUID4_CLEAR = ~((0xF << 76) | (0x3 << 62))
_UUID4_SET = (0x4 << 76) | (0x2 << 62)


def new_request_id() -> str:
    """``req_`` and the hex of a random version-4 UUID: one per call, kept across its retries
    (what ``uuid.uuid4().hex`` gives, without building a ``uuid.UUID`` on every call)."""
    bits = int.from_bytes(os.urandom(16)) & _UUID4_CLEAR | _UUID4_SET
    return f"req_{bits:032x}"


def build(
    config: SessionConfig,
    op: Operation,
    *,
    path: Mapping[str, Any] | None,
    query: Mapping[str, Any] | None,
    body: Any,
    options: RequestOptions,
) -> tuple[Operation, Request, str]:
    """The row the call uses, the request its attempts send (without auth, timeouts) and the
    rendered path (for log lines and errors)."""
    version = api_version(config, op, options)  # once per call: the row and the header
    op = _routed(op, version)
    url_path = render_path(op, path or {})
    params = encode_query(op, query or {})
    content = encode_body(op, body)
    request = Request(
        method=op.method,
        url=config.base_url + url_path,
        params=params,
        headers=headers(config, options, version, has_body=content is not None),
        content=content,
    )
    return op, request, url_path or "/"


def api_version(
    config: SessionConfig, op: Operation, options: RequestOptions = NO_OPTIONS
) -> str | None:
    """The ``cal-api-version`` a call of ``op`` sends: per call, pinned, or the operation's."""
    if options.api_version is not None:
        return check_api_version(options.api_version, f"request_options for {op.name}")
    pins = config.api_versions
    if pins:
        for key in op.pin_keys:
            if key in pins:
                return pins[key]
    return op.api_version


def route(config: SessionConfig, op: Operation, options: RequestOptions = NO_OPTIONS) -> Operation:
    """The row a call of ``op`` uses: its own, or the row of the live version pinned for it
    (``VARIANTS``: its own parameters, answer and paging). A well-formed version the table
    does not know for ``op`` is sent as asked, with one warning per process."""
    return _routed(op, api_version(config, op, options))


def _routed(op: Operation, version: str | None) -> Operation:
    """The row of ``op`` for the ``cal-api-version`` the call sends (see :func:`route`)."""
    if version is None or version == op.api_version:
        return op
    from ._generated.operations import VARIANTS

    if version not in op.known_versions and (op.name, version) not in _WARNED_VERSIONS:
        _WARNED_VERSIONS.add((op.name, version))
        known = ", ".join(sorted(op.known_versions)) or "none"
        logger.warning(
            "cal-api-version %s is not one the client knows for %s (known: %s): sent as "
            "asked, the server decides; answers are read with the %s models",
            version,
            op.name,
            known,
            op.api_version or "document's",
        )
    return VARIANTS.get((op.operation_id, version), op)


def headers(
    config: SessionConfig, options: RequestOptions, version: str | None, *, has_body: bool
) -> dict[str, str]:
    """The headers every attempt of the call sends (auth is added per attempt): ``Accept``,
    ``User-Agent``, the default and extra headers, ``Content-Type``, ``cal-api-version`` and
    ``X-Request-Id`` (a caller's own, or a new one)."""
    sent = {"Accept": "application/json", "User-Agent": user_agent()}
    extras = [h for h in (config.default_headers, options.extra_headers) if h]
    for extra in extras:
        for key, value in extra.items():
            if not isinstance(value, str) or "\r" in value or "\n" in value:
                raise CalComUsageError(f"header {key!r}: the value must be a one-line str")
            if key.lower() not in _PROTECTED:
                sent[key] = value
    if has_body:
        sent["Content-Type"] = "application/json"
    if version is not None:
        sent["cal-api-version"] = version
    request_id = None
    if extras:  # the caller's own request id, whatever its spelling, is the one sent
        request_id = next((v for k, v in sent.items() if k.lower() == "x-request-id"), None)
        sent = {k: v for k, v in sent.items() if k.lower() != "x-request-id"}
    sent["X-Request-Id"] = request_id or new_request_id()
    return sent
