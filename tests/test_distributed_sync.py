"""examples/distributed_sync end to end (issue 8): 3 taskiq workers on a real redis-server, 30
managed users x 200 bookings in FakeCalCom, one worker killed mid-run: every booking is synced
exactly once and no request gets a 429."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from _redis_server import RedisServer, running

from calcom_async.testing import FakeCalCom, Faults

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "distributed_sync"
USERS, PER_USER = 30, 200


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    with running(tmp_path) as server:
        yield server


def _seed(fake: FakeCalCom) -> set[str]:
    store = fake.store
    uids: set[str] = set()
    now = store.now()
    for n in range(USERS):
        user = store.add_managed_user(fake.client_id, f"User {n}", f"u{n}@example.com", "UTC")
        et = store.add_event_type(
            user, {"title": "Call", "slug": f"call-{n}", "lengthInMinutes": 30}
        )
        et_id = et["id"] if isinstance(et, dict) else et
        for i in range(PER_USER):
            booking = store.add_booking(
                et_id, now + 86400 + i * 3600, [store.person()], host_id=user, created=now - 3600
            )
            uids.add(f"{user} {booking.uid}")
    return uids


async def test_three_workers_one_killed_every_booking_once(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    async with FakeCalCom(faults=Faults(latency=0.005)) as fake:
        expected = _seed(fake)
        env = {
            **os.environ,
            "REDIS_URL": redis_server.url,
            "CALCOM_BASE_URL": fake.base_url,
            "CALCOM_CLIENT_ID": fake.client_id,
            "CALCOM_CLIENT_SECRET": fake.client_secret,
            "SYNC_IDLE_MS": "3000",
            "PYTHONPATH": str(EXAMPLE),
        }
        taskiq = str(Path(sys.executable).with_name("taskiq"))
        logs = [(tmp_path / f"worker{n}.log").open("w") for n in range(3)]
        workers = [
            await asyncio.create_subprocess_exec(
                taskiq,
                "worker",
                "tasks:broker",
                "--workers",
                "1",
                "--no-configure-logging",
                "--max-async-tasks",
                "4",
                cwd=EXAMPLE,
                env=env,
                start_new_session=True,
                stdout=subprocess.DEVNULL,
                stderr=logs[n],
            )
            for n in range(3)
        ]
        rds = aioredis.Redis.from_url(redis_server.url)
        try:
            t0 = time.monotonic()
            await asyncio.sleep(1.5)  # the workers join the consumer group
            enqueue = await asyncio.create_subprocess_exec(
                sys.executable,
                str(EXAMPLE / "enqueue.py"),
                cwd=EXAMPLE,
                env=env,
                stdout=asyncio.subprocess.PIPE,
            )
            out, _ = await asyncio.wait_for(enqueue.communicate(), 60)
            assert enqueue.returncode == 0 and f"enqueued {USERS} jobs" in out.decode()
            deadline = time.monotonic() + 20
            while await rds.llen("example:synced") < len(expected) // 4:
                if time.monotonic() > deadline:
                    tails = [(tmp_path / f"worker{n}.log").read_text()[-2000:] for n in range(3)]
                    raise AssertionError(f"the workers made no progress: {tails}")
                await asyncio.sleep(0.02)
            print(f"\n{time.monotonic() - t0:.1f}s: killing a worker")
            os.killpg(workers[0].pid, signal.SIGKILL)  # a worker dies mid-run
            killed_at = await rds.llen("example:synced")
            deadline = time.monotonic() + 90
            while await rds.llen("example:synced") < len(expected):
                assert time.monotonic() < deadline, "the jobs of the killed worker never resumed"
                await asyncio.sleep(0.1)
            print(f"{time.monotonic() - t0:.1f}s: all synced")
            await asyncio.sleep(1.0)  # nothing more comes
            synced = [x.decode() for x in await rds.lrange("example:synced", 0, -1)]
        finally:
            await rds.aclose()
            for worker in workers:
                if worker.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(worker.pid, signal.SIGTERM)
            for worker in workers:
                try:
                    await asyncio.wait_for(worker.wait(), 10)
                except TimeoutError:
                    os.killpg(worker.pid, signal.SIGKILL)
                    await worker.wait()
            for log in logs:
                log.close()
        print(
            f"\ntaskiq: {len(synced)} bookings synced by 3 workers (one killed at {killed_at}), "
            f"{len(set(synced))} distinct, 429s: {fake.stats['throttled']}"
        )
        assert len(synced) == len(set(synced))  # exactly once
        assert set(synced) == expected
        assert fake.stats["throttled"] == 0
