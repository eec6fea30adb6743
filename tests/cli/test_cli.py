"""The ``calcom`` command end to end: the installed console script in a real subprocess against
FakeCalCom (served in the test's event loop, or started with ``calcom fake``), the progress bar
on a pseudo terminal, databases that are real (a SQLite file, a PostgreSQL server)."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import fcntl
import io
import os
import pty
import re
import signal
import sqlite3
import struct
import subprocess
import sys
import termios
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import attrs
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from calcom_async import CalCom
from calcom_async.cli._api import find_operation, parse_fields
from calcom_async.cli._errors import EXIT_CODES, CLIError, describe
from calcom_async.testing import FakeCalCom, Limit
from calcom_async.webhooks import SIGNATURE_HEADER, WebhookTriggerEvent, verify_signature

CALCOM = Path(sys.executable).parent / "calcom"
WEBHOOK_SECRET = "whsec_SECRET_cli_listen"
WRONG_KEY = "cal_live_SECRET_not_the_fakes_0123456789"


@attrs.frozen
class Result:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


def _env(fake: FakeCalCom | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALCOM_")}
    env["COLUMNS"] = "200"
    if fake is not None:
        env["CALCOM_BASE_URL"] = fake.base_url
        env["CALCOM_API_KEY"] = fake.api_key
    env.update(extra)
    return env


async def calcom(
    *args: str,
    fake: FakeCalCom | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    within: float = 120,
) -> Result:
    """Run the console script; the fake keeps serving in this loop meanwhile."""
    proc = await asyncio.create_subprocess_exec(
        str(CALCOM),
        *args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env or _env(fake),
        cwd=cwd,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), within)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return Result(proc.returncode, out.decode(), err.decode())


def _no_secrets(result: Result, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in result.out and secret not in result.err, secret


def test_the_console_script_is_installed() -> None:
    assert CALCOM.exists(), "pip install -e '.[cli]' installs the `calcom` script"
    done = subprocess.run([str(CALCOM), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    for command in ("api", "bookings", "fake", "sync", "webhooks"):
        assert command in done.stdout


# -- calcom fake ---------------------------------------------------------------------------------


def test_fake_prints_its_url_and_credentials_and_serves_them(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [str(CALCOM), "fake", "--port", "0", "--bookings", "7"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        assert proc.stdout is not None
        head = []
        for line in proc.stdout:
            head.append(line)
            if "to stop" in line:
                break
        text = "".join(head)
        url = re.search(r"listening on (http://127\.0\.0\.1:\d+)", text)
        key = re.search(r"API key:\s+(\S+)", text)
        pair = re.search(r"OAuth client:\s+(\S+) / (\S+)", text)
        assert url and key and pair, text
        assert "bookings: 7" in text
        env = _env(CALCOM_BASE_URL=url.group(1), CALCOM_API_KEY=key.group(1))
        done = subprocess.run(
            [str(CALCOM), "api", "GET", "/v2/bookings", "-F", "take=100"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert len(orjson.loads(done.stdout)["data"]) == 7
        # the printed platform pair works too
        env = _env(
            CALCOM_BASE_URL=url.group(1),
            CALCOM_CLIENT_ID=pair.group(1),
            CALCOM_CLIENT_SECRET=pair.group(2),
        )
        done = subprocess.run(
            [str(CALCOM), "api", "GET", f"/v2/oauth-clients/{pair.group(1)}/users"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert orjson.loads(done.stdout)["status"] == "success"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "stopped" in out


# -- calcom bookings export ----------------------------------------------------------------------


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


async def test_export_streams_every_booking_once_as_jsonl(tmp_path: Path) -> None:
    async with FakeCalCom() as fake:
        fake.seed(bookings=640)
        out = tmp_path / "bookings.jsonl"
        result = await calcom("bookings", "export", "--output", str(out), fake=fake)
        assert result.code == 0, result.err
        rows = _jsonl(out)
        uids = [row["uid"] for row in rows]
        assert len(uids) == len(set(uids)) == 640
        assert set(uids) == set(fake.store.bookings)
        for row in rows[:50]:  # the booking as the API sent it
            assert row == fake.store.bookings[row["uid"]].data
        # three pages, then one request for what changed meanwhile
        assert re.search(r"exported 640 bookings to .*\(\d+ bookings/s; 4 requests", result.err)
        # stdout is the default output, and holds nothing else
        result = await calcom("-q", "bookings", "export", fake=fake)
        assert result.code == 0 and result.err == ""
        assert {orjson.loads(line)["uid"] for line in result.lines} == set(uids)


async def test_export_csv_with_status_filters_as_the_library(tmp_path: Path) -> None:
    async with FakeCalCom() as fake:
        fake.seed(bookings=300)
        async with fake.client() as cal:
            wanted = {b.uid async for b in cal.bookings.list(status=["cancelled", "past"])}
        assert 0 < len(wanted) < 300
        out = tmp_path / "b.csv"
        result = await calcom(
            "bookings", "export", "--format", "csv", "--status", "cancelled", "--status",
            "past", "-o", str(out), fake=fake,
        )  # fmt: skip
        assert result.code == 0, result.err
        rows = list(csv.DictReader(io.StringIO(out.read_text())))
        assert {r["uid"] for r in rows} == wanted and len(rows) == len(wanted)
        assert {r["status"] for r in rows} <= {"cancelled", "accepted", "pending", "rejected"}
        one = fake.store.bookings[rows[0]["uid"]]
        assert rows[0]["title"] == one.data["title"]
        assert rows[0]["attendees"].split(";")[0] == one.data["attendees"][0]["email"]


async def test_export_since_keeps_the_bookings_changed_since(tmp_path: Path) -> None:
    async with FakeCalCom() as fake:
        fake.seed(bookings=200)
        async with fake.client() as cal:
            raw = await cal.bookings.with_raw_response.list(take=250)
        stamped = [row for row in raw.json()["data"] if row["updatedAt"] is not None]
        since = sorted(row["updatedAt"] for row in stamped)[len(stamped) // 2]
        wanted = {row["uid"] for row in stamped if row["updatedAt"] >= since}
        assert 0 < len(wanted) < 200
        result = await calcom("-q", "bookings", "export", "--since", since, fake=fake)
        assert result.code == 0, result.err
        assert {orjson.loads(line)["uid"] for line in result.lines} == wanted
        result = await calcom("bookings", "export", "--since", "last tuesday", fake=fake)
        assert result.code == 2
        assert "calcom: usage: --since 'last tuesday' is not a date" in result.err


def _fail_nth(n: int) -> Callable[[str, str, str], bool]:
    """A fault predicate: the n-th call of bookings.list (and only it)."""
    seen = {"calls": 0}

    def match(name: str, method: str, path: str) -> bool:
        if name != "bookings.list":
            return False
        seen["calls"] += 1
        return seen["calls"] == n

    return match


async def test_export_resumes_from_its_checkpoint_with_every_booking_once(
    tmp_path: Path,
) -> None:
    async with FakeCalCom() as fake:
        fake.seed(bookings=700)
        out, ckpt = tmp_path / "b.jsonl", tmp_path / "b.ckpt"
        args = ("bookings", "export", "-o", str(out), "--checkpoint", str(ckpt))
        fake.faults.inject("error", status=503, match=_fail_nth(4))
        first = await calcom("--max-retries", "0", *args, "--page-size", "100", fake=fake)
        assert first.code == 8, first.err
        assert "calcom: server error: 503" in first.err
        assert len(_jsonl(out)) == 300  # three pages, each saved with its checkpoint
        state = orjson.loads(ckpt.read_bytes())
        assert state["exported"] == 300 and state["offset"] == out.stat().st_size
        # a crash after writing past the last checkpoint: the resume cuts that off
        _append(out, b'{"uid": "half a line')
        second = await calcom(*args, "--page-size", "100", fake=fake)
        assert second.code == 0, second.err
        assert "resuming from" in second.err and "300 exported before" in second.err
        uids = [row["uid"] for row in _jsonl(out)]
        assert len(uids) == len(set(uids)) == 700 and set(uids) == set(fake.store.bookings)
        # a finished checkpoint: the next run exports what changed since
        async with fake.client() as cal:
            await cal.bookings.cancel(uids[5], {"cancellationReason": "moved"})
        third = await calcom(*args, "--page-size", "100", fake=fake)
        assert third.code == 0, third.err
        rows = _jsonl(out)
        assert len(rows) == 701 and rows[-1]["uid"] == uids[5]
        assert rows[-1]["status"] == "cancelled"
        assert "exported 1 booking " in third.err and "1 request," in third.err
        # the checkpoint belongs to these options
        other = await calcom(*args, "--format", "csv", fake=fake)
        assert other.code == 2
        assert "belongs to an export with format 'jsonl', not 'csv'" in other.err


async def test_ctrl_c_saves_the_checkpoint_and_exits_130(tmp_path: Path) -> None:
    async with FakeCalCom() as fake:
        fake.seed(bookings=400)
        fake.faults.latency = 0.2  # a slow server: the run is still going when Ctrl-C comes
        out, ckpt, db = tmp_path / "b.jsonl", tmp_path / "b.ckpt", tmp_path / "b.db"
        export = ("bookings", "export", "-o", str(out), "--checkpoint", str(ckpt))
        sync = ("sync", f"sqlite:///{db}")
        for args, ready in ((export, ckpt), (sync, db)):
            before = len(fake.requests)
            proc = await asyncio.create_subprocess_exec(
                str(CALCOM), *args, "--page-size", "50",
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env(fake),
            )  # fmt: skip
            async with asyncio.timeout(60):
                # another process's progress: its files and the fake's log, polled
                while not (ready.exists() and len(fake.requests) - before >= 3):  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
            proc.send_signal(signal.SIGINT)
            assert proc.stderr is not None
            err = (await asyncio.wait_for(proc.stderr.read(), 60)).decode()
            assert await proc.wait() == 130, err
            assert "calcom: interrupted" in err
        fake.faults.latency = 0.0
        saved = orjson.loads(ckpt.read_bytes())
        assert 0 < saved["exported"] < 400 and saved["offset"] == out.stat().st_size
        assert 0 < len(_sqlite_rows(db)) < 400
        for args in (export, sync):
            done = await calcom(*args, fake=fake)
            assert done.code == 0, done.err
        uids = [row["uid"] for row in _jsonl(out)]
        assert len(uids) == len(set(uids)) == 400
        assert set(_sqlite_rows(db)) == set(fake.store.bookings)


def _append(path: Path, data: bytes) -> None:
    with open(path, "ab") as fh:
        fh.write(data)


def _pty_run(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run with stderr on a pseudo terminal (160 columns); return the exit code and the screen
    text it wrote (escape sequences removed)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    proc = subprocess.Popen(
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=slave,
        env={**env, "TERM": "xterm-256color"},
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    code = proc.wait(timeout=120)
    text = b"".join(chunks).decode("utf-8", "replace")
    return code, re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


async def test_export_draws_a_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    import anyio

    # 2 requests a second: the walk's requests wait for the rate limit, and the bar says so
    async with FakeCalCom(rate_limit=[Limit("default", 2, 1.0, 1.0)]) as fake:
        fake.seed(bookings=300)
        args = [str(CALCOM), "bookings", "export", "--page-size", "50", "-o", "/dev/null"]
        code, screen = await anyio.to_thread.run_sync(_pty_run, args, _env(fake))
    assert code == 0, screen
    final = screen.replace("\r", "\n").splitlines()
    bars = [line for line in final if line.strip().startswith("⠋") or " bookings " in line]
    summary = re.search(r"exported 300 bookings .*; (\d+) requests", screen)
    assert summary, screen
    requests = summary.group(1)  # 6 full pages, a short one, one for the changes meanwhile
    assert int(requests) >= 7
    assert any("300/300" in line and f" {requests} requests" in line for line in bars), screen
    waits = [float(m) for m in re.findall(r"(\d+\.\d)s rate-limited", screen)]
    assert waits and max(waits) > 0.5, screen  # the time spent waiting for the rate limit


async def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    async with FakeCalCom() as fake:
        fake.seed(bookings=20)
        result = await calcom("bookings", "export", "-o", str(tmp_path / "x"), fake=fake)
        assert result.code == 0
        assert "1 request," in result.err and "rate-limited" not in result.err
        forced = await calcom("--progress", "bookings", "export", "-o", os.devnull, fake=fake)
        assert "20/20" in forced.err and "rate-limited" in forced.err


# -- calcom sync ---------------------------------------------------------------------------------


def _sqlite_rows(path: Path) -> dict[str, tuple[Any, ...]]:
    db = sqlite3.connect(path)
    try:
        rows = db.execute("SELECT uid, status, updated_at, data FROM calcom_bookings").fetchall()
    finally:
        db.close()
    return {row[0]: row for row in rows}


def _sqlite_checkpoint(path: Path) -> dict[str, Any]:
    db = sqlite3.connect(path)
    try:
        (text,) = db.execute(
            "SELECT checkpoint FROM calcom_sync_state WHERE name = 'bookings'"
        ).fetchone()
    finally:
        db.close()
    data: dict[str, Any] = orjson.loads(text)
    return data


async def test_sync_into_sqlite_then_the_next_increment(tmp_path: Path) -> None:
    async with FakeCalCom() as fake:
        fake.seed(bookings=520)
        first = await calcom("sync", fake=fake, cwd=tmp_path)  # the default: ./bookings.db
        assert first.code == 0, first.err
        db = tmp_path / "bookings.db"
        rows = _sqlite_rows(db)
        assert set(rows) == set(fake.store.bookings)
        uid = next(iter(rows))
        assert orjson.loads(rows[uid][3])["uid"] == uid
        assert _sqlite_checkpoint(db)["watermark"] is not None
        assert "520 booking changes upserted" in first.err and "has 520 rows" in first.err
        async with fake.client() as cal:
            await cal.bookings.cancel(uid, {"cancellationReason": "moved"})
        second = await calcom("sync", f"sqlite:///{db}", fake=fake)
        assert second.code == 0, second.err
        assert "1 booking change upserted" in second.err and "(1 request," in second.err
        after = _sqlite_rows(db)
        assert len(after) == 520 and after[uid][1] == "cancelled"
        assert after[uid][2] > rows[uid][2]


async def test_sync_commits_each_page_with_its_checkpoint(tmp_path: Path) -> None:
    async with FakeCalCom() as fake:
        fake.seed(bookings=450)
        db = tmp_path / "b.db"
        fake.faults.inject("error", status=502, match=_fail_nth(3))
        args = ("sync", f"sqlite:///{db}", "--page-size", "100")
        failed = await calcom("--max-retries", "0", *args, fake=fake)
        assert failed.code == 8, failed.err
        assert len(_sqlite_rows(db)) == 200  # two pages committed, each with its checkpoint
        first = _sqlite_checkpoint(db)["first"]
        assert first is not None and len(first["uids"]) >= 1
        done = await calcom(*args, fake=fake)
        assert done.code == 0, done.err
        assert "250 booking changes upserted" in done.err  # resumed after the two pages
        assert set(_sqlite_rows(db)) == set(fake.store.bookings)


@pytest.fixture(scope="module")
def postgres() -> Iterator[Any]:
    from tests.cli._postgres_server import postgres_server

    with postgres_server() as server:
        yield server


async def test_sync_into_postgresql(tmp_path: Path, postgres: Any) -> None:
    import psycopg

    async with FakeCalCom() as fake:
        fake.seed(bookings=300)
        first = await calcom("sync", postgres.url, fake=fake)
        assert first.code == 0, first.err
        with psycopg.connect(postgres.url) as conn:
            rows = dict(conn.execute("SELECT uid, data->>'title' FROM calcom_bookings").fetchall())
            (kind,) = conn.execute(
                "SELECT data_type FROM information_schema.columns "
                "WHERE table_name = 'calcom_bookings' AND column_name = 'start_time'"
            ).fetchone()  # type: ignore[misc]
        assert set(rows) == set(fake.store.bookings)
        uid = next(iter(rows))
        assert rows[uid] == fake.store.bookings[uid].data["title"]
        assert kind == "timestamp with time zone"
        async with fake.client() as cal:
            await cal.bookings.cancel(uid, {"cancellationReason": "moved"})
        second = await calcom("sync", postgres.url, fake=fake)
        assert second.code == 0, second.err
        assert "1 booking change upserted" in second.err
        with psycopg.connect(postgres.url) as conn:
            (status,) = conn.execute(
                "SELECT status FROM calcom_bookings WHERE uid = %s", (uid,)
            ).fetchone()  # type: ignore[misc]
        assert status == "cancelled"


async def test_sync_postgresql_without_a_driver_says_what_to_install(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['psycopg'] = None; from calcom_async.cli import main; "
        "main(sys.argv[1:])"
    )
    async with FakeCalCom() as fake:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", code, "sync", "postgresql://me:SECRET_pw@127.0.0.1:1/cal",
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(fake),
        )  # fmt: skip
        out, err = await proc.communicate()
    assert proc.returncode == 2
    assert "needs a PostgreSQL driver: pip install 'psycopg[binary]'" in err.decode()
    assert "SECRET_pw" not in err.decode() + out.decode()


async def test_sync_errors_of_the_database_are_one_line(tmp_path: Path) -> None:
    async with FakeCalCom() as fake:
        bad = await calcom("sync", "postgresql://me:SECRET_pw@127.0.0.1:1/cal", fake=fake)
        assert bad.code == 13 and bad.err.count("\n") == 1, bad.err
        assert bad.err.startswith("calcom: database: postgresql://me:***@127.0.0.1:1/cal")
        assert "SECRET_pw" not in bad.err
        unknown = await calcom("sync", "mysql://x/y", fake=fake)
        assert unknown.code == 2 and "not a database URL calcom knows" in unknown.err
        folder = await calcom("sync", f"sqlite:///{tmp_path}", fake=fake)
        assert folder.code == 13 and "unable to open database file" in folder.err


# -- calcom api ----------------------------------------------------------------------------------


def test_fields_are_typed_like_gh() -> None:
    assert parse_fields(
        ("take=5", "ok=true", "no=false", "none=null", "f=1.5", "s=abc", "a[]=1", "a[]=x",
         "o[k]=2", "o[n][]=3"),
        ("raw=5", "t=true"),
    ) == {
        "take": 5, "ok": True, "no": False, "none": None, "f": 1.5, "s": "abc", "a": [1, "x"],
        "o": {"k": 2, "n": [3]}, "raw": "5", "t": "true",
    }  # fmt: skip
    for bad in ("novalue", "=x", "a[]b=1"):
        with pytest.raises(CLIError):
            parse_fields((bad,), ())
    with pytest.raises(CLIError, match="another kind"):
        parse_fields(("a=1", "a[b]=2"), ())
    op = find_operation("GET", "/v2/bookings/abc")
    assert op is not None and op.name == "bookings.get"
    assert find_operation("GET", "/v2/no/such/thing") is None


async def test_api_calls_any_endpoint_through_the_pipeline(tmp_path: Path) -> None:
    async with FakeCalCom() as fake:
        fake.seed(bookings=12)
        me = await calcom("api", "GET", "me", fake=fake)
        assert me.code == 0, me.err
        assert orjson.loads(me.out)["data"]["email"]
        page = await calcom("api", "GET", "/v2/bookings", "-F", "take=5", fake=fake)
        assert page.code == 0, page.err
        body = orjson.loads(page.out)
        assert len(body["data"]) == 5 and body["pagination"]["totalItems"] == 12
        # POST with a typed body: event types need cal-api-version 2024-06-14, which the
        # operation table gives (the fake refuses a call without it)
        made = await calcom(
            "api", "POST", "/v2/event-types", "-f", "title=From the shell", "-f", "slug=shell",
            "-F", "lengthInMinutes=30", "-i", fake=fake,
        )  # fmt: skip
        assert made.code == 0, made.err
        assert made.out.startswith("HTTP 201\n") or made.out.startswith("HTTP 200\n")
        created = orjson.loads(made.out.split("\n\n", 1)[1])["data"]
        assert created["lengthInMinutes"] == 30 and created["slug"] == "shell"
        sent = [r for r in fake.requests if r.path == "/v2/event-types" and r.method == "POST"]
        assert sent[-1].api_version == "2024-06-14"
        # --version overrides it: the fake refuses another version, a one-line error, code 6
        wrong = await calcom(
            "api", "POST", "/v2/event-types", "-f", "title=x", "-f", "slug=x2",
            "-F", "lengthInMinutes=30", "--version", "2024-01-01", fake=fake,
        )  # fmt: skip
        assert wrong.code == 6 and wrong.err.startswith("calcom: request refused: 400")
        assert orjson.loads(wrong.out)["status"] == "error"  # the error's body on stdout
        # --input: a whole body
        body_file = tmp_path / "body.json"
        body_file.write_bytes(orjson.dumps({"title": "In", "slug": "in", "lengthInMinutes": 15}))
        from_file = await calcom(
            "api", "POST", "/v2/event-types", "--input", str(body_file), fake=fake
        )
        assert from_file.code == 0 and orjson.loads(from_file.out)["data"]["slug"] == "in"


async def test_api_errors_are_one_line_with_an_exit_code(tmp_path: Path) -> None:
    async with FakeCalCom() as fake:
        missing = await calcom("api", "GET", "/v2/bookings/nosuchuid", fake=fake)
        assert missing.code == 5 and missing.err.startswith("calcom: not found: 404")
        assert missing.err.count("\n") == 1
        denied = await calcom("--api-key", WRONG_KEY, "api", "GET", "me", fake=fake)
        assert denied.code == 3 and "authentication failed: 401" in denied.err
        _no_secrets(denied, WRONG_KEY)
        verb = await calcom("api", "FETCH", "me", fake=fake)
        assert verb.code == 2 and "usage: method must be one of" in verb.err
        field = await calcom("api", "GET", "me", "-F", "novalue", fake=fake)
        assert field.code == 2 and "'novalue' is not key=value" in field.err
        port = fake.base_url.rsplit(":", 1)[1]
    # the fake has stopped: nothing listens there any more
    gone = await calcom(
        "--max-retries", "0", "api", "GET", "me",
        env=_env(CALCOM_BASE_URL=f"http://127.0.0.1:{port}", CALCOM_API_KEY=WRONG_KEY),
    )  # fmt: skip
    assert gone.code == 9 and gone.err.startswith("calcom: cannot reach the API"), gone.err
    verbose = await calcom(
        "-v", "--max-retries", "0", "api", "GET", "me",
        env=_env(CALCOM_BASE_URL=f"http://127.0.0.1:{port}", CALCOM_API_KEY=WRONG_KEY),
    )  # fmt: skip
    assert verbose.code == 9 and "Traceback (most recent call last)" in verbose.err
    _no_secrets(gone, WRONG_KEY)
    _no_secrets(verbose, WRONG_KEY)


def test_every_typed_error_has_a_line_and_a_code() -> None:
    import calcom_async

    typed = [
        getattr(calcom_async, name)
        for name in calcom_async.__all__
        if isinstance(getattr(calcom_async, name), type)
        and issubclass(getattr(calcom_async, name), calcom_async.CalComError)
    ]
    assert len(typed) >= 15
    for cls in typed:
        row = next(r for r in EXIT_CODES if issubclass(cls, r.error))
        assert row.error is not calcom_async.CalComError or cls is calcom_async.CalComError, cls
    assert describe(calcom_async.CalComUsageError("bad\n input"))[1] == (
        "usage: bad input — nothing was sent"
    )
    code, line = describe(RuntimeError("boom"))
    assert code == 1 and "--verbose" in line


# -- calcom webhooks listen ----------------------------------------------------------------------


class Received:
    """What the --forward target got: (body, signature) of each POST."""

    def __init__(self) -> None:
        self.posts: list[tuple[bytes, str | None]] = []
        self.arrived = asyncio.Event()


@pytest.fixture
async def forward_target() -> AsyncIterator[tuple[str, Received]]:
    received = Received()

    async def take(request: web.Request) -> web.Response:
        received.posts.append((await request.read(), request.headers.get(SIGNATURE_HEADER)))
        received.arrived.set()
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/hook", take)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("/hook")), received
    await server.close()


async def _read_until(stream: asyncio.StreamReader, needle: str, within: float = 60) -> str:
    seen = ""
    async with asyncio.timeout(within):
        while needle not in seen:
            line = await stream.readline()
            if not line:
                raise AssertionError(f"ended before {needle!r}: {seen}")
            seen += line.decode()
    return seen


async def test_webhooks_listen_verifies_prints_and_forwards(
    forward_target: tuple[str, Received],
) -> None:
    target, received = forward_target
    proc = await asyncio.create_subprocess_exec(
        str(CALCOM), "webhooks", "listen", "--port", "0", "--path", "/cal",
        "--forward", target,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=_env(CALCOM_WEBHOOK_SECRET=WEBHOOK_SECRET),
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    try:
        started = await _read_until(proc.stderr, "Ctrl-C")
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+/cal)", started)
        assert match, started
        url = match.group(1)
        async with FakeCalCom(webhook_backoff=0.01) as fake:
            cal: CalCom = fake.client()
            et = await cal.event_types.create(
                {"title": "Intro", "slug": "intro-cli", "lengthInMinutes": 30}
            )
            await cal.webhooks.create(
                subscriber_url=url,
                triggers=[WebhookTriggerEvent.BOOKING_CREATED],
                active=True,
                secret=WEBHOOK_SECRET,
            )
            day = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=2)).isoformat()
            end = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=9)).isoformat()
            slots = await cal.slots.with_raw_response.get_available(
                event_type_id=int(et.id), start=day, end=end
            )
            start = next(s["start"] for d in slots.json()["data"].values() for s in d)
            booking = await cal.bookings.create(
                {
                    "eventTypeId": int(et.id),
                    "start": start,
                    "attendee": {"name": "Ann", "email": "ann@example.org", "timeZone": "UTC"},
                }
            )
            line = await _read_until(proc.stdout, "BOOKING_CREATED")
            assert f"uid={booking.uid}" in line and "delivery=" in line
            delivery = (await fake.deliveries.wait(1, timeout=30))[0]
            assert delivery.attempts[-1].status == 200
        # a forgery: refused with 401, logged on stderr, not printed or forwarded
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=b'{"x": 1}', headers={SIGNATURE_HEADER: "0" * 64}) as bad,
        ):
            assert bad.status == 401
        await _read_until(proc.stderr, "refused")
        await asyncio.wait_for(received.arrived.wait(), 30)
        body, signature = received.posts[0]
        assert body == delivery.body
        verify_signature(body, signature, WEBHOOK_SECRET)  # the target verifies it
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err
    assert len(received.posts) == 1
    assert WEBHOOK_SECRET not in out.decode() + err.decode()


# -- secrets -------------------------------------------------------------------------------------


async def test_secrets_are_never_printed(tmp_path: Path) -> None:
    """Every subcommand, succeeding and failing, with --verbose: the key given (on the command
    line or in the environment) appears in neither stream."""
    async with FakeCalCom(client_secret="fake_client_SECRET_known_0001") as fake:
        fake.seed(bookings=30)
        key = fake.api_key
        in_env = _env(
            fake, CALCOM_CLIENT_SECRET=fake.client_secret, CALCOM_WEBHOOK_SECRET=WEBHOOK_SECRET
        )
        runs = [
            await calcom("-v", "bookings", "export", "-o", str(tmp_path / "x"), fake=fake),
            await calcom("-v", "--progress", "sync", f"sqlite:///{tmp_path}/s.db", fake=fake),
            await calcom("-v", "api", "GET", "me", "-i", fake=fake),
            await calcom("-v", "api", "GET", "/v2/bookings/nope", fake=fake),
            await calcom(
                "-v",
                "--api-key",
                key,
                "--client-id",
                fake.client_id,
                "--client-secret",
                fake.client_secret,
                "api",
                "GET",
                f"/v2/oauth-clients/{fake.client_id}/users",
                env=_env(CALCOM_BASE_URL=fake.base_url),
            ),
            await calcom("-v", "--api-key", WRONG_KEY, "api", "GET", "me", fake=fake),
            await calcom("-v", "--timeout", "-1", "api", "GET", "me", fake=fake),
            await calcom("--help", env=in_env),
            await calcom("api", "--help", env=in_env),
            await calcom("webhooks", "listen", "--help", env=in_env),
            await calcom("-v", "webhooks", "listen", "--port", "-1", env=in_env),
        ]
    assert [r.code for r in runs] == [0, 0, 0, 5, 0, 3, 2, 0, 0, 0, 2], [r.err for r in runs]
    for result in runs:
        _no_secrets(result, key, WRONG_KEY, fake.client_secret, WEBHOOK_SECRET)


def test_without_the_cli_extra_the_command_says_what_to_install() -> None:
    code = "import sys; sys.modules['click'] = None; from calcom_async.cli import main; main([])"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=_env()
    )
    assert done.returncode == 2
    assert "pip install 'calcom-async[cli]'" in done.stderr
