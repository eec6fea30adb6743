"""The shared store on a real redis-server (issue 8): rate limits, token refresh and checkpoints
across processes. Each test starts its own redis-server on a free loopback port (temporary
directory, no persistence) and stops it. With ``CI=true`` these tests must run; elsewhere they
skip when ``redis-server`` is not installed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from calcom_async import CalCom, RateLimitError
from calcom_async._auth import TokenPair
from calcom_async._ratelimit import RateLimit
from calcom_async._retry import RetryPolicy
from calcom_async.oauth import OAuthToken
from calcom_async.stores import MemoryStore, RedisStore, StoreDataError, StoreUnavailableError
from calcom_async.testing import FakeCalCom, Limit
from tests.stores._helpers import stored_pair
from tests.support.leaks import MARKER
from tests.support.net import free_port
from tests.support.redis_server import RedisServer
from tests.support.sync_properties import Version, assert_each_version_once

CHILD = str(Path(__file__).with_name("_redis_child.py"))


@pytest.fixture
async def rds(redis_server: RedisServer) -> AsyncIterator[Any]:
    client = aioredis.Redis.from_url(redis_server.url)
    yield client
    await client.aclose()


#: modes of tests/stores/_redis_child.py that call the API (so log calcom_async DEBUG lines)
HTTP_MODES = {"calls", "refresh", "sync", "redis_dies"}


class Child:
    """A tests/stores/_redis_child.py process; its stdout and stderr are read from the start (no
    pipe fills up), and its stderr (everything logged at DEBUG) is scanned for secrets."""

    def __init__(self, proc: asyncio.subprocess.Process, job: dict[str, Any]) -> None:
        self.proc = proc
        self.job = job
        self.output = asyncio.ensure_future(proc.communicate())

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    def send_signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    async def wait(self, limit: float = 120) -> int:
        await asyncio.wait_for(asyncio.shield(self.output), limit)
        return await self.proc.wait()

    async def stderr(self, limit: float = 120) -> bytes:
        await self.wait(limit)
        return self.output.result()[1]


async def spawn(job: dict[str, Any]) -> Child:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        CHILD,
        json.dumps(job),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    return Child(proc, job)


def secrets_of(fake: FakeCalCom, *more: Any) -> list[str]:
    """The fake's credentials, every token it has issued, and ``more`` (token dicts, strings)."""
    found = [fake.api_key, fake.client_secret, *fake.store.access_tokens]
    found += fake.store.refresh_tokens
    for item in more:
        if isinstance(item, dict):
            found += [v for k, v in item.items() if k in ("accessToken", "refreshToken")]
        else:
            found.append(item)
    return found


def assert_no_secret_in_logs(
    child: Child, stderr: bytes, secrets: list[str], called_api: bool = True
) -> None:
    """No SECRET marker and none of ``secrets`` in the child's log (stderr); a child that
    called the API must have logged its calls at DEBUG (else the scan proves nothing)."""
    assert all(MARKER in s for s in secrets), "every fake secret carries the marker"
    leaks = [
        line
        for line in stderr.decode(errors="replace").splitlines()
        if MARKER in line or any(s in line for s in secrets)
    ]
    assert not leaks, "a secret in a child's log:\n" + "\n".join(leaks[:5])
    if called_api and child.job["mode"] in HTTP_MODES:
        assert b" DEBUG calcom_async " in stderr, "the child did not log its calls at DEBUG"


async def run_children(
    rds: Any,
    jobs: list[dict[str, Any]],
    *,
    barrier: str,
    before_go: Callable[[], Awaitable[None]] | None = None,
) -> list[Child]:
    """Start one child per job, release them together once all are at the barrier (after
    ``before_go``)."""
    children = [await spawn({**job, "barrier": barrier}) for job in jobs]
    deadline = time.monotonic() + 60
    while int(await rds.get(f"test:{barrier}:ready") or 0) < len(jobs):
        assert time.monotonic() < deadline, "children did not reach the barrier"
        assert all(c.returncode is None for c in children), "a child died before the barrier"
        await asyncio.sleep(0.05)
    if before_go is not None:
        await before_go()
    await rds.rpush(f"test:{barrier}:go", *["go"] * len(jobs))
    return children


