"""The shared store on a real redis-server (issue 8): rate limits, token refresh and checkpoints
across processes. Each test starts its own redis-server on a free loopback port (temporary
directory, no persistence) and stops it. With ``CI=true`` these tests must run; elsewhere they
skip when ``redis-server`` is not installed.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from _redis_server import RedisServer, free_port, running

from calcom_async import CalCom
from calcom_async._auth import TokenPair
from calcom_async.stores import MemoryStore, RedisStore, StoreUnavailableError
from calcom_async.testing import FakeCalCom, Limit

CHILD = str(Path(__file__).with_name("_redis_child.py"))


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    with running(tmp_path) as server:
        yield server


@pytest.fixture
async def rds(redis_server: RedisServer) -> AsyncIterator[Any]:
    client = aioredis.Redis.from_url(redis_server.url)
    yield client
    await client.aclose()


async def run_children(
    rds: Any, jobs: list[dict[str, Any]], *, barrier: str
) -> list[asyncio.subprocess.Process]:
    """Start one child per job, release them together once all are at the barrier."""
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            CHILD,
            json.dumps({**job, "barrier": barrier}),
            stdout=asyncio.subprocess.PIPE,
        )
        for job in jobs
    ]
    deadline = time.monotonic() + 60
    while int(await rds.get(f"test:{barrier}:ready") or 0) < len(jobs):
        assert time.monotonic() < deadline, "children did not reach the barrier"
        assert all(p.returncode is None for p in procs), "a child died before the barrier"
        await asyncio.sleep(0.05)
    await rds.rpush(f"test:{barrier}:go", *["go"] * len(jobs))
    return procs


async def results(procs: list[asyncio.subprocess.Process], limit: float = 120) -> list[Any]:
    out = []
    for proc in procs:
        assert proc.stdout is not None
        data = await asyncio.wait_for(proc.stdout.read(), limit)
        await asyncio.wait_for(proc.wait(), limit)
        assert proc.returncode == 0, f"child failed ({proc.returncode}): {data!r}"
        out.append(json.loads(data.decode().strip().splitlines()[-1]))
    return out


# -- rate limits ---------------------------------------------------------------------------


LIMIT = [Limit("default", 60, 3.0, block=3.0)]


async def test_shared_budget_four_processes_no_429(rds: Any, redis_server: RedisServer) -> None:
    async with FakeCalCom(rate_limit=LIMIT) as fake:
        job = {
            "mode": "calls",
            "store": "redis",
            "redis": redis_server.url,
            "base_url": fake.base_url,
            "api_key": fake.api_key,
            "n": 150,
        }
        procs = await run_children(rds, [job] * 4, barrier="rl")
        out = await results(procs)
        assert fake.stats["throttled"] == 0
        assert sum(r["ok"] for r in out) == 600
        assert sum(r["throttled"] for r in out) == 0
        elapsed = max(r["ended"] for r in out) - min(r["started"] for r in out)
        rate = 600 / elapsed
        print(
            f"\nshared RedisStore: 600 calls in {elapsed:.2f}s = {rate:.1f}/s = "
            f"{rate / 20:.2f} x the limit (60/3s), 429s: {fake.stats['throttled']}"
        )
        # 600 calls need 10 windows; the last window is cut short by the end of the run
        assert rate >= 0.8 * 20


async def test_memory_store_per_process_collects_429s(rds: Any, redis_server: RedisServer) -> None:
    """The same run without sharing: each process paces itself to the whole limit."""
    async with FakeCalCom(rate_limit=LIMIT) as fake:
        job = {
            "mode": "calls",
            "store": "memory",
            "redis": redis_server.url,
            "base_url": fake.base_url,
            "api_key": fake.api_key,
            "n": 40,
        }
        procs = await run_children(rds, [job] * 4, barrier="rl-mem")
        out = await results(procs)
        throttled = sum(r["throttled"] for r in out)
        print(
            f"\nMemoryStore per process: {throttled} of 160 calls got 429 "
            f"(fake: {fake.stats['throttled']})"
        )
        assert fake.stats["throttled"] > 0
        assert throttled > 0


# -- token refresh -------------------------------------------------------------------------


def _managed_tokens(fake: FakeCalCom) -> tuple[int, dict[str, Any]]:
    user_id = fake.store.add_managed_user(fake.client_id, "Ann", "ann@example.com", "UTC")
    return user_id, fake.store.issue_tokens(user_id, fake.client_id)


def _refresh_calls(fake: FakeCalCom) -> int:
    return sum(1 for r in fake.requests if r.path.endswith("/refresh"))


async def test_eight_processes_one_refresh(
    rds: Any, redis_server: RedisServer, tmp_path: Path
) -> None:
    async with FakeCalCom(access_token_ttl=600) as fake:
        user_id, tokens = _managed_tokens(fake)
        fake.advance(601)  # the access token has expired
        callbacks = tmp_path / "callbacks.jsonl"
        job = {
            "mode": "refresh",
            "redis": redis_server.url,
            "base_url": fake.base_url,
            "client_id": fake.client_id,
            "client_secret": fake.client_secret,
            "tokens": {**tokens, "accessTokenExpiresAt": tokens["accessTokenExpiresAt"]},
            "token_key": f"user-{user_id}",
            "callback_file": str(callbacks),
        }
        procs = await run_children(rds, [job] * 8, barrier="refresh")
        out = await results(procs)
        refreshes = _refresh_calls(fake)
        print(f"\n8 processes, expired token: {refreshes} refresh call(s) reached the fake")
        assert refreshes == 1
        assert [r["user"] for r in out] == [user_id] * 8
        assert len({r["access"] for r in out}) == 1
        lines = callbacks.read_text().splitlines()
        assert len(lines) == 1  # the persistence callback ran once
        store = RedisStore.from_url(redis_server.url, namespace="t")
        pair, version = await store.load_tokens(f"user-{user_id}")
        await store.aclose()
        assert pair is not None and version == 2
        newest = [t for t, v in fake.store.refresh_tokens.items() if v.user_id == user_id]
        assert pair.refresh_token == newest[0]  # the stored pair is the newest
        assert pair.access_token == out[0]["access"] == json.loads(lines[0])["access"]
        # no secret in any key name
        for key in await rds.keys("calcom:*"):
            for secret in (tokens["accessToken"], tokens["refreshToken"], fake.client_secret):
                assert secret.encode() not in key


async def test_lock_holder_killed_mid_refresh(
    rds: Any, redis_server: RedisServer, tmp_path: Path
) -> None:
    async with FakeCalCom(access_token_ttl=600) as fake:
        user_id, tokens = _managed_tokens(fake)
        fake.advance(601)
        callbacks = tmp_path / "callbacks.jsonl"
        base = {
            "mode": "refresh",
            "redis": redis_server.url,
            "base_url": fake.base_url,
            "client_id": fake.client_id,
            "client_secret": fake.client_secret,
            "tokens": tokens,
            "token_key": f"user-{user_id}",
            "callback_file": str(callbacks),
            "lock_ttl": 2.0,
        }
        # one holder that takes the lock and then stalls (killed there); then the others
        holder = (await run_children(rds, [{**base, "hold": 60}], barrier="hold"))[0]
        deadline = time.monotonic() + 30
        while not await rds.get("test:holder"):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        others = await run_children(rds, [base] * 7, barrier="others")
        await asyncio.sleep(0.3)
        holder.send_signal(signal.SIGKILL)
        await holder.wait()
        started = time.monotonic()
        out = await results(others)
        took = time.monotonic() - started
        print(
            f"\nholder killed with the lock: the others recovered in {took:.1f}s "
            f"(lock ttl 2s), refresh calls: {_refresh_calls(fake)}"
        )
        assert _refresh_calls(fake) == 1
        assert [r["user"] for r in out] == [user_id] * 7
        assert len(callbacks.read_text().splitlines()) == 1
        # not locked out: the stored pair refreshes again
        store = RedisStore.from_url(redis_server.url, namespace="t")
        pair, _ = await store.load_tokens(f"user-{user_id}")
        await store.aclose()
        assert pair is not None and pair.refresh_token in fake.store.refresh_tokens


async def test_fenced_write_refuses_an_older_version(redis_server: RedisServer) -> None:
    store = RedisStore.from_url(redis_server.url, namespace="fence", lock_ttl=0.2)
    key = "user-1"
    await store.seed_tokens(key, TokenPair("a1", "r1", None))
    async with store.refresh_lock(key) as late:  # this holder stalls and its lock expires
        await store.redis.delete(store.key("lock", key))  # (a paused process: no heartbeat)
        async with store.refresh_lock(key) as other:
            assert other.version == late.version == 1
            assert await store.save_tokens(key, TokenPair("a2", "r2", None), other.version)
        # the late holder cannot overwrite the newer pair
        assert not await store.save_tokens(key, TokenPair("a-late", "r-late", None), late.version)
    pair, version = await store.load_tokens(key)
    assert pair is not None and pair.access_token == "a2" and version == 2
    await store.aclose()


# -- checkpoints ---------------------------------------------------------------------------


async def test_sync_killed_at_a_random_page_resumed_by_another_process(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    async with FakeCalCom() as fake:
        fake.seed(bookings=600)
        expected = {b for b in fake.store.bookings}
        out = tmp_path / "out.txt"
        page_size = 50
        die_at = random.Random().randrange(page_size, 550)
        job = {
            "mode": "sync",
            "redis": redis_server.url,
            "base_url": fake.base_url,
            "api_key": fake.api_key,
            "key": "nightly",
            "page_size": page_size,
            "out": str(out),
        }
        a = await asyncio.create_subprocess_exec(
            sys.executable, CHILD, json.dumps({**job, "die_at_page": die_at})
        )
        assert await asyncio.wait_for(a.wait(), 60) == -signal.SIGKILL
        written_by_a = len(out.read_text().splitlines())
        assert written_by_a == die_at - 1
        b = await asyncio.create_subprocess_exec(
            sys.executable, CHILD, json.dumps(job), stdout=asyncio.subprocess.PIPE
        )
        (result,) = await results([b])
        uids = out.read_text().split()
        print(f"\nsync: A died after {written_by_a} bookings, B resumed with {result['count']}")
        assert len(uids) == len(set(uids))  # no duplicates
        assert set(uids) == expected  # the full set


async def test_checkpoint_key_in_memory_store() -> None:
    async with FakeCalCom() as fake:
        fake.seed(bookings=30)
        store = MemoryStore()
        async with fake.client(store=store) as cal:
            first = [b.uid async for b in cal.bookings.sync(checkpoint_key="k", page_size=10)]
            again = [b.uid async for b in cal.bookings.sync(checkpoint_key="k", page_size=10)]
        assert len(first) == 30 and again == []
        assert await store.get_checkpoint("k") is not None


# -- Redis going away ----------------------------------------------------------------------


async def test_redis_unreachable_is_a_typed_error_within_the_deadline() -> None:
    store = RedisStore.from_url(f"redis://127.0.0.1:{free_port()}/0", timeout=1.0)
    async with FakeCalCom() as fake, fake.client(store=store) as cal:
        started = time.monotonic()
        with pytest.raises(StoreUnavailableError):
            await cal.me.get()
        assert time.monotonic() - started < 2.0
        assert fake.stats["requests"] == 0  # nothing sent on a guess
    await store.aclose()


async def test_redis_killed_mid_run(redis_server: RedisServer) -> None:
    async with FakeCalCom() as fake:
        job = {
            "mode": "redis_dies",
            "redis": redis_server.url,
            "base_url": fake.base_url,
            "api_key": fake.api_key,
            "timeout": 1.0,
        }
        proc = await asyncio.create_subprocess_exec(
            sys.executable, CHILD, json.dumps(job), stdout=asyncio.subprocess.PIPE
        )
        assert proc.stdout is not None
        await asyncio.wait_for(proc.stdout.readline(), 30)
        await asyncio.sleep(0.5)
        assert fake.stats["requests"] > 0
        redis_server.stop()
        (result,) = await results([proc], limit=20)
        print(f"\nRedis killed mid-run: {result['error']} after {result['after']:.2f}s")
        assert result["error"] == "StoreUnavailableError"
        assert result["after"] < 3.0


async def test_redis_stopped_during_a_refresh_never_refreshes_twice(
    redis_server: RedisServer,
) -> None:
    async with FakeCalCom(access_token_ttl=600) as fake:
        user_id, tokens = _managed_tokens(fake)
        store = RedisStore.from_url(redis_server.url, namespace="t", timeout=1.0)
        async with fake.platform_client(
            access_token=tokens["accessToken"],
            refresh_token=tokens["refreshToken"],
            access_token_expires_at=tokens["accessTokenExpiresAt"],
            store=store,
            token_key=f"user-{user_id}",
        ) as cal:
            await cal.me.get()  # seeds the pair in Redis
            redis_server.stop()
            fake.advance(601)
            started = time.monotonic()
            with pytest.raises(StoreUnavailableError):
                await cal.me.get()
            assert time.monotonic() - started < 3.0
        assert _refresh_calls(fake) == 0
        await store.aclose()


# -- at rest -------------------------------------------------------------------------------


class XorCipher:
    """A stand-in for Fernet (the hook takes any encrypt/decrypt pair)."""

    def encrypt(self, data: bytes) -> bytes:
        return b"x" + bytes(b ^ 0x5A for b in data)

    def decrypt(self, token: bytes) -> bytes:
        assert token[:1] == b"x"
        return bytes(b ^ 0x5A for b in token[1:])


async def test_token_pairs_encrypted_at_rest(rds: Any, redis_server: RedisServer) -> None:
    store = RedisStore.from_url(redis_server.url, namespace="enc", cipher=XorCipher())
    await store.seed_tokens("user-9", TokenPair("SECRET_A", "SECRET_R", 1.0))
    raw = b"".join([await rds.get(k) or b"" for k in await rds.keys("calcom:enc:*")])
    assert b"SECRET" not in raw
    pair, version = await store.load_tokens("user-9")
    assert pair == TokenPair("SECRET_A", "SECRET_R", 1.0) and version == 1
    assert "SECRET" not in repr(store)
    await store.aclose()


def test_shared_store_needs_a_token_key() -> None:
    store = RedisStore.from_url("redis://127.0.0.1:1/0")
    from calcom_async import CalComUsageError

    with pytest.raises(CalComUsageError, match="token_key"):
        CalCom(client_id="c", client_secret="s", access_token="a", refresh_token="r", store=store)


async def test_oauth_tokens_keep_their_scopes(redis_server: RedisServer) -> None:
    from calcom_async import OAuthToken

    store = RedisStore.from_url(redis_server.url, namespace="oauth")
    token = OAuthToken("SECRET_A", "SECRET_R", 5.0, scopes=("BOOKING_READ",))
    loaded, _ = await store.seed_tokens("user-1", token)
    assert isinstance(loaded, OAuthToken) and loaded == token
    await store.aclose()


async def test_a_later_pair_given_to_the_client_replaces_an_older_stored_one(
    redis_server: RedisServer,
) -> None:
    store = RedisStore.from_url(redis_server.url, namespace="later")
    await store.seed_tokens("u", TokenPair("old", "r-old", 100.0))
    async with FakeCalCom() as fake:
        user_id, tokens = _managed_tokens(fake)
        expires = tokens["accessTokenExpiresAt"] / 1000
        await store.seed_tokens(f"user-{user_id}", TokenPair("stale", "r-stale", expires - 60))
        async with fake.platform_client(
            access_token=tokens["accessToken"],
            refresh_token=tokens["refreshToken"],
            access_token_expires_at=expires,
            store=store,
            token_key=f"user-{user_id}",
        ) as cal:
            me = await cal.me.get()
            assert me.id == user_id
        pair, version = await store.load_tokens(f"user-{user_id}")
        assert pair is not None and pair.access_token == tokens["accessToken"] and version == 2
    await store.aclose()


def test_memory_store_is_the_default() -> None:
    cal = CalCom(api_key="cal_test_x")
    assert isinstance(cal.store, MemoryStore) and not cal.store.distributed


async def test_redis_that_stops_answering_is_a_typed_error_within_the_deadline(
    redis_server: RedisServer,
) -> None:
    """A frozen Redis (SIGSTOP: connections stay open, nothing answers) is the hang case."""
    store = RedisStore.from_url(redis_server.url, namespace="t", timeout=1.0)
    async with FakeCalCom() as fake, fake.client(store=store) as cal:
        await cal.me.get()
        assert redis_server.proc is not None
        redis_server.proc.send_signal(signal.SIGSTOP)
        try:
            started = time.monotonic()
            with pytest.raises(StoreUnavailableError):
                await cal.me.get()
            took = time.monotonic() - started
        finally:
            redis_server.proc.send_signal(signal.SIGCONT)
        print(f"\nRedis frozen: StoreUnavailableError after {took:.2f}s (timeout 1s)")
        assert took < 2.5
    await store.aclose()


class _SaveFails(RedisStore):
    async def save_tokens(self, key: str, pair: TokenPair, expected_version: int) -> bool:
        raise StoreUnavailableError("Redis went away (store tokens)")


async def test_redis_lost_after_the_refresh_keeps_the_new_pair(redis_server: RedisServer) -> None:
    """The server rotated the token, Redis went away before the pair was stored: the process
    keeps the only valid pair and hands it to on_token_refresh, then reports the error."""
    store = _SaveFails(aioredis.Redis.from_url(redis_server.url), namespace="lost")
    persisted: list[TokenPair] = []
    async with FakeCalCom(access_token_ttl=600) as fake:
        user_id, tokens = _managed_tokens(fake)
        async with fake.platform_client(
            access_token=tokens["accessToken"],
            refresh_token=tokens["refreshToken"],
            access_token_expires_at=tokens["accessTokenExpiresAt"],
            on_token_refresh=persisted.append,
            store=store,
            token_key=f"user-{user_id}",
        ) as cal:
            await cal.me.get()
            fake.advance(601)
            with pytest.raises(StoreUnavailableError):
                await cal.me.get()
            assert _refresh_calls(fake) == 1
            assert len(persisted) == 1 and cal.tokens == persisted[0]
            assert persisted[0].refresh_token in fake.store.refresh_tokens
    await store.aclose()


class _SaveFailsOnce(RedisStore):
    failed = False

    async def save_tokens(self, key: str, pair: TokenPair, expected_version: int) -> bool:
        if not self.failed:
            self.failed = True
            raise StoreUnavailableError("Redis went away (store tokens)")
        return await super().save_tokens(key, pair, expected_version)


async def test_after_a_failed_save_the_stale_stored_pair_is_never_taken_back(
    redis_server: RedisServer,
) -> None:
    """Two expiry cycles: the pair kept while Redis was away is the base of the next refresh
    (and is then stored), never the revoked pair still in Redis."""
    store = _SaveFailsOnce(aioredis.Redis.from_url(redis_server.url), namespace="twice")
    async with FakeCalCom(access_token_ttl=600) as fake:
        user_id, tokens = _managed_tokens(fake)
        async with fake.platform_client(
            access_token=tokens["accessToken"],
            refresh_token=tokens["refreshToken"],
            access_token_expires_at=tokens["accessTokenExpiresAt"],
            store=store,
            token_key=f"user-{user_id}",
        ) as cal:
            await cal.me.get()
            fake.advance(601)
            with pytest.raises(StoreUnavailableError):
                await cal.me.get()
            kept = cal.tokens
            await cal.me.get()  # Redis is back: the kept pair still works
            fake.advance(601)
            await cal.me.get()  # refreshed from the kept pair, not the revoked stored one
            assert cal.tokens != kept and _refresh_calls(fake) == 2
            stored, _version = await store.load_tokens(f"user-{user_id}")
            assert stored == cal.tokens
    await store.aclose()


class _ReleaseFails(RedisStore):
    async def rate_release(self, *args: Any, **kwargs: Any) -> None:
        raise StoreUnavailableError("Redis went away (rate release)")


async def test_an_answer_is_kept_when_the_budget_update_fails(redis_server: RedisServer) -> None:
    store = _ReleaseFails(aioredis.Redis.from_url(redis_server.url), namespace="release")
    async with FakeCalCom() as fake, fake.client(store=store) as cal:
        me = await cal.me.get()  # answered by the server: not turned into an error
        assert me.email
    await store.aclose()


async def test_a_rejected_refresh_token_is_sent_once_with_a_shared_store(
    redis_server: RedisServer,
) -> None:
    store = RedisStore(aioredis.Redis.from_url(redis_server.url), namespace="rejected")
    async with FakeCalCom(access_token_ttl=600) as fake:
        user_id, tokens = _managed_tokens(fake)
        fake.store.refresh_tokens.clear()  # the refresh token is dead
        async with fake.platform_client(
            access_token=tokens["accessToken"],
            refresh_token=tokens["refreshToken"],
            access_token_expires_at=tokens["accessTokenExpiresAt"],
            store=store,
            token_key=f"user-{user_id}",
        ) as cal:
            fake.advance(601)
            failures: list[BaseException] = []

            async def one() -> None:
                try:
                    await cal.me.get()
                except Exception as exc:
                    failures.append(exc)

            await asyncio.gather(*(one() for _ in range(20)))
            assert len(failures) == 20
            assert _refresh_calls(fake) == 1
    await store.aclose()


async def test_a_slow_refresh_keeps_its_lock_and_is_never_doubled(
    redis_server: RedisServer,
) -> None:
    """The token endpoint answers after 0.6 s, the lock lives 0.3 s: the holder keeps extending
    its lock, so the other client waits for the new pair instead of refreshing again."""
    from calcom_async.testing import Faults

    store = RedisStore.from_url(redis_server.url, namespace="slow", lock_ttl=0.3)
    saved: list[TokenPair] = []
    async with FakeCalCom(access_token_ttl=600, faults=Faults(latency=0.6)) as fake:
        user_id, tokens = _managed_tokens(fake)

        def client() -> CalCom:
            return fake.platform_client(
                access_token=tokens["accessToken"],
                refresh_token=tokens["refreshToken"],
                access_token_expires_at=tokens["accessTokenExpiresAt"],
                store=store,
                token_key=f"user-{user_id}",
                on_token_refresh=saved.append,
            )

        async with client() as a, client() as b:
            await a.me.get()
            await b.me.get()
            fake.advance(601)
            await asyncio.gather(a.me.get(), b.me.get())
        assert _refresh_calls(fake) == 1
        assert len(saved) == 1
    await store.aclose()


async def test_oauth_user_tokens_share_the_store_across_clients(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 9 with issue 8: a third-party OAuth token refreshed once for two clients sharing a
    RedisStore (the same refresh machinery), scopes kept, no token in key names or logs."""
    import logging

    from test_oauth_fake import REDIRECT, SCOPES, authorize, confidential

    store = RedisStore.from_url(redis_server.url, namespace="oauth")
    saved: list[Any] = []
    async with FakeCalCom() as fake:
        confidential(fake)
        async with fake.oauth.app("crm-confidential", redirect_uri=REDIRECT, scopes=SCOPES) as app:
            token = await authorize(fake, app)
            fake.advance(31 * 60)  # the access token expired

            def client() -> CalCom:
                return CalCom(
                    base_url=fake.base_url,
                    oauth=token,
                    oauth_app=app,
                    store=store,
                    token_key="crm-user-1",
                    on_token_refresh=saved.append,
                )

            with caplog.at_level(logging.DEBUG):
                async with client() as a, client() as b:
                    await asyncio.gather(*(c.me.get() for c in (a, b) for _ in range(5)))
            refreshes = [t for t in fake.oauth.token_requests if t.grant_type == "refresh_token"]
            assert len(refreshes) == 1 and len(saved) == 1
            pair, _version = await store.load_tokens("crm-user-1")
            assert pair is not None and pair.access_token == saved[0].access_token
            assert list(getattr(pair, "scopes", [])) == list(saved[0].scopes)
            keys = await store.redis.keys("*")
            for secret in (token.access_token, token.refresh_token, pair.access_token):
                assert all(secret.encode() not in k for k in keys)
                assert secret not in caplog.text
    await store.aclose()
