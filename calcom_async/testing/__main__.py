"""``python -m calcom_async.testing``: FakeCalCom as a standalone server (``--help``).

It stops cleanly (exit status 0, "stopped" on stdout) on SIGINT (Ctrl-C) and SIGTERM however it
was started: in the foreground, in the background of a shell (``… &``, where a non-interactive
shell starts the child with SIGINT *ignored*, so Python never installs its Ctrl-C handler), under
``nohup``, a process manager or ``docker stop``. The handlers are installed explicitly for that.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from ._server import FakeCalCom

_DESCRIPTION = (
    "Run FakeCalCom, the embedded fake of the Cal.com API v2, as a standalone HTTP server on "
    "loopback, seeded with realistic data. It prints the base URL, an API key and an OAuth "
    "client pair to use with any client (CALCOM_BASE_URL=… CALCOM_API_KEY=…). Stops on "
    "Ctrl-C (SIGINT) or SIGTERM."
)


async def _serve(args: argparse.Namespace) -> None:
    fake = FakeCalCom(host=args.host, port=args.port, rate_limit=args.rate_limit, seed=args.seed)
    fake.seed(bookings=args.bookings, event_types=args.event_types, teams=1, managed_users=2)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # explicit, so that a SIGINT the parent shell set to "ignored" (`&`) still stops us
        loop.add_signal_handler(sig, stop.set)
    try:
        async with fake:
            print(f"FakeCalCom listening on {fake.base_url}")
            print(f"  API key:        {fake.api_key}")
            print(f"  OAuth client:   {fake.client_id} / {fake.client_secret}")
            print(
                f"  bookings: {len(fake.store.bookings)}, "
                f"event types: {len(fake.store.event_types)}"
            )
            print("Ctrl-C (or SIGTERM) to stop.", flush=True)
            await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    print("FakeCalCom stopped.", flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m calcom_async.testing",
        description=_DESCRIPTION,
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=8787,
        help="port to listen on; 0: any free port (default: %(default)s)",
    )
    parser.add_argument(
        "--bookings", type=int, default=1000, help="bookings to seed (default: %(default)s)"
    )
    parser.add_argument(
        "--event-types", type=int, default=5, help="event types to seed (default: %(default)s)"
    )
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=None,
        help="requests per minute per API key (default: the API's 120)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="random seed of the generated data (default: %(default)s)",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
