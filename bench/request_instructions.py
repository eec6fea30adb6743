"""``make bench-request-instructions REV=<commit>``: instructions per request, this tree against
an earlier commit, under callgrind (a count a busy machine does not change, where timings on
two shared cores swing by tens of per cent).

    python -m bench.request_instructions REV [--mode raw|typed|fan]

One client process per tree and count runs ``N`` requests against ``bench.server``: ``raw``
sequential ``cal.bookings.with_raw_response.get(uid)`` + ``.json()``, ``typed`` sequential
``cal.bookings.get(uid)``, ``fan`` one ``cal.bookings.get_many(uids, concurrency=64)``. The
count of a run of 100 is taken from a run of 400 and divided by 300, so start-up and imports
cancel out. Needs ``valgrind`` (``apt-get install valgrind``). About a minute per tree.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

MODES = ("raw", "typed", "fan")


async def _client(base: str, n: int, mode: str) -> None:
    from bench import data
    from calcom_async import CalCom

    async with CalCom(api_key="cal_test_bench", base_url=base) as cal:
        uids = [data.uid(i) for i in range(n)]
        if mode == "raw":
            for uid in uids:
                (await cal.bookings.with_raw_response.get(uid)).json()
        elif mode == "typed":
            for uid in uids:
                await cal.bookings.get(uid)
        else:
            await cal.bookings.get_many(uids, concurrency=64)


def instructions(tree: Path, base: str, n: int, mode: str) -> int:
    """The instructions one client process in ``tree`` runs for ``n`` requests."""
    command = [sys.executable, "-m", "bench.request_instructions", "--client", base, str(n), mode]
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=False,
    )
    found = re.search(r"Collected : (\d+)", out.stderr)
    if out.returncode or not found:
        raise SystemExit(f"callgrind in {tree} failed:\n{out.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    if sys.argv[1:2] == ["--client"]:  # the measured process (started by callgrind)
        base, n, mode = sys.argv[2], int(sys.argv[3]), sys.argv[4]
        asyncio.run(_client(base, n, mode))
        return
    # not at the top: the old tree runs this file as its client, without these modules
    from bench.compare import export
    from bench.run import ROOT, Server

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rev", help="the earlier commit (any git revision)")
    parser.add_argument("--mode", choices=MODES, default="raw")
    opts = parser.parse_args()
    # beside the project, so the old tree's relative paths (the pinned document) resolve alike
    with tempfile.TemporaryDirectory(prefix=".bench-instr-", dir=ROOT.parent) as tmp:
        old = Path(tmp)
        commit = export(opts.rev, old)
        # the old tree measures with this tree's client script: the same calls for both
        (old / "bench" / "request_instructions.py").write_bytes(Path(__file__).read_bytes())
        server = Server()
        try:
            counts = {
                tag: (
                    instructions(tree, server.base, 400, opts.mode)
                    - instructions(tree, server.base, 100, opts.mode)
                )
                / 300
                for tag, tree in (("old", old), ("new", ROOT))
            }
        finally:
            server.close()
    ratio = counts["new"] / counts["old"]
    print(
        f"{opts.mode}: old {commit[:10]} {counts['old']:,.0f}, new (this tree) "
        f"{counts['new']:,.0f} instructions per request, new/old {ratio:.3f}"
    )


if __name__ == "__main__":
    main()
