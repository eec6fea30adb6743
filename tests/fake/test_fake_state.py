"""FakeCalCom's state rules: every bookings filter and sort key, reservations, named rate limits,
the standalone server."""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from typing import Any

import aiohttp
import pytest

from calcom_async.testing import FakeCalCom, Limit
from calcom_async.testing._util import iso, parse_time
from tests.fake._fake_helpers import Raw
from tests.support.net import free_port


def _day(days: int) -> str:
    return (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=days)).isoformat()


async def _all(raw: Raw, **query: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    skip = 0
    for _ in range(50):
        page = await raw("bookings.list", query={**query, "take": 250, "skip": skip})
        out.extend(page["data"])
        if not page["pagination"]["hasNextPage"]:
            return out
        skip += 250
    raise AssertionError("more pages than expected")


async def test_every_bookings_filter_and_sort_key() -> None:
    async with FakeCalCom() as fake, aiohttp.ClientSession() as session:
        fake.seed(bookings=1500, teams=1)
        raw = Raw(fake, session)
        rows = list(fake.store.bookings.values())
        now = fake.now()
        everything = await _all(raw)
        assert len(everything) == 1500

        def uids(items: list[dict[str, Any]]) -> set[str]:
            return {b["uid"] for b in items}

        cancelled = await _all(raw, status="cancelled")
        assert uids(cancelled) == {b.uid for b in rows if b.status in ("cancelled", "rejected")}
        past_or_unconfirmed = await _all(raw, status="past,unconfirmed")
        expected = {
            b.uid
            for b in rows
            if (b.end < now and b.status not in ("cancelled", "rejected"))
            or (b.status == "pending" and b.end >= now)
        }
        assert uids(past_or_unconfirmed) == expected and expected
        upcoming = await _all(raw, status="upcoming")
        assert all(parse_time(b["end"]) >= now and b["status"] == "accepted" for b in upcoming)

        person = rows[7].data["attendees"][0]
        by_email = await _all(raw, attendeeEmail=person["email"].upper())
        assert rows[7].uid in uids(by_email)
        assert all(any(a["email"] == person["email"] for a in b["attendees"]) for b in by_email)
        last_name = person["name"].split()[-1].lower()
        by_name = await _all(raw, attendeeName=last_name)
        assert all(any(last_name in a["name"].lower() for a in b["attendees"]) for b in by_name)
        assert rows[7].uid in uids(by_name)
        assert uids(await _all(raw, bookingUid=rows[3].uid)) == {rows[3].uid}

        et_ids = sorted({b.event_type_id for b in rows})[:2]
        by_types = await _all(raw, eventTypeIds=",".join(map(str, et_ids)))
        assert uids(by_types) == {b.uid for b in rows if b.event_type_id in et_ids}
        by_type = await _all(raw, eventTypeId=et_ids[0])
        assert uids(by_type) == {b.uid for b in rows if b.event_type_id == et_ids[0]}
        team_id = next(iter(fake.store.teams))
        team_rows = {b.uid for b in rows if b.team_id == team_id}
        assert team_rows and uids(await _all(raw, teamId=str(team_id))) == team_rows
        assert uids(await _all(raw, teamsIds=str(team_id))) == team_rows
        recurring = {
            b.uid
            for b in rows
            if b.recurring_uid and b.end >= now and b.status not in ("cancelled", "rejected")
        }
        assert recurring and uids(await _all(raw, status="recurring")) == recurring

        def pivot(values: list[float], index: int) -> tuple[str, float]:
            text = iso(sorted(values)[index])  # millisecond precision, as clients send it
            return text, parse_time(text)

        text, at = pivot([b.start for b in rows], 750)
        assert uids(await _all(raw, afterStart=text)) == {b.uid for b in rows if b.start >= at}
        assert uids(await _all(raw, beforeEnd=text)) == {b.uid for b in rows if b.end <= at}
        text, at = pivot([b.created for b in rows], 500)
        assert uids(await _all(raw, afterCreatedAt=text)) == {
            b.uid for b in rows if b.created >= at
        }
        assert uids(await _all(raw, beforeCreatedAt=text)) == {
            b.uid for b in rows if b.created <= at
        }
        stamped = [b for b in rows if b.updated is not None]  # null matches no bound
        assert len(stamped) < len(rows)
        text, at = pivot([b.updated for b in stamped], 700)
        assert uids(await _all(raw, afterUpdatedAt=text)) == {
            b.uid for b in stamped if b.updated >= at
        }
        assert uids(await _all(raw, beforeUpdatedAt=text)) == {
            b.uid for b in stamped if b.updated <= at
        }

        for key, field in (
            ("sortStart", "start"),
            ("sortEnd", "end"),
            ("sortCreated", "createdAt"),
            ("sortUpdatedAt", "updatedAt"),
        ):
            for direction in ("asc", "desc"):
                query = {key: direction, "take": 100, "afterUpdatedAt": "2000-01-01"}
                page = (await raw("bookings.list", query=query))["data"]
                values = [parse_time(b[field]) for b in page]
                assert values == sorted(values, reverse=direction == "desc"), (key, direction)
        await raw("bookings.list", query={"sortStart": "sideways"}, expect=400)
        await raw("bookings.list", query={"afterStart": "yesterday"}, expect=400)


async def test_reservations_hold_a_slot_until_they_expire() -> None:
    async with FakeCalCom() as fake, aiohttp.ClientSession() as session:
        raw = Raw(fake, session)
        et = (
            await raw(
                "event_types.create",
                body={"title": "Hold", "slug": "hold", "lengthInMinutes": 30},
            )
        )["data"]
        query = {"eventTypeId": et["id"], "start": _day(1), "end": _day(6)}

        async def starts() -> list[str]:
            data = (await raw("slots.get_available", query=query))["data"]
            return [s["start"] for day in data.values() for s in day]

        free = await starts()
        held = (
            await raw(
                "slots.reserve",
                body={"eventTypeId": et["id"], "slotStart": free[0], "reservationDuration": 10},
            )
        )["data"]
        assert free[0] not in await starts()
        overlap = await raw(
            "slots.reserve", body={"eventTypeId": et["id"], "slotStart": free[0]}, expect=422
        )
        # the live API's answer here has no envelope (../shared/docs/CALCOM-API.md)
        assert overlap == {
            "error": {"message": "Can't reserve a slot if the event is already booked or reserved"}
        }
        body = {
            "eventTypeId": et["id"],
            "start": free[0],
            "attendee": {"name": "A", "email": "a@example.com", "timeZone": "UTC"},
        }
        await raw("bookings.create", body=body, expect=400)
        fake.advance(11 * 60)
        assert free[0] in await starts()
        await raw("slots.get_reserved", path={"uid": held["reservationUid"]}, expect=404)
        await raw("bookings.create", body=body)


async def test_several_named_limits() -> None:
    limits = [Limit("short", 3, 1.0, 1.0), Limit("long", 100, 60.0, 60.0)]
    async with FakeCalCom(rate_limit=limits) as fake, aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bearer {fake.api_key}"}
        seen = []
        for _ in range(4):
            async with http.get(fake.base_url + "/v2/me", headers=headers) as r:
                seen.append((r.status, dict(r.headers)))
        assert [s for s, _ in seen] == [200, 200, 200, 429]
        first = seen[0][1]
        assert first["X-RateLimit-Limit-Short"] == "3"
        assert first["X-RateLimit-Remaining-Long"] == "99"
        assert seen[3][1]["X-RateLimit-Remaining-Short"] == "0"
        fake.advance(1.5)
        async with http.get(fake.base_url + "/v2/me", headers=headers) as r:
            assert r.status == 200


async def test_standalone_server() -> None:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "calcom_async.testing",
        "--port",
        str(port),
        "--bookings",
        "20",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        assert f"127.0.0.1:{port}" in line
        fake = FakeCalCom()
        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{port}/v2/bookings"
            headers = {"Authorization": f"Bearer {fake.api_key}", "cal-api-version": "2024-08-13"}
            async with http.get(url, headers=headers) as r:
                body = await r.json()
        assert r.status == 200 and body["pagination"]["totalItems"] == 20
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 10)


