"""A blocking facade for scripts and notebooks: the same resources and names, no ``await``.

::

    from calcom_async.blocking import CalComSync

    with CalComSync(api_key="cal_live_…") as cal:
        booking = cal.bookings.get("uid")
        raw = cal.bookings.with_raw_response.get("uid")

The async client runs on an event loop in a daemon thread behind an anyio ``BlockingPortal``;
each call is handed to that loop and its result (or exception) handed back. Async iterators
(paginators, ``pages()``) come back as plain iterables: ``for booking in cal.bookings.list(): …``.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import queue
import threading
import warnings
import weakref
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, Self

import anyio
from anyio.from_thread import BlockingPortal

from ._client import CalCom
from ._resource import BaseResource

__all__ = ["CalComSync"]


def _run_portal(ready: queue.Queue[BlockingPortal | BaseException]) -> None:
    async def main() -> None:
        async with BlockingPortal() as portal:
            ready.put(portal)
            await portal.sleep_until_stopped()

    try:
        anyio.run(main)
    except BaseException as exc:  # pragma: no cover - reported to the starting thread
        ready.put(exc)


class _Loop:
    """The portal thread; stopped once, by ``close()`` or at garbage collection / exit."""

    def __init__(self) -> None:
        ready: queue.Queue[BlockingPortal | BaseException] = queue.Queue()
        self.thread = threading.Thread(
            target=_run_portal, args=(ready,), name="calcom-async-portal", daemon=True
        )
        self.thread.start()
        started = ready.get()
        if isinstance(started, BaseException):  # pragma: no cover
            raise started
        self.portal = started

    def stop(self, client: CalCom) -> None:
        try:
            self.portal.call(client.aclose)
        finally:
            self.portal.call(self.portal.stop)
            self.thread.join(timeout=10)


def _finalize(loop: _Loop, client: CalCom) -> None:
    warnings.warn(
        "CalComSync was not closed: use `with CalComSync(...)` or call `.close()`",
        ResourceWarning,
        stacklevel=2,
    )
    with contextlib.suppress(Exception):  # never crash at garbage collection or exit
        loop.stop(client)


class _Proxy:
    """Wraps a resource (or the client): coroutine methods become blocking calls."""

    __slots__ = ("_portal", "_target")

    def __init__(self, portal: BlockingPortal, target: Any) -> None:
        self._portal = portal
        self._target = target

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return _wrap(self._portal, getattr(self._target, name))

    def __dir__(self) -> list[str]:
        return [n for n in dir(self._target) if not n.startswith("_")]

    def __repr__(self) -> str:
        return f"<blocking {self._target!r}>"


def _wrap(portal: BlockingPortal, value: Any) -> Any:
    if isinstance(value, BaseResource):
        return _Proxy(portal, value)
    if inspect.ismethod(value) or inspect.iscoroutinefunction(value):

        @functools.wraps(value)
        def call(*args: Any, **kwargs: Any) -> Any:
            result = portal.call(functools.partial(_call, value, args, kwargs))
            return _wrap(portal, result)

        return call
    if hasattr(value, "__aiter__"):
        return _IterableProxy(portal, value)
    return value


class _IterableProxy(_Proxy):
    """An async iterable (a paginator, ``pages()``): iterate it with a plain ``for``; its
    coroutine methods (``to_list()``) block like the resources' methods."""

    __slots__ = ()

    def __iter__(self) -> Iterator[Any]:
        return _iterate(self._portal, self._target)


async def _call(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    result = fn(*args, **kwargs)
    if inspect.iscoroutine(result):  # not other awaitables: a paginator stays iterable
        result = await result
    return result


def _iterate(portal: BlockingPortal, iterable: Any) -> Iterator[Any]:
    iterator = portal.call(_aiter, iterable)
    while True:
        try:
            item = portal.call(iterator.__anext__)
        except StopAsyncIteration:
            return
        yield _wrap(portal, item)


async def _aiter(iterable: Any) -> Any:
    return iterable.__aiter__()


class CalComSync:
    """The blocking client: takes the same arguments as :class:`~calcom_async.CalCom`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        loop = _Loop()
        try:
            client = loop.portal.call(functools.partial(_make, args, kwargs))
        except BaseException:
            loop.portal.call(loop.portal.stop)
            loop.thread.join(timeout=10)
            raise
        self._init(loop, client, owner=True)

    def _init(self, loop: _Loop, client: CalCom, *, owner: bool) -> None:
        self._loop = loop
        self._client = client
        self._proxy = _Proxy(loop.portal, client)
        self._finalizer = weakref.finalize(self, _finalize, loop, client) if owner else None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._proxy, name)

    def __dir__(self) -> list[str]:
        return sorted(set(dir(self._proxy)) | {"close", "with_options"})

    def with_options(self, **options: Any) -> CalComSync:
        """A copy with other settings (see ``CalCom.with_options``), on the same thread."""
        copy = object.__new__(CalComSync)
        copy._init(self._loop, self._client.with_options(**options), owner=False)
        return copy

    def close(self) -> None:
        """Close the client and stop its thread."""
        if self._finalizer is not None and self._finalizer.detach() is not None:
            self._loop.stop(self._client)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"CalComSync({self._client!r})"


async def _make(args: tuple[Any, ...], kwargs: dict[str, Any]) -> CalCom:
    return CalCom(*args, **kwargs)
