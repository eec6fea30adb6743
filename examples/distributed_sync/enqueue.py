"""Enqueue "sync every managed user of this OAuth client": one job per user.

    PYTHONPATH=examples/distributed_sync python examples/distributed_sync/enqueue.py

Same environment as ``tasks.py``. Run it on a schedule (cron, ``taskiq scheduler``): each job
resumes from its user's checkpoint, so a run syncs what changed since the last one.
"""

from __future__ import annotations

import asyncio
import os

from tasks import _platform, broker, store, sync_managed_user


async def enqueue_all(page_size: int = 100) -> int:
    """One job per managed user of the client; returns how many were enqueued."""
    client_id = os.environ["CALCOM_CLIENT_ID"]
    count, offset = 0, 0
    await broker.startup()
    try:
        async with _platform() as cal:
            for _ in range(10_000):  # bounded: pages of 100 users
                users = await cal.managed_users.list(client_id, limit=100, offset=offset)
                for user in users:
                    await sync_managed_user.kiq(user.id, page_size=page_size)
                    count += 1
                if len(users) < 100:
                    break
                offset += 100
    finally:
        await broker.shutdown()
        await store().aclose()
    return count


if __name__ == "__main__":
    page_size = int(os.environ.get("SYNC_PAGE_SIZE", "100"))
    print(f"enqueued {asyncio.run(enqueue_all(page_size))} jobs")
