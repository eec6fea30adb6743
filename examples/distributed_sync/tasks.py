"""The worker side: one taskiq job per managed user, syncing its bookings with a shared RedisStore.

    PYTHONPATH=examples/distributed_sync taskiq worker tasks:broker --workers 2

Configuration (environment): ``REDIS_URL`` (the broker and the store), ``CALCOM_BASE_URL``,
``CALCOM_CLIENT_ID`` / ``CALCOM_CLIENT_SECRET`` (the platform OAuth client),
``SYNC_IDLE_MS`` (a job whose worker died is handed to another worker after this long without an
acknowledgement; keep it above your longest job, waits for the rate limit and for a dead
worker's refresh lock, ``RedisStore.lock_ttl``, included: default 600000), ``SYNC_OUTPUT`` (the
Redis list the bookings go to), ``SYNC_PAGE_SIZE`` (bookings per request, read by
``enqueue.py``: default 100).

Exactly once: each booking is written together with the checkpoint that covers it, in one Redis
script, and only over the checkpoint this run last saw (here the output is a Redis list; in your
application, one database transaction with the checkpoint). A worker killed mid-job leaves its
message unacknowledged; another worker claims it after ``SYNC_IDLE_MS`` and the job resumes from
the checkpoint. A job handed over while its first worker still runs it (a job that took longer
than ``SYNC_IDLE_MS``) runs twice: one run stops at its next write (it returns what it wrote so
far, without an error) and the other writes the rest.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from taskiq import SimpleRetryMiddleware, TaskiqEvents, TaskiqState
from taskiq_redis import RedisStreamBroker

from calcom_async import CalCom, TokenPair
from calcom_async.stores import RedisStore

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
OUTPUT = os.environ.get("SYNC_OUTPUT", "example:synced")  #: the Redis list the bookings go to

broker = RedisStreamBroker(
    REDIS_URL,
    queue_name="calcom-sync",
    consumer_group_name="calcom-sync",
    idle_timeout=int(os.environ.get("SYNC_IDLE_MS", "600000")),
    xread_block=500,
    xread_count=1,  # a worker takes a job when it can run it: a waiting job would age
).with_middlewares(SimpleRetryMiddleware(default_retry_count=5))

_store: RedisStore | None = None
_ticker: asyncio.Task[None] | None = None


@broker.task(task_name="tick")
async def tick() -> None:
    """Does nothing. taskiq-redis hands a dead worker's unacknowledged jobs to another worker
    only after reading a new message (RedisStreamBroker.listen, taskiq-redis 1.2): each worker
    sends one of these every half ``SYNC_IDLE_MS`` so that orphaned jobs are picked up even when
    the queue is otherwise empty."""


@broker.on_event(TaskiqEvents.WORKER_STARTUP)
async def _start_ticking(state: TaskiqState) -> None:
    global _ticker
    period = int(os.environ.get("SYNC_IDLE_MS", "600000")) / 2000

    async def run() -> None:
        while True:  # stopped with the worker
            await asyncio.sleep(period)
            try:
                await tick.kiq()
            except Exception as exc:  # a Redis blip must not stop the ticking for good
                logging.getLogger(__name__).warning("could not send the tick: %s", exc)

    _ticker = asyncio.create_task(run())


@broker.on_event(TaskiqEvents.WORKER_SHUTDOWN)
async def _stop(state: TaskiqState) -> None:
    if _ticker is not None:
        _ticker.cancel()
    if _store is not None:
        await _store.aclose()


def store() -> RedisStore:
    """One RedisStore per worker process (rate-limit budget, tokens, checkpoints)."""
    global _store
    if _store is None:
        _store = RedisStore.from_url(REDIS_URL, namespace="distributed-sync")
    return _store


def _platform(**kwargs: Any) -> CalCom:
    return CalCom(
        client_id=os.environ["CALCOM_CLIENT_ID"],
        client_secret=os.environ["CALCOM_CLIENT_SECRET"],
        base_url=os.environ.get("CALCOM_BASE_URL"),
        store=store(),
        **kwargs,
    )


async def _tokens(user_id: int, key: str) -> TokenPair:
    """The user's pair from the store. Your application has them in its database; this example
    gets a first pair for a user it has never seen with force-refresh — under the user's refresh
    lock, so that two jobs of one new user never force-refresh twice (the second would revoke the
    pair the first stored)."""
    stored, _ = await store().load_tokens(key)  # a store holds a pair as bytes
    if stored is not None:
        return TokenPair.from_json(stored)
    async with store().refresh_lock(key) as lock:
        if lock.pair is not None:  # another job got it first
            return TokenPair.from_json(lock.pair)
        async with _platform() as cal:
            keys = await cal.managed_users.force_refresh(os.environ["CALCOM_CLIENT_ID"], user_id)
        expires = keys.access_token_expires_at / 1000
        fresh = TokenPair(keys.access_token, keys.refresh_token, expires)
        seeded, _ = await store().seed_tokens(key, fresh.to_json())
        return TokenPair.from_json(seeded)


# The booking and the checkpoint covering it, in one step, and only over the checkpoint this run
# last saw: if a second run of the same job got in (a message handed over while its first worker
# was only slow), one of them stops instead of writing a booking twice.
_WRITE = """
local current = redis.call('GET', KEYS[1])
if (current or '') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('RPUSH', KEYS[2], ARGV[3])
return 1
"""


@broker.task(task_name="sync_managed_user", retry_on_error=True)
async def sync_managed_user(user_id: int, page_size: int = 100) -> int:
    """Sync one managed user's bookings; returns how many this run wrote."""
    key = f"managed-user-{user_id}"
    pair = await _tokens(user_id, key)
    redis = store().redis
    write = redis.register_script(_WRITE)
    checkpoint_key = store().key("checkpoint", f"bookings-{user_id}")
    seen = await store().get_checkpoint(f"bookings-{user_id}")
    written = 0
    async with _platform(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        access_token_expires_at=pair.access_token_expires_at,
        token_key=key,
    ) as cal:
        walk = cal.bookings.sync(checkpoint=seen, page_size=page_size)
        async for booking in walk:
            new = walk.checkpoint.to_json()
            done = await write(
                keys=[checkpoint_key, OUTPUT], args=[seen or "", new, f"{user_id} {booking.uid}"]
            )
            if not done:
                return written  # superseded: the other run carries on from its checkpoint
            seen = new
            written += 1
    return written
