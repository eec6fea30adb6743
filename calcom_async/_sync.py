"""``cal.bookings.sync()``: an incremental, resumable walk that yields every booking change once.

    sync = cal.bookings.sync(checkpoint=saved)          # None the first time
    async for booking in sync:
        await db.upsert(booking, checkpoint=sync.checkpoint.to_json())   # one transaction

The guarantee
-------------
Each *version* of a booking (its ``uid`` with its ``updatedAt``) is yielded at most once per
checkpoint lineage, and every booking that exists when the walk ends is yielded in its state as
of the page that last carried it: a booking created, updated, rescheduled or cancelled while the
walk runs gets a later ``updatedAt`` and is yielded (again, as its new version) later in the same
walk. It holds while bookings change between page requests, because the walk never pages with an
offset across changing data: every request starts again at the watermark (the newest
``updatedAt`` already yielded) with ``afterUpdatedAt`` and ``sortUpdatedAt=asc``, and the
bookings at the watermark that were already yielded are recognised by ``(uid, updatedAt)``. A run
of more than ``page_size`` bookings sharing one millisecond is read by asking for larger pages (up
to 250, the API's largest page, in one answer, so that ties in any order are seen together); only
a longer run is paged with ``skip``, which is exact if the server keeps ties in a stable order.
Versions are told apart by ``updatedAt`` at millisecond resolution.

The checkpoint after each yielded booking covers it: persist the checkpoint with what you did with
the booking (in one transaction) and a crashed sync resumes exactly after it; persist it later and
the bookings since are yielded again (at least once, never lost). The walk ends at the first page
shorter than ``page_size`` (caught up); run it again later with the saved checkpoint for the next
increment. It assumes the server stamps ``updatedAt`` when a change becomes visible; where a
change may become visible later than its stamp (replication lag), ``overlap`` re-reads that much
time before the watermark (repeats are filtered, so nothing is yielded twice).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import orjson

from ._errors import CalComUsageError, ResponseValidationError
from ._generated.operations import BY_ID
from ._serde import format_datetime

if TYPE_CHECKING:
    from ._resource import SessionProtocol
    from .stores import Store

__all__ = ["BookingSync", "BookingsSyncMixin", "SyncCheckpoint"]

_LIST = "BookingsController_2024_08_13_getBookings"
_TICK = dt.timedelta(milliseconds=1)
_MAX_TAKE = 250  # the largest page asked for while reading a run of equal updatedAt (API maximum)


def _parse(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@attrs.define
class SyncCheckpoint:
    """Where a sync stands: the watermark and the versions yielded at (or just before) it."""

    watermark: dt.datetime | None = None
    #: uid -> updatedAt (ISO) of the versions yielded within ``overlap`` of the watermark
    seen: dict[str, str] = attrs.field(factory=dict)

    def to_json(self) -> str:
        return orjson.dumps(
            {
                "watermark": format_datetime(self.watermark) if self.watermark else None,
                "seen": self.seen,
            }
        ).decode()

    @classmethod
    def from_json(cls, text: str | bytes) -> SyncCheckpoint:
        try:
            data = orjson.loads(text)
            watermark = _parse(data["watermark"]) if data.get("watermark") else None
            seen = {str(k): str(v) for k, v in data.get("seen", {}).items()}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CalComUsageError(f"not a sync checkpoint: {exc}") from None
        return cls(watermark=watermark, seen=seen)


class BookingSync:
    """The async iterator ``cal.bookings.sync()`` returns; ``checkpoint`` moves with each item."""

    def __init__(
        self,
        session: SessionProtocol,
        *,
        checkpoint: SyncCheckpoint | str | None = None,
        page_size: int = 100,
        overlap: dt.timedelta = dt.timedelta(0),
        filters: Mapping[str, Any] | None = None,
        checkpoint_key: str | None = None,
    ) -> None:
        if checkpoint_key is not None and checkpoint is not None:
            raise CalComUsageError("pass checkpoint= or checkpoint_key=, not both")
        if checkpoint_key is not None and (
            not isinstance(checkpoint_key, str) or not checkpoint_key
        ):
            raise CalComUsageError("checkpoint_key must be a non-empty string")
        self.checkpoint_key = checkpoint_key
        if isinstance(checkpoint, str):
            checkpoint = SyncCheckpoint.from_json(checkpoint)
        op = BY_ID[_LIST]
        if page_size < 1:
            raise CalComUsageError("page_size must be >= 1")
        self._session = session
        self._op = op
        self._page_size = min(page_size, op.max_page_size or page_size)
        self._overlap = overlap
        self._filters = {k: v for k, v in (filters or {}).items() if v is not None}
        self.checkpoint = attrs.evolve(checkpoint) if checkpoint else SyncCheckpoint()
        self.checkpoint.seen = dict(self.checkpoint.seen)
        self.pages = 0  #: requests made so far

    def __aiter__(self) -> AsyncIterator[Any]:
        if self.checkpoint_key is not None:
            return self._walk_stored(self.checkpoint_key)
        return self._walk()

    async def _walk_stored(self, key: str) -> AsyncIterator[Any]:
        """The walk with its checkpoint in the client's store (``checkpoint_key``): loaded at the
        start and saved (one atomic write) as soon as you ask for the next booking, so a crash
        repeats at most the booking you were handling (write your output and
        ``sync.checkpoint.to_json()`` in one transaction to repeat none)."""
        store: Store = self._session.transport.store  # type: ignore[attr-defined]
        saved = await store.get_checkpoint(key)
        if saved is not None:
            self.checkpoint = SyncCheckpoint.from_json(saved)
        async for item in self._walk():
            yield item
            await store.set_checkpoint(key, self.checkpoint.to_json())
        if saved is None:
            await store.set_checkpoint(key, self.checkpoint.to_json())

    def _margin(self) -> dt.datetime | None:
        w = self.checkpoint.watermark
        return None if w is None else w - self._overlap - _TICK

    async def _walk(self) -> AsyncIterator[Any]:
        skip, take = 0, self._page_size
        while True:
            start = self._margin()
            rows, items = await self._page(start, skip, take)
            progressed = False
            previous: dt.datetime | None = None
            for row, item in zip(rows, items, strict=True):
                stamp = row.get("updatedAt") or row.get("createdAt")
                uid = row.get("uid")
                if not isinstance(stamp, str) or not isinstance(uid, str):
                    raise ResponseValidationError(
                        "bookings.sync: a booking without uid or updatedAt in the answer", raw=row
                    )
                when = _parse(stamp)
                if (start is not None and when < start) or (previous and when < previous):
                    # the server ignored afterUpdatedAt or sortUpdatedAt: going on could lose
                    # bookings without a word, so stop with the evidence
                    raise ResponseValidationError(
                        "bookings.sync: the answer is not filtered by afterUpdatedAt and sorted "
                        f"by updatedAt ascending (saw {stamp} after {previous or start})",
                        raw=row,
                    )
                previous = when
                version = format_datetime(when)
                if self.checkpoint.seen.get(uid) == version:
                    continue  # this version was yielded already
                self._advance(uid, when, version)
                progressed = True
                yield item
            if len(rows) < take:
                return  # caught up
            if progressed:  # go on from the new watermark
                skip, take = 0, self._page_size
            elif take < _MAX_TAKE:
                # nothing new in a full page: it was one run of bookings sharing the watermark's
                # millisecond. Ties come in no fixed order, so read the run in ONE answer: ask
                # for more at once until the answer reaches past it.
                take = min(take * 2, _MAX_TAKE)
            else:  # a run longer than _MAX_TAKE: page through it (exact if ties keep their order)
                skip += take

    def _advance(self, uid: str, when: dt.datetime, version: str) -> None:
        cp = self.checkpoint
        if cp.watermark is None or when > cp.watermark:
            cp.watermark = when
            floor = when - self._overlap - _TICK
            cp.seen = {u: v for u, v in cp.seen.items() if _parse(v) >= floor}
        cp.seen[uid] = version

    async def _page(
        self, start: dt.datetime | None, skip: int, take: int
    ) -> tuple[list[Any], list[Any]]:
        query: dict[str, Any] = dict(self._filters)
        query.update(sortUpdatedAt="asc", take=take, skip=skip)
        if start is not None:
            query["afterUpdatedAt"] = format_datetime(start)
        response = await self._session.request(self._op, query=query, raw=True)
        self.pages += 1
        body = response.json()
        rows = body.get("data") if isinstance(body, dict) else None
        if not isinstance(rows, list):
            raise ResponseValidationError("bookings.sync: a page without a data list", raw=body)
        items = response.data
        return rows, list(items)


class BookingsSyncMixin:
    """Mixed into the generated ``cal.bookings`` resource (see openapi/names.yaml ``mixins``)."""

    __slots__ = ()
    _session: SessionProtocol

    def sync(
        self,
        *,
        checkpoint: SyncCheckpoint | str | None = None,
        page_size: int = 100,
        overlap: dt.timedelta = dt.timedelta(0),
        status: list[str] | None = None,
        event_type_ids: str | None = None,
        team_id: str | None = None,
        checkpoint_key: str | None = None,
    ) -> BookingSync:
        """Walk every booking change since ``checkpoint`` once; see :mod:`calcom_async._sync`.

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
        )
