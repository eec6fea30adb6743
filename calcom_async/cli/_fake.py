"""``calcom fake``: FakeCalCom, the embedded fake of the API, as a server on loopback — the
same as ``python -m calcom_async.testing`` (it prints the URL, the API key and the OAuth client
pair; its credentials are the fake's own, made to be printed)."""

from __future__ import annotations

import click

__all__ = ["fake"]


@click.command("fake")
@click.option("--bookings", type=click.IntRange(min=0), default=1000, show_default=True)
@click.option("--event-types", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8787, show_default=True, help="0: any free."
)
@click.option(
    "--rate-limit", type=click.IntRange(min=1), help="Requests a minute per API key (default 120)."
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the generated data.")
def fake(
    bookings: int, event_types: int, host: str, port: int, rate_limit: int | None, seed: int
) -> None:
    """Run the embedded fake Cal.com, printing its URL and credentials (Ctrl-C stops it).

    \b
      calcom fake --port 8787 --bookings 500 &
      CALCOM_BASE_URL=http://127.0.0.1:8787 CALCOM_API_KEY=<the key it printed> \\
          calcom bookings export
    """
    from ..testing.__main__ import main

    argv = ["--host", host, "--port", str(port), "--bookings", str(bookings)]
    argv += ["--event-types", str(event_types), "--seed", str(seed)]
    if rate_limit is not None:
        argv += ["--rate-limit", str(rate_limit)]
    main(argv)
