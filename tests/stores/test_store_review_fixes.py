"""RedisStore and the shared refresh in the corners a review found (real redis-server):
a lock kept through a Redis hiccup, a rejected client that recovers, a kept pair written back,
Redis refusing writes, a cancelled lock holder."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import anyio
import pytest
import redis.asyncio as aioredis

from calcom_async import CalCom, TokenPair
from calcom_async.stores import RedisStore, StoreUnavailableError
from calcom_async.testing import FakeCalCom
from tests.stores._helpers import refresh_statuses, stored_pair
from tests.support.redis_server import RedisServer


async def _until_a_refresh_is_sent(fake: FakeCalCom) -> None:
    """Until a refresh request has reached the fake (it holds it there: injected latency)."""
    deadline = time.monotonic() + 10
    while not refresh_statuses(fake):
        assert time.monotonic() < deadline, "no refresh was sent"
        await asyncio.sleep(0.005)


def _client(fake: FakeCalCom, store: RedisStore, pair: TokenPair, key: str, **kw: Any) -> CalCom:
    return fake.platform_client(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        access_token_expires_at=pair.access_token_expires_at,
        store=store,
        token_key=key,
        **kw,
    )


def _first_pair(fake: FakeCalCom) -> tuple[int, TokenPair]:
    user = fake.store.add_managed_user(fake.client_id, "Ann", "ann@example.com", "UTC")
    t = fake.store.issue_tokens(user, fake.client_id)
    return user, TokenPair(t["accessToken"], t["refreshToken"], t["accessTokenExpiresAt"] / 1000)


class _ExtendFailsOnce(RedisStore):
    """The first extension of a held lock fails (a Redis hiccup); the next ones work."""

    failed = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        real = self._extend

        async def extend(**kw: Any) -> Any:
            if not self.failed:
                self.failed = True
                raise ConnectionError("a moment without Redis")
            return await real(**kw)

        self._extend = extend


async def test_a_hiccup_while_extending_does_not_give_the_lock_away(
    redis_server: RedisServer,
) -> None:
    """A refresh slower than the lock's lifetime, and one failed extension: the holder keeps
    extending, so no second process takes the lock and refreshes the same token."""
    holder = _ExtendFailsOnce(aioredis.Redis.from_url(redis_server.url), lock_ttl=0.6)
    other = RedisStore.from_url(redis_server.url, lock_ttl=0.6)
    async with holder, other, FakeCalCom(access_token_ttl=600) as fake:
        user, first = _first_pair(fake)
        a, b = (_client(fake, s, first, f"user-{user}") for s in (holder, other))
        async with a, b:
            await a.me.get()
            await b.me.get()
            fake.faults.inject("latency", seconds=1.5, match="managed_users.refresh_tokens")
            fake.advance(601)
            async with anyio.create_task_group() as tg:
                tg.start_soon(a.me.get)
                await _until_a_refresh_is_sent(fake)
                tg.start_soon(b.me.get)  # b waits for the lock, 2.5 lock lifetimes
            assert holder.failed
            assert refresh_statuses(fake) == [200]
            assert a.tokens == b.tokens != first


async def test_a_rejected_client_takes_a_pair_stored_later(redis_server: RedisServer) -> None:
    """B's refresh token is rejected (A rotated it while Redis was away); once a good pair is in
    the store (A writes it back), B takes it instead of failing for the rest of its life."""
    store_a = RedisStore.from_url(redis_server.url, namespace="rej", timeout=1, lock_ttl=1)
    store_b = RedisStore.from_url(redis_server.url, namespace="rej", timeout=1, lock_ttl=1)
    persisted: list[TokenPair] = []
    async with store_a, store_b, FakeCalCom(access_token_ttl=600) as fake:
        user, first = _first_pair(fake)
        key = f"user-{user}"
        a = _client(fake, store_a, first, key, on_token_refresh=persisted.append)
        b = _client(fake, store_b, first, key)
        async with a, b:
            await a.me.get()
            await b.me.get()
            fake.faults.inject("latency", seconds=0.5, match="managed_users.refresh_tokens")
            fake.advance(601)
            async with anyio.create_task_group() as tg:

                async def a_call() -> None:
                    with pytest.raises(StoreUnavailableError):
                        await a.me.get()

                tg.start_soon(a_call)
                await _until_a_refresh_is_sent(fake)
                redis_server.save()
                redis_server.stop()  # while a's refresh is at the server: its save fails
            redis_server.start()  # with the old pair (version 1)
            assert persisted and a.tokens == persisted[0]
            with pytest.raises(Exception) as rejected:  # the revoked token, sent once
                await b.me.get()
            assert getattr(rejected.value, "status_code", None) == 401
            assert refresh_statuses(fake) == [200, 401]
            # a's next request writes its pair back (fenced over version 1) ...
            assert (await a.me.get()).id == user
            assert await stored_pair(store_a, key) == (a.tokens, 2)
            # ... and b, rejected before, takes it: no lockout, no further refresh
            assert (await b.me.get()).id == user
            assert b.tokens == a.tokens and refresh_statuses(fake) == [200, 401]


async def test_redis_refusing_writes_is_a_typed_error(redis_server: RedisServer) -> None:
    """OOM (maxmemory reached with noeviction) is StoreUnavailableError, never a raw redis-py
    error escaping from a call."""
    admin = aioredis.Redis.from_url(redis_server.url)
    async with RedisStore.from_url(redis_server.url, namespace="oom") as store:
        await admin.config_set("maxmemory-policy", "noeviction")
        await admin.config_set("maxmemory", 1)
        try:
            with pytest.raises(StoreUnavailableError, match="refused"):
                await store.set_checkpoint("sync", "cp")
            async with FakeCalCom() as fake, fake.client(store=store) as cal:
                with pytest.raises(StoreUnavailableError):
                    await cal.me.get()
        finally:
            await admin.config_set("maxmemory", 0)
            await admin.aclose()


async def test_a_cancelled_holder_releases_the_lock_at_once(redis_server: RedisServer) -> None:
    async with RedisStore.from_url(redis_server.url, namespace="cancel", lock_ttl=15) as store:
        with anyio.move_on_after(0.1):
            async with store.refresh_lock("user-1"):
                await anyio.sleep(10)
        started = time.monotonic()
        async with store.refresh_lock("user-1"):  # not 15 s later
            pass
        assert time.monotonic() - started < 1.0
        assert await store.redis.exists(store.key("lock", "user-1")) == 0
