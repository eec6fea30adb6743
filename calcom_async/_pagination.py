"""``AsyncPaginator``: what every paginated list method returns.

    async for booking in cal.bookings.list(status=["upcoming"]):   # every item, page after page
    async for booking in cal.bookings.list(max_items=5):           # five items, one request
    async for page in cal.bookings.list().pages():                  # pages, with their meta
    first_page = await cal.bookings.list(take=50)                   # one request, as a list
    first_500 = await cal.bookings.list(max_items=500)              # the pages needed, as a list
    async for row in cal.bookings.list().raw():                     # plain dicts, no models
    cal.bookings.list(on_page=print)                                # a Progress after each page

``max_items`` is how many items you want; ``page_size`` how many one request asks for. The API's
own ``take`` (``limit`` where an operation pages by ``limit``) is the size of ONE request: it is
accepted where one request is made (``await``), and a walk given it (``async for``, ``.pages()``,
``.to_list()``) raises :class:`CalComUsageError` naming ``max_items`` and ``page_size`` rather
than guess which was meant: read as a page size, ``take=5`` would walk every booking five at a
time (thousands of requests); read as a count, ``take=250`` meant as "the largest page" would
stop a full sync after 250 bookings without a word. Both guesses fail silently; the error does
not.

The operation table says how an operation pages (``take``/``skip`` with ``pagination`` meta, a
bare list, ``limit``/``offset``, ``limit``/``cursor``); the paginator reads it, so no list method
has paging code of its own. Once the first page reveals the total, ``prefetch=N`` fetches up to N
later pages concurrently and still yields them in order; memory stays bounded by
``(prefetch + 1) x page size`` items.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Mapping
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ._errors import CalComUsageError, ResponseValidationError
from ._operation import Operation, Pagination
from ._progress import Progress, metered
from ._types import UNSET

if TYPE_CHECKING:
    from ._options import RequestOptions
    from ._resource import SessionProtocol
    from ._response import APIResponse

__all__ = ["AsyncPaginator", "Page"]

T = TypeVar("T")

_DEFAULT_PAGE_SIZE = 100
_SIZE_KEY = {Pagination.TAKE_SKIP: "take", Pagination.BARE_LIST: "take"}
_OFFSET_KEY = {
    Pagination.TAKE_SKIP: "skip",
    Pagination.BARE_LIST: "skip",
    Pagination.LIMIT: "offset",
}


class Page(Generic[T]):
    """One page: its items, the server's ``pagination`` meta (if any) and the raw response."""

    __slots__ = ("items", "meta", "offset", "rate_limit_wait", "response")

    def __init__(
        self,
        items: list[T],
        meta: Mapping[str, Any] | None,
        offset: int,
        response: APIResponse[Any],
        rate_limit_wait: float = 0.0,
    ) -> None:
        self.items = items
        self.meta = meta  #: e.g. totalItems, hasNextPage, … (None for bare lists)
        self.offset = offset  #: the skip/offset this page was asked for
        self.response = response  #: status, headers, request id, rate-limit state
        self.rate_limit_wait = rate_limit_wait  #: seconds this request waited for the limit

    @property
    def total(self) -> int | None:
        """The server's total count, when it reports one."""
        for key in ("totalItems", "totalCount"):
            value = (self.meta or {}).get(key)
            if isinstance(value, int):
                return value
        return None

    def __repr__(self) -> str:
        return f"Page(offset={self.offset}, items={len(self.items)}, total={self.total})"