@pytest.mark.parametrize("take", ["0", "251", "ten"])
async def test_take_is_validated(take: str) -> None:
    async with FakeCalCom() as fake, aiohttp.ClientSession() as session:
        await Raw(fake, session)("bookings.list", query={"take": take}, expect=400)


async def test_a_bug_in_a_handler_is_a_500_envelope(monkeypatch: pytest.MonkeyPatch) -> None:
    from calcom_async.testing import _handlers

    def broken(store: Any, ctx: Any) -> Any:
        raise KeyError("oops")

    monkeypatch.setitem(_handlers.HANDLERS, "me.get", broken)
    async with FakeCalCom() as fake, aiohttp.ClientSession() as session:
        body = await Raw(fake, session)("me.get", expect=500)
    assert body["status"] == "error"
    assert body["error"]["code"] == "InternalServerErrorException"


async def test_an_answer_lost_after_processing_is_not_resent() -> None:
    from calcom_async import APIConnectionError

    async with FakeCalCom() as fake:
        cal = fake.client(max_retries=3)
        fake.faults.inject("drop", match="event_types.create", after=True)
        with pytest.raises(APIConnectionError):
            await cal.event_types.create({"title": "Lost", "slug": "lost", "lengthInMinutes": 15})
        # the server did the work; the client did not send the POST twice
        assert fake.operations["event_types.create"] == 1
        assert [e.slug for e in await cal.event_types.list()] == ["lost"]


async def test_repeated_list_queries_see_every_change() -> None:
    async with FakeCalCom() as fake, aiohttp.ClientSession() as session:
        fake.seed(bookings=100)
        raw = Raw(fake, session)
        query = {"status": "cancelled", "take": 250}
        before = (await raw("bookings.list", query=query))["pagination"]["totalItems"]
        victim = next(b for b in fake.store.bookings.values() if b.status == "accepted")
        await raw("bookings.cancel", path={"bookingUid": victim.uid}, body={})
        after = (await raw("bookings.list", query=query))["pagination"]["totalItems"]
        assert after == before + 1
        everything = {"take": 250, "sortUpdatedAt": "desc", "afterUpdatedAt": "2000-01-01"}
        first = (await raw("bookings.list", query=everything))["data"][0]
        assert first["uid"] == victim.uid  # the most recently updated


def test_the_handler_registry_refuses_a_second_handler_for_one_operation() -> None:
    from calcom_async.testing._handlers import HANDLERS, Registry
    from calcom_async.testing._handlers._registry import joined

    first, second = Registry(), Registry()
    first("me.get")(lambda state, ctx: "a")
    with pytest.raises(ValueError, match=r"two handlers for me\.get"):
        first("me.get")(lambda state, ctx: "b")
    second("me.get")(lambda state, ctx: "c")
    with pytest.raises(ValueError, match=r"two handlers for me\.get"):
        joined(first, second)
    assert {"me.get", "bookings.create", "slots.get_available"} <= set(HANDLERS)
