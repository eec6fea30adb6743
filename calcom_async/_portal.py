"""The thread behind ``CalComSync`` and what crosses it (``calcom_async.blocking``).

The async client runs on an event loop in a daemon thread behind an anyio ``BlockingPortal``
(:class:`Loop`); each call is handed to that loop and its result (or exception) handed back. One
small generic proxy serves every resource (:class:`Proxy`): each public attribute of the async
resource is looked up and wrapped (a coroutine method becomes a blocking call, a sub-resource a
proxy, a paginator a :class:`SyncPaginator`, another async iterable a plain iterable).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import queue
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anyio
from anyio.from_thread import BlockingPortal

from ._resource import BaseResource

if TYPE_CHECKING:
    from ._client import CalCom
    from ._pagination import AsyncPaginator, Page
    from ._progress import Progress

__all__ = ["Loop", "Proxy", "SyncPaginator", "finalize"]

T = TypeVar("T")


def _run_portal(ready: queue.Queue[BlockingPortal | BaseException]) -> None:
    async def main() -> None:
        async with BlockingPortal() as portal:
            ready.put(portal)
            await portal.sleep_until_stopped()

    try:
        anyio.run(main)
    except BaseException as exc:  # pragma: no cover - reported to the starting thread
        ready.put(exc)


class Loop:
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


def finalize(loop: Loop, client: CalCom) -> None:
    warnings.warn(
        "CalComSync was not closed: use `with CalComSync(...)` or call `.close()`",
        ResourceWarning,
        stacklevel=2,
    )
    with contextlib.suppress(Exception):  # never crash at garbage collection or exit
        loop.stop(client)


class Proxy:
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
        return Proxy(portal, value)
    # imported here: a paginator exists only once a resource module (which imports it) has loaded
    from ._pagination import AsyncPaginator

    if isinstance(value, AsyncPaginator):
        return SyncPaginator(portal, value)
    if inspect.ismethod(value) or inspect.iscoroutinefunction(value):

        @functools.wraps(value)
        def call(*args: Any, **kwargs: Any) -> Any:
            result = portal.call(functools.partial(_call, value, args, kwargs))
            return _wrap(portal, result)

        return call
    if hasattr(value, "__aiter__"):
        return _IterableProxy(portal, value)
    return value


class _IterableProxy(Proxy):
    """An async iterable (``cal.bookings.sync()``): iterate it with a plain ``for``; its
    coroutine methods block like the resources' methods."""

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


class SyncPaginator(Generic[T]):
    """What a paginated list method of ``CalComSync`` returns (the blocking ``AsyncPaginator``).

    ::

        for booking in cal.bookings.list(status=["upcoming"]):    # every item, page after page
        for booking in cal.bookings.list(max_items=5):             # five items, one request
        for page in cal.bookings.list().pages():                   # pages, with their meta
        first_500 = cal.bookings.list().to_list(max_items=500)
        for row in cal.bookings.list().raw():                      # plain dicts, no models

    Nothing is sent until it is iterated; each ``for`` walks the list again from the start. One
    page only: ``cal.<resource>.with_raw_response.list(...)`` (or ``to_list(max_items=…)``). As
    with the async paginator, iterating a list given the API's ``take=`` raises
    ``CalComUsageError`` (``take`` is one request's size): pass ``max_items=`` / ``page_size=``.
    """

    __slots__ = ("_portal", "_target")

    def __init__(self, portal: BlockingPortal, target: AsyncPaginator[T]) -> None:
        self._portal = portal
        self._target = target

    @property
    def page_size(self) -> int:
        """Items per request."""
        return self._target.page_size

    @property
    def max_items(self) -> int | None:
        """At most this many items (None: all)."""
        return self._target.max_items

    @property
    def progress(self) -> Progress:
        """The walk so far: items, total (when the server says), requests, rate-limit waits."""
        return self._target.progress

    def __iter__(self) -> Iterator[T]:
        return _iterate(self._portal, self._target)

    def to_list(self, max_items: int | None = None) -> list[T]:
        """Collect the items (at most ``max_items``; pages beyond it are not fetched)."""
        return self._portal.call(self._target.to_list, max_items)

    def pages(self) -> Iterator[Page[T]]:
        """Every page in order (``.items``, ``.meta``, ``.total``, ``.response``)."""
        return _iterate(self._portal, self._target.pages())

    def raw(self) -> SyncPaginator[dict[str, Any]]:
        """The same walk yielding the JSON items as plain dicts (no models are built)."""
        return SyncPaginator(self._portal, self._target.raw())

    def __repr__(self) -> str:
        return f"<blocking {self._target!r}>"
