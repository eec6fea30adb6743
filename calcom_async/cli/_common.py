"""What every subcommand shares: the client's settings, running a coroutine with the error
lines and exit codes of :mod:`._errors`, the progress bar, the output streams."""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import attrs
import click
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import Progress as RichProgress

from .._client import CalCom
from .._progress import Progress
from ._errors import BROKEN_PIPE, INTERRUPTED, CLIError, describe, redact

__all__ = ["Bar", "Settings", "err_console", "run"]

#: messages, the progress bar and logs go to stderr; stdout carries only the command's output
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


@attrs.define
class Settings:
    """The group's options: ``CalCom``'s keyword arguments, and how to report."""

    client_kwargs: dict[str, Any]
    verbose: bool = False
    progress: bool | None = None  #: None: a bar when stderr is a terminal
    quiet: bool = False
    #: values never to print (the credentials given, a database password, a webhook secret)
    secrets: list[str] = attrs.field(factory=list)

    def client(self) -> CalCom:
        """A ``CalCom`` with the options given (the environment fills what is not: the same
        ``CALCOM_API_KEY`` and ``CALCOM_BASE_URL`` as the library reads)."""
        return CalCom(**self.client_kwargs)

    def say(self, text: str) -> None:
        """A status line on stderr (not with ``--quiet``)."""
        if not self.quiet:
            err_console.print(redact(text, self.secrets), markup=False, highlight=False)


def get_settings(ctx: click.Context) -> Settings:
    settings = ctx.find_object(Settings)
    if settings is None:  # pragma: no cover - the group always sets it
        raise click.UsageError("calcom: run through the `calcom` group")
    return settings


def setup_logging(verbose: bool) -> None:
    """The library's logs (retries, rate-limit waits, drift, refused webhooks) on stderr, drawn
    by Rich so that they do not tear the progress bar."""
    handler = RichHandler(
        console=err_console, show_time=False, show_path=False, markup=False, rich_tracebacks=False
    )
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    root = logging.getLogger("calcom_async")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    root.propagate = False


def run(settings: Settings, main: Callable[[], Awaitable[int | None]]) -> None:
    """Run ``main`` in an event loop; exit with its code, or with the error's line and code."""
    try:
        code = anyio.run(main)
    except KeyboardInterrupt:
        settings.say("calcom: interrupted")
        raise SystemExit(INTERRUPTED) from None
    except BrokenPipeError:  # `calcom … | head`: the reader has gone; end quietly, as Unix tools
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(BROKEN_PIPE) from None
    except (SystemExit, click.exceptions.Exit):
        raise
    except click.ClickException:
        raise
    except Exception as exc:
        code, line = describe(exc)
        if settings.verbose:
            text = "".join(traceback.format_exception(exc))
            sys.stderr.write(redact(text, settings.secrets))
        sys.stderr.write(redact(f"calcom: {line}\n", settings.secrets))
        sys.stderr.flush()
        raise SystemExit(code) from None
    raise SystemExit(code or 0)


def plural(count: int, noun: str) -> str:
    """``1 request``, ``2 requests``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def usage(message: str) -> CLIError:
    return CLIError(message)


class Bar:
    """The progress bar of a long walk (bookings so far, of how many when the server says,
    requests, seconds waited for the rate limit, time), fed by ``on_page``. Drawn on stderr when
    it is a terminal (or with ``--progress``); otherwise silent."""

    def __init__(self, settings: Settings, what: str) -> None:
        enabled = settings.progress if settings.progress is not None else err_console.is_terminal
        self.enabled = bool(enabled) and not settings.quiet
        self.what = what
        self.last = Progress()
        self._bar = RichProgress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[requests]} requests"),
            TextColumn("{task.fields[waited]:.1f}s rate-limited"),
            TimeElapsedColumn(),
            console=err_console,
            disable=not self.enabled,
            transient=False,
        )
        self._task = self._bar.add_task(what, total=None, requests=0, waited=0.0)

    def __enter__(self) -> Bar:
        self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.update(self._task, refresh=True)
        self._bar.stop()

    def update(self, p: Progress) -> None:
        """``on_page=``: a page came in."""
        self.last = p
        self._bar.update(
            self._task,
            completed=p.items,
            total=p.total,
            requests=p.requests,
            waited=p.rate_limit_wait,
        )

    def advance(self, items: int) -> None:
        """Bookings handled so far (between pages)."""
        self._bar.update(self._task, completed=items)