async def results(
    children: list[Child], limit: float = 120, *, fake: FakeCalCom, more: tuple[Any, ...] = ()
) -> list[Any]:
    """Each child's result line, once it has exited with 0 and its log has no secret (of the
    fake's credentials and tokens, and ``more``)."""
    out = []
    for child in children:
        await child.wait(limit)
    secrets = secrets_of(fake, *more)
    for child in children:
        data, stderr = child.output.result()
        assert child.returncode == 0, (
            f"child failed ({child.returncode}): {data!r}\n{stderr.decode()[-3000:]}"
        )
        assert_no_secret_in_logs(child, stderr, secrets)
        out.append(json.loads(data.decode().strip().splitlines()[-1]))
    return out


# -- rate limits ---------------------------------------------------------------------------


LIMIT = [Limit("default", 60, 3.0, block=3.0)]


def _calls_job(fake: FakeCalCom, server: RedisServer, store: str, n: int) -> dict[str, Any]:
    """A child that makes ``n`` calls with the fake's API key, on a ``redis`` or ``memory``
    store."""
    return {
        "mode": "calls",
        "store": store,
        "redis": server.url,
        "base_url": fake.base_url,
        "api_key": fake.api_key,
        "n": n,
    }


async def test_shared_budget_four_processes_no_429(rds: Any, redis_server: RedisServer) -> None:
    async with FakeCalCom(rate_limit=LIMIT) as fake:
        job = _calls_job(fake, redis_server, "redis", 150)
        procs = await run_children(rds, [job] * 4, barrier="rl")
        out = await results(procs, fake=fake)
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
        job = _calls_job(fake, redis_server, "memory", 40)
        procs = await run_children(rds, [job] * 4, barrier="rl-mem")
        out = await results(procs, fake=fake)
        throttled = sum(r["throttled"] for r in out)
        print(
            f"\nMemoryStore per process: {throttled} of 160 calls got 429 "
            f"(fake: {fake.stats['throttled']})"
        )
        assert fake.stats["throttled"] > 0
        assert throttled > 0


#: two named windows that both bind: 45 calls need two "long" windows, each paced by "short"
TWO_WINDOWS = [Limit("short", 10, 1.0, block=5.0), Limit("long", 25, 4.0, block=5.0)]


async def test_two_named_windows_shared_by_three_processes_no_429(
    rds: Any, redis_server: RedisServer
) -> None:
    """Three processes, 15 calls each, against limits of 10 per second and 25 per 4 seconds:
    the fake (which refuses a call over either window) sends no 429, the budget in Redis holds
    both windows, and the run takes the second long window it needs, not much more."""
    async with FakeCalCom(rate_limit=TWO_WINDOWS) as fake:
        job = _calls_job(fake, redis_server, "redis", 15)
        procs = await run_children(rds, [job] * 3, barrier="rl-two")
        out = await results(procs, fake=fake)
        elapsed = max(r["ended"] for r in out) - min(r["started"] for r in out)
        print(
            f"\ntwo windows (10/1s, 25/4s), 3 processes: 45 calls in {elapsed:.2f}s, "
            f"429s: {fake.stats['throttled']}"
        )
        assert fake.stats["throttled"] == 0
        assert sum(r["throttled"] for r in out) == 0
        assert sum(r["ok"] for r in out) == 45
        (bucket,) = await rds.keys("calcom:t:rl:*")
        budget = await rds.hgetall(bucket)
        assert {k for k in budget if k.startswith(b"L:")} == {b"L:short", b"L:long"}
        assert elapsed >= 4.0  # the 26th call waited for the long window
        assert elapsed < 9.0  # two long windows (4 s + 2 s of short ones), with slack


