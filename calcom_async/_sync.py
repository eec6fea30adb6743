"""``cal.bookings.sync()``: an incremental, resumable walk that yields every booking change once.

    sync = cal.bookings.sync(checkpoint=saved)          # None the first time
    async for booking in sync:
        await db.upsert(booking, checkpoint=sync.checkpoint.to_json())   # one transaction

The guarantee
-------------
Each *version* of a booking (its ``uid`` with its ``updatedAt``, which may be ``null``) is yielded
at most once per checkpoint lineage, and every booking that exists when the walk ends is yielded
in its state as of the page that last carried it: a booking created, updated, rescheduled or
cancelled while the walk runs gets a later ``updatedAt`` and is yielded (again, as its new
version) later in the same walk. Bookings whose ``updatedAt`` is ``null`` (made before Cal.com
stamped it) are yielded once, by the first pass; a change stamps them and the changes pass
yields them again.

How: two passes, each over a key that changes cannot reorder under it.

1. **The first pass** (a sync without a checkpoint) reads every booking once, newest
   ``createdAt`` first (``sortCreated=desc``, bounded by ``beforeCreatedAt``). ``createdAt`` is
   never ``null`` and never changes, and new bookings land above the bound, so the set below it
   stays put: each page carries on where the last stopped (``skip`` = the bookings already read
   at the bound's millisecond, usually one), and an answer proves it landed right — no booking
   it was to skip appears in it, and ``totalItems`` is what the last page left (a booking
   deleted meanwhile would change it) — or the page is read again from the bound (the way of
   the changes pass). With a ``status`` filter, bookings leave and join the set when they change,
   so every page starts again at the bound. Its first page also gives the changes pass its start:
   the newest ``updatedAt`` on it, a stamp the server had given before the pass began.
2. **The changes pass** (each later sync, and the end of the first) reads from the watermark
   (the newest ``updatedAt`` yielded) with ``afterUpdatedAt`` and ``sortUpdatedAt=asc``. Every page
   starts again at the watermark and asks for as many more bookings as it will repeat (those
   already yielded there, recognised by ``(uid, updatedAt)``), so a booking that changes between
   pages moves past the watermark and is met again, never skipped. A run of more than ``250 -
   _GUARD`` bookings sharing one millisecond is paged with ``skip``, re-reading ``_GUARD`` of them:
   exact if the server keeps ties in a stable order and fewer than ``_GUARD`` of them change
   between two pages.

The live API's ``afterUpdatedAt``/``beforeUpdatedAt`` match no booking whose ``updatedAt`` is
``null`` (SQL: ``NULL >= x`` is not true), and where ``sortUpdatedAt`` puts ``null`` is not
documented (PostgreSQL's default: last ascending, first descending; the fake does that). The walk
depends on neither: ``null`` only ever meets it in the first pass, which sorts by ``createdAt``;
an answer to a changes request that holds a ``null`` ``updatedAt`` (the filter did not exclude
it) stops the walk with the evidence rather than guess. Both filters are taken as inclusive (as
Cal.com's and the fake's are); the changes pass also re-reads the millisecond before its start.

Requests: a full sync of N bookings makes ceil(N / page size) first-pass requests (plus one for
each page that landed wrong, which takes ties in an unstable order or a deletion) and one changes
request when nothing changed meanwhile (none when the first pass was one answer); an incremental
sync with no changes makes one. The list is called at the version the client sends (its row in
the operation table; ``api_versions={"bookings.list": "2026-05-01"}`` pins the live one). One that
pages with a cursor (``limit``/``cursor``, ``nextCursor``/``hasMore``) is paged the same way,
the cursor standing in for ``skip``: the first pass follows it and takes a page only if none of
the bookings read at the bound comes again, and every changes page starts again at the
watermark (a booking changed between pages can sort behind a cursor, even a keyset one at its
own millisecond); the cursor is followed there only inside a run of more than ``250 - _GUARD``
bookings at the watermark (exact if the cursor is a keyset). The checkpoint never holds a
cursor, so a resumed pass starts a new query at its bound.

The checkpoint after each yielded booking covers it: persist the checkpoint with what you did with
the booking (in one transaction) and a crashed sync resumes exactly after it; persist it later and
the bookings since are yielded again (at least once, never lost). The walk ends when the server
says the list has no more (or at the first page shorter than asked for); run it again later with
the saved checkpoint for the next increment. It assumes the server stamps ``updatedAt`` when a
change becomes visible; where a change may become visible later than its stamp (replication
lag), ``overlap`` re-reads that much time before the watermark (repeats are filtered, so nothing
is yielded twice).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import attrs
import orjson

from ._errors import CalComUsageError, ResponseValidationError
from ._generated.operations import BY_ID
from ._operation import Operation, Pagination
from ._progress import Progress, metered
from ._serde import format_datetime

if TYPE_CHECKING:
    from typing import TypeAlias

    from ._generated import models as _m
    from ._resource import SessionProtocol
    from .stores import Store

    #: what ``cal.bookings.sync()`` yields: an item of ``cal.bookings.list`` (the same models at
    #: 2024-08-13 and at 2026-05-01; tests/models/test_honest_types.py checks it against the list's)
    SyncedBooking: TypeAlias = (
        _m.BookingOutput_2024_08_13
        | _m.RecurringBookingOutput_2024_08_13
        | _m.GetSeatedBookingOutput_2024_08_13
        | _m.GetRecurringSeatedBookingOutput_2024_08_13
    )

__all__ = ["BookingSync", "BookingsSyncMixin", "FirstPass", "SyncCheckpoint"]

_LIST = "bookings.list"  # the operation's public name: its operationId changes with the document
_TICK = dt.timedelta(milliseconds=1)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MAX_TAKE = 250  # the API's largest page
_GUARD = 50  # bookings a changes page re-reads at its start when it has to skip (see above)

Row = dict[str, Any]
T = TypeVar("T")


def _parse(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _list_operation() -> Operation:
    return next(op for op in BY_ID.values() if op.name == _LIST)


@attrs.define
class FirstPass:
    """Where the first pass stands: the ``createdAt`` it has read down to, and the bookings it
    has read with exactly that ``createdAt`` (``None``: it has not begun)."""

    created: dt.datetime | None = None
    uids: list[str] = attrs.field(factory=list)


@attrs.define
class SyncCheckpoint:
    """Where a sync stands: the watermark and the versions yielded at (or just before) it, and
    the first pass while it runs."""

    watermark: dt.datetime | None = None
    #: uid -> updatedAt (ISO) of the versions yielded within ``overlap`` of the watermark (and,
    #: during the first pass, at or after it)
    seen: dict[str, str] = attrs.field(factory=dict)
    first: FirstPass | None = None

    def to_json(self) -> str:
        first = self.first
        return orjson.dumps(
            {
                "watermark": format_datetime(self.watermark) if self.watermark else None,
                "seen": self.seen,
                "first": None
                if first is None
                else {
                    "createdAt": format_datetime(first.created) if first.created else None,
                    "uids": first.uids,
                },
            }
        ).decode()

    @classmethod
    def from_json(cls, text: str | bytes) -> SyncCheckpoint:
        try:
            data = orjson.loads(text)
            watermark = _parse(data["watermark"]) if data.get("watermark") else None
            seen = {str(k): str(v) for k, v in data.get("seen", {}).items()}
            raw = data.get("first")
            first = None
            if raw is not None:
                created = _parse(raw["createdAt"]) if raw.get("createdAt") else None
                first = FirstPass(created, [str(uid) for uid in raw.get("uids", [])])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CalComUsageError(f"not a sync checkpoint: {exc}") from None
        return cls(watermark=watermark, seen=seen, first=first)


@attrs.define
class _Page:
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


class _Edge(Protocol):
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


class _OffsetPages:
    """``take``/``skip`` paging, each request starting again at its pass's bound."""

    def __init__(self, fetch: Fetch, page_size: int) -> None:
        self._fetch = fetch
        self._size = page_size
        self._reread = min(page_size, _MAX_TAKE - _GUARD)

    async def _get(self, query: dict[str, Any], edge: _Edge, skip: int, take: int) -> _Page:
        query = {**query, "take": take, "skip": skip}
        if edge.bound is not None:
            query[edge.param] = format_datetime(edge.bound)
        body, items = await self._fetch(query)
        meta = body.get("pagination")
        meta = meta if isinstance(meta, dict) else {}
        total, more = meta.get("totalItems"), meta.get("hasNextPage")
        return _Page(
            body["data"],
            items,
            take,
            skip,
            total if isinstance(total, int) else None,
            more if isinstance(more, bool) else None,
        )

    async def walk(
        self, query: dict[str, Any], edge: _Edge, *, carry: bool
    ) -> AsyncGenerator[_Page, None]:
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
                page = await self._get(
                    query, edge, max(0, extra - _MAX_TAKE), min(extra, _MAX_TAKE)
                )
            expect = _left(page, edge)
            yield page
            if page.last:
                return


