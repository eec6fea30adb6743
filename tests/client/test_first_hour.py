"""Issue 15, a new user's first hour: the traps of paginators (1), models that could not leave
the library (3), the fake (8) and the small ones (9: progress, ``with CalCom()``, the standalone
fake's ``--help`` and signals)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import attrs
import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from calcom_async import BadRequestError, CalCom, CalComUsageError, Progress, models, to_dict
from calcom_async._generated.operations import BY_NAME
from calcom_async.blocking import CalComSync
from calcom_async.testing import FakeCalCom, Limit
from tests.support.fake_thread import FakeOnThread

# -- trap 1: take / max_items ---------------------------------------------------------------


def _listed(fake: FakeCalCom) -> list[Any]:
    return [r for r in fake.requests if r.operation == "bookings.list"]


async def test_max_items_is_how_many_you_want_and_fetches_only_the_pages_needed() -> None:
    async with FakeCalCom() as fake:
        fake.seed(bookings=600)
        async with fake.client() as cal:
            five = [b async for b in cal.bookings.list(max_items=5)]
            assert len(five) == 5
            assert len(_listed(fake)) == 1
            assert _listed(fake)[0].query["take"] == "5"  # no page larger than wanted

            fake.requests.clear()
            three_hundred = [b async for b in cal.bookings.list(max_items=300)]
            assert len(three_hundred) == 300
            assert len(_listed(fake)) == 2  # pages of 250 (the largest), not three of 100

            fake.requests.clear()
            assert len(await cal.bookings.list(max_items=260, page_size=100)) == 260
            assert len(_listed(fake)) == 3

            fake.requests.clear()
            pages = [p async for p in cal.bookings.list(max_items=7, page_size=5).pages()]
            assert [len(p.items) for p in pages] == [5, 2]
            assert len(await cal.bookings.list(max_items=12).to_list(max_items=4)) == 4


@pytest.mark.parametrize("how", ["iter", "pages", "to_list", "raw"])
async def test_take_on_a_walk_raises_naming_max_items_and_page_size(how: str) -> None:
    async with FakeCalCom() as fake:
        fake.seed(bookings=30)
        async with fake.client() as cal:
            walk = cal.bookings.list(take=5)
            with pytest.raises(CalComUsageError, match=r"max_items=5.*page_size=5") as caught:
                if how == "iter":
                    [b async for b in walk]
                elif how == "pages":
                    [p async for p in walk.pages()]
                elif how == "to_list":
                    await walk.to_list()
                else:
                    [r async for r in walk.raw()]
            assert "take" in str(caught.value)
            assert _listed(fake) == []  # refused before any request
            assert len(await cal.bookings.list(take=5)) == 5  # one request: the API's meaning


async def test_take_over_the_maximum_and_take_with_page_size_are_refused_before_sending() -> None:
    async with FakeCalCom() as fake:
        async with fake.client() as cal:
            with pytest.raises(CalComUsageError, match="take must be between 1 and 250"):
                await cal.bookings.list(take=1000)
            with pytest.raises(CalComUsageError, match="page_size="):
                cal.bookings.list(take=5, page_size=5)
            with pytest.raises(CalComUsageError, match="max_items"):
                cal.bookings.list(max_items=-1)
        assert _listed(fake) == []


def test_calcomsync_take_raises_and_max_items_stops() -> None:
    with FakeOnThread() as fake:
        fake.seed(bookings=40)
        with CalComSync(api_key=fake.api_key, base_url=fake.base_url) as cal:
            with pytest.raises(CalComUsageError, match="max_items=5"):
                list(cal.bookings.list(take=5))
            assert _listed(fake) == []
            items = list(cal.bookings.list(max_items=5))
            assert len(items) == 5 and len(_listed(fake)) == 1
            walk = cal.bookings.list(max_items=12, page_size=5)
            assert len(walk.to_list()) == 12
            assert walk.progress.items == 12 and walk.progress.requests == 3


# -- trap 3: models leave the library ---------------------------------------------------------


def test_a_booking_leaves_the_library_as_json_and_from_a_fastapi_endpoint() -> None:
    with FakeOnThread() as fake:
        fake.seed(bookings=5)
        with CalComSync(api_key=fake.api_key, base_url=fake.base_url) as blocking:
            booking = blocking.bookings.list(max_items=1).to_list()[0]
        with pytest.raises(TypeError, match="datetime"):  # the trap, as the user met it
            json.dumps(attrs.asdict(booking))
        text = json.dumps(to_dict(booking))
        assert json.loads(text)["uid"] == booking.uid and "eventTypeId" in json.loads(text)
        assert type(booking).from_json(text) == booking

        @asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[None]:
            async with CalCom(api_key=fake.api_key, base_url=fake.base_url) as cal:
                app.state.cal = cal
                yield

        app = FastAPI(lifespan=lifespan)

        @app.get("/bookings")
        async def listed(request: Request) -> list[models.BookingOutput_2024_08_13]:
            return await request.app.state.cal.bookings.list(max_items=5)

        with TestClient(app) as client:
            reply = client.get("/bookings")
        assert reply.status_code == 200, reply.text
        assert reply.json()[0] == to_dict(booking)  # the model, as the API writes it
        assert len(reply.json()) == 5


# -- trap 9: progress -------------------------------------------------------------------------


async def test_on_page_and_progress_of_a_paginator() -> None:
    async with FakeCalCom() as fake:
        fake.seed(bookings=23)
        seen: list[Progress] = []
        async with fake.client() as cal:
            walk = cal.bookings.list(page_size=10, on_page=seen.append)
            assert len([b async for b in walk]) == 23
        assert [(p.items, p.total, p.requests) for p in seen] == [
            (10, 23, 1),
            (20, 23, 2),
            (23, 23, 3),
        ]
        assert walk.progress == seen[-1] and seen[-1].fraction == 1.0
        assert all(p.rate_limit_wait == 0 for p in seen)


async def test_progress_counts_the_time_waited_for_the_rate_limit() -> None:
    async with FakeCalCom(rate_limit=[Limit(limit=2, window=0.5, block=1.0)]) as fake:
        fake.seed(bookings=12)
        seen: list[Progress] = []
        async with fake.client() as cal:
            [b async for b in cal.bookings.list(page_size=2, on_page=seen.append)]
        assert seen[-1].requests == 6 and seen[-1].items == 12
        assert seen[-1].rate_limit_wait > 0.5  # two windows at least
        assert seen[-1].rate_limit_wait <= seen[-1].elapsed + 0.05
        assert fake.stats["throttled"] == 0


async def test_on_page_and_progress_of_the_sync() -> None:
    async with FakeCalCom() as fake:
        fake.seed(bookings=25)
        seen: list[Progress] = []
        async with fake.client() as cal:
            sync = cal.bookings.sync(page_size=10, on_page=seen.append)
            got = [b async for b in sync]
        assert len(got) == 25
        assert seen[-1].items == 25 and seen[-1].total == 25
        assert seen[0].total == 25 and seen[0].items == 10
        assert sync.progress == seen[-1] and sync.progress.requests == sync.pages


async def test_the_demo_bar_is_the_public_hook(capsys: pytest.CaptureFixture[str]) -> None:
    from calcom_async.testing import demo

    async with FakeCalCom() as fake:
        fake.seed(bookings=250)
        async with fake.client() as cal:
            result = await demo.sync_bookings(cal)
    assert result["synced"] == result["total"] == 250
    out = capsys.readouterr().out
    assert "250/250" in out and "3 requests" in out and "waiting for the rate limit" in out


# -- trap 9: with CalCom() --------------------------------------------------------------------


async def test_with_calcom_without_async_says_what_to_do() -> None:
    cal = CalCom(api_key="cal_test_x")
    expected = r"use `async with`, or `CalComSync` in blocking code"
    with pytest.raises(CalComUsageError, match=expected) as caught, cal:  # type: ignore[attr-defined]
        pass
    assert isinstance(caught.value, TypeError)  # what Python raises for it, still catchable
    await cal.aclose()


# -- trap 8: the fake refuses what the live API refuses ---------------------------------------


async def test_the_fake_refuses_an_unknown_time_zone() -> None:
    async with FakeCalCom() as fake:
        fake.seed(bookings=1, event_types=1)
        async with fake.client() as cal:
            et = (await cal.event_types.list())[0]
            with pytest.raises(BadRequestError, match="valid IANA time-zone") as caught:
                await cal.slots.get_available(
                    event_type_id=int(et.id),
                    start="2030-01-01",
                    end="2030-01-02",
                    time_zone="Mars/Olympus",
                )
            assert "timeZone" in caught.value.message
            with pytest.raises(BadRequestError, match=r"attendee\.timeZone must be a valid IANA"):
                await cal.bookings.create(
                    {
                        "eventTypeId": int(et.id),
                        "start": "2030-01-01T10:00:00Z",
                        "attendee": {"name": "A", "email": "a@x.org", "timeZone": "Mars/Olympus"},
                    }
                )


async def test_the_fake_refuses_unknown_enum_values_in_filters() -> None:
    async with FakeCalCom() as fake:
        fake.seed(bookings=3)
        async with fake.client() as cal:
            with pytest.raises(BadRequestError) as caught:
                await cal.bookings.list(status=["upcomming"])  # type: ignore[list-item]
            assert caught.value.message == (
                "status must be one of the following values: "
                "upcoming, recurring, past, cancelled, unconfirmed"
            )
            with pytest.raises(BadRequestError, match="sortStart must be one of the following"):
                await cal.bookings.list(sort_start="up")  # type: ignore[arg-type]
            assert await cal.bookings.list(status=["upcoming", "past"])  # the known ones pass


async def test_the_fake_refuses_take_over_the_maximum() -> None:
    async with FakeCalCom() as fake:
        fake.seed(bookings=300)
        async with aiohttp.ClientSession() as http:
            for path in ("/v2/bookings", "/v2/webhooks"):
                headers = {"Authorization": f"Bearer {fake.api_key}"}
                if path == "/v2/bookings":
                    headers["cal-api-version"] = "2024-08-13"
                async with http.get(
                    fake.base_url + path, params={"take": "1000"}, headers=headers
                ) as resp:
                    body = await resp.json()
                assert resp.status == 400, (path, body)
                assert body["error"]["message"] == "take must be between 1 and 250"


async def _raw_get(
    fake: FakeCalCom, http: aiohttp.ClientSession, path: str, query: dict[str, str]
) -> tuple[int, Any]:
    """A GET to the fake as sent by hand (no client and none of its checks)."""
    headers = {"Authorization": f"Bearer {fake.api_key}"}
    op = next(o for o in BY_NAME.values() if o.method == "GET" and o.path == path)
    if op.api_version:
        headers["cal-api-version"] = op.api_version
    async with http.get(fake.base_url + path, params=query, headers=headers) as resp:
        return resp.status, await resp.json()


@pytest.mark.parametrize(
    ("path", "query", "message"),
    [
        ("/v2/bookings", {"eventTypeId": "one"}, "each value in eventTypeId must be an integer"),
        (
            "/v2/bookings",
            {"eventTypeIds": "1,two"},
            "each value in eventTypeIds must be an integer",
        ),
        ("/v2/bookings", {"teamId": "1.5"}, "each value in teamId must be an integer number"),
        ("/v2/bookings", {"skip": "inf"}, "skip must be an integer number"),
        ("/v2/webhooks", {"skip": "nan"}, "skip must be an integer number"),
        (
            "/v2/slots",
            {"eventTypeId": "1.5", "start": "2030-01-01", "end": "2030-01-02"},
            "eventTypeId must be an integer number",
        ),
        (
            "/v2/slots",
            {"eventTypeId": "1", "start": "2030-01-01", "end": "2030-01-02", "duration": "long"},
            "duration must be a number conforming to the specified constraints",
        ),
    ],
)
async def test_the_fake_answers_400_naming_a_query_value_that_is_not_a_number(
    path: str, query: dict[str, str], message: str
) -> None:
    """Was a 500 quoting ``invalid literal for int() with base 10``: now the live API's 400, in
    its error envelope, naming the parameter."""
    async with FakeCalCom() as fake:
        fake.seed(bookings=3, event_types=1)
        async with aiohttp.ClientSession() as http:
            status, body = await _raw_get(fake, http, path, query)
            assert status == 400, body
            assert body["status"] == "error" and body["path"].startswith(path)
            assert body["error"]["code"] == "BadRequestException"
            assert body["error"]["message"].startswith(message)
            assert "int()" not in str(body) and "Error:" not in str(body)
            status, body = await _raw_get(fake, http, "/v2/bookings", {"eventTypeIds": "1, 2"})
            assert status == 200, body  # ids, comma-joined: fine


async def test_no_numeric_query_or_path_value_makes_the_fake_answer_500() -> None:
    """Every operation, every numeric query or path parameter, given a word, a fraction and
    infinity: a 4xx naming the problem (or the value ignored), never a 5xx."""
    numeric = (int, float, int | str, Sequence[int])
    failures, sent = [], 0
    async with FakeCalCom(rate_limit=10**9, platform_rate_limit=10**9) as fake:
        fake.seed(bookings=3, event_types=1)
        headers = {
            "Authorization": f"Bearer {fake.api_key}",
            "x-cal-client-id": fake.client_id,
            "x-cal-secret-key": fake.client_secret,
        }
        async with aiohttp.ClientSession() as http:
            for op in BY_NAME.values():
                params = [p for p in op.params if p.type in numeric]
                for target in (p for p in params if p.location in ("path", "query")):
                    for bad in ("one", "1.5", "inf"):
                        path = {p.name: bad if p is target else "1" for p in op.path_params}
                        query = {p.name: "1" for p in op.query_params if p.required}
                        query.update(
                            {"start": "2030-01-01", "end": "2030-01-02"}
                            if any(p.name == "start" and p.required for p in op.query_params)
                            else {}
                        )
                        if target.location == "query":
                            query[target.name] = bad
                        url = fake.base_url + op.path.format(**path)
                        heads = {**headers, "cal-api-version": op.api_version or ""}
                        body = {} if op.body else None
                        async with http.request(
                            op.method, url, params=query, headers=heads, json=body
                        ) as resp:
                            sent += 1
                            if resp.status >= 500:
                                failures.append((op.name, target.name, bad, await resp.text()))
    assert sent > 300  # the sweep reached every numeric parameter (about 500 requests)
    assert not failures, failures[:5]


# -- trap 9: the standalone fake --------------------------------------------------------------


def test_the_standalone_fake_help_lists_its_options() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "calcom_async.testing", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    for option in ("--host", "--port", "--bookings", "--event-types", "--rate-limit", "--seed"):
        assert option in out
    assert out.count("usage:") == 1
    assert "default: 8787" in out


@contextlib.contextmanager
def _standalone(*, background: bool) -> Iterator[subprocess.Popen[str]]:
    args = [sys.executable, "-m", "calcom_async.testing", "--port", "0", "--bookings", "5"]
    if background:  # as `python -m calcom_async.testing &` in a non-interactive shell: SIGINT
        # ignored in the child before it starts
        cmd = ["sh", "-c", '"$@" & wait $!', "sh", *args]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, start_new_session=True)
    else:
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        line = ""
        while "listening on" not in line and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
        assert "listening on" in line, line
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


def _server_pid(proc: subprocess.Popen[str], *, background: bool) -> int:
    if not background:
        return proc.pid
    out = subprocess.run(
        ["pgrep", "-P", str(proc.pid)], capture_output=True, text=True, check=True
    ).stdout.split()
    return int(out[0])


@pytest.mark.parametrize("background", [False, True], ids=["foreground", "background"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_the_standalone_fake_stops_on_sigint_and_sigterm(
    sig: signal.Signals, background: bool
) -> None:
    with _standalone(background=background) as proc:
        pid = _server_pid(proc, background=background)
        os.kill(pid, sig)
        assert proc.wait(20) == 0
        assert proc.stdout is not None
        assert "stopped" in proc.stdout.read()