async def test_a_429_blocks_every_process_until_retry_after(
    rds: Any, redis_server: RedisServer
) -> None:
    """A 429 with Retry-After learnt by the store (the ``blocked`` branch of the Lua scripts):
    every process asking for the credential's budget waits until the block ends, and one whose
    max_wait is shorter gives up at once with ClientSideRateLimit."""
    bucket = "0123456789abcdef01234567"
    blocked: list[float] = []

    async def block() -> None:  # a known window with room left: only the block holds them
        limits = {"default": RateLimit("default", 100, 50, 30.0)}
        async with RedisStore.from_url(redis_server.url, namespace="t") as store:
            await store.rate_release(bucket, limits, 429, 1.5)
            blocked.append(int(await rds.hget(store.key("rl", bucket), "blocked")) / 1000)

    job = {"mode": "acquire", "redis": redis_server.url, "bucket": bucket}
    jobs = [{**job, "max_wait": 10.0}] * 3 + [{**job, "max_wait": 0.5}]
    children = await run_children(rds, jobs, barrier="blocked", before_go=block)
    async with FakeCalCom() as fake:  # (no API call: for the log scan's list of secrets)
        out = await results(children, fake=fake)
    (until,) = blocked
    print(f"\n429, Retry-After 1.5s: granted {[round(r['returned'] - until, 3) for r in out]}s")
    for r in out[:3]:
        assert r["error"] is None
        assert r["started"] < until <= r["returned"] + 0.005  # not granted before the end
        assert r["returned"] < until + 1.0
    (impatient,) = out[3:]
    assert impatient["error"] == "ClientSideRateLimit"
    # gave up instead of waiting out the block (1.5 s, longer than its max_wait): it returned
    # before the block ended. (Not a bound of 0.3 s: one Redis round trip from a child process
    # can take longer on a busy machine.)
    assert impatient["returned"] < until - 0.5


async def test_a_server_429_seen_by_one_client_blocks_the_other(
    redis_server: RedisServer,
) -> None:
    """A consumer outside the store spends the credential and trips the server's block; client
    A (sharing a RedisStore with B and C) gets the server's 429, which carries Retry-After and
    no X-RateLimit-* headers (as a proxy's would): the block alone must hold the others. B sends
    nothing until Retry-After has passed, then succeeds; C, whose max_wait is shorter, gives up
    at once."""
    import aiohttp
    from aiohttp import web

    @web.middleware
    async def bare_429(request: web.Request, handler: Any) -> web.StreamResponse:
        response: web.StreamResponse = await handler(request)
        if response.status == 429:
            for name in [h for h in response.headers if h.lower().startswith("x-ratelimit-")]:
                del response.headers[name]
        return response

    store_a = RedisStore.from_url(redis_server.url, namespace="block")
    store_b = RedisStore.from_url(redis_server.url, namespace="block")  # another "process"
    fake = FakeCalCom(rate_limit=[Limit("default", 3, 1.0, block=2.0)])
    fake.app.middlewares.append(bare_429)
    async with store_a, store_b, fake:
        async with aiohttp.ClientSession() as http:
            for _ in range(4):
                headers = {"Authorization": f"Bearer {fake.api_key}"}
                async with http.get(f"{fake.base_url}/v2/me", headers=headers) as response:
                    await response.read()
        assert fake.stats["throttled"] == 1  # the credential is blocked for 2 s
        a = fake.client(store=store_a, max_retries=0)
        b = fake.client(store=store_b)
        c = fake.client(store=store_b, retry_policy=RetryPolicy(max_wait=0.5))
        with pytest.raises(RateLimitError) as server_429:
            await a.me.get()
        seen = time.monotonic()
        assert server_429.value.code == "ThrottlerException"
        assert server_429.value.retry_after == 2.0
        assert not [h for h in server_429.value.headers if "ratelimit" in h.lower()]
        sent = fake.stats["requests"]
        with pytest.raises(RateLimitError) as gave_up:
            await c.me.get()
        assert gave_up.value.code == "ClientSideRateLimit"
        assert fake.stats["requests"] == sent  # nothing sent
        assert (await b.me.get()).id
        waited = time.monotonic() - seen
        print(f"\nserver 429 (Retry-After 2s) seen by A: B waited {waited:.2f}s, then sent")
        assert waited >= 2.0
        assert fake.stats["requests"] == sent + 1  # B sent once, after the block
        assert fake.stats["throttled"] == 2  # the outsider's and A's: none from B


# -- token refresh -------------------------------------------------------------------------


def _managed_tokens(fake: FakeCalCom) -> tuple[int, dict[str, Any]]:
    user_id = fake.store.add_managed_user(fake.client_id, "Ann", "ann@example.com", "UTC")
    return user_id, fake.store.issue_tokens(user_id, fake.client_id)


