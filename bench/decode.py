"""Typed-decode micro-benchmark: one page of 100 bookings (the same JSON bytes for every
decoder), µs per booking, gc on. Prints one JSON object: {name: [µs per booking of each run]}.

    python -m bench.decode [RUNS] [SECONDS_PER_RUN]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import orjson

from bench import data


def _page() -> bytes:
    bookings = [data.booking(i) for i in range(data.PAGE_SIZE)]
    return data.page_body(bookings, 0, data.DISTINCT)


def decoders(raw: bytes) -> dict[str, Callable[[], Any]]:
    from bench.gen_pydantic import OUT
    from bench.msgspec_models import decoder
    from calcom_async import models
    from calcom_async._serde import structure

    sys.path.insert(0, str(OUT))
    import pydantic_models  # type: ignore[import-not-found]

    target = models.GetBookingsOutput_2024_08_13
    pyd = pydantic_models.GetBookingsOutput20240813
    out = {
        "orjson_loads": lambda: orjson.loads(raw),
        "msgspec_typed": lambda: decoder.decode(raw),
        "pydantic_v2": lambda: pyd.model_validate_json(raw),
        "calcom_async": lambda: structure(orjson.loads(raw), target),
    }
    # the same bookings come out of each (a sanity check, not a timing)
    ours = out["calcom_async"]()
    assert [b.uid for b in ours.data] == [b.uid for b in out["pydantic_v2"]().data]
    assert [b.uid for b in ours.data] == [b.uid for b in out["msgspec_typed"]().data]
    assert type(ours.data[0]).__name__ == "BookingOutput_2024_08_13"
    return out


def measure(fn: Callable[[], Any], seconds: float) -> float:
    """µs per booking: as many whole batches as fit in ``seconds``."""
    fn()
    loops, spent = 0, 0.0
    batch = 20
    while spent < seconds:
        t = time.perf_counter()
        for _ in range(batch):
            fn()
        spent += time.perf_counter() - t
        loops += batch
    return spent / loops / data.PAGE_SIZE * 1e6


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    raw = _page()
    fns = decoders(raw)
    results: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):  # interleaved, so a noisy moment hits every decoder alike
        for name, fn in fns.items():
            results[name].append(measure(fn, seconds))
    print(orjson.dumps({"bytes_per_page": len(raw), "us_per_booking": results}).decode())


if __name__ == "__main__":
    main()
