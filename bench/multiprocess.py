"""The multi-process run of ``make bench`` (issue 8): N processes share one credential's budget.

    python -m bench.multiprocess [--processes 4] [--calls 150]

Starts a redis-server (free loopback port, temporary directory, no persistence) and a FakeCalCom
limited to 60 requests per 3-second window, then runs the processes twice: all sharing a
``RedisStore``, and each with its own ``MemoryStore``. Reports the aggregate calls/s as a ratio
of the limit and the 429s the fake sent. Skipped (with the reason) without ``redis-server``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any

LIMIT, WINDOW = 60, 3.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _child(args: dict[str, Any]) -> dict[str, Any]:
    from calcom_async import CalCom, RateLimitError
    from calcom_async.stores import MemoryStore, RedisStore

    shared = args["store"] == "redis"
    store = RedisStore.from_url(args["redis"], namespace="bench") if shared else MemoryStore()
    ok = throttled = 0
    async with CalCom(
        api_key=args["api_key"], base_url=args["base_url"], store=store, max_retries=0
    ) as cal:
        await asyncio.sleep(max(0.0, args["start_at"] - time.time()))  # start together
        started = time.time()
        sem = asyncio.Semaphore(8)

        async def one() -> None:
            nonlocal ok, throttled
            async with sem:
                try:
                    await cal.me.get()
                    ok += 1
                except RateLimitError:
                    throttled += 1

        await asyncio.gather(*(one() for _ in range(args["n"])))
        ended = time.time()
    await store.aclose()
    return {"ok": ok, "throttled": throttled, "started": started, "ended": ended}


async def _run(server_url: str, store: str, processes: int, calls: int) -> dict[str, Any]:
    from calcom_async.testing import FakeCalCom, Limit

    async with FakeCalCom(rate_limit=[Limit("default", LIMIT, WINDOW, block=WINDOW)]) as fake:
        job = {
            "store": store,
            "redis": server_url,
            "base_url": fake.base_url,
            "api_key": fake.api_key,
            "n": calls,
            "start_at": time.time() + 2.0,
        }
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.multiprocess",
                "--child",
                json.dumps(job),
                stdout=asyncio.subprocess.PIPE,
            )
            for _ in range(processes)
        ]
        outs = []
        for proc in procs:
            data, _ = await asyncio.wait_for(proc.communicate(), 300)
            outs.append(json.loads(data.decode().strip().splitlines()[-1]))
        elapsed = max(o["ended"] for o in outs) - min(o["started"] for o in outs)
        done = sum(o["ok"] for o in outs)
        rate = done / elapsed
        return {
            "store": store,
            "processes": processes,
            "calls": processes * calls,
            "succeeded": done,
            "seconds": round(elapsed, 2),
            "calls_per_s": round(rate, 2),
            "rate_over_limit": round(rate / (LIMIT / WINDOW), 3),
            "http_429": fake.stats["throttled"],
        }


def run(processes: int = 4, calls: int = 150, memory_calls: int = 40) -> dict[str, Any]:
    """Both runs; ``{"skipped": reason}`` without redis-server."""
    binary = shutil.which("redis-server")
    if binary is None:
        return {"skipped": "redis-server is not installed (apt-get install -y redis-server)"}
    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        server = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", tmp],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            for _ in range(200):  # bounded: up to 10 s
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.05)
            url = f"redis://127.0.0.1:{port}/0"
            shared = asyncio.run(_run(url, "redis", processes, calls))
            alone = asyncio.run(_run(url, "memory", processes, memory_calls))
        finally:
            server.kill()
            server.wait(timeout=10)
    return {"limit": f"{LIMIT} per {WINDOW:g}s", "redis": shared, "memory": alone}


def describe(result: dict[str, Any]) -> str:
    if "skipped" in result:
        return f"multi-process: skipped ({result['skipped']})"
    lines = [f"multi-process, one credential, limit {result['limit']}:"]
    for key in ("redis", "memory"):
        r = result[key]
        lines.append(
            f"  {r['processes']} processes x {r['calls'] // r['processes']} calls, {key:6}: "
            f"{r['calls_per_s']:.1f} calls/s = {r['rate_over_limit']:.2f} x the limit, "
            f"{r['http_429']} x 429"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--calls", type=int, default=150)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.child:
        print(json.dumps(asyncio.run(_child(json.loads(opts.child)))), flush=True)
        return
    print(describe(run(opts.processes, opts.calls)))


if __name__ == "__main__":
    main()
