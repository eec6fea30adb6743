"""A real redis-server for tests: a free loopback port, a temporary directory, no persistence.

With ``CI=true`` a missing ``redis-server`` is an error; elsewhere the tests skip.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.net import free_port

REDIS = shutil.which("redis-server")

if REDIS is None:
    if os.environ.get("CI") == "true":
        raise RuntimeError("CI=true: redis-server must be installed (apt-get install redis-server)")
    pytest.skip(
        "redis-server is not installed (apt-get install -y redis-server)", allow_module_level=True
    )


class RedisServer:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert REDIS is not None
        self.proc = subprocess.Popen(
            [
                REDIS,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.tmp),
                "--protected-mode",
                "yes",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def save(self) -> None:
        """Write the data to ``dump.rdb`` in the server's directory (``SAVE``): a later
        :meth:`start` on the same port and directory comes back with it, as a Redis with
        persistence does after a restart."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as conn:
            conn.sendall(b"SAVE\r\n")
            assert conn.recv(16).startswith(b"+OK"), "SAVE failed"


@contextlib.contextmanager
def running(tmp: Path) -> Iterator[RedisServer]:
    """A started redis-server, killed on exit."""
    server = RedisServer(tmp)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of the test's own, stopped after it."""
    with running(tmp_path) as server:
        yield server
