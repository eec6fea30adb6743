"""Shared fixtures: fake secrets with a scan for leaks, a fake clock, a mocked HTTP layer.

Every test secret contains ``SECRET`` (upper case). The autouse ``leak_scan`` fixture records every
object built from a ``calcom_async`` class during a test (exceptions included) and every log record
of the ``calcom_async`` logger, and fails the test if ``SECRET`` appears in a ``repr``, ``str``,
formatted traceback or log line.
"""

from __future__ import annotations

import asyncio
import heapq
import importlib
import itertools
import logging
import pkgutil
import traceback
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any

import aiohttp
import attrs
import pytest
from aioresponses import aioresponses

import calcom_async
from calcom_async import CalCom
from calcom_async._limiters import PROCESS_LIMITERS
from calcom_async._operation import AuthMode, Operation, Param
from calcom_async._types import UNSET, Unset

MARKER = "SECRET"
API_KEY = "cal_test_SECRETKEY_0123456789abcdef"
CLIENT_ID = "clxyz-client-id"
CLIENT_SECRET = "SECRET_CLIENT_SECRET_f6g7h8"
ACCESS_TOKEN = "SECRET_ACCESS_TOKEN_0001"
REFRESH_TOKEN = "SECRET_REFRESH_TOKEN_0001"
NEW_ACCESS_TOKEN = "SECRET_ACCESS_TOKEN_0002"
NEW_REFRESH_TOKEN = "SECRET_REFRESH_TOKEN_0002"
BASE = "https://api.cal.com"


# -- leak scan --------------------------------------------------------------------------------


def find_leaks(objects: Iterable[Any], records: Iterable[logging.LogRecord]) -> list[str]:
    """Texts (reprs, strs, tracebacks, log lines) that contain a test secret."""
    formatter = logging.Formatter("%(levelname)s %(name)s %(message)s")
    leaks = []
    for record in records:
        text = formatter.format(record)
        if MARKER in text:
            leaks.append(f"log record: {text}")
    for obj in objects:
        texts = [repr(obj), str(obj)]
        if isinstance(obj, BaseException):
            texts.append("".join(traceback.format_exception(obj)))
        leaks.extend(f"{type(obj).__name__}: {t}" for t in texts if MARKER in t)
    return leaks


def _our_classes() -> Iterator[type]:
    names = [
        m.name
        for m in pkgutil.iter_modules(calcom_async.__path__, "calcom_async.")
        if not m.name.startswith("calcom_async._generated")
    ]
    for name in names:
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and value.__module__ == name
                and "__init__" in value.__dict__
                and not issubclass(value, type)
            ):
                yield value


@pytest.fixture(autouse=True)
def leak_scan(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> Iterator[list[Any]]:
    created: list[Any] = []

    def track(cls: type) -> None:
        original = cls.__dict__["__init__"]

        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            created.append(self)

        monkeypatch.setattr(cls, "__init__", __init__)

    for cls in _our_classes():
        track(cls)
    caplog.set_level(logging.DEBUG, logger="calcom_async")
    yield created
    if request.node.get_closest_marker("leaks_expected"):
        return
    records = caplog.get_records("setup") + caplog.get_records("call")
    leaks = find_leaks(created, records)
    if leaks:
        pytest.fail("secrets leaked:\n" + "\n".join(leaks[:10]), pytrace=False)


@pytest.fixture(autouse=True)
def fresh_budgets() -> None:
    """Every test starts as a process with no rate-limit history: the budgets a test spent are
    kept past its clients (one budget per credential per process, ``calcom_async._limiters``)
    and would otherwise pace the next test's calls to the same server with the same key."""
    PROCESS_LIMITERS.clear()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "leaks_expected: skip the secret scan (its own tests)")


# -- fake clock -------------------------------------------------------------------------------


