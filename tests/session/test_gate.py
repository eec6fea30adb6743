"""The gate before each attempt (``calcom_async._gate``): the turn taken without a coroutine when
nothing makes the attempt wait (``try_acquire``), and the awaited path (``acquire``) for
everything else — a full cap, a spent budget, a shared budget, a closed client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest

from calcom_async import CalComUsageError, RateLimitError
from calcom_async._clock import SystemClock
from calcom_async._gate import Gate
from calcom_async._ratelimit import RateLimit
from calcom_async._transport import Response
from calcom_async.stores import MemoryStore

KEY = {"Authorization": "Bearer cal_test_gate"}
#: the server says one request is left of 10 in this minute, then none
ONE_LEFT = {"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "1", "X-RateLimit-Reset": "60"}
NONE_LEFT = {**ONE_LEFT, "X-RateLimit-Remaining": "0"}


def _gate(max_concurrency: int = 4, **kwargs: object) -> Gate:
    # a store of its own: a budget no other test shares (MemoryStore's own limiter registry)
    kwargs.setdefault("store", MemoryStore())
    return Gate(clock=SystemClock(), max_concurrency=max_concurrency, **kwargs)  # type: ignore[arg-type]


def _answer(headers: Mapping[str, str]) -> Response:
    return Response(200, dict(headers), b"{}")


async def test_a_free_turn_is_taken_without_a_coroutine_and_given_back() -> None:
    gate = _gate()
    turn = gate.try_acquire(KEY)
    assert turn is not None and turn.limiter is gate.limiter_for(KEY)
    assert gate.capacity.borrowed_tokens == 1 and turn.limiter.in_flight == 1
    limits = gate.release(turn, _answer(ONE_LEFT))
    assert limits is not None and [(x.limit, x.remaining) for x in limits.values()] == [(10, 1)]
    assert gate.capacity.borrowed_tokens == 0 and turn.limiter.in_flight == 0


async def test_a_full_cap_leaves_the_turn_to_acquire() -> None:
    gate = _gate(max_concurrency=1)
    holding, done = asyncio.Event(), asyncio.Event()

    async def hold() -> None:  # another call's attempt in flight (a place is a task's)
        turn = gate.try_acquire(KEY)
        assert turn is not None
        holding.set()
        await done.wait()
        gate.release(turn, None)

    holder = asyncio.ensure_future(hold())
    await holding.wait()
    assert gate.try_acquire(KEY) is None  # nothing taken: the cap is still one
    assert gate.capacity.borrowed_tokens == 1
    got = asyncio.Event()

    async def attempt() -> None:  # the awaited path, taken and given back by its own task
        turn = await gate.acquire(KEY, None)
        got.set()
        assert gate.capacity.borrowed_tokens == 1
        gate.release(turn, None)

    waiting = asyncio.ensure_future(attempt())
    await asyncio.sleep(0.01)
    assert not got.is_set()  # acquire() waits for the place
    done.set()
    await asyncio.wait_for(asyncio.gather(waiting, holder), 5)
    assert got.is_set() and gate.capacity.borrowed_tokens == 0


async def test_a_spent_budget_gives_the_place_back_and_acquire_waits() -> None:
    gate = _gate(max_concurrency=4, max_wait=0.0)
    first = gate.try_acquire(KEY)
    assert first is not None
    gate.release(first, _answer(NONE_LEFT))  # the limiter learns: nothing left this minute
    assert gate.try_acquire(KEY) is None
    assert gate.capacity.borrowed_tokens == 0  # the place it took is given back
    # the awaited path says why it cannot go (max_wait=0: no waiting a minute here)
    with pytest.raises(RateLimitError):
        await gate.acquire(KEY, None)
    assert gate.capacity.borrowed_tokens == 0


async def test_a_closed_gate_refuses_on_the_awaited_path() -> None:
    gate = _gate()
    gate.closed = True
    assert gate.try_acquire(KEY) is None
    with pytest.raises(CalComUsageError, match="closed"):
        await gate.acquire(KEY, None)
    assert gate.capacity.borrowed_tokens == 0


class _SharedBudget(MemoryStore):
    """A store that says its budget is shared beyond the process: its turns are counted."""

    distributed = True

    def __init__(self) -> None:
        super().__init__()
        self.taken: list[str] = []
        self.released: list[tuple[str, int | None]] = []

    async def rate_acquire(self, bucket: str, max_wait: float) -> None:
        self.taken.append(bucket)

    async def rate_release(
        self,
        bucket: str,
        limits: Mapping[str, RateLimit] | None,
        status: int | None,
        retry_after: float | None,
    ) -> None:
        self.released.append((bucket, status))


async def test_a_shared_budget_is_always_awaited_and_released_as_shared() -> None:
    store = _SharedBudget()
    gate = _gate(store=store)
    assert gate.try_acquire(KEY) is None  # the store decides: never taken in-process
    assert gate.capacity.borrowed_tokens == 0
    turn = await gate.acquire(KEY, None)
    assert turn.limiter is None and turn.bucket is not None and store.taken == [turn.bucket]
    with pytest.raises(AssertionError, match="release_shared"):
        gate.release(turn, None)  # the in-process release refuses a shared turn
    assert gate.capacity.borrowed_tokens == 0  # (and still gives the place back)
    turn = await gate.acquire(KEY, None)
    limits = await gate.release_shared(turn, _answer(ONE_LEFT))
    assert limits is not None and [x.remaining for x in limits.values()] == [1]
    assert store.released == [(turn.bucket, 200)]
    assert gate.capacity.borrowed_tokens == 0
