"""The pagers of ``cal.bookings.sync()`` (:mod:`calcom_async._sync`): the ``take``/``skip`` walk
and the ``limit``/``cursor`` walk a pass reads its pages with, and the edges the two passes give
them (where the next request starts, and how many bookings it repeats there).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from ._scalars import format_datetime
from ._sync_checkpoint import FirstPass, parse_stamp

if TYPE_CHECKING:
    from ._sync_walk import BookingSync

__all__ = ["ChangesEdge", "CursorPages", "FirstEdge", "OffsetPages", "Page", "stamp"]

MAX_TAKE = 250  # the API's largest page
GUARD = 50  # bookings a changes page re-reads at its start when it has to skip (see _sync)

Row = dict[str, Any]


@attrs.define
class Page:
    rows: list[Row]
    items: list[Any]
    asked: int  #: the page size asked for
    skip: int = 0
    total: int | None = None  #: ``totalItems``: bookings matching the query (offset paging)
    more: bool | None = None  #: ``hasNextPage`` / ``hasMore``: None when the answer has none
    cursor: str | None = None  #: ``nextCursor``

    @property
    def last(self) -> bool:
        return self.more is False or len(self.rows) < self.asked


Fetch = Callable[[dict[str, Any]], Awaitable[tuple[Any, list[Any]]]]


class Edge(Protocol):
    """What a pass tells its pager: the bound of the next request, how many bookings that
    request repeats before new ones, and which (the first pass)."""

    @property
    def param(self) -> str:
        """The query parameter of the bound."""

    @property
    def bound(self) -> dt.datetime | None: ...

    @property
    def head(self) -> int: ...

    @property
    def repeats(self) -> int:
        """Bookings read already that the request may meet again anywhere (at least ``head``)."""

    @property
    def done(self) -> frozenset[str]: ...

    def key(self, row: Row) -> dt.datetime | None: ...


class OffsetPages:
    """``take``/``skip`` paging, each request starting again at its pass's bound."""

    def __init__(self, fetch: Fetch, page_size: int) -> None:
        self._fetch = fetch
        self._size = page_size
        self._reread = min(page_size, MAX_TAKE - GUARD)

    async def _get(self, query: dict[str, Any], edge: Edge, skip: int, take: int) -> Page:
        query = {**query, "take": take, "skip": skip}
        if edge.bound is not None:
            query[edge.param] = format_datetime(edge.bound)
        body, items = await self._fetch(query)
        meta = body.get("pagination")
        meta = meta if isinstance(meta, dict) else {}
        total, more = meta.get("totalItems"), meta.get("hasNextPage")
        return Page(
            body["data"],
            items,
            take,
            skip,
            total if isinstance(total, int) else None,
            more if isinstance(more, bool) else None,
        )

    async def walk(
        self, query: dict[str, Any], edge: Edge, *, carry: bool
    ) -> AsyncGenerator[Page, None]:
        """Pages until the last. With ``carry`` (a set below the bound that only changes if a
        booking is deleted) a page skips what the last one read at the bound, and is taken only
        if it proves it landed right; otherwise it starts at the bound and re-reads that."""
        expect: int | None = None  # the totalItems the next carried page must report
        while True:
            page = None
            if carry and (edge.head == 0 or expect is not None):
                page = await self._get(query, edge, edge.head, self._size)
                if edge.head and not _landed(page, edge, expect):
                    page = None
            if page is None:
                extra = edge.head + self._reread
                page = await self._get(query, edge, max(0, extra - MAX_TAKE), min(extra, MAX_TAKE))
            expect = _left(page, edge)
            yield page
            if page.last:
                return


def _landed(page: Page, edge: Edge, expect: int | None, *, totals: bool = True) -> bool:
    """A page that skipped ``edge.head`` bookings at the bound skipped exactly those read there:
    none of them is in it, and (``totals``) none of the set went (the total is what the last page
    left)."""
    if totals and (expect is None or page.total != expect):
        return False
    return not any(edge.key(r) == edge.bound and r.get("uid") in edge.done for r in page.rows)


