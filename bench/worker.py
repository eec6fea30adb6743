"""One measured run in a fresh process: ``python -m bench.worker CLIENT WORKLOAD BASE_URL
SERVER_PID N PREFETCH``. Prints one JSON line: items, wall and CPU seconds of the client and of
the server during the measured part, peak RSS of this process and its RSS before the run.

A short warm-up (two pages, or 64 GETs) on the same client comes first and is not measured:
imports, connection set-up and the first-use building of structuring hooks are paid once per
process in real use too.
"""

from __future__ import annotations

import asyncio
import os
import resource
import sys
import time
from typing import Any

import orjson

from bench import data
from bench.clients import CLIENTS

_TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of another process (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def run(
    client_key: str, workload: str, base: str, server_pid: int, n: int, prefetch: int
) -> dict[str, Any]:
    client = CLIENTS[client_key](base)
    async with client:
        if workload == "fanout":
            uids = [data.uid(i) for i in range(n)]
            await client.fan_out(uids[:64], 64)  # warm-up
        else:
            await client.walk(2 * data.PAGE_SIZE, 0)  # warm-up: two pages
        before_rss = rss_kb()
        server0, wall0, cpu0 = process_cpu(server_pid), time.perf_counter(), time.process_time()
        if workload == "fanout":
            items = await client.fan_out(uids, 64)
        else:
            items = await client.walk(None, prefetch)
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
        server_cpu = process_cpu(server_pid) - server0
    return {
        "client": client_key,
        "workload": workload,
        "items": items,
        "wall_s": wall,
        "cpu_s": cpu,
        "server_cpu_s": server_cpu,
        "items_per_s": items / wall,
        "rss_before_kb": before_rss,
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def main() -> None:
    client_key, workload, base, pid, n, prefetch = sys.argv[1:7]
    result = asyncio.run(run(client_key, workload, base, int(pid), int(n), int(prefetch)))
    print(orjson.dumps(result).decode(), flush=True)


if __name__ == "__main__":
    main()
