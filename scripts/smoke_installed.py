"""The smoke test of an installed wheel, run *inside* a fresh virtual environment.

``scripts/dist.py smoke`` creates the environment, installs the wheel (with one extra or none)
and runs this file with that environment's interpreter in isolated mode (``python -I``, from a
temporary directory), so ``calcom_async`` can only come from the wheel. Standard library only,
besides the package under test and what its extras bring.

Checked for every environment: the import (from site-packages, ``py.typed`` beside it, the
version of the wheel), the fake started as a subprocess (``python -m calcom_async.testing``), a
typed call, a list walk, a full and an incremental sync, the blocking facade and, with the
dependencies of the other extras absent, that the base install really is only the runtime
dependencies. Per extra (``--extra``): ``redis`` a sync resumed from a checkpoint kept in a real
redis-server, ``encryption`` a token pair encrypted at rest in it, ``cli`` the ``calcom``
command (``--help`` and one call against the fake), ``testing`` a user's test file on the
pytest plugin's fixtures (one test that passes, one that must fail). Exit status 0: all
passed; otherwise the first failure is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import importlib.resources
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DIST = "calcom-async"
IN_CI = os.environ.get("CI", "").lower() == "true"
#: the modules each extra brings: absent from an environment installed without that extra
EXTRA_MODULES = {
    "redis": "redis",
    "encryption": "cryptography",
    "cli": "click",
    "testing": "pytest_asyncio",
}
#: modules of the development extras: never in an environment of the wheel (pytest: but with
#: the testing extra)
DEV_MODULES = ("pytest", "mypy", "codegen", "datamodel_code_generator", "mkdocs", "hypothesis")
BOOKINGS = 120


class SmokeFailure(Exception):
    """One check failed: the message says which and what was seen."""


def check(condition: bool, what: str) -> None:
    if not condition:
        raise SmokeFailure(what)


def ok(what: str) -> None:
    print(f"  ok  {what}", flush=True)


# -- the package -------------------------------------------------------------------------------


def check_import(version: str | None) -> None:
    import calcom_async

    location = Path(calcom_async.__file__).resolve()
    check(
        Path(sys.prefix).resolve() in location.parents,
        f"calcom_async imported from {location}, not from this environment ({sys.prefix})",
    )
    check(
        importlib.resources.files("calcom_async").joinpath("py.typed").is_file(),
        "py.typed is missing beside the installed package",
    )
    installed = importlib.metadata.version(DIST)
    check(
        calcom_async.__version__ == installed,
        f"__version__ {calcom_async.__version__} != the distribution's {installed}",
    )
    if version is not None:
        check(installed == version, f"installed {installed}, the wheel is {version}")
    ok(f"import calcom_async {installed} from {location.parent}")


def check_only_runtime(extras: list[str]) -> None:
    for extra, module in EXTRA_MODULES.items():
        if extra not in extras:
            check(
                importlib.util.find_spec(module) is None,
                f"{module} is installed although the {extra!r} extra was not asked for",
            )
    for module in DEV_MODULES:
        if module == "pytest" and "testing" in extras:
            continue
        check(importlib.util.find_spec(module) is None, f"{module} is installed (development)")
    ok("only the runtime dependencies" + (f" and {', '.join(extras)}" if extras else ""))


# -- the fake, as a user starts it -------------------------------------------------------------


class Fake:
    def __init__(self, process: subprocess.Popen[str], base_url: str, api_key: str) -> None:
        self.process = process
        self.base_url = base_url
        self.api_key = api_key

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "CALCOM_BASE_URL": self.base_url, "CALCOM_API_KEY": self.api_key}


@contextmanager
def fake_server(bookings: int) -> Iterator[Fake]:
    command = [sys.executable, "-m", "calcom_async.testing", "--port", "0"]
    process = subprocess.Popen(
        [*command, "--bookings", str(bookings)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    seen: list[str] = []
    base_url = api_key = None
    deadline = time.monotonic() + 60
    try:
        for line in process.stdout:
            seen.append(line.rstrip())
            if match := re.search(r"listening on (http://\S+)", line):
                base_url = match.group(1)
            if match := re.search(r"API key:\s+(\S+)", line):
                api_key = match.group(1)
            if "to stop" in line or time.monotonic() > deadline:
                break
        check(
            base_url is not None and api_key is not None,
            "python -m calcom_async.testing did not print its URL and key:\n" + "\n".join(seen),
        )
        assert base_url is not None and api_key is not None
        ok(f"python -m calcom_async.testing: {base_url}")
        yield Fake(process, base_url, api_key)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            rest, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise SmokeFailure("the fake did not stop within 20 s of SIGTERM") from None
    check(process.returncode == 0, f"the fake exited with {process.returncode}: {rest}")
    check("stopped" in rest, f"the fake did not say it stopped: {rest!r}")
    ok("the fake stopped on SIGTERM (exit status 0)")


# -- the library against it ------------------------------------------------------------------


async def check_async_client(fake: Fake) -> int:
    from calcom_async import CalCom, SyncCheckpoint, models

    async with CalCom(api_key=fake.api_key, base_url=fake.base_url) as cal:
        me = await cal.me.get()
        check(isinstance(me, models.MeOutput), f"cal.me.get() returned {type(me).__name__}")
        check(isinstance(me.id, int) and "@" in me.email, f"an odd MeOutput: {me!r}")
        ok(f"typed call: cal.me.get() -> MeOutput(id={me.id})")

        listed = [b async for b in cal.bookings.list(max_items=25, page_size=10)]
        check(len(listed) == 25, f"cal.bookings.list(max_items=25) gave {len(listed)}")
        check(
            all(isinstance(b, models.BookingOutput_2024_08_13) for b in listed[:1])
            and all(isinstance(b.uid, str) and b.uid for b in listed),
            f"the listed bookings are not typed: {type(listed[0]).__name__}",
        )
        ok("cal.bookings.list(max_items=25, page_size=10): 25 typed bookings")

        sync = cal.bookings.sync(page_size=50)
        full = {b.uid async for b in sync}
        check(len(full) == BOOKINGS, f"a full sync gave {len(full)} bookings, not {BOOKINGS}")
        saved = sync.checkpoint.to_json()
        check(SyncCheckpoint.from_json(saved) == sync.checkpoint, "a checkpoint did not round-trip")
        changed = listed[0].uid
        await cal.bookings.cancel(
            changed, models.CancelBookingInput_2024_08_13(cancellation_reason="smoke")
        )
        again = cal.bookings.sync(checkpoint=saved)
        increment = [b async for b in again]
        check(
            [b.uid for b in increment] == [changed] and increment[0].status == "cancelled",
            f"the incremental sync after one cancel gave {[b.uid for b in increment]}",
        )
        ok(f"sync: {len(full)} bookings, then the 1 changed since the checkpoint")
        return me.id


def check_blocking(fake: Fake, me_id: int) -> None:
    from calcom_async import CalComSync

    with CalComSync(api_key=fake.api_key, base_url=fake.base_url) as cal:
        me = cal.me.get()
        check(me.id == me_id, f"CalComSync: me.id {me.id} != {me_id}")
        page = cal.bookings.list(max_items=3).to_list()
        check(len(page) == 3, f"CalComSync: list(max_items=3).to_list() gave {len(page)}")
    ok("blocking facade: CalComSync me.get(), bookings.list().to_list()")


# -- extras ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def redis_server() -> Iterator[str | None]:
    binary = shutil.which("redis-server")
    if binary is None:
        if IN_CI:
            raise SmokeFailure("redis-server is not installed (CI=true: it must be)")
        print("  SKIP redis-server is not installed (apt-get install redis-server)")
        yield None
        return
    port = free_port()
    with tempfile.TemporaryDirectory() as workdir:
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", workdir],
            stdout=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    check(time.monotonic() < deadline, "redis-server did not start in 20 s")
                    time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait(timeout=20)


async def check_redis(fake: Fake, url: str) -> None:
    from calcom_async import CalCom
    from calcom_async.stores import RedisStore

    async with RedisStore.from_url(url, namespace="smoke") as store:
        async with CalCom(api_key=fake.api_key, base_url=fake.base_url, store=store) as cal:
            first = [b async for b in cal.bookings.sync(checkpoint_key="smoke")]
            kept = await store.get_checkpoint("smoke")
            check(kept is not None, "no checkpoint in Redis after a sync with checkpoint_key")
        # a second client (as another process would) resumes from the checkpoint in Redis
        async with CalCom(api_key=fake.api_key, base_url=fake.base_url, store=store) as cal:
            second = [b async for b in cal.bookings.sync(checkpoint_key="smoke")]
    check(len(first) == BOOKINGS and second == [], f"redis sync: {len(first)}, {len(second)}")
    ok(f"redis: a sync's checkpoint kept in redis-server, resumed by another client ({url})")


async def check_encryption(url: str) -> None:
    from cryptography.fernet import Fernet

    from calcom_async import TokenPair
    from calcom_async.stores import RedisStore

    secret = "smoke-access-token-0123456789"
    pair = TokenPair(access_token=secret, refresh_token="smoke-refresh", access_token_expires_at=1)
    cipher = Fernet(Fernet.generate_key())
    async with RedisStore.from_url(url, namespace="smoke-enc", cipher=cipher) as store:
        await store.seed_tokens("user-1", pair.to_json())  # a store holds a pair as bytes
        blob, _version = await store.load_tokens("user-1")
        loaded = None if blob is None else TokenPair.from_json(blob)
        check(loaded == pair, "the token pair read back differs from the one stored")
        blobs = [await store.redis.get(key) async for key in store.redis.scan_iter("*smoke-enc*")]
        check(bool(blobs), "nothing was written to Redis")
        check(
            not any(isinstance(b, bytes) and secret.encode() in b for b in blobs),
            "a token is stored in clear text",
        )
    ok("encryption: a token pair stored encrypted with Fernet, read back")


def console_scripts() -> list[str]:
    """The commands the installed distribution declares (``[project.scripts]``)."""
    return [
        ep.name
        for ep in importlib.metadata.distribution(DIST).entry_points
        if ep.group == "console_scripts"
    ]


def check_cli_missing() -> None:
    """Without the cli extra, a declared ``calcom`` says what to install (no traceback)."""
    if "calcom" not in console_scripts():
        return
    calcom = Path(sys.executable).parent / "calcom"
    shown = subprocess.run([str(calcom), "--help"], capture_output=True, text=True, timeout=60)
    check(
        shown.returncode != 0
        and "calcom-async[cli]" in shown.stderr
        and "Traceback" not in shown.stderr,
        f"calcom without the cli extra: exit {shown.returncode}, {shown.stderr!r}",
    )
    ok("calcom without the cli extra: says to install calcom-async[cli]")


def check_cli(fake: Fake) -> None:
    check("calcom" in console_scripts(), "the cli extra is installed but no `calcom` is declared")
    calcom = Path(sys.executable).parent / "calcom"
    check(calcom.is_file(), f"the cli extra is installed but there is no {calcom}")
    shown = subprocess.run(
        [str(calcom), "--help"], capture_output=True, text=True, timeout=60, env=fake.env
    )
    check(shown.returncode == 0, f"calcom --help: exit {shown.returncode}: {shown.stderr}")
    check("api" in shown.stdout, f"calcom --help does not list `api`:\n{shown.stdout}")
    called = subprocess.run(
        [str(calcom), "api", "GET", "/v2/me"],
        capture_output=True,
        text=True,
        timeout=60,
        env=fake.env,
    )
    check(called.returncode == 0, f"calcom api GET /v2/me: exit {called.returncode}: {called}")
    check(fake.api_key not in called.stdout + called.stderr, "calcom printed the API key")
    answer: Any = json.loads(called.stdout)
    check("owner@fakecal.example" in json.dumps(answer), f"calcom api GET /v2/me: {answer!r}")
    ok("cli: calcom --help; calcom api GET /v2/me against the fake")


USER_TESTS = """\
pytest_plugins = ["calcom_async.testing.pytest_plugin"]