def _refresh_calls(fake: FakeCalCom) -> int:
    return sum(1 for r in fake.requests if r.path.endswith("/refresh"))


def _refresh_job(
    fake: FakeCalCom,
    server: RedisServer,
    user_id: int,
    tokens: dict[str, Any],
    callbacks: Path,
    **extra: Any,
) -> dict[str, Any]:
    """A child that calls with the managed user's (expired) tokens through a RedisStore,
    appending every refreshed pair to ``callbacks``."""
    return {
        "mode": "refresh",
        "redis": server.url,
        "base_url": fake.base_url,
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "tokens": tokens,
        "token_key": f"user-{user_id}",
        "callback_file": str(callbacks),
        **extra,
    }


async def test_eight_processes_one_refresh(
    rds: Any, redis_server: RedisServer, tmp_path: Path
) -> None:
    async with FakeCalCom(access_token_ttl=600) as fake:
        user_id, tokens = _managed_tokens(fake)
        fake.advance(601)  # the access token has expired
        callbacks = tmp_path / "callbacks.jsonl"
        job = _refresh_job(fake, redis_server, user_id, tokens, callbacks)
        procs = await run_children(rds, [job] * 8, barrier="refresh")
        out = await results(procs, fake=fake, more=(tokens,))
        refreshes = _refresh_calls(fake)
        print(f"\n8 processes, expired token: {refreshes} refresh call(s) reached the fake")
        assert refreshes == 1
        assert [r["user"] for r in out] == [user_id] * 8
        assert len({r["access"] for r in out}) == 1
        lines = callbacks.read_text().splitlines()
        assert len(lines) == 1  # the persistence callback ran once
        store = RedisStore.from_url(redis_server.url, namespace="t")
        pair, version = await stored_pair(store, f"user-{user_id}")
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
        base = _refresh_job(fake, redis_server, user_id, tokens, callbacks, lock_ttl=2.0)
        # one holder that takes the lock and then stalls (killed there); then the others
        holder = (await run_children(rds, [{**base, "hold": 60}], barrier="hold"))[0]
        deadline = time.monotonic() + 30
        while not await rds.get("test:holder"):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        others = await run_children(rds, [base] * 7, barrier="others")
        await asyncio.sleep(0.3)
        holder.send_signal(signal.SIGKILL)
        assert await holder.wait() == -signal.SIGKILL
        # killed before it sent anything: its log has no API call to show, and no secret
        assert_no_secret_in_logs(holder, await holder.stderr(), secrets_of(fake, tokens), False)
        started = time.monotonic()
        out = await results(others, fake=fake, more=(tokens,))
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
        pair, _ = await stored_pair(store, f"user-{user_id}")
        await store.aclose()
        assert pair is not None and pair.refresh_token in fake.store.refresh_tokens


async def test_fenced_write_refuses_an_older_version(redis_server: RedisServer) -> None:
    store = RedisStore.from_url(redis_server.url, namespace="fence", lock_ttl=0.2)
    key = "user-1"
    await store.seed_tokens(key, TokenPair("a1", "r1", None).to_json())
    async with store.refresh_lock(key) as late:  # this holder stalls and its lock expires
        await store.redis.delete(store.key("lock", key))  # (a paused process: no heartbeat)
        async with store.refresh_lock(key) as other:
            assert other.version == late.version == 1
            assert await store.save_tokens(
                key, TokenPair("a2", "r2", None).to_json(), other.version
            )
        # the late holder cannot overwrite the newer pair
        assert not await store.save_tokens(
            key, TokenPair("a-late", "r-late", None).to_json(), late.version
        )
    pair, version = await stored_pair(store, key)
    assert pair is not None and pair.access_token == "a2" and version == 2
    await store.aclose()


# -- checkpoints ---------------------------------------------------------------------------


