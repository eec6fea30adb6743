"""Bulk calls: get_many with partial failures, input order, fail_fast, and cancellation that leaves
no connection open (a real aiohttp server on 127.0.0.1)."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from calcom_async import BulkError, CalCom, NotFoundError, gather
from calcom_async._generated.examples import response_example
from tests.support.leaks import API_KEY


@pytest.fixture
async def server() -> Any:
    state: dict[str, Any] = {"active": 0, "peak": 0, "started": 0, "release": asyncio.Event()}

    async def booking(request: web.Request) -> web.Response:
        uid = request.match_info["uid"]
        state["started"] += 1
        state["active"] += 1
        state["peak"] = max(state["peak"], state["active"])
        try:
            if uid.startswith("slow"):
                await state["release"].wait()
            else:
                await asyncio.sleep(0.001)
            if uid.startswith("missing"):
                body = {"status": "error", "error": {"code": "NotFoundException", "message": uid}}
                return web.json_response(body, status=404)
            answer = response_example("BookingsController_2024_08_13_getBooking")
            answer["data"]["uid"] = uid
            return web.json_response(answer)
        finally:
            state["active"] -= 1

    app = web.Application()
    app.router.add_get("/v2/bookings/{uid}", booking)
    async with TestServer(app, host="127.0.0.1") as test_server:
        test_server.state = state  # type: ignore[attr-defined]
        yield test_server


def client(server: Any, **kwargs: Any) -> CalCom:
    return CalCom(api_key=API_KEY, base_url=f"http://127.0.0.1:{server.port}", **kwargs)


async def test_get_many_keeps_order_and_reports_each_failure(server: Any) -> None:
    uids = [f"b{i}" if i % 7 else f"missing{i}" for i in range(60)]
    async with client(server) as cal:
        results = await cal.bookings.get_many(uids, concurrency=8)
    assert [r.input for r in results] == uids
    for r in results:
        if r.input.startswith("missing"):
            assert not r.ok and isinstance(r.error, NotFoundError)
            with pytest.raises(NotFoundError):
                r.unwrap()
        else:
            assert r.ok and r.unwrap().uid == r.input  # type: ignore[union-attr]
    assert 1 < server.state["peak"] <= 8, server.state["peak"]


async def test_fail_fast_raises_the_first_failure_with_its_input(server: Any) -> None:
    async with client(server) as cal:
        with pytest.raises(BulkError) as info:
            await cal.bookings.get_many(["b1", "missing2", "b3"], fail_fast=True)
    assert info.value.input == "missing2"
    assert isinstance(info.value.error, NotFoundError)


async def test_cancelling_the_caller_cancels_in_flight_and_leaves_no_connection(
    server: Any,
) -> None:
    async with client(server, max_concurrency=16) as cal:
        with anyio.move_on_after(0.5) as scope:
            # the first answer teaches the rate limiter the budget; then 10 slow ones hang
            uids = ["b0"] + [f"slow{i}" for i in range(40)]
            await cal.bookings.get_many(uids, concurrency=10)
        assert scope.cancelled_caught
        assert server.state["started"] == 11  # the other 30 were never sent
        http = cal.session.transport._session
        assert http is not None
        await asyncio.sleep(0.05)
        assert len(http.connector._acquired) == 0  # no connection is held by a dead request
    server.state["release"].set()


async def test_gather_validates_and_runs_plain_coroutines() -> None:
    async def double(x: int) -> int:
        await anyio.lowlevel.checkpoint()
        if x == 3:
            raise ValueError("three")
        return 2 * x

    results = await gather(range(6), double, concurrency=2)
    assert [r.value for r in results if r.ok] == [0, 2, 4, 8, 10]
    assert [str(r.error) for r in results if not r.ok] == ["three"]
    with pytest.raises(ValueError, match="concurrency"):
        await gather([1], double, concurrency=0)
