"""Issue 15, "Deadlines and waits" (traps 2 and 7): a call's timeout covers its waits, waits are
logged, RetryPolicy is public, one budget per credential per process (for CalComSync clients,
each on an event loop of its own, too).

Timings are asserted only as generous upper bounds, where a test is about a deadline.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import calcom_async
from calcom_async import (
    APITimeoutError,
    CalCom,
    CalComError,
    DeadlineExceededError,
    RateLimitError,
    RequestOptions,
    RetryPolicy,
)
from calcom_async.blocking import CalComSync
from calcom_async.stores import MemoryStore
from calcom_async.testing import FakeCalCom
from tests.support.fake_thread import FakeOnThread


def _me_calls(fake: FakeCalCom) -> int:
    return sum(1 for r in fake.requests if r.path == "/v2/me")


async def test_trap_2_calls_that_would_wait_past_their_timeout_fail_at_once() -> None:
    """30 concurrent me.get(timeout=5) under 20 per minute: 20 answered, 10 raise at once with
    the wait named; nothing beyond the limit was sent (no 429)."""
    async with FakeCalCom(rate_limit=20) as fake:
        cal = fake.client()
        started = time.monotonic()
        outcomes = await asyncio.gather(
            *(cal.me.get(request_options=RequestOptions(timeout=5)) for _ in range(30)),
            return_exceptions=True,
        )
        took = time.monotonic() - started
        failed = [o for o in outcomes if isinstance(o, BaseException)]
        print(f"\n30 calls under 20/min, timeout 5 s: {len(failed)} failed fast in {took:.2f}s")
        assert len(failed) == 10
        assert all(isinstance(o, DeadlineExceededError) for o in failed), failed
        error = failed[0]
        assert isinstance(error, APITimeoutError)  # the call's timeout is what ran out
        assert error.waiting_for == "rate limit" and error.limit == "default"
        assert error.wait is not None and error.wait > 5 and error.timeout == 5
        assert error.retry_after == error.wait
        assert "rate limit" in str(error) and "'default' limit" in str(error)
        assert "timeout of 5s" in str(error)
        assert took < 5.0  # at once, not after waiting (a generous bound)
        assert _me_calls(fake) == 20 and fake.stats["throttled"] == 0


async def test_a_wait_that_fits_is_waited_and_logged_at_info(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A window that resets within the deadline is waited for; the wait (> 1 s) is logged at
    INFO on calcom_async with the limit's name, as text and as fields."""
    async with FakeCalCom(rate_limit=2) as fake:
        cal = fake.client()
        await cal.me.get()
        await cal.me.get()
        fake.advance(0)  # the fake's window: 60 s of its own clock
        limiter = cal._session.gate.limiter_for({"Authorization": f"Bearer {fake.api_key}"})
        window = limiter._windows["default"]
        window.reset_at = cal._session.clock.monotonic() + 1.5  # the window ends soon
        fake.rate_limiter.check = lambda *a, **k: ({}, None)  # type: ignore[method-assign]
        with caplog.at_level(logging.INFO, logger="calcom_async"):
            await cal.me.get(request_options=RequestOptions(timeout=30))
        (record,) = [r for r in caplog.records if getattr(r, "calcom_wait", None)]
        assert record.levelno == logging.INFO and record.name == "calcom_async"
        assert "rate limit" in record.getMessage() and "'default' limit" in record.getMessage()
        fields: Any = record
        assert fields.calcom_limit == "default" and 1.0 < fields.calcom_wait <= 2.0
        assert fields.calcom_waiting_for == "rate limit"
        assert fields.calcom_call == "GET /v2/me" and fields.calcom_request_id


async def test_short_waits_are_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    async with FakeCalCom() as fake:
        cal = fake.client()
        with caplog.at_level(logging.INFO, logger="calcom_async"):
            await asyncio.gather(*(cal.me.get() for _ in range(5)))
        assert not [r for r in caplog.records if getattr(r, "calcom_wait", None)]


async def test_a_retry_backoff_past_the_deadline_raises_at_once() -> None:
    """A 429 asking for 30 s, under a 3 s timeout: no second attempt, the error names it."""
    async with FakeCalCom() as fake:
        cal = fake.client(retry_policy=RetryPolicy(max_wait=300))
        fake.faults.inject("error", status=503, match="me.get")
        started = time.monotonic()
        # the backoff of a 503 fits; a 429 with Retry-After 30 does not
        fake.rate_limiter.check = (  # type: ignore[method-assign]
            lambda *a, **k: ({"X-RateLimit-Remaining-Default": "0"}, 30.0)
        )
        with pytest.raises(DeadlineExceededError) as info:
            await cal.me.get(request_options=RequestOptions(timeout=3))
        assert time.monotonic() - started < 3.0
        assert info.value.waiting_for == "rate limit" and info.value.wait == pytest.approx(30)
        assert "429" in str(info.value) or "Too Many" in str(info.value)


def test_retry_policy_is_public() -> None:
    assert calcom_async.RetryPolicy is RetryPolicy
    assert "RetryPolicy" in calcom_async.__all__ and "DeadlineExceededError" in calcom_async.__all__
    assert RetryPolicy(max_wait=5).max_wait == 5
    assert issubclass(DeadlineExceededError, APITimeoutError)


async def test_trap_7_clients_for_one_key_share_its_budget() -> None:
    """One client per request, 5 clients for one key, 40 calls under 20 per minute: 0 429s
    (the calls that cannot fit in their timeout fail before sending)."""
    async with FakeCalCom(rate_limit=20) as fake:
        clients = [fake.client(max_retries=0) for _ in range(5)]
        outcomes = await asyncio.gather(
            *(clients[i % 5].me.get(request_options=RequestOptions(timeout=5)) for i in range(40)),
            return_exceptions=True,
        )
        assert fake.stats["throttled"] == 0
        assert _me_calls(fake) == 20
        assert sum(isinstance(o, DeadlineExceededError) for o in outcomes) == 20


