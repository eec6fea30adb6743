"""Requests of ``cal.bookings.sync()`` against the fake (issue 14): a full sync of N seeded
bookings, then an incremental sync with nothing changed. Counts, not timings.

    python -m bench.sync [N]
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any


async def _measure(n: int) -> dict[str, Any]:
    from calcom_async.testing import FakeCalCom

    async with FakeCalCom(rate_limit=100_000) as fake:
        fake.seed(bookings=n)
        async with fake.client() as cal:
            full = cal.bookings.sync()
            synced = sum([1 async for _ in full])
            requests = fake.operations["bookings.list"]
            fake.reset_stats()
            again = sum([1 async for _ in cal.bookings.sync(checkpoint=full.checkpoint)])
            page = full.page_size
    return {
        "bookings": n,
        "synced": synced,
        "page_size": page,
        "requests": requests,
        "minimum": -(-n // page),
        "requests_per_1000": requests * 1000 / n,
        "minimum_per_1000": -(-1000 // page),
        "checkpoint_bytes": len(full.checkpoint.to_json().encode()),
        "incremental_changed": again,
        "incremental_requests": fake.operations["bookings.list"],
    }


def run(n: int = 20_000) -> dict[str, Any]:
    return asyncio.run(_measure(n))


def describe(r: dict[str, Any]) -> str:
    return (
        f"sync: full sync of {r['bookings']:,} bookings from the fake (page {r['page_size']}): "
        f"{r['requests']} requests (minimum {r['minimum']}), "
        f"{r['requests_per_1000']:.2f} per 1,000 bookings (minimum {r['minimum_per_1000']}); "
        f"checkpoint {r['checkpoint_bytes']} bytes; an incremental sync with no changes: "
        f"{r['incremental_requests']} request(s), {r['incremental_changed']} bookings"
    )


if __name__ == "__main__":
    print(describe(run(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)))
