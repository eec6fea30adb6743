"""The demo behind ``make demo``: a bulk sync of bookings, then book, reschedule and cancel.

Without ``CALCOM_API_KEY`` it runs against an embedded :class:`FakeCalCom` seeded with event types
and ``DEMO_BOOKINGS`` bookings (default 5,000), with a rate limit of 10 requests per second and a
few injected server errors, so pacing and retries show. With ``CALCOM_API_KEY`` set it runs the
read-only part (profile, event types, bookings sync) against the real API (``CALCOM_BASE_URL``
to change the host) and changes nothing.

``python -m calcom_async.testing.demo``
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
import time
from typing import Any

from .._clock import SystemClock
from .._progress import Progress

PAGE = 100
CONCURRENCY = 8


class _CountingClock(SystemClock):
    """The real clock, counting the waits the client chose (rate-limit pacing and backoff)."""

    def __init__(self) -> None:
        self.sleeps = 0

    async def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        await super().sleep(seconds)


class _Bar:
    """A text bar fed by the library's public progress hook (``on_page=``): one line redrawn on
    a terminal, a line per tenth otherwise."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.tty = sys.stdout.isatty()
        self._last_tenth = -1
        self.last: Progress | None = None

    def __call__(self, p: Progress) -> None:
        self.last = p
        total = p.total or max(p.items, 1)
        filled = int(30 * min(p.items, total) / total)
        bar = "#" * filled + "." * (30 - filled)
        line = (
            f"{self.label} [{bar}] {p.items:>6}/{p.total if p.total is not None else '?'}"
            f"  {p.requests} requests, {p.rate_limit_wait:.1f}s waiting for the rate limit"
        )
        if self.tty:
            print("\r" + line, end="", flush=True)
        elif p.items * 10 // total != self._last_tenth:
            self._last_tenth = p.items * 10 // total
            print(line, flush=True)

    def close(self) -> None:
        if self.tty and self.last is not None:
            print()


async def sync_bookings(cal: Any) -> dict[str, Any]:
    """Walk every booking (stable sort by creation) with the library's paginator: once the first
    page tells the total, ``prefetch`` pages are fetched concurrently and still come in order;
    de-duplicated by uid. The bar is the public ``on_page=`` hook (``calcom_async.Progress``)."""
    seen: dict[str, Any] = {}
    bar = _Bar("syncing bookings")
    walk = cal.bookings.list(sort_created="asc", page_size=PAGE, prefetch=CONCURRENCY, on_page=bar)
    async for booking in walk:
        seen[booking.uid] = booking
    bar.close()
    progress: Progress = walk.progress
    statuses: dict[str, int] = {}
    for booking in seen.values():
        statuses[str(booking.status)] = statuses.get(str(booking.status), 0) + 1
    return {
        "total": progress.total or 0,
        "synced": len(seen),
        "statuses": statuses,
        "waited": progress.rate_limit_wait,
    }


async def book_reschedule_cancel(cal: Any) -> list[str]:
    event_types = await cal.event_types.list()
    et = next(e for e in event_types if not getattr(e, "confirmation_policy", None))
    et_id = int(et.id)
    today = dt.datetime.now(dt.UTC).date()
    raw = await cal.slots.with_raw_response.get_available(
        event_type_id=et_id,
        start=(today + dt.timedelta(days=1)).isoformat(),
        end=(today + dt.timedelta(days=7)).isoformat(),
    )
    starts = [slot["start"] for day in raw.json()["data"].values() for slot in day]
    booking = await cal.bookings.create(
        {
            "eventTypeId": int(et.id),
            "start": starts[0],
            "attendee": {
                "name": "Demo Attendee",
                "email": "demo.attendee@example.com",
                "timeZone": "Europe/Berlin",
            },
        }
    )
    moved = await cal.bookings.reschedule(
        booking.uid, {"start": starts[4], "reschedulingReason": "demo"}
    )
    cancelled = await cal.bookings.cancel(moved.uid, {"cancellationReason": "demo finished"})
    return [
        f"booked      {booking.uid} {et.title!r} at {booking.start}",
        f"rescheduled {moved.uid} to {moved.start} (from {moved.rescheduled_from_uid})",
        f"cancelled   {cancelled.uid}: {cancelled.status}",
    ]


async def run_fake(bookings: int) -> int:
    from ._faults import Limit
    from ._server import FakeCalCom

    limit = Limit(limit=10, window=1.0, block=10.0)
    fake = FakeCalCom(rate_limit=[limit], seed=1)
    fake.faults.inject("error", times=3, match="bookings.list")  # retried: GETs are idempotent
    started = time.perf_counter()
    fake.seed(bookings=bookings, event_types=6, teams=1)
    seeded = time.perf_counter() - started
    print(
        f"FakeCalCom seeded: {bookings} bookings, {len(fake.store.event_types)} event types "
        f"in {seeded:.2f}s; server limit {limit.limit} requests per {limit.window:.0f}s"
    )
    clock = _CountingClock()
    async with fake, fake.client(clock=clock, max_retries=4) as cal:
        wall = time.perf_counter()
        me = await cal.me.get()
        print(f"signed in as {me.username} ({me.email})")
        result = await sync_bookings(cal)
        # the lossless incremental sync: a checkpoint now, the changes since then afterwards
        baseline = cal.bookings.sync(page_size=250)
        async for _ in baseline:
            pass
        checkpoint = baseline.checkpoint.to_json()
        lines = await book_reschedule_cancel(cal)
        changes = [b async for b in cal.bookings.sync(checkpoint=checkpoint)]
        wall = time.perf_counter() - wall
    for line in lines:
        print(line)
    print(
        f"incremental sync from the checkpoint: {len(changes)} changes "
        f"({', '.join(f'{b.uid[:6]}… {b.status}' for b in changes)})"
    )
    stats = fake.stats
    held_back = max(0, clock.sleeps - stats["retries"])
    print()
    print("summary")
    print(f"  bookings synced   {result['synced']}/{result['total']}  {result['statuses']}")
    print(f"  wall time         {wall:.2f}s")
    print(f"  requests          {stats['requests']}")
    print(f"  retries           {stats['retries']} (after {stats['faults']} injected 5xx)")
    print(f"  429s received     {stats['throttled']}")
    print(f"  429s avoided      {held_back} waits for the rate-limit window instead of a 429")
    print(f"  rate-limit waits  {result['waited']:.1f}s of the bookings walk")
    ok = result["synced"] == result["total"] == bookings and len(lines) == 3 and bool(changes)
    return 0 if ok else 1


async def run_real() -> int:
    from .._client import CalCom

    clock = _CountingClock()
    async with CalCom(clock=clock) as cal:
        wall = time.perf_counter()
        me = await cal.me.get()
        print(f"signed in as {me.username} ({me.email}) at {cal.base_url} (read-only)")
        event_types = await cal.event_types.list()
        print(f"event types: {len(event_types)}")
        result = await sync_bookings(cal)
        wall = time.perf_counter() - wall
    print()
    print("summary")
    print(f"  bookings synced   {result['synced']}/{result['total']}  {result['statuses']}")
    print(f"  wall time         {wall:.2f}s")
    print(f"  client waits      {clock.sleeps} (rate-limit pacing and retry backoff)")
    print(f"  rate-limit waits  {result['waited']:.1f}s of the bookings walk")
    return 0


def main() -> int:
    if os.environ.get("CALCOM_API_KEY"):
        return asyncio.run(run_real())
    bookings = int(os.environ.get("DEMO_BOOKINGS", "5000"))
    return asyncio.run(run_fake(bookings))


if __name__ == "__main__":
    raise SystemExit(main())
