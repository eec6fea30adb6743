"""``MockTransport``: a client whose requests a function of yours answers (httpx's shape).

    def handler(request: Request) -> Response:
        return json_response({"status": "success", "data": {"id": 1}})

    async with CalCom(api_key="cal_test_…", transport=MockTransport(handler)) as cal:
        me = await cal.me.get()

Nothing goes over the network, and everything else runs as usual: auth, the rate limiter (fed
by the headers your answers carry), retries, deadlines, status errors, models. For a stateful
fake of the whole API use :class:`~calcom_async.testing.FakeCalCom`.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson

from .._transport import Request, Response

__all__ = ["MockTransport", "json_response"]

Handler = Callable[[Request], "Response | Awaitable[Response]"]


class MockTransport:
    """A :class:`~calcom_async.Transport` that answers each request with ``handler(request)``
    (a :class:`~calcom_async.Response`, or an awaitable of one; raise
    :class:`~calcom_async.TransportError` for a request that gets no answer). ``requests``:
    every request it was given, in order (auth headers and timeouts included)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self.closed = False

    def __repr__(self) -> str:
        return f"MockTransport(requests={len(self.requests)}, closed={self.closed})"

    async def send(self, request: Request) -> Response:
        self.requests.append(request)
        answer = self.handler(request)
        if inspect.isawaitable(answer):
            answer = await answer
        return answer

    async def aclose(self) -> None:
        self.closed = True


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """An answer with ``body`` as JSON (``Content-Type: application/json``)."""
    return Response(
        status,
        {"Content-Type": "application/json", **(headers or {})},
        orjson.dumps(body),
    )
