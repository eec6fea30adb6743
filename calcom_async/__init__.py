"""calcom-async: an async-first, typed client for the Cal.com Platform API v2.

``async with CalCom(api_key="cal_live_…") as cal: booking = await cal.bookings.get(uid)``

Names are loaded on first use so that ``import calcom_async`` stays cheap (aiohttp itself is
imported when the first request is sent).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._generated import versions as _versions
from ._generated.versions import *  # noqa: F403  (API_VERSION_… of the document generated from)
from ._version import __version__

if TYPE_CHECKING:
    from ._auth import TokenPair
    from ._bulk import BulkError, BulkResult, gather
    from ._client import DEFAULT_BASE_URL, EU_BASE_URL, CalCom
    from ._drift import SchemaMismatchError
    from ._errors import (
        APIConnectionError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        CalComError,
        CalComUsageError,
        ConflictError,
        DeadlineExceededError,
        InsufficientScopeError,
        InternalServerError,
        NotFoundError,
        PermissionDeniedError,
        RateLimitError,
        ResponseValidationError,
        UnexpectedResponseTypeError,
        UnknownAPIVersionError,
        UnprocessableEntityError,
    )
    from ._http import AiohttpTransport
    from ._model import CalComModel, to_dict, to_json
    from ._options import RequestOptions
    from ._pagination import AsyncPaginator, Page
    from ._progress import Progress
    from ._ratelimit import RateLimit
    from ._response import APIResponse
    from ._retry import RetryPolicy
    from ._sync_checkpoint import SyncCheckpoint
    from ._sync_walk import BookingSync
    from ._transport import Request, Response, Transport, TransportError
    from ._types import UNSET, Unset
    from .blocking import CalComSync
    from .oauth import OAuthApp, OAuthError, OAuthToken, Scope
    from .stores import StoreDataError, StoreUnavailableError

_LAZY: dict[str, str] = {
    "CalCom": "._client",
    "DEFAULT_BASE_URL": "._client",
    "EU_BASE_URL": "._client",
    "CalComSync": ".blocking",
    "APIResponse": "._response",
    "CalComModel": "._model",
    "to_dict": "._model",
    "to_json": "._model",
    "SchemaMismatchError": "._drift",
    "RateLimit": "._ratelimit",
    "RequestOptions": "._options",
    "RetryPolicy": "._retry",
    "TokenPair": "._auth",
    "UNSET": "._types",
    "Unset": "._types",
    "AsyncPaginator": "._pagination",
    "Page": "._pagination",
    "Progress": "._progress",
    "BulkError": "._bulk",
    "BulkResult": "._bulk",
    "gather": "._bulk",
    "BookingSync": "._sync_walk",
    "SyncCheckpoint": "._sync_checkpoint",
    "AiohttpTransport": "._http",
    "Request": "._transport",
    "Response": "._transport",
    "Transport": "._transport",
    "TransportError": "._transport",
    "OAuthApp": ".oauth",
    "OAuthError": ".oauth",
    "OAuthToken": ".oauth",
    "Scope": ".oauth",
    "StoreDataError": ".stores",
    "StoreUnavailableError": ".stores",
    **dict.fromkeys(
        [
            "APIConnectionError",
            "APIStatusError",
            "APITimeoutError",
            "AuthenticationError",
            "BadRequestError",
            "CalComError",
            "CalComUsageError",
            "ConflictError",
            "DeadlineExceededError",
            "InsufficientScopeError",
            "InternalServerError",
            "NotFoundError",
            "PermissionDeniedError",
            "RateLimitError",
            "ResponseValidationError",
            "UnexpectedResponseTypeError",
            "UnknownAPIVersionError",
            "UnprocessableEntityError",
        ],
        "._errors",
    ),
}

__all__ = [
    "APIConnectionError",
    "APIResponse",
    "APIStatusError",
    "APITimeoutError",
    "AiohttpTransport",
    "AsyncPaginator",
    "AuthenticationError",
    "BadRequestError",
    "BookingSync",
    "BulkError",
    "BulkResult",
    "CalCom",
    "CalComError",
    "CalComModel",
    "CalComSync",
    "CalComUsageError",
    "ConflictError",
    "DEFAULT_BASE_URL",
    "DeadlineExceededError",
    "EU_BASE_URL",
    "InsufficientScopeError",
    "InternalServerError",
    "NotFoundError",
    "OAuthApp",
    "OAuthError",
    "OAuthToken",
    "Page",
    "PermissionDeniedError",
    "Progress",
    "RateLimit",
    "RateLimitError",
    "Request",
    "RequestOptions",
    "Response",
    "ResponseValidationError",
    "RetryPolicy",
    "SchemaMismatchError",
    "Scope",
    "StoreDataError",
    "StoreUnavailableError",
    "SyncCheckpoint",
    "TokenPair",
    "Transport",
    "TransportError",
    "UNSET",
    "UnexpectedResponseTypeError",
    "UnknownAPIVersionError",
    "UnprocessableEntityError",
    "Unset",
    "__version__",
    "gather",
    "to_dict",
    "to_json",
]
__all__ += _versions.__all__


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'calcom_async' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