async def test_sync_killed_at_a_random_page_resumed_by_another_process(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """A dies at a random booking, two bookings change (one A has written, one it has not),
    B resumes from the checkpoint: the exactly-once properties of the sync property tests
    (tests/support/sync_properties.py) hold for the union of A's and B's output."""
    async with FakeCalCom() as fake:
        fake.seed(bookings=600)
        out = tmp_path / "out.txt"
        page_size = 50
        rng = random.Random()
        die_at = rng.randrange(page_size, 550)
        job = {
            "mode": "sync",
            "redis": redis_server.url,
            "base_url": fake.base_url,
            "api_key": fake.api_key,
            "key": "nightly",
            "page_size": page_size,
            "out": str(out),
        }
        a = await spawn({**job, "die_at_page": die_at})
        assert await a.wait(60) == -signal.SIGKILL
        assert_no_secret_in_logs(a, await a.stderr(), secrets_of(fake))

        def written() -> list[Version]:
            lines = (line.split() for line in out.read_text().splitlines())
            return [(u, None if at == "-" else at) for u, at in lines]

        by_a = written()
        assert len(by_a) == die_at - 1
        # meanwhile two bookings change: one A has written (B yields its new version), one not
        fake.advance(5)
        seen_uids = {uid for uid, _ in by_a}
        changed = [
            rng.choice(sorted(seen_uids)),
            rng.choice(sorted(set(fake.store.bookings) - seen_uids)),
        ]
        for uid in changed:
            booking = fake.store.bookings[uid]
            booking.data["status"] = "cancelled"
            fake.store.touch(booking)
        b = await spawn(job)
        (result,) = await results([b], fake=fake)
        seen = written()
        final = {(uid, b.data["updatedAt"]) for uid, b in fake.store.bookings.items()}
        print(f"\nsync: A died after {len(by_a)} bookings, B resumed with {result['count']}")
        assert_each_version_once(seen, final)
        # nothing else: the union is the full set, plus the old version of the booking that
        # changed after A had written it
        assert set(seen) - final == {v for v in by_a if v[0] == changed[0]}
        assert len(seen) == 601


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
        proc = await spawn(job)
        deadline = time.monotonic() + 30
        while fake.stats["requests"] < 20:  # the child is calling through the store
            assert time.monotonic() < deadline and proc.returncode is None
            await asyncio.sleep(0.05)
        redis_server.stop()
        (result,) = await results([proc], limit=20, fake=fake)
        print(f"\nRedis killed mid-run: {result['error']} after {result['after']:.2f}s")
        assert result["error"] == "StoreUnavailableError"
        assert result["after"] < 3.0


async def test_redis_stopped_before_a_refresh_never_refreshes(
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


async def test_redis_gone_while_the_refresh_is_in_flight(redis_server: RedisServer) -> None:
    """Redis is stopped while the refresh request is at the server (the fake holds it 1 s),
    with three callers on each of clients A and B (two stores, as in two processes; the one that
    took the lock sent the refresh, the other waits for the lock): every caller gets
    StoreUnavailableError within the deadline, exactly one refresh reached the server, and the
    client that sent it keeps the new pair and hands it to on_token_refresh. When Redis is back
    (with its data, as a Redis with persistence), that client uses the kept pair, the next
    client started with the persisted pair writes it to the store, the other client takes it
    from there without refreshing, and the next expiry is one refresh again: no lockout."""
    url = redis_server.url
    store_a = RedisStore.from_url(url, namespace="inflight", timeout=1.0, lock_ttl=1.0)
    store_b = RedisStore.from_url(url, namespace="inflight", timeout=1.0, lock_ttl=1.0)
    persisted: list[TokenPair] = []
    async with store_a, store_b, FakeCalCom(access_token_ttl=600) as fake:
        user_id, tokens = _managed_tokens(fake)
        key = f"user-{user_id}"
        first = TokenPair(
            tokens["accessToken"], tokens["refreshToken"], tokens["accessTokenExpiresAt"] / 1000
        )

        def client(store: RedisStore, pair: TokenPair) -> CalCom:
            return fake.platform_client(
                access_token=pair.access_token,
                refresh_token=pair.refresh_token,
                access_token_expires_at=pair.access_token_expires_at,
                store=store,
                token_key=key,
                on_token_refresh=persisted.append,
            )

        a, b = client(store_a, first), client(store_b, first)
        await a.me.get()
        await b.me.get()  # both hold the stored pair, version 1
        fake.faults.inject("latency", seconds=1.0, match="managed_users.refresh_tokens")
        fake.advance(601)  # the access token has expired
        calls = [asyncio.ensure_future(c.me.get()) for c in (a, a, a, b, b, b)]
        deadline = time.monotonic() + 10
        while _refresh_calls(fake) == 0:  # the refresh request has reached the server
            assert time.monotonic() < deadline, "no refresh was sent"
            await asyncio.sleep(0.005)
        redis_server.save()
        redis_server.stop()
        stopped = time.monotonic()
        outcomes = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), 10)
        took = time.monotonic() - stopped
        print(f"\nRedis stopped during the refresh: 6 callers failed within {took:.2f}s")
        assert [type(o) for o in outcomes] == [StoreUnavailableError] * 6, outcomes
        assert took < 1.0 + 2.0  # the refresh's own 1 s, then the 1 s store deadline at most
        assert _refresh_calls(fake) == 1 and fake.faults.injected["latency"] == 1
        (kept,) = persisted  # handed to on_token_refresh, once
        assert kept.refresh_token in fake.store.refresh_tokens
        assert first.refresh_token not in fake.store.refresh_tokens  # rotated at the server
        assert {a.tokens, b.tokens} == {kept, first}
        refresher, other = (a, b) if a.tokens == kept else (b, a)

        redis_server.start()  # back, with the pair stored before (version 1); the pooled
        # connections from before the restart are reopened by from_url's retry
        assert await stored_pair(store_a, key) == (first, 1)
        assert (await refresher.me.get()).id == user_id  # the kept pair works
        c = client(store_a, kept)  # the next client, started with the persisted pair
        assert (await c.me.get()).id == user_id
        assert await stored_pair(store_a, key) == (kept, 2)  # ... has written it
        assert (await other.me.get()).id == user_id  # the other takes it from the store
        assert other.tokens == kept and _refresh_calls(fake) == 1

        fake.advance(601)  # not locked out: the next expiry is one refresh
        # (the refresher holds its own pair, now stored at version 2 by c: it must refresh or
        # take the refreshed pair, never take its own expired pair back as if it were new)
        await asyncio.gather(*(x.me.get() for x in (refresher, other, c) for _ in range(2)))
        assert _refresh_calls(fake) == 2 and len(persisted) == 2
        stored, version = await stored_pair(store_a, key)
        assert stored == persisted[1] == a.tokens == b.tokens == c.tokens and version == 3
        assert _refresh_calls(fake) == 2