def _landed(page: _Page, edge: _Edge, expect: int | None, *, totals: bool = True) -> bool:
    """A page that skipped ``edge.head`` bookings at the bound skipped exactly those read there:
    none of them is in it, and (``totals``) none of the set went (the total is what the last page
    left)."""
    if totals and (expect is None or page.total != expect):
        return False
    return not any(edge.key(r) == edge.bound and r.get("uid") in edge.done for r in page.rows)


def _left(page: _Page, edge: _Edge) -> int | None:
    """The ``totalItems`` of the next page, bounded by this page's last key, if nothing changes:
    this page's total less what came before that key's run."""
    if page.total is None or not page.rows:
        return None
    last = edge.key(page.rows[-1])
    if last == edge.bound:
        return page.total
    run = sum(1 for r in page.rows if edge.key(r) == last)
    return page.total - (page.skip + len(page.rows) - run)


class _CursorPages:
    """``limit``/``cursor`` paging. The cursor is opaque (a keyset or an encoded offset: the
    facts do not say), so it is trusted only where a wrong one shows: the first pass follows it
    over the set below its bound, which only a deletion changes, and takes a page only if none of
    the bookings read at the bound comes again (an offset shifted by new bookings re-sends the
    last one); otherwise that page is read again from the bound. Every other page (the changes
    pass, a ``status`` filter) starts again at its bound, asking for as many more as it repeats,
    as offset paging does: a booking changed between pages may sort behind any cursor (a keyset
    one included, at the cursor's own millisecond), never behind the bound. Only a run of more
    than ``250 - _GUARD`` bookings at the bound follows the cursor there."""

    def __init__(self, fetch: Fetch, page_size: int) -> None:
        self._fetch = fetch
        self._size = page_size
        self._reread = min(page_size, _MAX_TAKE - _GUARD)

    async def _get(self, query: dict[str, Any]) -> _Page:
        body, items = await self._fetch(query)
        meta = body.get("pagination")
        meta = meta if isinstance(meta, dict) else {}
        more, cursor = meta.get("hasMore"), meta.get("nextCursor")
        return _Page(
            body["data"],
            items,
            query["limit"],
            more=more if isinstance(more, bool) else None,
            cursor=cursor if isinstance(cursor, str) and cursor else None,
        )

    async def walk(
        self, query: dict[str, Any], edge: _Edge, *, carry: bool
    ) -> AsyncGenerator[_Page, None]:
        base: dict[str, Any] = {}  # the query the last cursor belongs to
        cursor: str | None = None
        while True:
            page = None
            if cursor is not None and (carry or edge.head + self._reread > _MAX_TAKE):
                page = await self._get({**base, "cursor": cursor})
                if carry and not _landed(page, edge, None, totals=False):
                    page = None
            if page is None:
                base = {**query, "limit": min(edge.repeats + self._size, _MAX_TAKE)}
                if edge.bound is not None:
                    base[edge.param] = format_datetime(edge.bound)
                page = await self._get(base)
            cursor = page.cursor
            yield page
            if page.last or cursor is None:
                return