class FakeClock:
    """Virtual time: ``sleep`` returns when every other task is idle and time has been advanced
    to its deadline, earliest first. No real time passes."""

    def __init__(self, wall_start: float = 1_800_000_000.0) -> None:
        self.now = 0.0
        self.wall_start = wall_start
        self.sleeps: list[float] = []
        self._heap: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._driver: asyncio.Task[None] | None = None

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.wall_start + self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._heap, (self.now + seconds, next(self._seq), future))
        if self._driver is None or self._driver.done():
            self._driver = asyncio.get_running_loop().create_task(self._drive())
        await future

    async def _drive(self) -> None:
        loop = asyncio.get_running_loop()
        while self._heap:
            idle = 0
            while idle < 3:  # every other task is waiting on something
                await asyncio.sleep(0)
                ready = getattr(loop, "_ready", None)
                idle = idle + 1 if ready is None or not ready else 0
            deadline, _, future = heapq.heappop(self._heap)
            self.now = max(self.now, deadline)
            if not future.done():
                future.set_result(None)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def mock() -> Iterator[aioresponses]:
    with aioresponses() as m:
        yield m


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


def envelope(data: Any, **extra: Any) -> dict[str, Any]:
    return {"status": "success", "data": data, **extra}


def error_body(status: int, code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {
        "status": "error",
        "timestamp": "2026-01-01T00:00:00.000Z",
        "path": "/v2/x",
        "error": {"code": code, "message": message, "details": details},
    }


# -- a scripted fake API on top of aioresponses ------------------------------------------------


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
        import orjson

        return orjson.loads(self.data) if self.data else None


Reply = Callable[[Call], Any]


class FakeAPI:
    """Answers every request with the next scripted reply (or ``default``), recording calls.

    A reply is a ``CallbackResult``, an exception to raise, or a function of the :class:`Call`
    returning either (may be async).
    """

    def __init__(self, mock: aioresponses) -> None:
        import functools
        import re

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
    import orjson
    from aioresponses import CallbackResult

    return CallbackResult(status=status, body=orjson.dumps(body), headers=headers or {})


def text_reply(
    text: str | bytes, status: int, content_type: str = "text/html", headers: Any = None
) -> Any:
    from aioresponses import CallbackResult

    return CallbackResult(
        status=status, body=text, content_type=content_type, headers=headers or {}
    )


@pytest.fixture
def api(mock: aioresponses) -> FakeAPI:
    return FakeAPI(mock)


# -- synthetic operations -----------------------------------------------------------------------


@attrs.define(kw_only=True)
class Thing:
    id: int
    uid: str
    title: str | Unset = UNSET


@attrs.define(kw_only=True)
class ThingEnvelope:
    status: str
    data: Thing


@attrs.frozen(slots=True)
class SynthOp(Operation):
    """An operation row whose models are test classes."""

    response_cls: Any = None
    body_cls: Any = None

    def response_type(self) -> Any:
        return self.response_cls

    def body_type(self) -> Any:
        return self.body_cls


def make_op(**overrides: Any) -> Operation:
    """A GET /v2/things/{thingId} row returning an enveloped ``Thing``; override any field."""
    fields: dict[str, Any] = {
        "operation_id": "ThingsController_get",
        "name": "things.get",
        "method": "GET",
        "path": "/v2/things/{thingId}",
        "params": (
            Param("thingId", python_name="thing_id", location="path", required=True),
            Param("take", location="query", type=int),
        ),
        "body": None,
        "body_required": False,
        "response": "ThingEnvelope",
        "unwrap": True,
        "api_version": None,
        "auth": frozenset({AuthMode.API_KEY, AuthMode.ACCESS_TOKEN}),
        "auth_required": True,
        "pagination": None,
        "response_cls": ThingEnvelope,
    }
    fields.update(overrides)
    if fields["response"] is None:
        fields["response_cls"] = None
    return SynthOp(**fields)


THING = {"id": 1, "uid": "abc", "title": "Hello"}
