"""End-to-end flows through the real client against FakeCalCom."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from calcom_async import AuthenticationError, BadRequestError, CalCom
from calcom_async.testing import FakeCalCom, Limit, sign

pytest_plugins = ["calcom_async.testing.pytest_plugin"]


def _day(days: int) -> str:
    return (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=days)).isoformat()


def _starts(slots: Any) -> list[str]:
    data = slots if isinstance(slots, dict) else slots.data
    out = []
    for day in data.values():
        for item in day:
            out.append(item["start"] if isinstance(item, dict) else getattr(item, "start", item))
    return out


async def _free_starts(cal: CalCom, et_id: int) -> list[str]:
    raw = await cal.slots.with_raw_response.get_available(
        event_type_id=et_id, start=_day(1), end=_day(6)
    )
    return _starts(raw.json()["data"])


async def test_book_list_reschedule_cancel_frees_the_slot(fake_calcom: FakeCalCom) -> None:
    fake_calcom.seed(bookings=50)
    cal = fake_calcom.client()
    et = await cal.event_types.create(
        {"title": "Consult", "slug": "consult", "lengthInMinutes": 30}
    )
    et_id = int(et.id)
    free = await _free_starts(cal, et_id)
    first, second = free[0], free[5]
    booking = await cal.bookings.create(
        {
            "eventTypeId": et_id,
            "start": first,
            "attendee": {"name": "Ada", "email": "ada@example.com", "timeZone": "Europe/London"},
        }
    )
    assert booking.status == "accepted"
    assert first not in await _free_starts(cal, et_id)
    listed = await cal.bookings.list(attendee_email="ada@example.com", take=10)
    assert [b.uid for b in listed] == [booking.uid]
    moved = await cal.bookings.reschedule(booking.uid, {"start": second})
    assert moved.uid != booking.uid and moved.rescheduled_from_uid == booking.uid
    free = await _free_starts(cal, et_id)
    assert first in free and second not in free
    old = await cal.bookings.get(booking.uid)
    assert old.status == "cancelled" and old.rescheduled_to_uid == moved.uid
    cancelled = await cal.bookings.cancel(moved.uid, {"cancellationReason": "done"})
    assert cancelled.status == "cancelled"
    assert second in await _free_starts(cal, et_id)
    # the slot is bookable again
    again = await cal.bookings.create(
        {
            "eventTypeId": et_id,
            "start": second,
            "attendee": {"name": "Bob", "email": "bob@example.com", "timeZone": "UTC"},
        }
    )
    assert again.status == "accepted"
    with pytest.raises(BadRequestError, match="not available"):
        await cal.bookings.create(
            {
                "eventTypeId": et_id,
                "start": second,
                "attendee": {"name": "Eve", "email": "eve@example.com", "timeZone": "UTC"},
            }
        )


async def test_pagination_over_ten_thousand_bookings(fake_calcom: FakeCalCom) -> None:
    fake_calcom.seed(bookings=10_000)
    cal = fake_calcom.client()
    seen: set[str] = set()
    skip, pages = 0, 0
    while pages < 100:
        raw = await cal.bookings.with_raw_response.list(take=250, skip=skip, sort_created="asc")
        meta = raw.json()["pagination"]
        page = raw.parse()
        seen.update(b.uid for b in page)
        pages += 1
        assert meta["totalItems"] == 10_000 and meta["returnedItems"] == len(page)
        if not meta["hasNextPage"]:
            break
        skip += len(page)
    assert pages == 40 and len(seen) == 10_000
    # filters and sort keys
    cancelled = await cal.bookings.list(status=["cancelled"], take=250)
    assert cancelled and all(b.status in ("cancelled", "rejected") for b in cancelled)
    after = "2026-01-01T00:00:00.000Z"
    late = await cal.bookings.list(after_start=after, sort_start="desc", take=50)
    starts = [b.start for b in late]
    assert starts == sorted(starts, reverse=True)


async def test_rate_limit_headers_and_pacing() -> None:
    limit = Limit(limit=5, window=1.0, block=1.0)
    async with FakeCalCom(rate_limit=[limit]) as fake:
        raw = await fake.client().me.with_raw_response.get()
        assert raw.headers["X-RateLimit-Limit-Default"] == "5"
        assert raw.headers["X-RateLimit-Remaining-Default"] == "4"
        cal = fake.client()
        started = time.monotonic()
        await asyncio.gather(*(cal.me.get() for _ in range(12)))
        elapsed = time.monotonic() - started
        assert fake.stats["throttled"] == 0, fake.stats  # the client paced itself: no 429
        assert elapsed >= 1.0  # 12 requests at 5/s need at least two windows


async def test_throttled_answer_is_cal_coms() -> None:
    async with FakeCalCom(rate_limit=2) as fake, aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bearer {fake.api_key}"}
        statuses = []
        for _ in range(3):
            async with http.get(fake.base_url + "/v2/me", headers=headers) as r:
                statuses.append(r.status)
                body = await r.json()
                last = dict(r.headers)
        assert statuses == [200, 200, 429]
        assert body["error"]["code"] == "ThrottlerException"
        assert last["X-RateLimit-Remaining-Default"] == "0"
        assert int(last["Retry-After"]) == 60


async def test_managed_user_token_expiry_and_refresh() -> None:
    async with FakeCalCom(access_token_ttl=60) as fake:
        platform = fake.platform_client()
        created = await platform.managed_users.create(
            fake.client_id, {"email": "mu@example.com", "name": "Mu", "timeZone": "UTC"}
        )
        pairs: list[Any] = []
        user = fake.client(
            access_token=created.access_token,
            refresh_token=created.refresh_token,
            client_id=fake.client_id,
            client_secret=fake.client_secret,
            on_token_refresh=pairs.append,
        )
        me = await user.me.get()
        assert "mu+" in me.email
        fake.advance(120)  # the access token expired (the client's clock does not know)
        me = await user.me.get()
        assert pairs and pairs[-1].refresh_token != created.refresh_token
        # the old refresh token stopped working
        with pytest.raises(AuthenticationError):
            await platform.managed_users.refresh_tokens(
                fake.client_id, {"refreshToken": created.refresh_token}
            )


async def test_missing_or_wrong_version_is_a_visible_400() -> None:
    async with FakeCalCom() as fake, aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bearer {fake.api_key}"}
        for extra in ({}, {"cal-api-version": "2024-04-15"}):
            async with http.get(fake.base_url + "/v2/bookings", headers=headers | extra) as r:
                body = await r.json()
                assert r.status == 400
                assert "2024-08-13" in body["error"]["message"]
                assert body["status"] == "error" and body["path"] == "/v2/bookings"


async def test_auth_and_validation_errors_use_the_envelope() -> None:
    async with FakeCalCom() as fake, aiohttp.ClientSession() as http:
        url = fake.base_url + "/v2/bookings"
        version = {"cal-api-version": "2024-08-13", "X-Request-Id": "req-123"}
        async with http.get(url, headers=version) as r:
            assert r.status == 401 and r.headers["X-Request-Id"] == "req-123"
            assert (await r.json())["error"]["code"] == "UnauthorizedException"
        bad = {"Authorization": "Bearer cal_live_wrong"} | version
        async with http.get(url, headers=bad) as r:
            assert r.status == 401
        good = {"Authorization": f"Bearer {fake.api_key}"} | version
        async with http.post(url, headers=good, json={"start": "2030-01-01T10:00:00Z"}) as r:
            body = await r.json()
            assert r.status == 400 and body["error"]["code"] == "BadRequestException"
            assert body["error"]["details"]
        async with http.get(url, headers=good, params={"take": "1000"}) as r:
            assert r.status == 400


@pytest.mark.parametrize("kind", ["error", "html", "empty", "drop"])
async def test_faults_before_processing_are_retried(kind: str) -> None:
    async with FakeCalCom() as fake:
        fake.faults.inject(kind, times=1, match="me.get")  # type: ignore[arg-type]
        cal = fake.client(max_retries=2)
        me = await cal.me.get()
        assert me.username == "frankie"
        assert fake.stats["retries"] == 1 and fake.faults.injected[kind] == 1


@pytest.mark.parametrize("kind", ["truncate", "malformed"])
async def test_broken_bodies_raise_typed_errors(kind: str) -> None:
    from calcom_async import CalComError

    async with FakeCalCom() as fake:
        fake.faults.inject(kind, times=5, match="GET /v2/me")  # type: ignore[arg-type]
        cal = fake.client(max_retries=0)
        with pytest.raises(CalComError):
            await cal.me.get()


async def test_fault_rates_and_latency() -> None:
    from calcom_async.testing import Faults

    async with FakeCalCom(faults=Faults(error_rate=0.3, seed=3)) as fake:
        fake.faults.latency = 0.01
        cal = fake.client(max_retries=5)
        await asyncio.gather(*(cal.me.get() for _ in range(20)))
        assert fake.faults.injected["error"] > 0
        assert fake.stats["retries"] == fake.faults.injected["error"]


async def test_webhooks_are_delivered_signed_with_retries() -> None:
    received: list[tuple[bytes, dict[str, str]]] = []
    failures = {"left": 1}

    async def receive(request: web.Request) -> web.Response:
        if failures["left"]:
            failures["left"] -= 1
            return web.Response(status=500)
        received.append((await request.read(), dict(request.headers)))
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with FakeCalCom(webhook_backoff=0.01) as fake:
            cal = fake.client()
            et = await cal.event_types.create(
                {"title": "Hooked", "slug": "hooked", "lengthInMinutes": 30}
            )
            await cal.webhooks.create(
                {
                    "subscriberUrl": f"http://127.0.0.1:{port}/hook",
                    "triggers": ["BOOKING_CREATED", "BOOKING_CANCELLED"],
                    "active": True,
                    "secret": "whsec_test",
                }
            )
            await cal.event_types.webhooks.create(
                int(et.id),
                {
                    "subscriberUrl": f"http://127.0.0.1:{port}/hook",
                    "triggers": ["BOOKING_RESCHEDULED"],
                    "active": True,
                    "secret": "whsec_et",
                },
            )
            start = (await _free_starts(cal, int(et.id)))[0]
            booking = await cal.bookings.create(
                {
                    "eventTypeId": int(et.id),
                    "start": start,
                    "attendee": {"name": "Ann", "email": "ann@example.com", "timeZone": "UTC"},
                }
            )
            other = (await _free_starts(cal, int(et.id)))[3]
            moved = await cal.bookings.reschedule(booking.uid, {"start": other})
            await cal.bookings.cancel(moved.uid, {"cancellationReason": "x"})
            done = await fake.deliveries.wait(3)
    finally:
        await runner.cleanup()
    assert [d.trigger for d in done] == [
        "BOOKING_CREATED",
        "BOOKING_RESCHEDULED",
        "BOOKING_CANCELLED",
    ]
    assert len(done[0].attempts) == 2 and done[0].attempts[0].status == 500
    assert all(d.delivered for d in done)
    body, headers = next(r for r in received if b"BOOKING_CREATED" in r[0])
    assert headers["X-Cal-Signature-256"] == sign("whsec_test", body)
    event = done[0].payload
    assert event["triggerEvent"] == "BOOKING_CREATED"
    payload = event["payload"]
    for key in (
        "title",
        "startTime",
        "endTime",
        "organizer",
        "attendees",
        "uid",
        "bookingId",
        "status",
        "location",
        "metadata",
        "responses",
        "type",
        "eventTypeId",
    ):
        assert key in payload
    assert payload["uid"] == booking.uid and payload["status"] == "ACCEPTED"
    resched = next(r for r in received if b"BOOKING_RESCHEDULED" in r[0])
    assert resched[1]["X-Cal-Signature-256"] == sign("whsec_et", resched[0])
    assert done[1].payload["payload"]["rescheduleUid"] == booking.uid


async def test_fixture_client(fake_calcom_client: CalCom, fake_calcom: FakeCalCom) -> None:
    me = await fake_calcom_client.me.get()
    assert int(me.id) == 1
    assert fake_calcom.operations["me.get"] == 1


def test_import_calcom_async_does_not_import_testing() -> None:
    import subprocess
    import sys

    code = (
        "import sys, calcom_async; "
        "print(any(m.startswith('calcom_async.testing') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
