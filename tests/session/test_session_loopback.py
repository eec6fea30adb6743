"""The real transport (no mocks) against an aiohttp server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gc
import socket
import warnings
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from calcom_async import APIConnectionError, CalCom, NotFoundError
from calcom_async._operation import Param
from calcom_async._types import Unset
from tests.session._synthetic import make_op
from tests.support.clock import FakeClock
from tests.support.leaks import API_KEY


@pytest.fixture
async def server() -> Any:
    seen: list[web.Request] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request)
        if request.match_info["thing"] == "missing":
            return web.Response(status=404, text="<html>nope</html>", content_type="text/html")
        return web.json_response(
            {"status": "success", "data": {"id": 1, "uid": request.match_info["thing"]}},
            headers={"X-Request-Id": request.headers.get("X-Request-Id", "")},
        )

    app = web.Application()
    app.router.add_route("*", "/v2/things/{thing}", handler)
    async with TestServer(app, host="127.0.0.1") as test_server:
        test_server.seen = seen  # type: ignore[attr-defined]
        yield test_server


async def test_real_round_trip_keeps_the_segment_encoded(server: Any) -> None:
    base = f"http://127.0.0.1:{server.port}/v2"
    async with CalCom(api_key=API_KEY, base_url=base, clock=FakeClock()) as cal:
        thing = await cal.session.request(make_op(), path={"thingId": "../me"})
        assert thing.uid == "../me"
        email_op = make_op(
            params=(
                Param("thingId", python_name="thing_id", location="path", required=True),
                Param(
                    "attendeeEmail",
                    python_name="attendee_email",
                    location="query",
                    type=str | Unset,
                ),
            )
        )
        query = {"attendeeEmail": "a+b@example.com"}
        await cal.session.request(email_op, path={"thingId": "q"}, query=query)
        assert server.seen[-1].query["attendeeEmail"] == "a+b@example.com"
        with pytest.raises(NotFoundError, match="nope"):
            await cal.session.request(make_op(), path={"thingId": "missing"})
    first = server.seen[0]
    assert first.raw_path == "/v2/things/..%2Fme"
    assert first.headers["Authorization"] == f"Bearer {API_KEY}"
    assert first.headers["User-Agent"].startswith("calcom-async/")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_connection_refused_is_retried_even_for_post() -> None:
    clock = FakeClock()
    base = f"http://127.0.0.1:{_closed_port()}"
    async with CalCom(api_key=API_KEY, base_url=base, clock=clock, max_retries=2) as cal:
        with pytest.raises(APIConnectionError, match="could not connect"):
            await cal.session.request(make_op(method="POST"), path={"thingId": "a"})
    assert len(clock.sleeps) == 2  # two backoffs before two retries


def test_a_client_left_open_after_its_loop_ended_warns_once(leak_scan: list[Any]) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"status": "success", "data": {}})

    async def use() -> CalCom:
        app = web.Application()
        app.router.add_get("/v2/things/{thing}", handler)
        async with TestServer(app, host="127.0.0.1") as test_server:
            cal = CalCom(api_key=API_KEY, base_url=f"http://127.0.0.1:{test_server.port}")
            await cal.session.request(make_op(response=None), path={"thingId": "a"})
            return cal

    cal = asyncio.run(use())
    leak_scan.clear()  # the scan's references would keep the client alive
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del cal
        gc.collect()
    assert [str(w.message)[:30] for w in caught] == ["CalCom client was not closed: "]


async def test_an_error_whose_body_is_cut_short_keeps_its_status() -> None:
    from calcom_async import InternalServerError

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\n"
            b"Content-Length: 500\r\n\r\n<html>bad gat"
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        clock = FakeClock()
        base = f"http://127.0.0.1:{port}"
        async with CalCom(api_key=API_KEY, base_url=base, clock=clock, max_retries=0) as cal:
            with pytest.raises(InternalServerError) as info:
                await cal.session.request(make_op(), path={"thingId": "a"})
        assert info.value.status_code == 502
        assert "truncated" in str(info.value)
    finally:
        server.close()
        await server.wait_closed()
