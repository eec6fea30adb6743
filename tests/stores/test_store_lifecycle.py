"""The stores as async context managers (closed on exit), and their reprs."""

from __future__ import annotations

import anyio
import pytest
import redis.asyncio as aioredis

from calcom_async.stores import MemoryStore, RedisStore, StoreUnavailableError
from tests.support.redis_server import RedisServer


async def _client_names(server: RedisServer) -> set[str]:
    other = aioredis.Redis.from_url(server.url)
    try:
        return {c.get("name", "") for c in await other.client_list()}
    finally:
        await other.aclose()


async def test_redis_store_closes_on_exit(redis_server: RedisServer) -> None:
    async with RedisStore.from_url(redis_server.url, namespace="life", timeout=2) as store:
        await store.ping()
        await store.set_checkpoint("k", "v")
        assert await store.get_checkpoint("k") == "v"
        assert repr(store) == "RedisStore(namespace='life')"
        await store.redis.client_setname("life-store")
        assert "life-store" in await _client_names(redis_server)
    # closed on exit: the server sees the connection go
    deadline = anyio.current_time() + 5
    while "life-store" in await _client_names(redis_server):
        assert anyio.current_time() < deadline, "the store's connection was left open"
        await anyio.sleep(0.02)


async def test_redis_store_exit_keeps_the_error(redis_server: RedisServer) -> None:
    with pytest.raises(StoreUnavailableError):
        async with RedisStore.from_url("redis://127.0.0.1:1/0", timeout=1) as store:
            await store.ping()


async def test_memory_store_context_manager() -> None:
    async with MemoryStore() as store:
        await store.set_checkpoint("k", "v")
        assert await store.get_checkpoint("k") == "v"
