"""``make bench``: start the server, run every workload in fresh processes, print the table of
medians and ratios and write ``bench/results/latest.json``.

    python -m bench.run [--spec PATH] [--runs N] [--quick]      (BENCH_QUICK=1 = --quick)
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from codegen.spec import pinned_document

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"

#: the issue's targets: (label, ratio key, at least)
TARGETS = [
    ("typed walk c/a >= 0.5", "walk_c_over_a", 0.5),
    ("typed walk c/b >= 2", "walk_c_over_b", 2.0),
    ("raw walk d/a >= 0.95", "walk_d_over_a", 0.95),
    ("fan-out c/a >= 0.9", "fanout_c_over_a", 0.9),
    ("decode calcom/pydantic >= 1 (speed)", "decode_c_vs_pydantic", 1.0),
    ("decode msgspec/calcom >= 1/3 (speed)", "decode_msgspec_time_over_c", 1 / 3),
]


def machine() -> dict[str, Any]:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    from importlib.metadata import version

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 2**20, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": {
            name: version(name)
            for name in ("aiohttp", "orjson", "cattrs", "attrs", "httpx", "pydantic", "msgspec")
        },
        "load_avg_at_start": os.getloadavg(),
    }


class Server:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.server"], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().split()
        if not line or line[0] != "READY":
            self.proc.kill()
            raise SystemExit("the bench server did not start")
        self.port = int(line[1])
        self.base = f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def worker(
    server: Server, client: str, workload: str, n: int, prefetch: int, base: str = ""
) -> dict[str, Any]:
    args = [client, workload, base or server.base, str(server.proc.pid), str(n), str(prefetch)]
    out = subprocess.run(
        [sys.executable, "-m", "bench.worker", *args], cwd=ROOT, capture_output=True, text=True
    )
    if out.returncode:
        raise SystemExit(f"worker {args} failed:\n{out.stderr}")
    result: dict[str, Any] = orjson.loads(out.stdout.strip().splitlines()[-1])
    return result


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    med = statistics.median
    return {
        "runs": len(runs),
        "items": runs[0]["items"],
        "items_per_s": med(r["items_per_s"] for r in runs),
        "items_per_s_all": [round(r["items_per_s"]) for r in runs],
        "wall_s": med(r["wall_s"] for r in runs),
        "cpu_s": med(r["cpu_s"] for r in runs),
        "server_cpu_s": med(r["server_cpu_s"] for r in runs),
        "peak_rss_mb": med(r["peak_rss_kb"] for r in runs) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spec", default=os.environ.get("SPEC", str(pinned_document())))
    parser.add_argument("--runs", type=int, default=0)
    parser.add_argument("--prefetch", type=int, default=4)
    parser.add_argument(
        "--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1"
    )
    parser.add_argument("--out", default=str(RESULTS / "latest.json"))
    opts = parser.parse_args()
    quick = opts.quick
    runs = opts.runs or (3 if quick else 5)
    walk_n, fan_n, stream_ns = 20_000, 2_000, (20_000, 100_000)
    started = time.perf_counter()

    from bench.gen_pydantic import generate

    generate(opts.spec)
    print(f"calcom-async benchmarks: {runs} runs each, medians{' (quick)' if quick else ''}")

    result: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "settings": {
            "runs": runs,
            "prefetch": opts.prefetch,
            "quick": quick,
            "page_size": 100,
            "walk_items": walk_n,
            "fanout_requests": fan_n,
            "fanout_concurrency": 64,
        },
        "workloads": {},
    }
    server = Server()
    try:
        workloads: dict[str, dict[str, Any]] = result["workloads"]
        # runs interleaved (a b c d, a b c d, ...): a busy moment of the machine hits every client
        for workload, n, unit in (("walk", walk_n, "items/s"), ("fanout", fan_n, "requests/s")):
            samples: dict[str, list[dict[str, Any]]] = {client: [] for client in "abcd"}
            for i in range(runs):
                for client in "abcd":
                    # httpx + pydantic fans out at ~10 s a run here: 2 runs (none in quick mode)
                    if workload == "fanout" and client == "b" and (quick or i >= 2):
                        continue
                    samples[client].append(worker(server, client, workload, n, opts.prefetch))
            for client, runs_of in samples.items():
                if runs_of:
                    workloads[f"{workload}_{client}"] = summary = summarise(runs_of)
                    print(f"  {workload} {client}: {summary['items_per_s']:,.0f} {unit}")
        stream: dict[str, Any] = {}
        for client in "cd":
            for n in stream_ns:
                base = f"{server.base}/t{n}"
                key = f"{client}_{n}"
                stream[key] = summarise(
                    [
                        worker(server, client, "walk", n, opts.prefetch, base)
                        for _ in range(1 if quick else 2)
                    ]
                )
                print(f"  stream {key}: peak RSS {stream[key]['peak_rss_mb']:.1f} MB")
        result["stream"] = stream
    finally:
        server.close()

    out = subprocess.run(
        [sys.executable, "-m", "bench.decode", str(runs), "0.5" if quick else "1.0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise SystemExit(f"decode benchmark failed:\n{out.stderr}")
    decode = orjson.loads(out.stdout.strip().splitlines()[-1])
    result["decode_us_per_booking"] = {
        name: {"median": statistics.median(v), "all": [round(x, 2) for x in v]}
        for name, v in decode["us_per_booking"].items()
    }
    result["decode_bytes_per_page"] = decode["bytes_per_page"]

    w, d = result["workloads"], result["decode_us_per_booking"]
    ips = {k: v["items_per_s"] for k, v in w.items()}
    result["ratios_of_medians"] = {
        "walk_c_over_a": ips["walk_c"] / ips["walk_a"],
        "walk_c_over_b": ips["walk_c"] / ips["walk_b"],
        "walk_d_over_a": ips["walk_d"] / ips["walk_a"],
        "fanout_c_over_a": ips["fanout_c"] / ips["fanout_a"],
        "decode_c_vs_pydantic": d["pydantic_v2"]["median"] / d["calcom_async"]["median"],
        "decode_c_over_msgspec_time": d["calcom_async"]["median"] / d["msgspec_typed"]["median"],
    }

    def paired(x: list[float], y: list[float]) -> float:
        """The median of the ratios run by run (runs are interleaved: robust to load drift)."""
        return statistics.median(a / b for a, b in zip(x, y, strict=False))

    per_run = {k: v["items_per_s_all"] for k, v in w.items()}
    us = {k: v["all"] for k, v in d.items()}
    ratios = {
        "walk_c_over_a": paired(per_run["walk_c"], per_run["walk_a"]),
        "walk_c_over_b": paired(per_run["walk_c"], per_run["walk_b"]),
        "walk_d_over_a": paired(per_run["walk_d"], per_run["walk_a"]),
        "fanout_c_over_a": paired(per_run["fanout_c"], per_run["fanout_a"]),
        "fanout_d_over_a": paired(per_run["fanout_d"], per_run["fanout_a"]),
        "decode_c_vs_pydantic": paired(us["pydantic_v2"], us["calcom_async"]),
        "decode_msgspec_time_over_c": paired(us["msgspec_typed"], us["calcom_async"]),
        "decode_c_over_msgspec_time": paired(us["calcom_async"], us["msgspec_typed"]),
        "decode_c_over_orjson_time": paired(us["calcom_async"], us["orjson_loads"]),
        "stream_peak_rss_100k_over_20k_c": result["stream"]["c_100000"]["peak_rss_mb"]
        / result["stream"]["c_20000"]["peak_rss_mb"],
        "stream_peak_rss_100k_over_20k_d": result["stream"]["d_100000"]["peak_rss_mb"]
        / result["stream"]["d_20000"]["peak_rss_mb"],
    }
    if "fanout_b" in per_run:
        ratios["fanout_c_over_b"] = paired(per_run["fanout_c"], per_run["fanout_b"])
    result["ratios"] = ratios
    result["targets"] = {
        label: {"ratio": ratios[key], "goal": goal, "met": ratios[key] >= goal}
        for label, key, goal in TARGETS
    }
    # issue 8: N processes sharing one credential's budget through a RedisStore (and without)
    from bench import multiprocess

    result["multiprocess"] = multiprocess.run()
    # issue 14: requests of a full and an incremental bookings sync from the fake
    from bench import sync

    result["sync"] = sync.run(5_000 if quick else 20_000)
    result["total_seconds"] = time.perf_counter() - started
    print_table(result)
    print("\n" + multiprocess.describe(result["multiprocess"]))
    print("\n" + sync.describe(result["sync"]))
    RESULTS.mkdir(exist_ok=True)
    Path(opts.out).write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    print(f"\nwritten: {opts.out} ({result['total_seconds']:.0f} s)")


def print_table(r: dict[str, Any]) -> None:
    m = r["machine"]
    print(f"\n{r['date']}  {m['cpu']}, {m['cores']} cores, Python {m['python']}")
    columns = ("items/s", 11), ("wall s", 9), ("client CPU s", 14), ("server CPU s", 14)
    header = "".join(f"{name:>{width}}" for name, width in (*columns, ("peak RSS MB", 13)))
    print(f"\n{'workload':<26}{header}")
    names = {
        "a": "a aiohttp+orjson",
        "b": "b httpx+pydantic",
        "c": "c calcom_async",
        "d": "d calcom_async raw",
    }
    for key, v in r["workloads"].items():
        kind, client = key.split("_")
        label = f"{'walk 20k' if kind == 'walk' else 'fan-out 2k'} {names[client]}"
        print(
            f"{label:<26}{v['items_per_s']:>11,.0f}{v['wall_s']:>9.3f}{v['cpu_s']:>14.3f}"
            f"{v['server_cpu_s']:>14.3f}{v['peak_rss_mb']:>13.1f}"
        )
    for key, v in r["stream"].items():
        client, n = key.split("_")
        label = f"stream {int(n) // 1000}k {names[client]}"
        print(
            f"{label:<26}{v['items_per_s']:>11,.0f}{v['wall_s']:>9.3f}{v['cpu_s']:>14.3f}"
            f"{v['server_cpu_s']:>14.3f}{v['peak_rss_mb']:>13.1f}"
        )
    print(f"\n{'typed decode, 100-booking page':<34}{'µs/booking':>12}")
    for name, v in r["decode_us_per_booking"].items():
        print(f"{name:<34}{v['median']:>12.2f}")
    print("\nratios (median of the run-by-run ratios)")
    for key, value in r["ratios"].items():
        print(f"  {key:<36}{value:>7.2f}")
    print("\ntargets")
    for label, t in r["targets"].items():
        print(f"  {label:<40}{t['ratio']:>6.2f}  {'met' if t['met'] else 'MISSED'}")


if __name__ == "__main__":
    main()
