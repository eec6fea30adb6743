"""A scripted fake API on top of aioresponses (it patches aiohttp, so the real session pipeline
runs up to the socket), and a client aimed at it. Fixtures ``api`` and ``make_client``, listed
in the conftest of each folder that uses them (with ``clock``, which ``make_client`` needs)."""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import aiohttp
import orjson
import pytest
from aioresponses import CallbackResult, aioresponses

from calcom_async import CalCom
from tests.support.clock import FakeClock
from tests.support.leaks import API_KEY

BASE = "https://api.cal.com"
#: what the fake API answers (enveloped) when no reply is queued
THING = {"id": 1, "uid": "abc", "title": "Hello"}


class Call:
    """One request the fake API received."""

    def __init__(self, method: str, url: Any, kwargs: dict[str, Any]) -> None:
        self.method = method
        self.url = url  #: yarl URL, query merged in (sorted by aioresponses)
        self.headers: dict[str, str] = dict(kwargs.get("headers") or {})
        self.params: list[tuple[str, str]] = list(kwargs.get("params") or [])
        self.data: bytes | None = kwargs.get("data")
        self.timeout: Any = kwargs.get("timeout")

    @property
    def path(self) -> str:
        return str(self.url.raw_path)

    def json(self) -> Any:
        return orjson.loads(self.data) if self.data else None


Reply = Callable[[Call], Any]


class FakeAPI:
    """Answers every request with the next scripted reply (or ``default``), recording calls.

    A reply is a ``CallbackResult``, an exception to raise, or a function of the :class:`Call`
    returning either (may be async).
    """

    def __init__(self, mock: aioresponses) -> None:
        self.calls: list[Call] = []
        self.replies: list[Any] = []
        self.default: Any = None
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            mock.add(
                re.compile(r".*"),
                method=method,
                callback=functools.partial(self._dispatch, method),
                repeat=True,
            )

    def queue(self, *replies: Any) -> FakeAPI:
        self.replies.extend(replies)
        return self

    async def _dispatch(self, method: str, url: Any, **kwargs: Any) -> Any:
        call = Call(method, url, kwargs)
        self.calls.append(call)
        reply = self.replies.pop(0) if self.replies else self.default
        if reply is None:
            reply = json_reply({"status": "success", "data": THING})
        if callable(reply) and not isinstance(reply, type):
            reply = reply(call)
            if asyncio.iscoroutine(reply):
                reply = await reply
        if isinstance(reply, BaseException):
            raise reply
        if getattr(reply, "response_class", True) is None:
            reply.response_class = MockResponse
        return reply


class _SentWriter:
    output_size = 0


class MockResponse(aiohttp.ClientResponse):
    """aioresponses 0.7.9 builds responses without the ``stream_writer`` aiohttp 3.14 requires."""

    def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", _SentWriter())
        super().__init__(method, url, **kwargs)


def json_reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Any:
    return CallbackResult(status=status, body=orjson.dumps(body), headers=headers or {})


def text_reply(
    text: str | bytes, status: int, content_type: str = "text/html", headers: Any = None
) -> Any:
    return CallbackResult(
        status=status, body=text, content_type=content_type, headers=headers or {}
    )


def error_body(status: int, code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {
        "status": "error",
        "timestamp": "2026-01-01T00:00:00.000Z",
        "path": "/v2/x",
        "error": {"code": code, "message": message, "details": details},
    }


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    """Every aiohttp request of the test answered by a :class:`FakeAPI`."""
    with aioresponses() as mock:
        yield FakeAPI(mock)


@pytest.fixture
async def make_client(clock: FakeClock) -> AsyncIterator[Callable[..., CalCom]]:
    """``make_client(**kwargs)``: a CalCom on the fake clock (API key by default), closed after."""
    clients: list[CalCom] = []

    def make(**kwargs: Any) -> CalCom:
        kwargs.setdefault("clock", clock)
        if not {"api_key", "client_id", "access_token"} & kwargs.keys():
            kwargs["api_key"] = API_KEY
        client = CalCom(**kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