def _left(page: Page, edge: Edge) -> int | None:
    """The ``totalItems`` of the next page, bounded by this page's last key, if nothing changes:
    this page's total less what came before that key's run."""
    if page.total is None or not page.rows:
        return None
    last = edge.key(page.rows[-1])
    if last == edge.bound:
        return page.total
    run = sum(1 for r in page.rows if edge.key(r) == last)
    return page.total - (page.skip + len(page.rows) - run)


class CursorPages:
    """``limit``/``cursor`` paging. The cursor is opaque (a keyset or an encoded offset: the
    facts do not say), so it is trusted only where a wrong one shows: the first pass follows it
    over the set below its bound, which only a deletion changes, and takes a page only if none of
    the bookings read at the bound comes again (an offset shifted by new bookings re-sends the
    last one); otherwise that page is read again from the bound. Every other page (the changes
    pass, a ``status`` filter) starts again at its bound, asking for as many more as it repeats,
    as offset paging does: a booking changed between pages may sort behind any cursor (a keyset
    one included, at the cursor's own millisecond), never behind the bound. Only a run of more
    than ``250 - GUARD`` bookings at the bound follows the cursor there."""

    def __init__(self, fetch: Fetch, page_size: int) -> None:
        self._fetch = fetch
        self._size = page_size
        self._reread = min(page_size, MAX_TAKE - GUARD)

    async def _get(self, query: dict[str, Any]) -> Page:
        body, items = await self._fetch(query)
        meta = body.get("pagination")
        meta = meta if isinstance(meta, dict) else {}
        more, cursor = meta.get("hasMore"), meta.get("nextCursor")
        return Page(
            body["data"],
            items,
            query["limit"],
            more=more if isinstance(more, bool) else None,
            cursor=cursor if isinstance(cursor, str) and cursor else None,
        )

    async def walk(
        self, query: dict[str, Any], edge: Edge, *, carry: bool
    ) -> AsyncGenerator[Page, None]:
        base: dict[str, Any] = {}  # the query the last cursor belongs to
        cursor: str | None = None
        while True:
            page = None
            if cursor is not None and (carry or edge.head + self._reread > MAX_TAKE):
                page = await self._get({**base, "cursor": cursor})
                if carry and not _landed(page, edge, None, totals=False):
                    page = None
            if page is None:
                base = {**query, "limit": min(edge.repeats + self._size, MAX_TAKE)}
                if edge.bound is not None:
                    base[edge.param] = format_datetime(edge.bound)
                page = await self._get(base)
            cursor = page.cursor
            yield page
            if page.last or cursor is None:
                return


class FirstEdge:
    param = "beforeCreatedAt"

    def __init__(self, first: FirstPass) -> None:
        self._first = first

    @property
    def bound(self) -> dt.datetime | None:
        return self._first.created

    @property
    def head(self) -> int:
        return len(self._first.uids)

    @property
    def repeats(self) -> int:
        return self.head

    @property
    def done(self) -> frozenset[str]:
        return frozenset(self._first.uids)

    def key(self, row: Row) -> dt.datetime | None:
        return stamp(row, "createdAt")


class ChangesEdge:
    param = "afterUpdatedAt"
    done: frozenset[str] = frozenset()

    def __init__(self, sync: BookingSync[Any]) -> None:
        self._sync = sync

    @property
    def bound(self) -> dt.datetime | None:
        return self._sync._margin()

    @property
    def head(self) -> int:
        """The versions yielded at or before the watermark: the page repeats them first."""
        cp = self._sync.checkpoint
        w = cp.watermark
        return sum(1 for v in cp.seen.values() if w is None or parse_stamp(v) <= w)

    @property
    def repeats(self) -> int:
        """Every version yielded since the watermark's margin, which the pass meets again: at the
        watermark, or (read by the first pass) after it."""
        return len(self._sync.checkpoint.seen)

    def key(self, row: Row) -> dt.datetime | None:
        return stamp(row, "updatedAt")


def stamp(row: Row, name: str) -> dt.datetime | None:
    value = row.get(name)
    return parse_stamp(value) if isinstance(value, str) else None
