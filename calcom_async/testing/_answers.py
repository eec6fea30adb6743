"""The fake's answers that are not a handler's: Cal.com's error envelope, and what an injected
fault sends instead (an HTML error page, an empty or malformed body, a truncated answer, a dropped
connection)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web

from ._faults import Fault
from ._util import ApiError, iso

__all__ = ["error_response", "fault_response"]

_HTML = (
    b"<html>\r\n<head><title>{status} Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>{status} Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


def error_response(
    request: web.Request, error: ApiError, headers: Mapping[str, str], *, now: float
) -> web.Response:
    """Cal.com's error envelope (or the bare ``{"error"}`` body) for ``error``, at ``now``."""
    body: dict[str, Any] = {
        "status": "error",
        "timestamp": iso(now),
        "path": request.path_qs,
        "error": {"code": error.code, "message": error.message},
    }
    if error.details is not None:
        body["error"]["details"] = error.details
    if error.bare:
        body = {"error": {"message": error.message}}
    out = {**headers, **error.headers}
    return web.Response(
        status=error.status,
        body=orjson.dumps(body),
        content_type="application/json",
        headers=out,
    )


async def fault_response(
    request: web.Request, fault: Fault, headers: dict[str, str], content: bytes, *, now: float
) -> web.StreamResponse | None:
    """The answer an injected fault gives instead of ``content`` (None: answer normally)."""
    kind = fault.kind
    if kind == "error":
        error = ApiError(fault.status, "InternalServerErrorException", "Internal server error")
        return error_response(request, error, headers, now=now)
    if kind == "html":
        page = _HTML.replace(b"{status}", str(fault.status).encode())
        return web.Response(
            status=fault.status, body=page, content_type="text/html", headers=headers
        )
    if kind == "empty":
        return web.Response(status=fault.status, body=b"", headers=headers)
    if kind == "malformed":
        return web.Response(
            status=200,
            body=b'{"status":"success","data":{"id":1,',
            content_type="application/json",
            headers=headers,
        )
    if kind == "truncate":
        full = content or b'{"status":"success","data":{"id":1,"title":"truncated"}}'
        response = web.StreamResponse(status=200, headers=headers)
        response.content_type = "application/json"
        response.content_length = len(full)
        await response.prepare(request)
        await response.write(full[: max(1, len(full) // 2)])
        _close(request)
        return response
    if kind == "drop":
        _close(request)
        response = web.Response(status=499)  # never reaches the client
        return response
    return None


def _close(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.close()
