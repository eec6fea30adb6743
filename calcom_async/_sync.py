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
   GUARD`` bookings sharing one millisecond is paged with ``skip``, re-reading ``GUARD`` of them:
   exact if the server keeps ties in a stable order and fewer than ``GUARD`` of them change
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
own millisecond); the cursor is followed there only inside a run of more than ``250 - GUARD``
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

Where: this module holds ``cal.bookings.sync()`` itself (``BookingsSyncMixin``); the walk it
returns, ``BookingSync`` with its two passes and the store-backed checkpoint, is in ``_sync_walk``;
the ``take``/``skip`` and cursor pagers and the edges the passes give them in ``_sync_pages``;
``SyncCheckpoint`` and its JSON in ``_sync_checkpoint``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

from ._progress import Progress
from ._sync_checkpoint import SyncCheckpoint
from ._sync_walk import BookingSync

if TYPE_CHECKING:
    from typing import TypeAlias

    from ._generated import models as _m
    from ._resource import SessionProtocol

    #: what ``cal.bookings.sync()`` yields: an item of ``cal.bookings.list`` (the same models at
    #: 2024-08-13 and at 2026-05-01; tests/models/test_honest_types.py checks it against the list's)
    SyncedBooking: TypeAlias = (
        _m.BookingOutput_2024_08_13
        | _m.RecurringBookingOutput_2024_08_13
        | _m.GetSeatedBookingOutput_2024_08_13
        | _m.GetRecurringSeatedBookingOutput_2024_08_13
    )

# SyncCheckpoint: what sync() takes, imported from here by the blocking twin (blocking.py)
__all__ = ["BookingsSyncMixin", "SyncCheckpoint"]


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
