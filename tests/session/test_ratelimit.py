"""The client-side limiter and the concurrency cap, against a fake server on a fake clock."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import Counter
from typing import Any

import anyio
import pytest

from calcom_async._clock import SystemClock
from calcom_async._ratelimit import RateLimit, RateLimiter, parse_rate_limits, retry_after_seconds
from tests.session._synthetic import make_op
from tests.support.clock import FakeClock
from tests.support.fake_api import Call, FakeAPI, error_body, json_reply

OP = make_op(response=None)
NOW = 1_800_000_000.0


def test_parse_named_and_plain_limits() -> None:
    headers = {
        "X-RateLimit-Limit-Default": "120",
        "X-RateLimit-Remaining-Default": "7",
        "X-RateLimit-Reset-Default": "42",
        "x-ratelimit-limit-long": "1000",
        "x-ratelimit-remaining-long": "900",
        "x-ratelimit-reset-long": str(int(NOW) + 3600),
        "X-RateLimit-Limit": "50",
        "X-RateLimit-Remaining": "nonsense",
        "X-RateLimit-Reset": str(int(NOW * 1000) + 5000),
        "Content-Type": "application/json",
    }
    assert parse_rate_limits(headers, NOW) == {
        "default": RateLimit("default", 120, 7, 42.0),
        "long": RateLimit("long", 1000, 900, 3600.0),
        "": RateLimit("", 50, None, 5.0),
    }


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "17"}, 17.0),
        ({"Retry-After": "Wed, 15 Jan 2027 08:00:30 GMT"}, 30.0),
        ({"Retry-After": "garbage"}, None),
        ({}, None),
        ({"X-RateLimit-Remaining-A": "3", "X-RateLimit-Reset-A": "8"}, 8.0),
    ],
)
def test_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after_seconds(headers, NOW) == expected


class WindowServer:
    """Fixed windows per named limit, like Cal.com's throttler: over the limit answers 429."""

    def __init__(self, clock: FakeClock, limits: dict[str, tuple[int, float]]) -> None:
        self.clock = clock
        self.limits = limits  # name -> (limit, window seconds)
        self.starts: dict[str, float] = {}
        self.counts: Counter[tuple[str, int]] = Counter()
        self.statuses: Counter[int] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0

    async def __call__(self, call: Call) -> Any:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            for _ in range(3):
                await asyncio.sleep(0)  # a little latency: requests overlap
            return self._answer()
        finally:
            self.in_flight -= 1

    def _answer(self) -> Any:
        now = self.clock.now
        headers: dict[str, str] = {}
        blocked = False
        for name, (limit, window) in self.limits.items():
            start = self.starts.setdefault(name, now)
            index = int((now - start) // window)
            end = start + (index + 1) * window
            used = self.counts[(name, index)]
            if used >= limit:
                blocked = True
            else:
                self.counts[(name, index)] = used = used + 1
            title = name.capitalize()
            headers[f"X-RateLimit-Limit-{title}"] = str(limit)
            headers[f"X-RateLimit-Remaining-{title}"] = str(max(0, limit - used))
            headers[f"X-RateLimit-Reset-{title}"] = str(math.ceil(end - now))
        status = 429 if blocked else 200
        self.statuses[status] += 1
        if blocked:
            return json_reply(error_body(429, "ThrottlerException", "Too Many"), 429, headers)
        return json_reply({"status": "success", "data": None}, headers=headers)


async def burst(cal: Any, n: int) -> list[Any]:
    results: list[Any] = []

    async def one() -> None:
        results.append(await cal.session.request(OP, path={"thingId": "a"}, raw=True))

    async with anyio.create_task_group() as tg:
        for _ in range(n):
            tg.start_soon(one)
    return results


@pytest.mark.parametrize(
    "limits",
    [
        {"default": (120, 60.0)},
        {"short": (10, 1.0), "long": (120, 60.0)},
    ],
)
async def test_a_burst_of_1000_paces_under_the_limit_with_zero_429s(
    make_client: Any, api: FakeAPI, clock: FakeClock, limits: dict[str, tuple[int, float]]
) -> None:
    server = WindowServer(clock, limits)
    api.default = server
    cal = make_client(max_concurrency=64, timeout=None)  # 8 windows: no deadline
    results = await burst(cal, 1000)
    assert len(results) == 1000
    assert server.statuses == Counter({200: 1000})
    for (name, _), count in server.counts.items():
        assert count <= limits[name][0]
    windows = math.ceil(1000 / 120)
    assert clock.now <= (windows - 1) * 60.0 + 5.0  # paced, not needlessly slow
    assert server.max_in_flight <= 64


async def test_without_the_limiter_the_same_burst_collects_429s(
    make_client: Any, api: FakeAPI, clock: FakeClock
) -> None:
    server = WindowServer(clock, {"default": (120, 60.0)})
    api.default = server
    cal = make_client(rate_limit=False, max_retries=0)
    with pytest.raises(BaseExceptionGroup):
        await burst(cal, 300)
    assert server.statuses[429] > 0


async def test_answers_without_headers_leave_the_limiter_open(
    make_client: Any, api: FakeAPI, clock: FakeClock
) -> None:
    cal = make_client(max_concurrency=5)
    results = await burst(cal, 200)
    assert len(results) == 200 and clock.now == 0.0


async def test_concurrency_cap(make_client: Any, api: FakeAPI, clock: FakeClock) -> None:
    server = WindowServer(clock, {})
    api.default = server
    cal = make_client(max_concurrency=3)
    await burst(cal, 50)
    assert server.max_in_flight == 3


async def test_a_429_blocks_every_request_until_the_reset(
    make_client: Any, api: FakeAPI, clock: FakeClock
) -> None:
    started: list[float] = []

    def answer(call: Call) -> Any:
        started.append(clock.now)
        if len(started) == 1:
            return json_reply(
                error_body(429, "ThrottlerException", "x"), 429, {"Retry-After": "30"}
            )
        return json_reply({"status": "success", "data": None})

    api.default = answer
    cal = make_client()
    await burst(cal, 20)
    assert started[0] == 0.0
    assert len(started) == 21 and all(t >= 30.0 for t in started[1:])


async def test_limiter_unit_probe_then_budget_then_reset(clock: FakeClock) -> None:
    limiter = RateLimiter(clock)
    await limiter.acquire()  # the probe
    probe_done = False

    async def second() -> None:
        await limiter.acquire()
        assert probe_done  # waited for the probe's answer
        limiter.release({}, 200)

    async with anyio.create_task_group() as tg:
        tg.start_soon(second)
        await asyncio.sleep(0)
        probe_done = True
        headers = {
            "X-RateLimit-Limit-Default": "3",
            "X-RateLimit-Remaining-Default": "2",
            "X-RateLimit-Reset-Default": "10",
        }
        limiter.release(headers, 200)
    assert limiter.snapshot()["default"].remaining == 1  # 2 left, minus the second request
    await limiter.acquire()
    limiter.release()
    assert clock.now == 0.0
    await limiter.acquire()  # budget exhausted: waits for the window to reset
    assert clock.now == pytest.approx(10.25)
    limiter.release()
    assert limiter.in_flight == 0


async def test_try_acquire_takes_only_what_acquire_would_take_without_waiting(
    clock: FakeClock,
) -> None:
    limiter = RateLimiter(clock)
    assert limiter.try_acquire()  # the probe
    assert not limiter.try_acquire()  # a second request waits for the probe's answer
    assert limiter.in_flight == 1
    headers = {
        "X-RateLimit-Limit-Default": "2",
        "X-RateLimit-Remaining-Default": "2",
        "X-RateLimit-Reset-Default": "10",
    }
    limiter.release(headers, 200)
    assert limiter.try_acquire() and limiter.try_acquire()
    assert not limiter.try_acquire()  # the window is spent: nothing taken
    assert limiter.snapshot()["default"].remaining == 0 and limiter.in_flight == 2
    limiter.release()
    limiter.release()
    await limiter.acquire()  # waits for the reset, as before
    assert clock.now == pytest.approx(10.25)
    limiter.release({"Retry-After": "5"}, 429)
    assert not limiter.try_acquire()  # blocked after a 429
    assert limiter.in_flight == 0
    off = RateLimiter(clock, enabled=False)
    assert off.try_acquire() and off.in_flight == 1


def test_one_limiter_serves_event_loops_in_other_threads() -> None:
    """A task waiting (on its own loop, in its own thread) for the answer that tells the budget
    is woken by that answer, which came in on another thread's loop: every CalComSync client
    runs a loop of its own and they share one limiter per credential."""
    limiter = RateLimiter(SystemClock())
    assert limiter.try_acquire()  # the probe, on this thread
    done = threading.Event()

    def second_client() -> None:
        asyncio.run(limiter.acquire())  # nothing known yet: waits for the probe's answer
        done.set()

    thread = threading.Thread(target=second_client, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not limiter._waiters and time.monotonic() < deadline:
        time.sleep(0.01)
    assert limiter._waiters and not done.is_set()  # it waits: nothing was taken for it

    async def answer() -> None:  # the probe's answer, on a third event loop
        limiter.release({"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "4"}, 200)

    asyncio.run(answer())
    assert done.wait(5), "the waiting task on the other loop was not woken"
    thread.join(5)
    assert limiter.in_flight == 1 and limiter.snapshot()[""].remaining == 3
    assert not limiter._waiters
