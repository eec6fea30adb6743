"""The ``calcom`` group: ``CalCom``'s options, then the subcommands."""

from __future__ import annotations

import os

import click

from .._version import __version__
from ._api import api
from ._bookings import bookings
from ._common import Settings, setup_logging
from ._database import sync
from ._fake import fake
from ._listen import webhooks

__all__ = ["cli"]

_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _pins(values: tuple[str, ...]) -> dict[str, str]:
    pins = {}
    for value in values:
        name, sep, version = value.partition("=")
        if not sep or not name or not version:
            raise click.BadParameter(
                f"{value!r} is not NAME=VERSION (such as bookings.list=2026-05-01)",
                param_hint="--pin",
            )
        pins[name.strip()] = version.strip()
    return pins


@click.group(context_settings=_CONTEXT)
@click.option(
    "--api-key",
    metavar="KEY",
    help="API key (default: the CALCOM_API_KEY environment variable, as CalCom reads it).",
)
@click.option(
    "--base-url",
    metavar="URL",
    help="API host (default: CALCOM_BASE_URL, else https://api.cal.com; EU: https://api.cal.eu).",
)
@click.option(
    "--client-id", envvar="CALCOM_CLIENT_ID", metavar="ID", help="Platform OAuth client id."
)
@click.option(
    "--client-secret",
    envvar="CALCOM_CLIENT_SECRET",
    metavar="SECRET",
    help="Platform OAuth client secret (or CALCOM_CLIENT_SECRET).",
)
@click.option(
    "--access-token",
    envvar="CALCOM_ACCESS_TOKEN",
    metavar="TOKEN",
    help="A managed user's access token (or CALCOM_ACCESS_TOKEN).",
)
@click.option(
    "--pin",
    "pins",
    multiple=True,
    metavar="NAME=VERSION",
    help="Pin a cal-api-version for an operation or family (api_versions=), repeatable: "
    "--pin bookings.list=2026-05-01.",
)
@click.option("--timeout", type=float, default=120.0, show_default=True, help="Seconds per call.")
@click.option("--connect-timeout", type=float, default=10.0, show_default=True)
@click.option("--max-retries", type=click.IntRange(min=0), default=2, show_default=True)
@click.option(
    "--max-concurrency",
    type=click.IntRange(min=1),
    default=64,
    show_default=True,
    help="Requests in flight.",
)
@click.option(
    "--no-rate-limit", is_flag=True, help="Do not pace requests by the rate-limit headers."
)
@click.option(
    "--strict", is_flag=True, help="Fail on an answer that deviates from its model (strict=True)."
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Draw progress bars (default: when stderr is a terminal).",
)
@click.option("-q", "--quiet", is_flag=True, help="No status lines or progress on stderr.")
@click.option(
    "-v", "--verbose", is_flag=True, help="On an error also the traceback; the client's INFO logs."
)
@click.version_option(__version__, "-V", "--version", prog_name="calcom")
@click.pass_context
def cli(
    ctx: click.Context,
    api_key: str | None,
    base_url: str | None,
    client_id: str | None,
    client_secret: str | None,
    access_token: str | None,
    pins: tuple[str, ...],
    timeout: float,
    connect_timeout: float,
    max_retries: int,
    max_concurrency: int,
    no_rate_limit: bool,
    strict: bool,
    progress: bool | None,
    quiet: bool,
    verbose: bool,
) -> None:
    """calcom: the Cal.com API v2 from a shell (calcom-async's client underneath: auth,
    cal-api-version, retries, rate limits).

    \b
      calcom bookings export --format csv --output bookings.csv
      calcom sync sqlite:///bookings.db
      calcom api GET /v2/me
      calcom webhooks listen --port 8788 --secret "$CAL_WEBHOOK_SECRET"
      calcom fake --bookings 1000

    Exit codes: 0 done, 2 usage, 3 authentication, 4 permission, 5 not found, 6 request refused,
    7 rate limited, 8 server error, 9 connection, 10 timeout, 11 unexpected answer, 12 store or
    webhook, 13 database, 14 file, 130 interrupted, 1 anything else (docs/cli.md).
    """
    setup_logging(verbose)
    kwargs = {
        "api_key": api_key,
        "base_url": base_url,
        "client_id": client_id,
        "client_secret": client_secret,
        "access_token": access_token,
        "api_versions": _pins(pins),
        "timeout": timeout,
        "connect_timeout": connect_timeout,
        "max_retries": max_retries,
        "max_concurrency": max_concurrency,
        "rate_limit": not no_rate_limit,
        "strict": strict,
    }
    secrets = [api_key or os.environ.get("CALCOM_API_KEY") or "", client_secret, access_token]
    ctx.obj = Settings(
        client_kwargs=kwargs,
        verbose=verbose,
        progress=progress,
        quiet=quiet,
        secrets=[s for s in secrets if s],
    )


cli.add_command(bookings)
cli.add_command(sync)
cli.add_command(api)
cli.add_command(webhooks)
cli.add_command(fake)
