"""``python -m calcom_async.testing [--host 127.0.0.1] [--port 8787] [--bookings N]``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from ._server import FakeCalCom


async def _serve(args: argparse.Namespace) -> None:
    fake = FakeCalCom(host=args.host, port=args.port, rate_limit=args.rate_limit, seed=args.seed)
    fake.seed(bookings=args.bookings, event_types=args.event_types, teams=1, managed_users=2)
    async with fake:
        print(f"FakeCalCom listening on {fake.base_url}")
        print(f"  API key:        {fake.api_key}")
        print(f"  OAuth client:   {fake.client_id} / {fake.client_secret}")
        print(f"  bookings: {len(fake.store.bookings)}, event types: {len(fake.store.event_types)}")
        print("Ctrl-C to stop.", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m calcom_async.testing", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--bookings", type=int, default=1000)
    parser.add_argument("--event-types", type=int, default=5)
    parser.add_argument("--rate-limit", type=int, default=None, help="requests per minute per key")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