async def test_a_lost_cancel_of_the_heartbeat_does_not_hold_the_refresh_lock(
    redis_server: RedisServer,
) -> None:
    """The cause of the rare failure of the test above under load: on Python 3.11 redis-py sends
    each command under ``asyncio.wait_for``, which swallows a ``cancel()`` that arrives just as
    the send completes (CPython gh-86296). The holder's exit cancelled the lock heartbeat and
    then waited for it without a deadline, shielded: a lost cancel kept the heartbeat extending
    ("could not extend the refresh lock" every lock_ttl/3 once Redis was gone) and the holder,
    and its callers, waiting forever. Here every extend swallows its cancel: the holder still
    leaves within the store's deadline, and the heartbeat stops."""
    store = RedisStore.from_url(redis_server.url, namespace="hb", timeout=1.0, lock_ttl=0.03)
    extends = 0

    async def extend(*, keys: Any, args: Any) -> int:
        nonlocal extends
        extends += 1
        # what asyncio.wait_for does on 3.11 when its inner task has just finished: no cancel
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0.2)
        return 1

    store._extend = extend
    async with store:

        async def hold() -> None:
            async with store.refresh_lock("user-1"):
                await asyncio.sleep(0.1)  # the heartbeat is inside an extend now

        started = time.monotonic()
        holder = asyncio.ensure_future(hold())
        # not wait_for: before the fix the holder's exit was shielded, it could not be cancelled
        done, _ = await asyncio.wait([holder], timeout=5)
        assert done, "the holder is stuck leaving the refresh lock"
        holder.result()
        assert time.monotonic() - started < 0.1 + 1.0 + 1.0  # a generous bound
        count = extends
        await asyncio.sleep(0.3)
        assert extends == count  # the heartbeat has stopped
        assert await store.redis.get(store.key("lock", "user-1")) is None  # released


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
    await store.seed_tokens("user-9", TokenPair("SECRET_A", "SECRET_R", 1.0).to_json())
    raw = b"".join([await rds.get(k) or b"" for k in await rds.keys("calcom:enc:*")])
    assert b"SECRET" not in raw
    pair, version = await stored_pair(store, "user-9")
    assert pair == TokenPair("SECRET_A", "SECRET_R", 1.0) and version == 1
    assert "SECRET" not in repr(store)
    await store.aclose()


