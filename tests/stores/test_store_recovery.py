"""RedisStore when Redis restarts or loses its data, and when a reply is lost and a script is
sent again: nothing is refused that was done, nobody is stranded on a rejected refresh token."""

from __future__ import annotations

from typing import Any

import pytest

from calcom_async import APIConnectionError, CalCom, TokenPair
from calcom_async.stores import MemoryStore, RedisStore, StoreUnavailableError
from calcom_async.testing import FakeCalCom
from tests.stores._helpers import refresh_statuses, stored_pair
from tests.support.net import free_port
from tests.support.redis_server import RedisServer


async def test_connections_closed_by_a_restart_are_reopened(redis_server: RedisServer) -> None:
    async with RedisStore.from_url(redis_server.url, namespace="rs", timeout=2) as store:
        await store.set_checkpoint("sync", "cp-1")
        await store.seed_tokens("u", TokenPair("a", "r", 1.0).to_json())
        redis_server.save()
        redis_server.stop()
        redis_server.start()  # the pooled connection is dead: the next call reconnects once
        assert await store.get_checkpoint("sync") == "cp-1"
        assert (await stored_pair(store, "u"))[1] == 1
        redis_server.stop()  # and a Redis that stays away is still the typed error
        with pytest.raises(StoreUnavailableError):
            await store.get_checkpoint("sync")


async def test_a_resent_save_or_lock_is_recognised_as_done(redis_server: RedisServer) -> None:
    """A reply lost after the write (a reconnect sends the script again): the fenced save and
    the lock must answer "done", not "fenced out" / "held by another"."""
    async with RedisStore.from_url(redis_server.url, namespace="resend") as store:
        await store.seed_tokens("u", TokenPair("a1", "r1", 1.0).to_json())
        blob = store._dump(TokenPair("a2", "r2", 2.0).to_json())
        keys = store._token_keys("u")
        assert await store._save(keys=keys, args=[blob, 1])
        assert await store._save(keys=keys, args=[blob, 1])  # the same write, resent
        other = store._dump(TokenPair("a3", "r3", 3.0).to_json())
        assert not await store._save(keys=keys, args=[other, 1])  # another: still fenced
        assert await stored_pair(store, "u") == (TokenPair("a2", "r2", 2.0), 2)

        lock = store.key("lock", "u")
        assert await store._lock(keys=[lock], args=["me", 5000])
        assert await store._lock(keys=[lock], args=["me", 5000])  # resent: still ours
        assert not await store._lock(keys=[lock], args=["you", 5000])


async def test_a_redis_that_lost_its_data_strands_no_client(redis_server: RedisServer) -> None:
    """Redis restarted empty (no persistence, or the keys evicted): versions count from 1 again.
    The client that refreshes second is rejected (its refresh token was rotated by the first)
    and must take the pair the first stored instead of failing."""
    sa = RedisStore.from_url(redis_server.url, namespace="wipe")
    sb = RedisStore.from_url(redis_server.url, namespace="wipe")
    async with sa, sb, FakeCalCom(access_token_ttl=600) as fake:
        user = fake.store.add_managed_user(fake.client_id, "Ann", "ann@example.com", "UTC")
        issued = fake.store.issue_tokens(user, fake.client_id)
        kwargs: dict[str, Any] = {
            "access_token": issued["accessToken"],
            "refresh_token": issued["refreshToken"],
            "access_token_expires_at": issued["accessTokenExpiresAt"],
            "token_key": f"user-{user}",
        }
        async with (
            fake.platform_client(store=sa, **kwargs) as a,
            fake.platform_client(store=sb, **kwargs) as b,
        ):
            assert (await a.me.get()).id == (await b.me.get()).id == user
            redis_server.stop()
            redis_server.start()  # empty
            fake.advance(601)
            assert (await a.me.get()).id == user  # refreshes, stores at version 1
            assert (await b.me.get()).id == user  # rejected, then takes a's pair
            assert b.tokens == a.tokens
            assert refresh_statuses(fake) == [200, 401]  # one rejected, none after
            fake.advance(601)  # and not locked out: the next expiry is one refresh
            assert (await b.me.get()).id == user
            assert (await a.me.get()).id == user
            assert len(refresh_statuses(fake)) == 3 and a.tokens == b.tokens


class _BudgetGone(MemoryStore):
    """A shared store whose budget update fails (Redis gone) after a request got no answer."""

    distributed = True

    async def rate_release(self, bucket: str, limits: Any, status: Any, retry: Any) -> None:
        raise StoreUnavailableError("Redis unavailable (rate limit): gone")


async def test_no_answer_and_no_store_raises_the_connection_error() -> None:
    port = free_port()  # nothing listens there
    async with CalCom(
        api_key="cal_test_x",
        base_url=f"http://127.0.0.1:{port}",
        store=_BudgetGone(),
        max_retries=0,
    ) as cal:
        with pytest.raises(APIConnectionError):
            await cal.me.get()
