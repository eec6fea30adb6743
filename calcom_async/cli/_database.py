"""``calcom sync [DATABASE_URL]``: the incremental sync into a database of your own.

``sqlite:///bookings.db`` (the default, a file in the current directory; ``sqlite:////abs/path``
for an absolute path) or ``postgresql://user@host/db`` with psycopg 3 installed. Two tables
(docs/cli.md has the schema): ``calcom_bookings``, one row per booking upserted by ``uid``, and
``calcom_sync_state``, the sync's checkpoint. The bookings are committed once a page (and at least
every ``--batch``), each commit one transaction with the checkpoint that covers exactly the
bookings written so far, so a run stopped anywhere resumes exactly after its last commit; run it
again for the next increment.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote, urlsplit

import anyio
import click
import orjson

from ._bookings import STATUSES
from ._common import Bar, Settings, get_settings, plural, run
from ._errors import CLIError, DatabaseError
from ._rows import columns

if TYPE_CHECKING:
    import psycopg

__all__ = ["SCHEMA_POSTGRES", "SCHEMA_SQLITE", "open_database", "sync"]

DEFAULT_URL = "sqlite:///bookings.db"

SCHEMA_SQLITE = """
CREATE TABLE IF NOT EXISTS calcom_bookings (
    uid           TEXT PRIMARY KEY,
    id            INTEGER,
    title         TEXT,
    status        TEXT,
    start_time    TEXT,
    end_time      TEXT,
    duration      INTEGER,
    event_type_id INTEGER,
    attendees     TEXT,
    created_at    TEXT,
    updated_at    TEXT,
    data          TEXT NOT NULL,
    synced_at     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS calcom_sync_state (
    name       TEXT PRIMARY KEY,
    checkpoint TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""

SCHEMA_POSTGRES = """
CREATE TABLE IF NOT EXISTS calcom_bookings (
    uid           TEXT PRIMARY KEY,
    id            BIGINT,
    title         TEXT,
    status        TEXT,
    start_time    TIMESTAMPTZ,
    end_time      TIMESTAMPTZ,
    duration      INTEGER,
    event_type_id BIGINT,
    attendees     TEXT,
    created_at    TIMESTAMPTZ,
    updated_at    TIMESTAMPTZ,
    data          JSONB NOT NULL,
    synced_at     TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS calcom_sync_state (
    name       TEXT PRIMARY KEY,
    checkpoint TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
"""

_NAMES = (
    "uid, id, title, status, start_time, end_time, duration, event_type_id, attendees, "
    "created_at, updated_at, data, synced_at"
)
_UPDATES = ", ".join(
    f"{c} = excluded.{c}" for c in _NAMES.split(", ") if c != "uid"
)  # every column but the key
_STATE_UPSERT = (
    "INSERT INTO calcom_sync_state (name, checkpoint, updated_at) VALUES ({p}, {p}, {p}) "
    "ON CONFLICT (name) DO UPDATE SET checkpoint = excluded.checkpoint, "
    "updated_at = excluded.updated_at"
)

Row = tuple[Any, ...]


class Database(Protocol):
    """Where ``calcom sync`` writes: the checkpoint read once, then pages written with theirs."""

    label: str

    async def load(self, name: str) -> str | None: ...

    async def write(self, rows: Sequence[Row], name: str, checkpoint: str) -> None:
        """The rows and the checkpoint that covers them, in one transaction."""

    async def count(self) -> int: ...

    async def aclose(self) -> None: ...


def _row(booking: dict[str, Any], now: str) -> Row:
    """The booking's columns, the booking itself (JSON text) and when this run wrote it."""
    return (*columns(booking), orjson.dumps(booking).decode(), now)


class SQLite:
    """sqlite3, each write in a worker thread (the event loop keeps serving the walk)."""

    def __init__(self, path: str) -> None:
        self.label = f"sqlite:///{path}"
        try:
            self._db = sqlite3.connect(path, check_same_thread=False)
            self._db.executescript(SCHEMA_SQLITE)
        except sqlite3.Error as exc:
            raise DatabaseError(f"{self.label}: {exc}") from None
        self._upsert = (
            f"INSERT INTO calcom_bookings ({_NAMES}) VALUES ({', '.join('?' * 13)}) "
            f"ON CONFLICT (uid) DO UPDATE SET {_UPDATES}"
        )

    async def _run(self, fn: Any, *args: Any) -> Any:
        try:
            return await anyio.to_thread.run_sync(fn, *args)
        except sqlite3.Error as exc:
            raise DatabaseError(f"{self.label}: {exc}") from None

    async def load(self, name: str) -> str | None:
        def load() -> str | None:
            row = self._db.execute(
                "SELECT checkpoint FROM calcom_sync_state WHERE name = ?", (name,)
            ).fetchone()
            return None if row is None else str(row[0])

        result: str | None = await self._run(load)
        return result

    async def write(self, rows: Sequence[Row], name: str, checkpoint: str) -> None:
        def write() -> None:
            with self._db:  # one transaction: committed on success, rolled back on error
                self._db.executemany(self._upsert, rows)
                self._db.execute(_STATE_UPSERT.format(p="?"), (name, checkpoint, _now()))

        await self._run(write)

    async def count(self) -> int:
        def count() -> int:
            return int(self._db.execute("SELECT count(*) FROM calcom_bookings").fetchone()[0])

        result: int = await self._run(count)
        return result

    async def aclose(self) -> None:
        self._db.close()


class Postgres:
    """psycopg 3's async connection."""

    def __init__(self, conn: psycopg.AsyncConnection[Any], label: str) -> None:
        self._conn = conn
        self.label = label
        values = ", ".join(["%s"] * 11 + ["%s::jsonb", "%s"])
        self._upsert = (
            f"INSERT INTO calcom_bookings ({_NAMES}) VALUES ({values}) "
            f"ON CONFLICT (uid) DO UPDATE SET {_UPDATES}"
        )

    @classmethod
    async def connect(cls, url: str, label: str) -> Postgres:
        try:
            import psycopg
        except ImportError:
            raise CLIError(
                f"{label} needs a PostgreSQL driver: pip install 'psycopg[binary]' (psycopg 3)"
            ) from None
        try:
            conn = await psycopg.AsyncConnection.connect(
                url, autocommit=True
            )  # transaction() blocks
            async with conn.transaction():
                await conn.execute(SCHEMA_POSTGRES)
        except psycopg.Error as exc:
            raise DatabaseError(f"{label}: {exc}") from None
        return cls(conn, label)

    async def load(self, name: str) -> str | None:
        import psycopg

        try:
            cur = await self._conn.execute(
                "SELECT checkpoint FROM calcom_sync_state WHERE name = %s", (name,)
            )
            row = await cur.fetchone()
        except psycopg.Error as exc:
            raise DatabaseError(f"{self.label}: {exc}") from None
        return None if row is None else str(row[0])

    async def write(self, rows: Sequence[Row], name: str, checkpoint: str) -> None:
        import psycopg

        try:
            async with self._conn.transaction(), self._conn.cursor() as cur:
                await cur.executemany(self._upsert, rows)
                await cur.execute(_STATE_UPSERT.format(p="%s"), (name, checkpoint, _now()))
        except psycopg.Error as exc:
            raise DatabaseError(f"{self.label}: {exc}") from None

    async def count(self) -> int:
        cur = await self._conn.execute("SELECT count(*) FROM calcom_bookings")
        row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def aclose(self) -> None:
        await self._conn.close()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def _label(url: str) -> str:
    """The URL without its password (for messages)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()


async def open_database(url: str) -> Database:
    """A :class:`Database` for ``url``: ``sqlite:///file``, a bare file path, or
    ``postgresql://…`` / ``postgres://…``."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("postgresql", "postgres"):
        return await Postgres.connect(url, _label(url))
    if scheme == "sqlite":
        if parts.netloc or not parts.path.startswith("/") or parts.path == "/":
            raise CLIError(
                f"{url!r}: a SQLite URL is sqlite:///relative/file.db or sqlite:////absolute/file.db"
            )
        path = unquote(parts.path[1:])
    elif scheme == "":  # a plain file path
        path = url
    else:
        raise CLIError(
            f"{_label(url)!r}: not a database URL calcom knows (sqlite:///bookings.db, "
            "postgresql://user@host/db)"
        )
    return SQLite(path)


def _state_name(status: tuple[str, ...]) -> str:
    """A checkpoint belongs to one set of filters (docs/sync.md): one row per set."""
    return "bookings" if not status else "bookings?status=" + ",".join(sorted(set(status)))


async def _sync(
    settings: Settings, url: str, status: tuple[str, ...], page_size: int, batch: int
) -> int:
    label = _label(url)
    parts = urlsplit(url)
    if parts.password:
        settings.secrets.append(unquote(parts.password))
    async with settings.client() as cal:
        db = await open_database(url)
        try:
            name = _state_name(status)
            saved = await db.load(name)
            settings.say(
                f"calcom: syncing into {db.label}"
                + (" (the next increment)" if saved else " (the first run: every booking)")
            )
            started = time.monotonic()
            count = 0
            rows: list[Row] = []
            with Bar(settings, "bookings") as bar:
                walk = cal.bookings.sync(
                    checkpoint=saved,
                    page_size=page_size,
                    status=list(status) or None,
                    on_page=bar.update,
                ).raw()  # each booking as the server sent it
                pages = walk.pages
                try:
                    async for booking in walk:
                        rows.append(_row(booking, _now()))
                        count += 1
                        # the checkpoint covers every booking yielded, this one included
                        if walk.pages != pages or len(rows) >= batch:
                            pages = walk.pages
                            await db.write(rows, name, walk.checkpoint.to_json())
                            rows = []
                except DatabaseError:
                    raise
                except BaseException:
                    # the walk failed or was interrupted while asking for a page: what it
                    # yielded is in `rows` and its checkpoint covers exactly that; keep it
                    with anyio.CancelScope(shield=True):
                        await db.write(rows, name, walk.checkpoint.to_json())
                    raise
                # the rest, and the checkpoint of the walk's end (also when nothing changed)
                await db.write(rows, name, walk.checkpoint.to_json())
            total = await db.count()
        finally:
            await db.aclose()
    elapsed = time.monotonic() - started
    p = walk.progress
    settings.say(
        f"calcom: {plural(count, 'booking change')} upserted into {label} in {elapsed:.1f} s "
        f"({plural(p.requests, 'request')}, {p.rate_limit_wait:.1f} s waiting for the rate limit); "
        f"calcom_bookings has {total} rows"
    )
    return 0


@click.command("sync")
@click.argument("database", default=DEFAULT_URL, metavar="[DATABASE_URL]")
@click.option(
    "--status",
    multiple=True,
    type=click.Choice(STATUSES),
    help="Only bookings with this status (a checkpoint of its own; repeatable).",
)
@click.option(
    "--batch",
    type=click.IntRange(min=1),
    default=250,
    show_default=True,
    help="Commit at least every N bookings (and at the end of each page).",
)
@click.option(
    "--page-size", type=click.IntRange(1, 250), default=250, show_default=True, hidden=True
)
@click.pass_context
def sync(
    ctx: click.Context, database: str, status: tuple[str, ...], batch: int, page_size: int
) -> None:
    """Sync bookings into DATABASE_URL (default: sqlite:///bookings.db); run again for the
    next increment.

    \b
      calcom sync                               # ./bookings.db
      calcom sync sqlite:////var/lib/cal/b.db   # an absolute path
      calcom sync postgresql://me@localhost/cal # needs psycopg[binary]
    """
    settings = get_settings(ctx)
    run(settings, lambda: _sync(settings, database, status, page_size, batch))