async def test_two_keys_do_not_share_a_budget() -> None:
    async with FakeCalCom(rate_limit=3) as fake:
        first = fake.client()
        other_key = "cal_test_another_key_0002"
        fake.store.api_keys[other_key] = 1  # a second key of the same user: its own budget
        second = fake.client(api_key=other_key)
        for _ in range(3):
            await first.me.get()
        with pytest.raises(DeadlineExceededError):  # the first key's budget is spent
            await first.me.get(request_options=RequestOptions(timeout=2))
        await second.me.get(request_options=RequestOptions(timeout=2))  # its own budget
        assert fake.stats["throttled"] == 0


async def test_a_client_with_its_own_store_has_its_own_budget() -> None:
    """store=MemoryStore(): the clients given that store share a budget, apart from the rest."""
    async with FakeCalCom(rate_limit=3) as fake:
        shared = fake.client()
        for _ in range(3):
            await shared.me.get()
        with pytest.raises(DeadlineExceededError):
            await fake.client().me.get(request_options=RequestOptions(timeout=2))
        store = MemoryStore()
        own: CalCom = fake.client(store=store)
        bucket = {"Authorization": f"Bearer {fake.api_key}"}
        assert own._session.gate.limiter_for(bucket) is not shared._session.gate.limiter_for(bucket)
        again = fake.client(store=store)
        assert again._session.gate.limiter_for(bucket) is own._session.gate.limiter_for(bucket)


async def test_the_budget_is_keyed_by_a_hash_never_the_key() -> None:
    async with FakeCalCom() as fake:
        cal = fake.client()
        await cal.me.get()
        keys = list(calcom_async._limiters.PROCESS_LIMITERS._limiters)
        assert keys and not any(fake.api_key in repr(k) for k in keys)


# -- one budget per credential per process, whatever the event loop (CalComSync) -------------


def _sync_me(fake: FakeCalCom, store: MemoryStore | None = None) -> BaseException | None:
    """One CalComSync (an event loop and a thread of its own) per call, as a script would."""
    key, url = fake.api_key, fake.base_url
    with CalComSync(api_key=key, base_url=url, max_retries=0, store=store) as cal:
        try:
            cal.me.get(request_options=RequestOptions(timeout=2))
        except CalComError as exc:
            return exc
    return None


def test_calcomsync_clients_one_after_another_share_the_budget(leak_scan: list[Any]) -> None:
    """30 CalComSync clients, one after another (each gone before the next), under 20 a
    minute: 20 answered, 10 refused before sending, and the server sent no 429."""
    with FakeOnThread(rate_limit=20) as fake:
        outcomes = []
        for _ in range(30):
            outcomes.append(_sync_me(fake))
            leak_scan.clear()  # the scan's references would keep the client and its limiter
            gc.collect()  # the previous client and its loop are gone: the budget is not
        assert fake.stats["throttled"] == 0
        assert _me_calls(fake) == 20
        refused = [o for o in outcomes if o is not None]
        assert len(refused) == 10 and all(isinstance(o, DeadlineExceededError) for o in refused)


def test_calcomsync_clients_in_threads_share_the_budget() -> None:
    """30 CalComSync clients at once from 6 threads (30 event loops): one budget, no 429."""
    with FakeOnThread(rate_limit=20) as fake:
        with ThreadPoolExecutor(6) as pool:
            outcomes = list(pool.map(lambda _: _sync_me(fake), range(30)))
        assert fake.stats["throttled"] == 0
        answered = [o for o in outcomes if o is None]
        # answers that cross in flight are counted cautiously: a few of the 20 may stay unused
        assert 15 <= len(answered) == _me_calls(fake) <= 20
        assert all(isinstance(o, DeadlineExceededError) for o in outcomes if o is not None)


def test_a_calcomsync_given_its_own_store_has_its_own_budget() -> None:
    """Once the shared budget is spent, a CalComSync given store=MemoryStore() still sends (its
    own, fresh budget: the server answers 429), and two given that store share theirs."""
    with FakeOnThread(rate_limit=3) as fake:
        for _ in range(3):
            assert _sync_me(fake) is None
        assert isinstance(_sync_me(fake), DeadlineExceededError)  # the shared budget is spent
        store = MemoryStore()
        assert isinstance(_sync_me(fake, store), RateLimitError)  # sent: its own budget
        assert fake.stats["throttled"] == 1 and _me_calls(fake) == 4
        assert isinstance(_sync_me(fake, store), DeadlineExceededError)  # learnt, and shared
        assert fake.stats["throttled"] == 1 and _me_calls(fake) == 4


async def test_async_clients_one_after_another_share_the_budget(leak_scan: list[Any]) -> None:
    """One CalCom per request, each closed and collected before the next: still one budget."""
    async with FakeCalCom(rate_limit=20) as fake:
        failed = 0
        for _ in range(30):
            async with CalCom(api_key=fake.api_key, base_url=fake.base_url, max_retries=0) as cal:
                try:
                    await cal.me.get(request_options=RequestOptions(timeout=2))
                except DeadlineExceededError:
                    failed += 1
            del cal
            leak_scan.clear()  # the scan's references would keep the client and its limiter
            gc.collect()
        assert failed == 10 and fake.stats["throttled"] == 0 and _me_calls(fake) == 20
