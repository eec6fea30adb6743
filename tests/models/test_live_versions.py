"""The versions the live API answers to beyond the document (issue 14, item 3): bookings at
2026-02-25 (get, create, cancel, reschedule) and listed at 2026-05-01 with cursor paging.

The operation table knows each operation's versions (the document's and the overlay's
``x-calcom-live-versions``); a pinned known version routes to its own row (parameters, answer,
paging); the default stays the document's."""

from __future__ import annotations

import datetime as dt
import math

import pytest

import calcom_async
from calcom_async import CalComSync, RequestOptions
from calcom_async._generated.operations import BY_NAME, VARIANTS
from calcom_async._operation import Pagination
from calcom_async.testing import FakeCalCom
from tests.support.fake_thread import FakeOnThread


def test_the_table_knows_the_live_versions() -> None:
    assert BY_NAME["bookings.list"].known_versions == {"2024-08-13", "2026-05-01"}
    for name in ("bookings.get", "bookings.create", "bookings.cancel", "bookings.reschedule"):
        assert BY_NAME[name].known_versions == {"2024-08-13", "2026-02-25"}, name
        assert BY_NAME[name].api_version == "2024-08-13"  # the default stays the document's
    cursor = VARIANTS["BookingsController_2024_08_13_getBookings", "2026-05-01"]
    assert cursor.pagination is Pagination.CURSOR and cursor.api_version == "2026-05-01"
    assert {p.name for p in cursor.query_params} >= {"limit", "cursor", "status"}
    assert not {"take", "skip"} & {p.name for p in cursor.query_params}
    assert {"2026-02-25", "2026-05-01"} <= calcom_async.KNOWN_API_VERSIONS
    assert calcom_async.API_VERSION_2026_05_01 == "2026-05-01"
    assert "API_VERSION_2026_02_25" in calcom_async.__all__


async def test_the_2026_05_01_list_pages_with_a_cursor() -> None:
    async with FakeCalCom() as fake:
        fake.seed(bookings=57)
        async with fake.client(api_versions={"bookings.list": "2026-05-01"}) as cal:
            fake.requests.clear()
            items = [b async for b in cal.bookings.list(status=["upcoming", "past"], page_size=20)]
            sent = [r for r in fake.requests if r.operation == "bookings.list"]
        async with fake.client() as cal:
            everything = await cal.bookings.list(status=["upcoming", "past"]).to_list()
    assert sorted(b.uid for b in items) == sorted(b.uid for b in everything)
    assert len({b.uid for b in items}) == len(items) > 20
    assert len(sent) == math.ceil(len(items) / 20)
    assert all(r.api_version == "2026-05-01" for r in sent)
    assert all("take" not in r.query and "skip" not in r.query for r in sent)
    assert {r.query.get("limit") for r in sent} == {"20"}
    assert "cursor" not in sent[0].query and all(r.query["cursor"] for r in sent[1:])
    assert sent[0].query["status"] == "upcoming,past"


async def test_pages_of_the_cursor_list_carry_its_meta() -> None:
    async with FakeCalCom() as fake:
        fake.seed(bookings=15)
        async with fake.client() as cal:
            opts = RequestOptions(api_version="2026-05-01")
            pages = [p async for p in cal.bookings.list(page_size=10, request_options=opts).pages()]
    assert [len(p.items) for p in pages] == [10, 5]
    assert pages[0].meta is not None and pages[0].meta["hasMore"] is True
    assert pages[1].meta == {"nextCursor": None, "hasMore": False}
    assert pages[0].response.headers  # a real answer behind each page


async def test_bookings_at_2026_02_25_through_their_lifecycle() -> None:
    async with FakeCalCom() as fake:
        fake.seed(bookings=5)
        async with fake.client(api_versions={"bookings": "2026-02-25"}) as cal:
            et = (await cal.event_types.list())[0]
            today = dt.datetime.now(dt.UTC).date()
            slots = await cal.slots.with_raw_response.get_available(
                event_type_id=int(et.id),
                start=(today + dt.timedelta(days=1)).isoformat(),
                end=(today + dt.timedelta(days=7)).isoformat(),
            )
            starts = [s["start"] for day in slots.json()["data"].values() for s in day]
            fake.requests.clear()
            booking = await cal.bookings.create(
                {
                    "eventTypeId": int(et.id),
                    "start": starts[0],
                    "attendee": {"name": "A", "email": "a@example.com", "timeZone": "UTC"},
                }
            )
            got = await cal.bookings.get(booking.uid)
            moved = await cal.bookings.reschedule(got.uid, {"start": starts[3]})
            await cal.bookings.cancel(moved.uid, {"cancellationReason": "done"})
            versions = {r.operation: r.api_version for r in fake.requests}
    assert versions == {
        "bookings.create": "2026-02-25",
        "bookings.get": "2026-02-25",
        "bookings.reschedule": "2026-02-25",
        "bookings.cancel": "2026-02-25",
    }


def test_the_blocking_facade_routes_the_same() -> None:
    with FakeOnThread() as fake:
        fake.seed(bookings=12)
        with CalComSync(
            api_key=fake.api_key, base_url=fake.base_url, api_versions={"bookings": "2026-05-01"}
        ) as cal:
            items = list(cal.bookings.list(page_size=5))
        assert len(items) == 12
        listed = [r for r in fake.requests if r.operation == "bookings.list"]
        assert len(listed) == 3 and all("cursor" in r.query for r in listed[1:])


@pytest.mark.parametrize("version", ["2026-02-25", "2024-04-15"])
async def test_the_fake_refuses_a_version_the_operation_lacks(version: str) -> None:
    async with FakeCalCom() as fake:
        fake.seed(bookings=1)
        async with fake.client(api_versions={"bookings.list": version}) as cal:
            with pytest.raises(calcom_async.BadRequestError, match="2024-08-13 or 2026-05-01"):
                await cal.bookings.list()
