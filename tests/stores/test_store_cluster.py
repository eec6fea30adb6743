"""RedisStore on a Redis Cluster: a real redis-server in cluster mode (one node holding all 16,384
slots, which enforces the same-slot rule for multi-key scripts as a bigger cluster does)."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from calcom_async import TokenPair
from calcom_async._ratelimit import RateLimit
from calcom_async.stores import RedisStore
from calcom_async.testing import FakeCalCom, Limit
from tests.stores._helpers import stored_pair
from tests.support.net import free_port
from tests.support.redis_server import REDIS


@pytest.fixture
def cluster_url(tmp_path: Path) -> Iterator[str]:
    assert REDIS is not None
    port = free_port()
    proc = subprocess.Popen(
        [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path), "--cluster-enabled", "yes",
         "--cluster-config-file", str(tmp_path / "nodes.conf"),
         "--cluster-port", str(free_port())],  # not port + 10000: that may be past 65535
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        node: Any = redis.Redis(port=port, socket_timeout=1)
        while True:
            try:
                node.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
                break
            except redis.ConnectionError:
                assert proc.poll() is None, "redis-server (cluster mode) exited at start"
                assert time.monotonic() < deadline, "redis-server (cluster mode) did not start"
                time.sleep(0.05)
        while b"cluster_state:ok" not in node.execute_command("CLUSTER", "INFO"):
            assert time.monotonic() < deadline, "the one-node cluster did not come up"
            time.sleep(0.05)
        node.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.kill()
        proc.wait(timeout=10)


async def test_every_store_operation_on_a_cluster(cluster_url: str) -> None:
    async with RedisStore.from_url(cluster_url, namespace="cl", cluster=True, timeout=3) as store:
        await store.ping()
        blob, version = await store.seed_tokens("u1", TokenPair("a1", "r1", 100.0).to_json())
        assert (TokenPair.from_json(blob).access_token, version) == ("a1", 1)
        async with store.refresh_lock("u1") as lock:
            assert lock.version == 1
            assert await store.save_tokens(
                "u1", TokenPair("a2", "r2", 200.0).to_json(), lock.version
            )
        assert not await store.save_tokens(
            "u1", TokenPair("a3", "r3", 300.0).to_json(), 1
        )  # fenced
        stored, version = await stored_pair(store, "u1")
        assert stored is not None and (stored.access_token, version) == ("a2", 2)
        # the budget: a probe first, then learnt from an answer, then spent and waited for
        await store.rate_acquire("bucket", max_wait=1)
        limits = {"default": RateLimit("default", 3, 2, 0.5)}
        await store.rate_release("bucket", limits, 200, None)
        started = time.monotonic()
        for _ in range(3):
            await store.rate_acquire("bucket", max_wait=5)
        assert time.monotonic() - started >= 0.4  # the third waited for the reset
        await store.set_checkpoint("sync", "cp-1")
        assert await store.get_checkpoint("sync") == "cp-1"
        await store.delete_checkpoint("sync")
        assert await store.get_checkpoint("sync") is None


async def test_clients_share_a_cluster_store(cluster_url: str) -> None:
    """Two clients of one managed user on a cluster store: one refresh, no 429."""
    async with (
        RedisStore.from_url(cluster_url, namespace="cl2", cluster=True, timeout=3) as store,
        FakeCalCom(access_token_ttl=600, platform_rate_limit=[Limit("default", 10, 1.0)]) as fake,
    ):
        user_id = fake.store.add_managed_user(fake.client_id, "Ann", "ann@example.com", "UTC")
        tokens = fake.store.issue_tokens(user_id, fake.client_id)
        fake.advance(601)  # expired: the first call refreshes
        clients = [
            fake.platform_client(
                access_token=tokens["accessToken"],
                refresh_token=tokens["refreshToken"],
                access_token_expires_at=tokens["accessTokenExpiresAt"] / 1000,
                store=store,
                token_key=f"user-{user_id}",
            )
            for _ in range(2)
        ]
        try:
            answers = await asyncio.gather(*(c.me.get() for c in clients for _ in range(15)))
        finally:
            for c in clients:
                await c.aclose()
        assert {me.id for me in answers} == {user_id}
        refreshes = sum(1 for r in fake.requests if r.path.endswith("/refresh"))
        assert refreshes == 1
        assert fake.stats["throttled"] == 0