async def every_key_and_value(rds: Any) -> bytes:
    """Every key in Redis and every value in it, read by type (a ``DUMP`` may compress)."""
    chunks: list[bytes] = []
    async for key in rds.scan_iter(match="*", count=100):
        chunks.append(key)
        kind = (await rds.type(key)).decode()
        if kind == "string":
            chunks.append(await rds.get(key))
        elif kind == "hash":
            for field, value in (await rds.hgetall(key)).items():
                chunks += [field, value]
        elif kind == "list":
            chunks += await rds.lrange(key, 0, -1)
        elif kind == "set":
            chunks += list(await rds.smembers(key))
        elif kind == "zset":
            chunks += await rds.zrange(key, 0, -1)
        else:
            raise AssertionError(f"a {kind} in Redis: read it here")
    return b"\n".join(chunks)


async def test_fernet_encrypts_token_pairs_at_rest(rds: Any, redis_server: RedisServer) -> None:
    """With ``cipher=Fernet(key)``: no token in clear anywhere in Redis (every key and value,
    after a seed and a refresh); another store with the same key reads the pair; a store with
    a wrong key, or without the cipher, gets StoreDataError (typed, no secret), also through a
    client, which then sends nothing."""
    from cryptography.fernet import Fernet

    key = Fernet.generate_key()
    url = redis_server.url
    async with contextlib.AsyncExitStack() as stores, FakeCalCom(access_token_ttl=600) as fake:

        def open_store(namespace: str, cipher: Fernet | None) -> RedisStore:
            store = RedisStore.from_url(url, namespace=namespace, cipher=cipher)
            stores.push_async_callback(store.aclose)
            return store

        store = open_store("fernet", Fernet(key))
        user_id, tokens = _managed_tokens(fake)
        name = f"user-{user_id}"

        def client(store: RedisStore) -> CalCom:
            return fake.platform_client(
                access_token=tokens["accessToken"],
                refresh_token=tokens["refreshToken"],
                access_token_expires_at=tokens["accessTokenExpiresAt"],
                store=store,
                token_key=name,
            )

        async with client(store) as cal:
            await cal.me.get()  # seeds the pair
            fake.advance(601)
            await cal.me.get()  # refreshes it: the new pair is stored
            new = cal.tokens
        assert new is not None and _refresh_calls(fake) == 1
        plain = open_store("plain", None)  # the control: a pair in clear
        await plain.seed_tokens(
            "control", TokenPair("control_SECRET_a", "control_SECRET_r").to_json()
        )
        everything = await every_key_and_value(rds)
        assert b"control_SECRET_a" in everything  # the scan does see stored values
        for secret in secrets_of(fake, tokens, new.access_token, new.refresh_token or ""):
            assert secret.encode() not in everything
        blob = await rds.get(store.key("tokens", name))
        assert json.loads(Fernet(key).decrypt(blob))["a"] == new.access_token  # Fernet's token

        same = open_store("fernet", Fernet(key))
        assert await stored_pair(same, name) == (new, 2)  # another process, the same key

        wrong = open_store("fernet", Fernet(Fernet.generate_key()))
        no_cipher = open_store("fernet", None)
        for bad, problem in ((wrong, "decrypt"), (no_cipher, "parse")):
            with pytest.raises(StoreDataError, match=problem) as error:
                await stored_pair(bad, name)
            assert error.value.__cause__ is None and error.value.__suppress_context__
            assert MARKER not in str(error.value)  # (the leak scan checks its traceback too)
        sent = fake.stats["requests"]
        async with client(wrong) as cal:
            with pytest.raises(StoreDataError, match="another key"):
                await cal.me.get()
        assert fake.stats["requests"] == sent  # nothing sent on a pair it cannot read


