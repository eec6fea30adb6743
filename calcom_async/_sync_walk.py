"""``BookingSync``, the walk ``cal.bookings.sync()`` returns: its first pass and its changes pass
(how and why: :mod:`calcom_async._sync`), the checkpoint moving with each booking (kept in the
client's store with ``checkpoint_key``), the requests it makes and the progress it reports.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from ._errors import CalComUsageError, ResponseValidationError
from ._generated.operations import BY_ID
from ._operation import Operation, Pagination
from ._progress import Progress, metered
from ._scalars import format_datetime
from ._sync_checkpoint import FirstPass, SyncCheckpoint, parse_stamp
from ._sync_pages import (
    MAX_TAKE,
    ChangesEdge,
    CursorPages,
    FirstEdge,
    OffsetPages,
    Page,
    Row,
    stamp,
)

if TYPE_CHECKING:
    from ._resource import SessionProtocol
    from .stores import Store

__all__ = ["BookingSync"]

_LIST = "bookings.list"  # the operation's public name: its operationId changes with the document
_TICK = dt.timedelta(milliseconds=1)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

T = TypeVar("T")


def _list_operation() -> Operation:
    return next(op for op in BY_ID.values() if op.name == _LIST)


class BookingSync(Generic[T]):
    """The async iterator ``cal.bookings.sync()`` returns; ``checkpoint`` moves with each item.
    ``.raw()``: the same walk yielding each booking as the JSON object the server sent."""

    def __init__(
        self,
        session: SessionProtocol,
        *,
        checkpoint: SyncCheckpoint | str | None = None,
        page_size: int | None = None,
        overlap: dt.timedelta = dt.timedelta(0),
        filters: Mapping[str, Any] | None = None,
        checkpoint_key: str | None = None,
        operation: Operation | None = None,
        on_page: Callable[[Progress], object] | None = None,
    ) -> None:
        if on_page is not None and not callable(on_page):
            raise CalComUsageError(f"on_page must be a callable, got {on_page!r}")
        if checkpoint_key is not None and checkpoint is not None:
            raise CalComUsageError("pass checkpoint= or checkpoint_key=, not both")
        if checkpoint_key is not None and (
            not isinstance(checkpoint_key, str) or not checkpoint_key
        ):
            raise CalComUsageError("checkpoint_key must be a non-empty string")
        self.checkpoint_key = checkpoint_key
        if isinstance(checkpoint, str):
            checkpoint = SyncCheckpoint.from_json(checkpoint)
        # the list's row at the version the client sends (a pinned 2026-05-01 pages by cursor)
        op = operation or session.route(_list_operation())
        largest = op.max_page_size or MAX_TAKE
        if page_size is not None and page_size < 1:
            raise CalComUsageError("page_size must be >= 1")
        self._session = session
        self._op = op
        self._page_size = min(page_size or largest, largest)
        self._overlap = overlap
        self._filters = {k: v for k, v in (filters or {}).items() if v is not None}
        self.checkpoint = SyncCheckpoint()
        if checkpoint:
            self._restore(checkpoint)
        pager = CursorPages if op.pagination is Pagination.CURSOR else OffsetPages
        self._pages = pager(self._fetch, self._page_size)
        self.pages = 0  #: requests made so far
        #: the walk so far (``calcom_async.Progress``): bookings yielded, an estimate of the total
        #: (what was yielded plus what the server still counts; exact once the walk has ended),
        #: requests, seconds waited for the rate limit; ``on_page`` gets each one
        self.progress = Progress()
        self._on_page = on_page
        self._started = 0.0
        self._yielded = 0
        self._waited = 0.0
        self._total: int | None = None
        self._pending = False  #: a page was fetched and not reported yet
        self._decode = True  #: models (False: the answer's dicts, see ``raw``)

    @property
    def page_size(self) -> int:
        """Bookings asked for per request."""
        return self._page_size

    def _restore(self, saved: SyncCheckpoint) -> None:
        first = saved.first and FirstPass(saved.first.created, list(saved.first.uids))
        self.checkpoint = attrs.evolve(saved, seen=dict(saved.seen), first=first)

    def raw(self) -> BookingSync[dict[str, Any]]:
        """The same walk (same checkpoint, filters, page size, ``on_page``) yielding each booking
        as the JSON object the server sent, no models built: every key the answer had, values
        as they came. The checkpoint moves exactly as it does for the models."""
        twin: BookingSync[dict[str, Any]] = BookingSync(
            self._session,
            checkpoint=None if self.checkpoint_key is not None else self.checkpoint,
            page_size=self._page_size,
            overlap=self._overlap,
            filters=self._filters,
            checkpoint_key=self.checkpoint_key,
            operation=self._op,
            on_page=self._on_page,
        )
        twin._decode = False
        return twin

    def __aiter__(self) -> AsyncIterator[T]:
        if self.checkpoint_key is not None:
            return self._walk_stored(self.checkpoint_key)
        return self._walk()

    async def _walk_stored(self, key: str) -> AsyncIterator[T]:
        """The walk with its checkpoint in the client's store (``checkpoint_key``): loaded at the
        start and saved (one atomic write) as soon as you ask for the next booking, so a crash
        repeats at most the booking you were handling (write your output and
        ``sync.checkpoint.to_json()`` in one transaction to repeat none)."""
        store: Store = self._session.gate.store  # type: ignore[attr-defined]
        saved = await store.get_checkpoint(key)
        if saved is not None:
            self._restore(SyncCheckpoint.from_json(saved))
        async for item in self._walk():
            yield item
            await store.set_checkpoint(key, self.checkpoint.to_json())
        if saved is None:
            await store.set_checkpoint(key, self.checkpoint.to_json())

    def _margin(self) -> dt.datetime | None:
        w = self.checkpoint.watermark
        return None if w is None else max(_EPOCH, w - self._overlap - _TICK)

    async def _walk(self) -> AsyncIterator[T]:
        self._started, self._yielded, self._waited = time.monotonic(), 0, 0.0
        self._total, self._pending = None, False
        self.progress = Progress()
        async for item in self._passes():
            self._yielded += 1
            yield item
        self._total = self._yielded  # the walk has ended: the total is what it yielded
        self._pending = True
        self._report()

    def _report(self) -> None:
        """Tell ``on_page`` about the page fetched last (once its bookings have been yielded)."""
        if not self._pending:
            return
        self._pending = False
        self.progress = Progress(
            items=self._yielded,
            total=self._total,
            requests=self.pages,
            rate_limit_wait=self._waited,
            elapsed=time.monotonic() - self._started,
        )
        if self._on_page is not None:
            self._on_page(self.progress)

    async def _passes(self) -> AsyncIterator[T]:
        cp = self.checkpoint
        if cp.watermark is None and cp.first is None:
            cp.first = FirstPass()
        if cp.first is not None:
            whole, before = cp.first == FirstPass(), self.pages
            async for item in self._first_pass(cp.first):
                yield item
            cp.first = None
            if whole and self.pages - before == 1:
                return  # all in one answer: nothing can have changed since it was read
        if cp.watermark is None:
            return  # no booking at all
        async for item in self._changes():
            yield item

    # -- the first pass ---------------------------------------------------------------------

    async def _first_pass(self, first: FirstPass) -> AsyncIterator[T]:
        query = {**self._filters, "sortCreated": "desc"}
        carry = "status" not in self._filters  # status changes move bookings in and out
        while True:
            pages = self._pages.walk(query, FirstEdge(first), carry=carry)
            async for page in pages:
                if self.checkpoint.watermark is None and not await self._start_changes(page):
                    break  # begin again, now that the changes pass has its start
                for item in self._read_first(first, page):
                    yield item
            else:
                return
            await pages.aclose()

    def _read_first(self, first: FirstPass, page: Page) -> Iterator[T]:
        cp = self.checkpoint
        previous = first.created
        for row, item in zip(page.rows, page.items, strict=True):
            uid = _uid(row)
            created = stamp(row, "createdAt")
            if created is None or (previous is not None and created > previous):
                raise ResponseValidationError(
                    "bookings.sync: the answer is not filtered by beforeCreatedAt and sorted "
                    f"by createdAt descending (saw {row.get('createdAt')} after {previous})",
                    raw=row,
                )
            previous = created
            if created == first.created:
                if uid in first.uids:
                    continue  # read on the page before
                first.uids.append(uid)
            else:
                first.created, first.uids = created, [uid]
            updated = stamp(row, "updatedAt")
            floor = self._margin()
            if updated is not None and (floor is None or updated >= floor):
                cp.seen[uid] = format_datetime(updated)  # the changes pass will meet it
            yield item

    async def _start_changes(self, page: Page) -> bool:
        """Set where the changes pass starts, from the first page: its newest ``updatedAt``, a
        stamp given before the pass began (a change after it is stamped later). A first page
        without one asks the server for its newest stamp and starts the pass again (False)."""
        stamps = [s for s in (stamp(r, "updatedAt") for r in page.rows) if s is not None]
        if stamps or not page.rows:  # no booking at all: the next sync begins afresh
            self.checkpoint.watermark = max(stamps, default=None)
            return True
        one = {"limit": 1} if self._op.pagination is Pagination.CURSOR else {"take": 1, "skip": 0}
        query = {
            **self._filters,
            "sortUpdatedAt": "desc",
            "afterUpdatedAt": format_datetime(_EPOCH),
            **one,
        }
        body, _ = await self._fetch(query)
        newest = [s for s in (stamp(r, "updatedAt") for r in body["data"]) if s is not None]
        self.checkpoint.watermark = max(newest, default=_EPOCH)
        return False

    # -- the changes pass -------------------------------------------------------------------

    async def _changes(self) -> AsyncIterator[T]:
        query = {**self._filters, "sortUpdatedAt": "asc"}
        async for page in self._pages.walk(query, ChangesEdge(self), carry=False):
            start = self._margin()
            previous: dt.datetime | None = None
            for row, item in zip(page.rows, page.items, strict=True):
                uid = _uid(row)
                when = stamp(row, "updatedAt")
                if when is None or (start and when < start) or (previous and when < previous):
                    # the server ignored afterUpdatedAt or sortUpdatedAt: going on could lose
                    # bookings without a word, so stop with the evidence
                    raise ResponseValidationError(
                        "bookings.sync: the answer is not filtered by afterUpdatedAt and sorted "
                        f"by updatedAt ascending (saw {row.get('updatedAt')} after "
                        f"{previous or start})",
                        raw=row,
                    )
                previous = when
                version = format_datetime(when)
                fresh = self.checkpoint.seen.get(uid) != version
                self._advance(uid, when, version)
                if fresh:
                    yield item

    def _advance(self, uid: str, when: dt.datetime, version: str) -> None:
        cp = self.checkpoint
        if cp.watermark is None or when > cp.watermark:
            cp.watermark = when
            floor = when - self._overlap - _TICK
            cp.seen = {u: v for u, v in cp.seen.items() if parse_stamp(v) >= floor}
        cp.seen[uid] = version

    async def _fetch(self, query: dict[str, Any]) -> tuple[Any, list[Any]]:
        self._report()  # the page before is done: its bookings were yielded
        response, waited = await metered(
            lambda: self._session.request(self._op, query=query, raw=True)
        )
        self.pages += 1
        self._waited += waited
        body = response.json()
        rows = body.get("data") if isinstance(body, dict) else None
        if not isinstance(rows, list):
            raise ResponseValidationError("bookings.sync: a page without a data list", raw=body)
        meta = body.get("pagination")
        total = meta.get("totalItems") if isinstance(meta, dict) else None
        if isinstance(total, int) and not isinstance(total, bool):
            skip = query.get("skip", 0)
            left = max(0, total - (skip if isinstance(skip, int) else 0))
            self._total = max(self._yielded + left, self._total or 0)
        self._pending = True
        return body, list(response.data) if self._decode else rows


def _uid(row: Row) -> str:
    uid = row.get("uid")
    if not isinstance(uid, str):
        raise ResponseValidationError("bookings.sync: a booking without uid in the answer", raw=row)
    return uid
