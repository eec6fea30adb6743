"""``calcom webhooks listen``: receive Cal.com's deliveries, verify them, print each event as
it arrives, and pass them on with ``--forward URL``.

The receiver is ``calcom_async.webhooks.Router`` (signature check, 401 for a bad one and 413 for
a body over 1 MiB, both logged on stderr). Each verified delivery is printed on stdout — one
summary line, or with ``--json`` the body as one JSON line — and, with ``--forward``, POSTed to
the URL as received, signed again with the (first) ``--secret`` in ``X-Cal-Signature-256`` so the
target verifies it with the same secret, as Cal.com's own delivery would be.
"""

from __future__ import annotations

import signal
import sys

import aiohttp
import anyio
import click
import orjson
from aiohttp import web

from ..webhooks import SIGNATURE_HEADER, Router, WebhookEvent, sign
from ._common import Settings, get_settings, run

__all__ = ["summary", "webhooks"]


def summary(event: WebhookEvent) -> str:
    """``BOOKING_CREATED uid=… start=… title="…" delivery=…``: one line of an event."""
    trigger = str(event.trigger_event) if event.trigger_event is not None else "(templated)"
    parts = [event.created_at.isoformat() if event.created_at else "-", trigger]
    payload = event.raw_payload if isinstance(event.raw_payload, dict) else {}
    for key, name in (("uid", "uid"), ("startTime", "start"), ("title", "title")):
        value = payload.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            parts.append(f"{name}={orjson.dumps(value).decode() if name == 'title' else value}")
    parts.append(f"delivery={event.delivery_id[:12]}")
    return " ".join(parts)


def _emit(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def _listen(
    settings: Settings,
    host: str,
    port: int,
    path: str,
    secrets: list[str],
    forward: str | None,
    as_json: bool,
) -> int:
    router = Router(secrets)
    session = aiohttp.ClientSession() if forward else None

    @router.on_any
    async def show(event: WebhookEvent) -> None:
        _emit(event.body.decode("utf-8", "replace") if as_json else summary(event))
        if session is None or forward is None:
            return
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(event.body, secrets[0]),
        }
        try:
            async with session.post(forward, data=event.body, headers=headers) as answer:
                await answer.read()
                settings.say(f"calcom: forwarded {event.delivery_id[:12]}: {answer.status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            settings.say(f"calcom: forwarding {event.delivery_id[:12]} to {forward} failed: {exc}")

    runner = web.AppRunner(router.app(path))
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0][1] if runner.addresses else port
        shown = f"[{host}]" if ":" in host else host
        settings.say(
            f"calcom: listening on http://{shown}:{bound}{path} (verifying {SIGNATURE_HEADER})"
            + (f", forwarding to {forward}" if forward else "")
            + "; Ctrl-C to stop"
        )
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for _ in signals:
                break
    finally:
        await runner.cleanup()  # waits for the deliveries in hand
        if session is not None:
            await session.close()
    settings.say("calcom: stopped")
    return 0


@click.group()
def webhooks() -> None:
    """Webhooks."""


@webhooks.command("listen")
@click.option("--port", type=click.IntRange(0, 65535), default=8788, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--path", default="/", show_default=True, help="The path deliveries are POSTed to.")
@click.option(
    "--secret",
    envvar="CALCOM_WEBHOOK_SECRET",
    required=True,
    metavar="SECRET",
    help="The webhook's secret (or CALCOM_WEBHOOK_SECRET); 'new,old' while rotating.",
)
@click.option("--forward", metavar="URL", help="POST each verified delivery on to URL.")
@click.option("--json", "as_json", is_flag=True, help="Print each delivery's body (one JSON line).")
@click.pass_context
def listen(
    ctx: click.Context,
    port: int,
    host: str,
    path: str,
    secret: str,
    forward: str | None,
    as_json: bool,
) -> None:
    """Receive deliveries, verify them and print each event as it arrives."""
    settings = get_settings(ctx)
    secrets = [s.strip() for s in secret.split(",") if s.strip()]
    settings.secrets.extend(secrets)
    if not path.startswith("/"):
        raise click.BadParameter("must start with '/'", param_hint="--path")
    if forward is not None and not forward.startswith(("http://", "https://")):
        raise click.BadParameter("must be an http(s) URL", param_hint="--forward")

    async def main() -> int:
        return await _listen(settings, host, port, path, secrets, forward, as_json)

    run(settings, main)
