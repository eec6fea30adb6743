"""``calcom bookings export``: every booking, streamed as JSON lines or CSV, resumable.

The walk is ``cal.bookings.sync().raw()`` (docs/sync.md): every booking once, exact while
bookings change during the walk, each as the JSON object the server sent. With ``--checkpoint
FILE`` the sync's checkpoint is saved after each page together with how many bytes of the output
it covers (the output is flushed and fsynced first): a run stopped by an error, Ctrl-C or a crash
resumes after the last saved page, cutting the output file back to what the checkpoint covers,
so the file holds every booking exactly once. A finished checkpoint exports the next increment:
the bookings changed since, appended.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import sys
import time
from pathlib import Path
from typing import IO, Any

import attrs
import click
import orjson

from .._sync_checkpoint import SyncCheckpoint
from ._common import Bar, Settings, get_settings, plural, run
from ._errors import CLIError
from ._rows import COLUMNS, columns

__all__ = ["STATUSES", "bookings", "parse_time"]

STATUSES = ("upcoming", "recurring", "past", "cancelled", "unconfirmed")


def parse_time(value: str) -> dt.datetime:
    """``2026-01-31`` or an ISO time; UTC unless it names an offset."""
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise CLIError(
            f"--since {value!r} is not a date or time (such as 2026-01-31 or 2026-01-31T09:00:00Z)"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@attrs.define
class ExportState:
    """What ``--checkpoint FILE`` holds (JSON)."""

    format: str
    status: list[str]
    since: str | None
    output: str
    offset: int = 0  #: bytes of the output the checkpoint covers
    exported: int = 0  #: bookings written so far, over all runs
    sync: str | None = None  #: the sync's checkpoint (docs/sync.md)

    @classmethod
    def load(cls, path: Path) -> ExportState | None:
        try:
            text = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            data = orjson.loads(text)
            state = cls(**data)
            if not isinstance(state.offset, int) or state.offset < 0:
                raise ValueError("offset")
            if state.sync is not None:
                SyncCheckpoint.from_json(state.sync)
        except (ValueError, TypeError) as exc:
            raise CLIError(
                f"--checkpoint {path} is not an export checkpoint ({exc}); pass another file"
            ) from None
        return state

    def save(self, path: Path) -> None:
        """Atomically: a crash leaves the old file or the new one."""
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as fh:
            fh.write(orjson.dumps(attrs.asdict(self)))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)


class Writer:
    """Bookings as JSON lines or CSV rows on a binary stream, counting the bytes."""

    def __init__(self, fmt: str, stream: IO[bytes], offset: int) -> None:
        self.fmt = fmt
        self.stream = stream
        self.offset = offset
        self._buf = io.StringIO()
        self._csv = csv.writer(self._buf, lineterminator="\n")
        if fmt == "csv" and offset == 0:
            self._csv.writerow(COLUMNS)
            self._emit(self._take())

    def _take(self) -> bytes:
        text = self._buf.getvalue()
        self._buf.seek(0)
        self._buf.truncate()
        return text.encode()

    def _emit(self, data: bytes) -> None:
        self.stream.write(data)
        self.offset += len(data)

    def write(self, booking: dict[str, Any]) -> None:
        if self.fmt == "jsonl":
            self._emit(orjson.dumps(booking) + b"\n")
        else:
            self._csv.writerow(columns(booking))
            self._emit(self._take())

    def flush(self) -> None:
        self.stream.flush()
        if self.stream is not sys.stdout.buffer:
            os.fsync(self.stream.fileno())


def _open_output(output: str, state: ExportState | None) -> IO[bytes]:
    if output == "-":
        return sys.stdout.buffer
    path = Path(output)
    if state is None or state.offset == 0:
        return open(path, "wb")
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise CLIError(
            f"the checkpoint covers {state.offset} bytes of {output}, which is gone: start again "
            "with a new --checkpoint file"
        ) from None
    if size < state.offset:
        raise CLIError(
            f"{output} is shorter ({size} bytes) than the checkpoint covers ({state.offset}): "
            "it was changed since; start again with a new --checkpoint file"
        )
    stream = open(path, "r+b")  # noqa: SIM115 - closed by the caller
    stream.truncate(state.offset)  # what the last run wrote after its last checkpoint
    stream.seek(state.offset)
    return stream


def _check_same(state: ExportState, wanted: ExportState, path: Path) -> None:
    for name in ("format", "status", "since", "output"):
        if getattr(state, name) != getattr(wanted, name):
            raise CLIError(
                f"--checkpoint {path} belongs to an export with {name} {getattr(state, name)!r}, "
                f"not {getattr(wanted, name)!r}: pass the same options, or a new checkpoint file"
            )


async def _export(
    settings: Settings,
    *,
    status: tuple[str, ...],
    since: str | None,
    fmt: str,
    output: str,
    target: str,
    checkpoint: Path | None,
    page_size: int,
) -> int:
    since_at = parse_time(since) if since else None
    wanted = ExportState(
        format=fmt,
        status=sorted(set(status)),
        since=since_at.isoformat() if since_at else None,
        output=target,
    )
    state = ExportState.load(checkpoint) if checkpoint else None
    if state is not None and checkpoint is not None:
        _check_same(state, wanted, checkpoint)
        settings.say(f"calcom: resuming from {checkpoint} ({state.exported} exported before)")
    saved: SyncCheckpoint | str | None = state.sync if state else None
    if saved is None and since_at is not None:
        saved = SyncCheckpoint(watermark=since_at)  # the changes pass, from --since
    state = state or wanted
    exported_before, count = state.exported, 0
    started = time.monotonic()
    async with settings.client() as cal:
        stream = _open_output(output, state)
        writer = Writer(fmt, stream, state.offset)
        with Bar(settings, "bookings") as bar:
            walk = cal.bookings.sync(
                checkpoint=saved,
                page_size=page_size,
                status=list(status) or None,
                on_page=bar.update,
            ).raw()  # each booking as the server sent it
            pages = walk.pages
            whole = True  # False while a booking is half written (a write that failed)

            def save() -> None:
                """Flush the output, then record what it holds: the checkpoint covers every
                booking yielded so far, and each of them is written."""
                if checkpoint is None or not whole:
                    return
                writer.flush()
                state.offset, state.sync = writer.offset, walk.checkpoint.to_json()
                state.exported = exported_before + count
                state.save(checkpoint)

            try:
                async for data in walk:
                    if since_at is not None:
                        updated = data.get("updatedAt")
                        if isinstance(updated, str) and parse_time(updated) < since_at:
                            continue  # the millisecond the sync re-reads before its start
                    whole = False
                    writer.write(data)
                    whole = True
                    count += 1
                    if walk.pages != pages:  # a new page: save at its first booking
                        pages = walk.pages
                        save()
            finally:
                save()
                if stream is sys.stdout.buffer:
                    stream.flush()
                else:
                    stream.close()
    elapsed = time.monotonic() - started
    p = walk.progress
    where = "stdout" if output == "-" else output
    rate = count / elapsed if elapsed > 0 else 0.0
    settings.say(
        f"calcom: exported {plural(count, 'booking')} to {where} in {elapsed:.1f} s ({rate:.0f} "
        f"bookings/s; {plural(p.requests, 'request')}, {p.rate_limit_wait:.1f} s waiting for the "
        "rate limit)"
    )
    return 0


@click.group()
def bookings() -> None:
    """Bookings."""


@bookings.command("export")
@click.option(
    "--status",
    multiple=True,
    type=click.Choice(STATUSES),
    help="Only bookings with this status (repeatable).",
)
@click.option(
    "--since",
    metavar="TIME",
    help="Only bookings changed (updatedAt) at or after TIME: 2026-01-31 or "
    "2026-01-31T09:00:00Z (UTC unless an offset is given).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv"]),
    default="jsonl",
    show_default=True,
    help="One JSON object a line (the booking as the API sends it), or CSV (its main columns).",
)
@click.option(
    "-o",
    "--output",
    default="-",
    metavar="FILE",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Where to write (default: stdout).",
)
@click.option(
    "--checkpoint",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Resume from FILE and save progress there after each page; a finished one exports "
    "what changed since.",
)
@click.option(
    "--page-size", type=click.IntRange(1, 250), default=250, show_default=True, hidden=True
)
@click.pass_context
def export(
    ctx: click.Context,
    status: tuple[str, ...],
    since: str | None,
    fmt: str,
    output: str,
    checkpoint: Path | None,
    page_size: int,
) -> None:
    """Stream every booking (JSON lines or CSV), with a progress bar on stderr."""
    settings = get_settings(ctx)
    run(
        settings,
        lambda: _export(
            settings,
            status=status,
            since=since,
            fmt=fmt,
            output=output,
            target=output if output == "-" else os.path.abspath(output),
            checkpoint=checkpoint,
            page_size=page_size,
        ),
    )
