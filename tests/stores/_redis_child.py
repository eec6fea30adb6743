"""One worker process of the multi-process store tests (tests/stores/test_stores_redis.py).

``python tests/stores/_redis_child.py '<json>'``: the JSON says what to do (``mode``) and with
what; the process prints one JSON line with what happened. Every process waits at a barrier in Redis
(``ready`` counter, ``go`` list) so that they all start at once. Everything is logged at DEBUG to
stderr, which the tests scan for secrets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import redis.asyncio as aioredis

from calcom_async import CalCom, RateLimitError
from calcom_async._auth import TokenPair
from calcom_async._scalars import format_datetime
from calcom_async.stores import MemoryStore, RedisStore, StoreUnavailableError


async def barrier(url: str, name: str) -> None:
    client = aioredis.Redis.from_url(url)
    try:
        await client.incr(f"test:{name}:ready")
        await client.blpop([f"test:{name}:go"], timeout=30)
    finally:
        await client.aclose()


class HoldingStore(RedisStore):
    """Holds the refresh lock for ``hold`` seconds before refreshing (to be killed there)."""

    hold = 0.0

    @contextlib.asynccontextmanager
    async def refresh_lock(self, key: str) -> AsyncIterator[Any]:
        async with super().refresh_lock(key) as lock:
            await self.redis.set("test:holder", str(os.getpid()))
            await asyncio.sleep(self.hold)
            yield lock


async def calls(args: dict[str, Any]) -> dict[str, Any]:
    shared = args["store"] == "redis"
    store = RedisStore.from_url(args["redis"], namespace="t") if shared else MemoryStore()
    throttled = ok = 0
    async with CalCom(
        api_key=args["api_key"], base_url=args["base_url"], store=store, max_retries=0
    ) as cal:
        await barrier(args["redis"], args["barrier"])
        started = time.time()
        sem = asyncio.Semaphore(8)

        async def one() -> None:
            nonlocal ok, throttled
            async with sem:
                try:
                    await cal.me.get()
                    ok += 1
                except RateLimitError as exc:
                    if exc.code == "ClientSideRateLimit":
                        raise
                    throttled += 1

        await asyncio.gather(*(one() for _ in range(args["n"])))
        ended = time.time()
    await store.aclose()
    return {"ok": ok, "throttled": throttled, "started": started, "ended": ended}


async def refresh(args: dict[str, Any]) -> dict[str, Any]:
    cls = HoldingStore if args.get("hold") else RedisStore
    store = cls.from_url(args["redis"], namespace="t", lock_ttl=args.get("lock_ttl", 15.0))
    if isinstance(store, HoldingStore):
        store.hold = args["hold"]
    t = args["tokens"]

    async def persist(pair: TokenPair) -> None:
        with open(args["callback_file"], "a") as f:  # noqa: ASYNC230 - a test, tiny writes
            f.write(json.dumps({"pid": os.getpid(), "access": pair.access_token}) + "\n")

    async with CalCom(
        client_id=args["client_id"],
        client_secret=args["client_secret"],
        access_token=t["accessToken"],
        refresh_token=t["refreshToken"],
        access_token_expires_at=t["accessTokenExpiresAt"],
        on_token_refresh=persist,
        base_url=args["base_url"],
        store=store,
        token_key=args["token_key"],
    ) as cal:
        await barrier(args["redis"], args["barrier"])
        me = await cal.me.get()
        tokens = cal.tokens
        assert tokens is not None
    await store.aclose()
    return {"user": me.id, "access": tokens.access_token}


async def sync(args: dict[str, Any]) -> dict[str, Any]:
    """Sync into the output file (one ``uid updatedAt`` version a line); ``die_at_page``:
    SIGKILL itself when that booking is about to be handled."""
    store = RedisStore.from_url(args["redis"], namespace="t")
    die_at = args.get("die_at_page")
    count = 0
    async with CalCom(api_key=args["api_key"], base_url=args["base_url"], store=store) as cal:
        walk = cal.bookings.sync(checkpoint_key=args["key"], page_size=args["page_size"])
        with open(args["out"], "a") as out:  # noqa: ASYNC230 - a test
            async for booking in walk:
                count += 1
                if die_at is not None and count == die_at:
                    # asking for this booking saved the checkpoint covering the one before:
                    # killed before writing it, this booking is the next one's first
                    os.kill(os.getpid(), 9)
                stamp = booking.updated_at and format_datetime(booking.updated_at)
                out.write(f"{booking.uid} {stamp or '-'}\n")  # '-': updatedAt null
                out.flush()
    await store.aclose()
    return {"count": count}


async def redis_dies(args: dict[str, Any]) -> dict[str, Any]:
    """Calls until Redis goes away; reports the error and how long it took to come."""
    store = RedisStore.from_url(args["redis"], namespace="t", timeout=args["timeout"])
    async with CalCom(api_key=args["api_key"], base_url=args["base_url"], store=store) as cal:
        print(json.dumps({"ready": True}), flush=True)
        last_ok = time.monotonic()
        for _ in range(100_000):
            try:
                await cal.me.get()
                last_ok = time.monotonic()
            except StoreUnavailableError as exc:
                return {"error": type(exc).__name__, "after": time.monotonic() - last_ok}
            await asyncio.sleep(0.01)
    return {"error": None}


async def acquire(args: dict[str, Any]) -> dict[str, Any]:
    """Take one unit of a bucket's shared budget (after the barrier); when it was granted, or
    the error code if it was refused."""
    store = RedisStore.from_url(args["redis"], namespace="t")
    await barrier(args["redis"], args["barrier"])
    started = time.time()
    error = None
    try:
        await store.rate_acquire(args["bucket"], args["max_wait"])
    except RateLimitError as exc:
        error = exc.code
    returned = time.time()
    await store.aclose()
    return {"started": started, "returned": returned, "error": error}


MODES = {
    "calls": calls,
    "refresh": refresh,
    "sync": sync,
    "redis_dies": redis_dies,
    "acquire": acquire,
}


def main() -> None:
    # DEBUG everywhere (calcom_async, redis, aiohttp, asyncio): the test scans it for secrets
    logging.basicConfig(
        level=logging.DEBUG,
        stream=sys.stderr,
        format="%(asctime)s %(process)d %(levelname)s %(name)s %(message)s",
    )
    args = json.loads(sys.argv[1])
    result = asyncio.run(MODES[args["mode"]](args))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