class _FirstEdge:
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
        return _stamp(row, "createdAt")


class _ChangesEdge:
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
        return sum(1 for v in cp.seen.values() if w is None or _parse(v) <= w)

    @property
    def repeats(self) -> int:
        """Every version yielded since the watermark's margin, which the pass meets again: at the
        watermark, or (read by the first pass) after it."""
        return len(self._sync.checkpoint.seen)

    def key(self, row: Row) -> dt.datetime | None:
        return _stamp(row, "updatedAt")


def _stamp(row: Row, name: str) -> dt.datetime | None:
    value = row.get(name)
    return _parse(value) if isinstance(value, str) else None


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
        largest = op.max_page_size or _MAX_TAKE
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
        pager = _CursorPages if op.pagination is Pagination.CURSOR else _OffsetPages
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
            pages = self._pages.walk(query, _FirstEdge(first), carry=carry)
            async for page in pages:
                if self.checkpoint.watermark is None and not await self._start_changes(page):
                    break  # begin again, now that the changes pass has its start
                for item in self._read_first(first, page):
                    yield item
            else:
                return
            await pages.aclose()

    def _read_first(self, first: FirstPass, page: _Page) -> Iterator[T]:
        cp = self.checkpoint
        previous = first.created
        for row, item in zip(page.rows, page.items, strict=True):
            uid = _uid(row)
            created = _stamp(row, "createdAt")
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
            updated = _stamp(row, "updatedAt")
            floor = self._margin()
            if updated is not None and (floor is None or updated >= floor):
                cp.seen[uid] = format_datetime(updated)  # the changes pass will meet it
            yield item

    async def _start_changes(self, page: _Page) -> bool:
        """Set where the changes pass starts, from the first page: its newest ``updatedAt``, a
        stamp given before the pass began (a change after it is stamped later). A first page
        without one asks the server for its newest stamp and starts the pass again (False)."""
        stamps = [s for s in (_stamp(r, "updatedAt") for r in page.rows) if s is not None]
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
        newest = [s for s in (_stamp(r, "updatedAt") for r in body["data"]) if s is not None]
        self.checkpoint.watermark = max(newest, default=_EPOCH)
        return False

    # -- the changes pass -------------------------------------------------------------------

    async def _changes(self) -> AsyncIterator[T]:
        query = {**self._filters, "sortUpdatedAt": "asc"}
        async for page in self._pages.walk(query, _ChangesEdge(self), carry=False):
            start = self._margin()
            previous: dt.datetime | None = None
            for row, item in zip(page.rows, page.items, strict=True):
                uid = _uid(row)
                when = _stamp(row, "updatedAt")
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
            cp.seen = {u: v for u, v in cp.seen.items() if _parse(v) >= floor}
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