async def test_me(fake_calcom_client):
    me = await fake_calcom_client.me.get()
    assert me.email == "owner@fakecal.example"


async def test_wrong_email(fake_calcom_client):
    me = await fake_calcom_client.me.get()
    assert me.email == "someone-else@example.com"
"""


def check_testing() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        Path(workdir, "test_user.py").write_text(USER_TESTS)
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        command += ["-o", "asyncio_mode=auto", "test_user.py"]
        passed = subprocess.run(
            [*command, "-k", "test_me"], capture_output=True, text=True, timeout=120, cwd=workdir
        )
        check(
            passed.returncode == 0 and "1 passed" in passed.stdout,
            f"a test on the fake_calcom_client fixture did not pass:\n{passed.stdout}",
        )
        failed = subprocess.run(
            [*command, "-k", "test_wrong"], capture_output=True, text=True, timeout=120, cwd=workdir
        )
        check(
            failed.returncode == 1 and "1 failed" in failed.stdout,
            f"a test that must fail on the fixture did not fail:\n{failed.stdout}",
        )
    ok("testing: the pytest plugin's fake_calcom_client in a user's test (1 pass, 1 fail)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--extra", action="append", default=[], choices=sorted(EXTRA_MODULES))
    parser.add_argument("--version", help="the version of the wheel installed")
    args = parser.parse_args(argv)
    extras: list[str] = args.extra
    try:
        check_import(args.version)
        check_only_runtime(extras)
        with fake_server(BOOKINGS) as fake:
            me_id = asyncio.run(check_async_client(fake))
            check_blocking(fake, me_id)
            if "redis" in extras or "encryption" in extras:
                with redis_server() as url:
                    if url is not None and "redis" in extras:
                        asyncio.run(check_redis(fake, url))
                    if url is not None and "encryption" in extras:
                        asyncio.run(check_encryption(url))
            if "cli" in extras:
                check_cli(fake)
            else:
                check_cli_missing()
        if "testing" in extras:
            check_testing()
    except SmokeFailure as exc:
        print(f"  FAILED: {exc}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