def test_shared_store_needs_a_token_key() -> None:
    store = RedisStore.from_url("redis://127.0.0.1:1/0")
    from calcom_async import CalComUsageError

    with pytest.raises(CalComUsageError, match="token_key"):
        CalCom(client_id="c", client_secret="s", access_token="a", refresh_token="r", store=store)


async def test_oauth_tokens_keep_their_scopes(redis_server: RedisServer) -> None:

    store = RedisStore.from_url(redis_server.url, namespace="oauth")
    token = OAuthToken("SECRET_A", "SECRET_R", 5.0, scopes=("BOOKING_READ",))
    blob, _ = await store.seed_tokens("user-1", token.to_json())
    loaded = OAuthToken.from_json(blob)
    assert isinstance(loaded, OAuthToken) and loaded == token
    await store.aclose()


async def test_a_later_pair_given_to_the_client_replaces_an_older_stored_one(
    redis_server: RedisServer,
) -> None:
    store = RedisStore.from_url(redis_server.url, namespace="later")
    await store.seed_tokens("u", TokenPair("old", "r-old", 100.0).to_json())
    async with FakeCalCom() as fake:
        user_id, tokens = _managed_tokens(fake)
        expires = tokens["accessTokenExpiresAt"] / 1000
        await store.seed_tokens(
            f"user-{user_id}", TokenPair("stale", "r-stale", expires - 60).to_json()
        )
        async with fake.platform_client(
            access_token=tokens["accessToken"],
            refresh_token=tokens["refreshToken"],
            access_token_expires_at=expires,
            store=store,
            token_key=f"user-{user_id}",
        ) as cal:
            me = await cal.me.get()
            assert me.id == user_id
        pair, version = await stored_pair(store, f"user-{user_id}")
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
    async def save_tokens(self, key: str, pair: bytes, expected_version: int) -> bool:
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

    async def save_tokens(self, key: str, pair: bytes, expected_version: int) -> bool:
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
            stored, _version = await stored_pair(store, f"user-{user_id}")
            assert stored == cal.tokens
    await store.aclose()


async def test_a_kept_pair_stored_by_another_client_is_refreshed_not_taken_as_new(
    redis_server: RedisServer,
) -> None:
    """A refreshed while Redis was away (kept pair, version 1); C, started with the persisted
    pair, stored it (version 2). At the next expiry A's call must refresh, not adopt its own
    expired pair from version 2 as if another process had refreshed it."""
    store = _SaveFailsOnce(aioredis.Redis.from_url(redis_server.url), namespace="own")
    persisted: list[TokenPair] = []
    async with store, FakeCalCom(access_token_ttl=600) as fake:
        user_id, tokens = _managed_tokens(fake)
        a = fake.platform_client(
            access_token=tokens["accessToken"],
            refresh_token=tokens["refreshToken"],
            access_token_expires_at=tokens["accessTokenExpiresAt"],
            store=store,
            token_key=f"user-{user_id}",
            on_token_refresh=persisted.append,
        )
        await a.me.get()
        fake.advance(601)
        with pytest.raises(StoreUnavailableError):
            await a.me.get()
        (kept,) = persisted
        c = fake.platform_client(
            access_token=kept.access_token,
            refresh_token=kept.refresh_token,
            access_token_expires_at=kept.access_token_expires_at,
            store=store,
            token_key=f"user-{user_id}",
        )
        await c.me.get()
        assert await stored_pair(store, f"user-{user_id}") == (kept, 2)
        fake.advance(601)
        assert (await a.me.get()).id == user_id  # not its own expired pair again (a 401)
        assert _refresh_calls(fake) == 2


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

    from tests.support.fake_oauth import REDIRECT, SCOPES, authorize, confidential

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
            pair, _version = await stored_pair(store, "crm-user-1", OAuthToken)
            assert pair is not None and pair.access_token == saved[0].access_token
            assert list(getattr(pair, "scopes", [])) == list(saved[0].scopes)
            keys = await store.redis.keys("*")
            assert token.refresh_token is not None
            for secret in (token.access_token, token.refresh_token, pair.access_token):
                assert all(secret.encode() not in k for k in keys)
                assert secret not in caplog.text
    await store.aclose()
