"""Virtual time for tests: :class:`FakeClock` and the ``clock`` fixture (listed in the conftest
of each folder that uses it)."""

from __future__ import annotations

import asyncio
import heapq
import itertools

import pytest


class FakeClock:
    """Virtual time: ``sleep`` returns when every other task is idle and time has been advanced
    to its deadline, earliest first. No real time passes."""

    def __init__(self, wall_start: float = 1_800_000_000.0) -> None:
        self.now = 0.0
        self.wall_start = wall_start
        self.sleeps: list[float] = []
        self._heap: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._driver: asyncio.Task[None] | None = None

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.wall_start + self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._heap, (self.now + seconds, next(self._seq), future))
        if self._driver is None or self._driver.done():
            self._driver = asyncio.get_running_loop().create_task(self._drive())
        await future

    async def _drive(self) -> None:
        loop = asyncio.get_running_loop()
        while self._heap:
            idle = 0
            while idle < 3:  # every other task is waiting on something
                await asyncio.sleep(0)
                ready = getattr(loop, "_ready", None)
                idle = idle + 1 if ready is None or not ready else 0
            deadline, _, future = heapq.heappop(self._heap)
            self.now = max(self.now, deadline)
            if not future.done():
                future.set_result(None)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
