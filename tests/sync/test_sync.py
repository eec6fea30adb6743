"""cal.bookings.sync(): exact under changes between pages, resumable from its checkpoint.

A stub bookings endpoint with the API's semantics (``afterUpdatedAt``/``beforeCreatedAt``
inclusive and matching no ``null``, ``sortUpdatedAt``/``sortCreated`` with ties in random order
and ``null`` first or last, ``take``/``skip`` offsets, ``totalItems``) is mutated between page
requests by Hypothesis: creations, updates and cancellations, several in one millisecond; some
bookings start with ``updatedAt: null`` and are stamped when they change.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
from collections.abc import Mapping
from typing import Any

import attrs
import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from calcom_async._generated.examples import response_example
from calcom_async._operation import Pagination
from calcom_async._scalars import format_datetime
from calcom_async._serde import structure
from calcom_async._sync_checkpoint import SyncCheckpoint
from calcom_async._sync_walk import BookingSync, _list_operation
from tests.support.sync_properties import assert_each_version_once, version

OP = _list_operation()  # cal.bookings.list, whatever its operationId in this document
TEMPLATE = response_example(OP.operation_id)["data"][0]
T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
MS = dt.timedelta(milliseconds=1)


class _Response:
    status_code = 200
    request_id = "req_sync"

    def __init__(self, body: Any) -> None:
        self.content = orjson.dumps(body)

    def json(self) -> Any:
        return orjson.loads(self.content)

    @property
    def data(self) -> Any:
        return structure(self.json(), OP.response_type()).data


class Store:
    """Bookings with the list endpoint's semantics; ``schedule[i]`` runs before page request i."""

    def __init__(
        self,
        count: int,
        schedule: list[list[tuple[str, int]]],
        seed: int,
        stable: bool = False,
        nulls: int = 0,
        nulls_first: bool = False,
    ) -> None:
        self.stable = stable  # ties in one fixed order (as a database usually keeps them)
        self.nulls_first = nulls_first  # where sortUpdatedAt puts null (undocumented live)
        self.clock = T0
        self.rows: dict[str, dict[str, Any]] = {}
        self.random = random.Random(seed)
        self.schedule = schedule
        self.requests = 0
        for i in range(count):
            self.create()
            if i < nulls:  # an old booking, made before Cal.com stamped updatedAt
                self.rows[f"uid-{i}"]["updatedAt"] = None
            self.tick(self.random.choice([0, 1]))

    def tick(self, ms: int) -> None:
        self.clock += ms * MS

    def create(self) -> None:
        uid = f"uid-{len(self.rows)}"
        row = copy.deepcopy(TEMPLATE)
        row.update(uid=uid, id=len(self.rows), status="accepted")
        row["createdAt"] = row["updatedAt"] = format_datetime(self.clock)
        self.rows[uid] = row

    def change(self, index: int, status: str | None) -> None:
        if not self.rows:
            return
        row = self.rows[sorted(self.rows)[index % len(self.rows)]]
        # a booking's next version is stamped later than its last one (ms resolution)
        last = row["updatedAt"] or row["createdAt"]
        stamp = max(self.clock, dt.datetime.fromisoformat(last) + MS)
        self.clock = stamp
        row["updatedAt"] = format_datetime(stamp)
        row["title"] = f"{row['title']}!"
        if status:
            row["status"] = status

    def apply(self, step: tuple[str, int]) -> None:
        kind, value = step
        if kind == "create":
            self.create()
        elif kind == "update":
            self.change(value, None)
        elif kind == "cancel":
            self.change(value, "cancelled")
        else:
            self.tick(value)

    def _sorted(self, rows: list[dict[str, Any]], query: Mapping[str, Any]) -> None:
        if not self.stable:
            self.random.shuffle(rows)  # ties come in any order
        if query.get("sortCreated"):
            rows.sort(key=lambda r: r["createdAt"], reverse=query["sortCreated"] == "desc")
            return
        desc = query["sortUpdatedAt"] == "desc"
        stamped = sorted((r for r in rows if r["updatedAt"]), key=lambda r: r["updatedAt"])
        if desc:
            stamped.reverse()
        nulls = [r for r in rows if not r["updatedAt"]]
        rows[:] = nulls + stamped if self.nulls_first else stamped + nulls

    def matching(self, query: Mapping[str, Any]) -> list[dict[str, Any]]:
        rows = list(self.rows.values())
        for name, field, keep in (
            ("afterUpdatedAt", "updatedAt", lambda v, b: v >= b),
            ("beforeCreatedAt", "createdAt", lambda v, b: v <= b),
        ):
            if name in query:
                bound = dt.datetime.fromisoformat(query[name])
                rows = [
                    r
                    for r in rows
                    if r[field] is not None and keep(dt.datetime.fromisoformat(r[field]), bound)
                ]
        self._sorted(rows, query)
        return rows

    def route(self, op: Any, options: Any = None) -> Any:
        return op

    def next_request(self) -> None:
        if self.requests < len(self.schedule):
            for step in self.schedule[self.requests]:
                self.apply(step)
        self.requests += 1

    async def request(self, op: Any, *, query: Mapping[str, Any], raw: bool, **_: Any) -> Any:
        assert op is OP and raw
        self.next_request()
        rows = self.matching(query)
        skip, take = query["skip"], query["take"]
        assert 1 <= take <= 250, "the API's largest page"
        page = rows[skip : skip + take]
        meta = {
            "totalItems": len(rows),
            "remainingItems": max(0, len(rows) - skip - len(page)),
            "returnedItems": len(page),
            "itemsPerPage": take,
            "currentPage": skip // take + 1,
            "totalPages": -(-len(rows) // take),
            "hasNextPage": skip + len(page) < len(rows),
            "hasPreviousPage": skip > 0,
        }
        return _Response({"status": "success", "data": copy.deepcopy(page), "pagination": meta})

    def versions(self) -> set[tuple[str, str]]:
        return {(uid, row["updatedAt"]) for uid, row in self.rows.items()}


async def drain(sync: BookingSync, limit: int | None = None) -> list[tuple[str, str]]:
    out = []
    async for item in sync:
        out.append(version(item))
        if limit is not None and len(out) >= limit:
            break
    return out


steps = st.one_of(
    st.tuples(st.just("create"), st.just(0)),
    st.tuples(st.sampled_from(["update", "cancel"]), st.integers(0, 50)),
    st.tuples(st.just("tick"), st.integers(0, 2)),
)
schedules = st.lists(st.lists(steps, max_size=4), max_size=12)


@settings(max_examples=200, deadline=None)
@given(
    count=st.integers(0, 25),
    page_size=st.integers(1, 6),
    schedule=schedules,
    seed=st.integers(0, 2**16),
    nulls=st.integers(0, 25),
    nulls_first=st.booleans(),
)
async def test_changes_between_pages_are_never_lost_or_repeated(
    count: int,
    page_size: int,
    schedule: list[list[tuple[str, int]]],
    seed: int,
    nulls: int,
    nulls_first: bool,
) -> None:
    store = Store(count, schedule, seed, nulls=nulls, nulls_first=nulls_first)
    seen = await drain(BookingSync(store, page_size=page_size))  # type: ignore[arg-type]
    assert_each_version_once(seen, store.versions())


@settings(max_examples=200, deadline=None)
@given(
    count=st.integers(0, 25),
    page_size=st.integers(1, 6),
    schedule=schedules,
    seed=st.integers(0, 2**16),
    crash_after=st.integers(0, 30),
    nulls=st.integers(0, 25),
)
async def test_crash_and_resume_from_the_checkpoint(
    count: int,
    page_size: int,
    schedule: list[list[tuple[str, int]]],
    seed: int,
    crash_after: int,
    nulls: int,
) -> None:
    store = Store(count, schedule, seed, nulls=nulls)
    first = BookingSync(store, page_size=page_size)  # type: ignore[arg-type]
    before = await drain(first, limit=crash_after) if crash_after else []
    saved = first.checkpoint.to_json()  # persisted with the last processed booking
    after = await drain(BookingSync(store, checkpoint=saved, page_size=page_size))  # type: ignore[arg-type]
    assert_each_version_once(before + after, store.versions())


@settings(max_examples=100, deadline=None)
@given(
    count=st.integers(0, 25),
    page_size=st.integers(1, 6),
    seed=st.integers(0, 2**16),
    crash_after=st.integers(1, 30),
)
async def test_resume_yields_the_same_set_as_an_uninterrupted_run(
    count: int, page_size: int, seed: int, crash_after: int
) -> None:
    store = Store(count, [], seed)
    whole = await drain(BookingSync(store, page_size=page_size))  # type: ignore[arg-type]
    first = BookingSync(store, page_size=page_size)  # type: ignore[arg-type]
    part = await drain(first, limit=crash_after)
    rest = await drain(BookingSync(store, checkpoint=first.checkpoint, page_size=page_size))  # type: ignore[arg-type]
    assert sorted(part + rest) == sorted(whole)
    assert len(part + rest) == len(whole)


async def test_a_run_of_one_millisecond_longer_than_a_page() -> None:
    store = Store(0, [], 1)
    for _ in range(17):
        store.create()  # all at the same millisecond
    seen = await drain(BookingSync(store, page_size=5))  # type: ignore[arg-type]
    assert sorted(seen) == sorted(store.versions())


async def test_checkpoint_json_and_incremental_runs() -> None:
    store = Store(10, [], 3)
    sync = BookingSync(store, page_size=4)  # type: ignore[arg-type]
    assert len(await drain(sync)) == 10
    saved = sync.checkpoint.to_json()
    assert SyncCheckpoint.from_json(saved) == sync.checkpoint
    store.tick(5)
    store.change(2, "cancelled")
    store.create()
    again = await drain(BookingSync(store, checkpoint=saved, page_size=4))  # type: ignore[arg-type]
    assert len(again) == 2
    with pytest.raises(ValueError, match="checkpoint"):
        SyncCheckpoint.from_json("{not json")


async def test_a_run_longer_than_the_largest_page_with_stable_ties() -> None:
    store = Store(0, [], 1, stable=True)
    for _ in range(600):
        store.create()  # 600 bookings stamped in one millisecond (a bulk import)
    store.tick(1)
    store.create()
    seen = await drain(BookingSync(store, page_size=100))  # type: ignore[arg-type]
    assert sorted(seen) == sorted(store.versions())
    assert len(seen) == 601


async def test_end_to_end_against_the_fake() -> None:
    from calcom_async import models
    from calcom_async.testing import FakeCalCom

    async with FakeCalCom() as fake:
        fake.seed(bookings=600)  # seeded bookings share timestamps: tie runs of all sizes
        async with fake.client() as cal:
            first = cal.bookings.sync(page_size=100)
            uids = [b.uid async for b in first]
            assert len(uids) == len(set(uids)) == 600
            saved = first.checkpoint.to_json()
            fake.advance(5)  # later, two bookings are cancelled
            upcoming = [b for b in await cal.bookings.list(status=["upcoming"], take=2)]
            for booking in upcoming:
                await cal.bookings.cancel(
                    booking.uid, models.CancelBookingInput_2024_08_13(cancellation_reason="x")
                )
            changed = [b async for b in cal.bookings.sync(checkpoint=saved)]
    assert sorted(b.uid for b in changed) == sorted(b.uid for b in upcoming)
    assert {str(b.status) for b in changed} == {"cancelled"}


async def test_a_server_that_ignores_the_filter_or_the_sort_is_an_error() -> None:
    from calcom_async import ResponseValidationError

    store = Store(8, [], 2)

    class Unsorted(Store):
        async def request(self, op: Any, *, query: Mapping[str, Any], raw: bool, **_: Any) -> Any:
            answer = await super().request(op, query=query, raw=raw)
            body = answer.json()
            body["data"].reverse()  # newest first: the sort was ignored
            return _Response(body)

    bad = Unsorted(8, [], 2)
    with pytest.raises(ResponseValidationError, match="sorted"):
        await drain(BookingSync(bad, page_size=4))  # type: ignore[arg-type]
    assert len(await drain(BookingSync(store, page_size=4))) == 8  # type: ignore[arg-type]


# -- requests, counted at the fake ----------------------------------------------------------------


def _runs_longer_than(fake: Any, page: int) -> int:
    from collections import Counter

    stamps = Counter(b.updated for b in fake.store.bookings.values() if b.updated is not None)
    return sum(1 for n in stamps.values() if n > page)


async def test_a_full_sync_is_linear_and_an_unchanged_increment_is_one_request() -> None:
    from calcom_async.testing import FakeCalCom

    async with FakeCalCom() as fake:
        fake.seed(bookings=20_000)
        assert _runs_longer_than(fake, 250) == 0  # the seed spreads updatedAt realistically
        async with fake.client() as cal:
            full = cal.bookings.sync()
            synced = [b async for b in full]
            assert fake.operations["bookings.list"] <= -(-20_000 // 250) + 2
            assert full.pages == fake.operations["bookings.list"]
            fake.reset_stats()
            again = [b async for b in cal.bookings.sync(checkpoint=full.checkpoint.to_json())]
            assert (again, fake.operations["bookings.list"]) == ([], 1)
    assert len({b.uid for b in synced}) == len(synced) == 20_000
    assert sum(b.updated_at is None for b in synced) > 1000  # old bookings, never stamped


def _restamp(fake: Any, bookings: list[Any], when: float, *, created: bool) -> None:
    from calcom_async.testing._util import iso

    for booking in bookings:
        if created:
            booking.created = when
            booking.data["createdAt"] = iso(when)
        booking.updated = when
        booking.data["updatedAt"] = iso(when)
    fake.store.bookings_version += 1


async def test_a_long_run_of_equal_stamps_costs_at_most_one_more_request() -> None:
    from calcom_async.testing import FakeCalCom

    async with FakeCalCom() as fake:
        fake.seed(bookings=2_000)
        by_created = sorted(fake.store.bookings.values(), key=lambda b: b.created)
        middle = by_created[700].created
        _restamp(fake, by_created[300:1000], middle, created=True)  # a bulk import: 700 in 1 ms
        assert _runs_longer_than(fake, 250) == 1
        async with fake.client() as cal:
            full = cal.bookings.sync()
            assert len({b.uid async for b in full}) == 2_000
            assert fake.operations["bookings.list"] <= -(-2_000 // 250) + 1 + 2
            fake.reset_stats()
            fake.advance(5)  # later, a bulk update stamps 600 of them in one millisecond
            _restamp(fake, by_created[1000:1600], fake.now(), created=False)
            changed = [b async for b in cal.bookings.sync(checkpoint=full.checkpoint)]
            assert sorted(b.uid for b in changed) == sorted(b.uid for b in by_created[1000:1600])
            # the changes pass reads 200 new bookings a page inside a run (re-reading 50)
            assert fake.operations["bookings.list"] <= -(-600 // 200) + 2


async def test_the_fake_matches_null_updated_at_with_no_bound_and_sorts_it_last() -> None:
    from calcom_async.testing import FakeCalCom

    async with FakeCalCom() as fake:
        fake.seed(bookings=300)
        nulls = {b.uid for b in fake.store.bookings.values() if b.updated is None}
        assert nulls
        async with fake.client() as cal:
            after = await cal.bookings.list(after_updated_at="2000-01-01T00:00:00Z", take=250)
            ascending = await cal.bookings.list(sort_updated_at="asc", take=250, skip=50)
            descending = await cal.bookings.list(sort_updated_at="desc", take=len(nulls))
    assert not nulls & {b.uid for b in after}
    assert {b.uid for b in ascending[-len(nulls) :]} == nulls
    assert {b.uid for b in descending} == nulls


# -- cursor paging (limit/cursor, nextCursor/hasMore), on a stub of the answer's shape ----------

CURSOR_OP = attrs.evolve(OP, pagination=Pagination.CURSOR)


class CursorStore(Store):
    """The same bookings paged by a keyset cursor: (sort key, id) of the last booking sent."""

    newest = 0  #: requests for the newest updatedAt (a first page without one)

    async def request(self, op: Any, *, query: Mapping[str, Any], raw: bool, **_: Any) -> Any:
        assert op is CURSOR_OP and "take" not in query and "skip" not in query
        self.next_request()
        self.newest += query.get("sortUpdatedAt") == "desc"  # where the changes pass starts
        limit, cursor = query["limit"], query.get("cursor")
        rows = self.matching(query)
        field = "createdAt" if "sortCreated" in query else "updatedAt"
        desc = "desc" in (query.get("sortCreated"), query.get("sortUpdatedAt"))
        rows.sort(key=lambda r: (r[field], r["id"]), reverse=desc)
        if cursor is not None:
            key, ident = orjson.loads(cursor)
            rows = [r for r in rows if _after((r[field], r["id"]), (key, ident), desc)]
        page, rest = rows[:limit], rows[limit:]
        last = page[-1] if page else None
        next_cursor = orjson.dumps([last[field], last["id"]]).decode() if last and rest else None
        meta = {"nextCursor": next_cursor, "hasMore": bool(rest)}
        return _CursorResponse({"status": "success", "data": page, "pagination": meta})


class _CursorResponse(_Response):
    """The 2026-05-01 answer: its own envelope model comes with that version in the operation
    table; the booking items are those of 2024-08-13, structured here with that envelope."""

    @property
    def data(self) -> Any:
        meta = {"totalItems": 0, "remainingItems": 0, "returnedItems": 0, "itemsPerPage": 1}
        meta |= {"currentPage": 1, "totalPages": 1, "hasNextPage": False, "hasPreviousPage": False}
        envelope = {**self.json(), "pagination": meta}
        return structure(envelope, OP.response_type()).data


def _after(row: tuple[str, int], cursor: tuple[str, int], desc: bool) -> bool:
    return row < cursor if desc else row > cursor


@settings(max_examples=100, deadline=None)
@given(
    count=st.integers(0, 25),
    page_size=st.integers(1, 6),
    schedule=schedules,
    seed=st.integers(0, 2**16),
    nulls=st.integers(0, 25),
)
# a booking updated between two changes pages to the millisecond of the cursor's last booking,
# with a lower id, sorts behind a keyset cursor: a pass that followed the cursor lost it
@example(
    count=1,
    page_size=2,
    schedule=[[("create", 0), ("create", 0)], [], [], [("update", 0)]],
    seed=0,
    nulls=0,
)
async def test_cursor_paging_is_exact_under_changes_and_linear(
    count: int, page_size: int, schedule: list[list[tuple[str, int]]], seed: int, nulls: int
) -> None:
    store = CursorStore(count, schedule, seed, nulls=nulls)
    sync = BookingSync(store, page_size=page_size, operation=CURSOR_OP)  # type: ignore[arg-type]
    seen = await drain(sync)
    assert_each_version_once(seen, store.versions())
    # linear: every page full but the last of each of the two passes, and two more when the
    # first page holds no updatedAt at all (the newest stamp asked for, that page read again)
    assert store.requests <= -(-len(seen) // page_size) + 1 + 2 * store.newest


async def test_cursor_paging_makes_one_request_a_page() -> None:
    store = CursorStore(600, [], 4, nulls=100)
    sync = BookingSync(store, page_size=100, operation=CURSOR_OP)  # type: ignore[arg-type]
    assert len(await drain(sync)) == 600
    assert store.requests == 6 + 1  # the first pass, then one changes request
    again = BookingSync(store, checkpoint=sync.checkpoint, operation=CURSOR_OP)  # type: ignore[arg-type]
    assert await drain(again) == [] and store.requests == 7 + 1


async def test_a_sync_pinned_to_the_cursor_version_pages_by_cursor_at_the_fake() -> None:
    from calcom_async.testing import FakeCalCom

    async with FakeCalCom() as fake:
        fake.seed(bookings=1_200)
        async with fake.client(api_versions={"bookings.list": "2026-05-01"}) as cal:
            full = cal.bookings.sync()
            assert len({b.uid async for b in full}) == 1_200
            assert fake.operations["bookings.list"] == -(-1_200 // 250) + 1
            fake.reset_stats()
            assert [b async for b in cal.bookings.sync(checkpoint=full.checkpoint)] == []
            assert fake.operations["bookings.list"] == 1
    assert all(r.api_version == "2026-05-01" and "take" not in r.query for r in fake.requests)


async def test_a_cursor_sync_at_the_fake_is_exact_while_bookings_are_made_and_changed() -> None:
    """The fake's cursor is an encoded offset (the facts do not say what the live one is): new
    bookings shift it during the first pass, changed bookings during the changes pass."""
    import random as _random

    from calcom_async.testing import FakeCalCom

    async with FakeCalCom() as fake:
        fake.seed(bookings=600)
        store = fake.store
        rng = _random.Random(7)
        et_id = sorted(store.event_types)[0]
        attendee = {"name": "New Person", "email": "new@example.com", "timeZone": "UTC"}
        final: set[tuple[str, str | None]] = set()

        def meanwhile(_: object) -> None:  # between two pages: two new bookings, three changes
            # (the last call comes once the walk has ended: its state is the one to check)
            final.clear()
            final.update((uid, b.data["updatedAt"]) for uid, b in store.bookings.items())
            fake.advance(0.001 * rng.randint(0, 2))
            for _ in range(2):
                store.add_booking(et_id, fake.now() + 86400, [dict(attendee)])
            for uid in rng.sample(sorted(store.bookings), 3):
                store.touch(store.bookings[uid])

        async with fake.client(api_versions={"bookings.list": "2026-05-01"}) as cal:
            sync = cal.bookings.sync(page_size=50, on_page=meanwhile)
            seen = [version(b) async for b in sync]
    assert_each_version_once(seen, final)
    assert sync.pages <= -(-len(seen) // 50) + 1 + 2
