"""A real PostgreSQL server for tests: initdb into a temporary directory, a free loopback port,
trust authentication for the test's own user, removed afterwards.

As root (postgres refuses to run as root) the server runs as the ``postgres`` user. With
``CI=true`` a missing PostgreSQL is an error; elsewhere the tests skip.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.net import free_port

__all__ = ["PostgresServer", "postgres_server"]


def _bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for root in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (root / name).exists():
            return str(root / name)
    return None


INITDB, PG_CTL = _bin("initdb"), _bin("pg_ctl")


def _require() -> None:
    if INITDB is None or PG_CTL is None:
        if os.environ.get("CI") == "true":
            raise RuntimeError("CI=true: PostgreSQL must be installed (apt-get install postgresql)")
        pytest.skip("PostgreSQL is not installed (apt-get install -y postgresql)")


class PostgresServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        self.user = "calcom"
        self.url = f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres"
        self._as: list[str] = []
        if os.geteuid() == 0:  # postgres will not run as root: as the postgres user then
            pw = pwd.getpwnam("postgres")
            os.chown(root, pw.pw_uid, pw.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        subprocess.run(
            [*self._as, *args], check=True, capture_output=True, timeout=120, cwd=self.root
        )

    def start(self) -> None:
        assert INITDB is not None and PG_CTL is not None
        self._run(INITDB, "-D", str(self.data), "-A", "trust", "-U", self.user, "--no-sync")
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
        log = str(self.root / "server.log")  # the server's output: not the pipes of this run
        self._run(PG_CTL, "-D", str(self.data), "-o", options, "-l", log, "-w", "-t", "60", "start")

    def stop(self) -> None:
        assert PG_CTL is not None
        if (self.data / "postmaster.pid").exists():
            self._run(PG_CTL, "-D", str(self.data), "-m", "immediate", "-w", "stop")


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    _require()
    root = Path(tempfile.mkdtemp(prefix="calcom-pg-"))
    server = PostgresServer(root)
    try:
        started = time.monotonic()
        server.start()
        assert time.monotonic() - started < 120
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
