"""Instructions per booking to decode and structure a page of 100 bookings, counted by
callgrind: repeatable whatever else the machine is doing (timings here are ±30 % under load).

    python -m bench.instructions [PAGES]

Runs this module under ``valgrind --tool=callgrind`` four times (decode only / decode and
structure, 0 and PAGES pages) and prints the differences per booking, as JSON. Needs valgrind.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _child(mode: str, pages: int) -> None:
    import orjson

    from bench import data
    from calcom_async import models
    from calcom_async._serde import structure

    raw = data.page_body([data.booking(i) for i in range(data.PAGE_SIZE)], 0, data.DISTINCT)
    target = models.GetBookingsOutput_2024_08_13
    structure(orjson.loads(raw), target)  # first use: hooks built
    for _ in range(pages):
        decoded = orjson.loads(raw)
        if mode == "typed":
            structure(decoded, target)


def _count(mode: str, pages: int) -> int:
    out = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-m",
            "bench.instructions",
            "--child",
            mode,
            str(pages),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    match = re.search(r"Collected : (\d+)", out.stderr)
    if not match:
        raise SystemExit(f"no callgrind total in:\n{out.stderr[-2000:]}")
    return int(match.group(1))


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2], int(sys.argv[3]))
        return
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    pages = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    from bench import data

    per = pages * data.PAGE_SIZE
    decode = (_count("decode", pages) - _count("decode", 0)) // per
    typed = (_count("typed", pages) - _count("typed", 0)) // per
    print(json.dumps({"orjson_per_booking": decode, "structure_per_booking": typed - decode}))


if __name__ == "__main__":
    main()