class AsyncPaginator(Generic[T]):
    """Lazily walks a paginated list operation. Nothing is sent until it is awaited or iterated."""

    def __init__(
        self,
        session: SessionProtocol,
        op: Operation,
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        options: RequestOptions | None = None,
        page_size: int | None = None,
        prefetch: int = 0,
        max_items: int | None = None,
        on_page: Callable[[Progress], object] | None = None,
        decode: bool = True,
    ) -> None:
        # a pinned live version may page otherwise (bookings.list at 2026-05-01: a cursor)
        op = session.route(op, options)
        if op.pagination is None:
            raise CalComUsageError(f"{op.name} is not a paginated operation")
        if prefetch < 0:
            raise CalComUsageError("prefetch must be an int >= 0")
        self._session = session
        self._op = op
        self._style = op.pagination
        self._path = dict(path or {})
        query = {k: v for k, v in (query or {}).items() if v is not UNSET and v is not None}
        size_key = "limit" if self._style in (Pagination.LIMIT, Pagination.CURSOR) else "take"
        self._size_key = size_key
        self._offset_key = _OFFSET_KEY.get(self._style)
        if max_items is not None and (
            not isinstance(max_items, int) or isinstance(max_items, bool) or max_items < 0
        ):
            raise CalComUsageError(f"max_items must be an int >= 0, got {max_items!r}")
        if on_page is not None and not callable(on_page):
            raise CalComUsageError(f"on_page must be a callable, got {on_page!r}")
        # the API's own page-size argument, as the user gave it (``take``, or ``limit``)
        self._take: tuple[str, Any] | None = None
        for key in dict.fromkeys((size_key, "take")):
            if key in query:
                given = query.pop(key)
                self._take = self._take or (key, given)
        if self._take is not None and (page_size is not None or max_items is not None):
            name = self._take[0]
            raise CalComUsageError(
                f"{op.name}: pass page_size= (items per request) and max_items= (how many you "
                f"want), not {name}= with them"
            )
        if self._take is not None:
            size = self._take[1]
            self._check_size(self._take[0], size)
            if op.max_page_size is not None and size > op.max_page_size:
                raise CalComUsageError(
                    f"{self._take[0]} must be between 1 and {op.max_page_size} for {op.name} "
                    f"(one request); to walk more, pass max_items={size} (and page_size= up to "
                    f"{op.max_page_size})"
                )
        elif page_size is not None:
            size = page_size
            self._check_size("page_size", size)
        elif max_items:  # just the pages needed: one request when max_items fits in one
            size = min(max_items, op.max_page_size or _DEFAULT_PAGE_SIZE)
        else:
            size = _DEFAULT_PAGE_SIZE
        if op.max_page_size is not None:
            size = min(size, op.max_page_size)
        self.page_size: int = size
        self.max_items: int | None = max_items  #: at most this many items (None: all)
        self._on_page = on_page
        #: the walk so far (reset when a walk starts): items, total, requests, waits
        self.progress: Progress = Progress()
        self._start = int(query.pop(self._offset_key, 0) or 0) if self._offset_key else 0
        self._query = query
        self._options = options
        self._prefetch = prefetch
        self._decode = decode
        self._started = 0.0

    @staticmethod
    def _check_size(name: str, size: Any) -> None:
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise CalComUsageError(f"{name} must be a positive int, got {size!r}")

    def _walk_check(self, how: str) -> None:
        """A walk (many requests) given the API's one-request ``take``: refuse to guess."""
        if self._take is None:
            return
        name, size = self._take
        raise CalComUsageError(
            f"{self._op.name}({name}={size!r}) {how}: {name} is the size of ONE request, so this "
            f"would walk every item {size} at a time. Pass max_items={size} for at most {size} "
            f"items (only the pages needed), page_size={size} for every item in pages of {size}, "
            f"or `await` it for one request of {size}."
        )

    def raw(self) -> AsyncPaginator[dict[str, Any]]:
        """The same walk yielding the JSON items as plain dicts (no models are built)."""
        clone: AsyncPaginator[dict[str, Any]] = AsyncPaginator.__new__(AsyncPaginator)
        clone.__dict__.update(self.__dict__)
        clone._decode = False
        return clone

    def __await__(self) -> Generator[Any, None, list[T]]:
        """``await cal.x.list(...)``: the first page's items, as one request; with
        ``max_items``, that many items (the pages needed)."""
        if self.max_items is not None:
            return self.to_list().__await__()
        return self._first_items().__await__()

    async def _first_items(self) -> list[T]:
        self._begin()
        page, _ = await self._fetch(self._start, cursor=None)
        self._report(page)
        return page.items

    def __aiter__(self) -> AsyncIterator[T]:
        self._walk_check("iterated")
        return self._items()

    async def _items(self) -> AsyncIterator[T]:
        async with aclosing(self._pages(limit=self.max_items)) as pages:
            async for page in pages:
                for item in page.items:
                    yield item

    async def to_list(self, max_items: int | None = None) -> list[T]:
        """Collect the items (at most ``max_items``, or the paginator's own ``max_items``; pages
        beyond it are not fetched)."""
        self._walk_check("collected with to_list()")
        limits = [n for n in (max_items, self.max_items) if n is not None]
        limit = min(limits) if limits else None
        out: list[T] = []
        if limit is not None and limit <= 0:
            return out
        async with aclosing(self._pages(limit=limit)) as pages:
            async for page in pages:
                out.extend(page.items)
        return out

    def pages(self) -> AsyncIterator[Page[T]]:
        """Every page in order; ends at the first short or empty page or when the server says
        so, or at ``max_items`` (the last page cut to fit)."""
        self._walk_check("walked with pages()")
        return self._pages(limit=self.max_items)

    def _begin(self) -> None:
        self._started = time.monotonic()
        self.progress = Progress()

    def _report(self, page: Page[T]) -> None:
        """Count a page into ``progress`` and tell ``on_page``."""
        before = self.progress
        total = page.total
        if total is not None:
            total -= self._start  # the walk starts at skip=…: what it will see of the total
            if self.max_items is not None:
                total = min(total, self.max_items)
        self.progress = Progress(
            items=before.items + len(page.items),
            total=total if total is not None else before.total,
            requests=before.requests + 1,
            rate_limit_wait=before.rate_limit_wait + page.rate_limit_wait,
            elapsed=time.monotonic() - self._started,
        )
        if self._on_page is not None:
            self._on_page(self.progress)

    async def _pages(self, *, limit: int | None) -> AsyncGenerator[Page[T], None]:
        """The walk, cut at ``limit`` items: the page reaching it is cut to fit and is the last."""
        self._begin()
        if limit is not None and limit <= 0:
            return
        seen = 0
        async with aclosing(self._unlimited(limit)) as pages:
            async for page in pages:
                if limit is not None and seen + len(page.items) >= limit:
                    page.items = page.items[: limit - seen]
                    self._report(page)
                    yield page
                    return
                seen += len(page.items)
                self._report(page)
                yield page

    async def _unlimited(self, limit: int | None) -> AsyncGenerator[Page[T], None]:
        page, cursor = await self._fetch(self._start, cursor=None)
        yield page
        offset = self._start + len(page.items)
        if self._done(page, cursor):
            return
        if self._prefetch and page.total is not None and self._offset_key:
            end = page.total if limit is None else min(page.total, self._start + limit)
            async with aclosing(self._prefetched(offset, end)) as ahead:
                async for page in ahead:
                    yield page
                    offset = page.offset + len(page.items)
                    if self._done(page, None):
                        return
        while True:
            page, cursor = await self._fetch(offset, cursor=cursor)
            yield page
            offset += len(page.items)
            if self._done(page, cursor):
                return

    async def _prefetched(self, offset: int, total: int) -> AsyncGenerator[Page[T], None]:
        """Pages from ``offset`` up to ``total``, up to ``prefetch`` requests ahead, in order."""
        offsets = iter(range(offset, total, self.page_size))
        window: list[asyncio.Task[tuple[Page[T], str | None]]] = []
        try:
            for start in offsets:
                window.append(asyncio.ensure_future(self._fetch(start, cursor=None)))
                if len(window) > self._prefetch:
                    break
            while window:
                page, _ = await window.pop(0)
                nxt = next(offsets, None)
                if nxt is not None:
                    window.append(asyncio.ensure_future(self._fetch(nxt, cursor=None)))
                yield page
                if len(page.items) < self.page_size:
                    return
        finally:
            for task in window:
                task.cancel()
            await asyncio.gather(*window, return_exceptions=True)

    def _done(self, page: Page[T], cursor: str | None) -> bool:
        if not page.items:
            return True
        if self._style is Pagination.CURSOR:
            return not cursor
        if page.meta is not None and isinstance(page.meta.get("hasNextPage"), bool):
            return not page.meta["hasNextPage"]
        return len(page.items) < self.page_size

    async def _fetch(self, offset: int, *, cursor: str | None) -> tuple[Page[T], str | None]:
        query = dict(self._query)
        query[self._size_key] = self.page_size
        if self._offset_key:
            query[self._offset_key] = offset
        if cursor:
            query["cursor"] = cursor
        response: APIResponse[Any]
        response, waited = await metered(
            lambda: self._session.request(
                self._op, path=self._path, query=query, options=self._options, raw=True
            )
        )
        body = response.json()
        meta = body.get("pagination") if isinstance(body, dict) else None
        # an envelope's data (documented, or an undocumented answer shaped like the others)
        data = body.get("data", body) if isinstance(body, dict) else body
        next_cursor = None
        if self._style is Pagination.CURSOR:
            if isinstance(data, dict):  # the overview's shape: {"items", "nextCursor", …} in data
                meta = {k: v for k, v in data.items() if k != "items"} | (meta or {})
                data = data.get("items", [])
            # 2026-05-01: "pagination": {"nextCursor": …, "hasMore": …}
            cursor = (meta or {}).get("nextCursor")
            more = (meta or {}).get("hasMore")
            next_cursor = (
                cursor if isinstance(cursor, str) and cursor and more is not False else None
            )
        if self._decode and self._op.response is not None and isinstance(data, list):
            data = response.data
            response.release_json()  # the models are built: the dicts need not stay with them
        if data is None:
            data = []
        if not isinstance(data, list):
            raise ResponseValidationError(
                f"{self._op.name}: a page's data is a {type(data).__name__}, not a list",
                raw=body,
                status_code=response.status_code,
                request_id=response.request_id,
            )
        return Page(data, meta, offset, response, waited), next_cursor