class BookingsSyncMixin:
    """Mixed into the generated ``cal.bookings`` resource (see openapi/names.yaml ``mixins``)."""

    __slots__ = ()
    _session: SessionProtocol

    def sync(
        self,
        *,
        checkpoint: SyncCheckpoint | str | None = None,
        page_size: int | None = None,
        overlap: dt.timedelta = dt.timedelta(0),
        status: list[str] | None = None,
        event_type_ids: str | None = None,
        team_id: str | None = None,
        checkpoint_key: str | None = None,
        on_page: Callable[[Progress], object] | None = None,
    ) -> BookingSync[SyncedBooking]:
        """Walk every booking change since ``checkpoint`` once; see :mod:`calcom_async._sync`
        and docs/sync.md.

        ``on_page``: called with a :class:`calcom_async.Progress` after each page's bookings
        have been yielded (also kept as ``sync.progress``).

        ``.raw()`` on the result: the same walk yielding the answer's dicts (no models).

        ``page_size``: bookings per request, the operation's largest page (250) by default.
        ``checkpoint_key``: keep the checkpoint in the client's store under this name instead
        (resumed from there; with a ``RedisStore``, by any process)."""
        filters = {
            "status": status,
            "eventTypeIds": event_type_ids,
            "teamId": team_id,
        }
        return BookingSync(
            self._session,
            checkpoint=checkpoint,
            page_size=page_size,
            overlap=overlap,
            filters=filters,
            checkpoint_key=checkpoint_key,
            on_page=on_page,
        )
