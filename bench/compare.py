"""``make bench-compare REV=<commit>``: this tree against an earlier commit, in one run.

    python -m bench.compare REV [--runs N] [--workloads walk,fanout] [--clients c,d]

The earlier commit is exported (``git archive``) into a temporary folder beside the project
and run with the same interpreter and packages; each workload's worker (``bench/worker.py``, the
one ``make bench`` runs) starts in that folder or in this one, so ``calcom_async`` and ``bench``
come from the tree it measures. Runs alternate (old then new, new then old, ...) against one
server, so a busy moment of the machine hits both alike; each ratio is the median of the
run-by-run ratios. Import time (``python -X importtime -c "import calcom_async"``, the
package's cumulative microseconds, from bytecode) is the best of five per tree. Prints a table
and writes ``bench/results/compare.json``. Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson

from bench.run import RESULTS, ROOT, Server, machine

SIZES = {"walk": 20_000, "fanout": 2_000}


def export(rev: str, into: Path) -> str:
    """The tree of ``rev`` in ``into``; its full commit id."""
    commit = subprocess.run(
        ["git", "rev-parse", "--verify", f"{rev}^{{commit}}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if commit.returncode:
        raise SystemExit(f"bench.compare: {rev!r} is not a commit of this repository")
    archive = subprocess.run(
        ["git", "archive", commit.stdout.strip()], cwd=ROOT, capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return commit.stdout.strip()


def worker(tree: Path, server: Server, client: str, workload: str) -> dict[str, Any]:
    args = [client, workload, server.base, str(server.proc.pid), str(SIZES[workload]), "4"]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, "-m", "bench.worker", *args],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        raise SystemExit(f"worker {args} in {tree} failed:\n{out.stderr[-2000:]}")
    result: dict[str, Any] = orjson.loads(out.stdout.strip().splitlines()[-1])
    return result


def import_us(tree: Path) -> int:
    """Best of five: the cumulative microseconds ``import calcom_async`` takes in ``tree``,
    from bytecode as an installed package imports (written once by a first, unmeasured import
    into a cache of the tree's own: with ``PYTHONDONTWRITEBYTECODE`` set, as on the CI machine,
    every import would compile the sources again and time the compiler)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env |= {"PYTHONPATH": str(tree), "PYTHONPYCACHEPREFIX": str(tree / ".bench-pycache")}
    subprocess.run([sys.executable, "-c", "import calcom_async"], cwd=tree, env=env, check=True)
    best = None
    for _ in range(5):
        out = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import calcom_async"],
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        line = next(x for x in reversed(out.stderr.splitlines()) if x.endswith("calcom_async"))
        cumulative = int(line.split("|")[1])
        best = cumulative if best is None else min(best, cumulative)
    assert best is not None
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rev", help="the earlier commit (any git revision)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workloads", default="walk,fanout")
    parser.add_argument("--clients", default="c,d")
    opts = parser.parse_args()
    workloads = opts.workloads.split(",")
    unknown = set(workloads) - SIZES.keys()
    if unknown:
        raise SystemExit(
            f"bench.compare: unknown workload(s) {sorted(unknown)}; take {sorted(SIZES)}"
        )
    clients = opts.clients.split(",")
    # beside the project, so the old tree's relative paths (the pinned document) resolve alike
    with tempfile.TemporaryDirectory(prefix=".bench-compare-", dir=ROOT.parent) as tmp:
        old = Path(tmp)
        commit = export(opts.rev, old)
        trees = {"old": old, "new": ROOT}
        report: dict[str, Any] = {"machine": machine(), "old": commit, "runs": opts.runs}
        report["import_us"] = {tag: import_us(tree) for tag, tree in trees.items()}
        samples: dict[str, dict[str, list[dict[str, Any]]]] = {}
        server = Server()
        try:
            for i in range(opts.runs):
                order = ("old", "new") if i % 2 == 0 else ("new", "old")
                for workload in workloads:
                    for client in clients:
                        pair = samples.setdefault(f"{workload} {client}", {"old": [], "new": []})
                        for tag in order:
                            pair[tag].append(worker(trees[tag], server, client, workload))
        finally:
            server.close()
    report["results"] = {key: summarise(pair) for key, pair in samples.items()}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "compare.json").write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    print_report(report)


def summarise(pair: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    def per_item_cpu(r: dict[str, Any]) -> float:
        return float(r["cpu_s"]) / r["items"] * 1e6

    def ratios(value: Any) -> float:
        return statistics.median(
            value(n) / value(o) for o, n in zip(pair["old"], pair["new"], strict=True)
        )

    return {
        **{
            tag: {
                "items_per_s": statistics.median(r["items_per_s"] for r in runs),
                "cpu_us_per_item": statistics.median(per_item_cpu(r) for r in runs),
            }
            for tag, runs in pair.items()
        },
        "speed_new_over_old": ratios(lambda r: r["items_per_s"]),
        "cpu_new_over_old": ratios(per_item_cpu),
        "runs": pair,
    }


def print_report(report: dict[str, Any]) -> None:
    m = report["machine"]
    print(
        f"old {report['old'][:10]} vs new (this tree), {report['runs']} alternated runs; "
        f"{m['cores']} cores, load {m['load_avg_at_start'][0]:.2f} at start"
    )
    print(
        f"{'workload client':<16}{'old items/s':>13}{'new items/s':>13}{'new/old':>9}"
        f"{'old CPU µs/item':>17}{'new CPU µs/item':>17}{'new/old':>9}"
    )
    for key, r in report["results"].items():
        print(
            f"{key:<16}{r['old']['items_per_s']:>13,.0f}{r['new']['items_per_s']:>13,.0f}"
            f"{r['speed_new_over_old']:>9.3f}{r['old']['cpu_us_per_item']:>17.1f}"
            f"{r['new']['cpu_us_per_item']:>17.1f}{r['cpu_new_over_old']:>9.3f}"
        )
    imports = report["import_us"]
    print(
        f"import calcom_async (best of 5): old {imports['old']:,} µs, new {imports['new']:,} µs, "
        f"new/old {imports['new'] / imports['old']:.3f}"
    )


if __name__ == "__main__":
    main()
