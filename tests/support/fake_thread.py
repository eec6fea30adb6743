"""A FakeCalCom served on an event loop of its own thread, for what cannot share the test's loop:
the blocking client (``CalComSync`` runs its own), FastAPI's TestClient, code run in a
subprocess."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from calcom_async.testing import FakeCalCom

T = TypeVar("T")


class FakeOnThread:
    """``with FakeOnThread(**kwargs) as fake:`` a started ``FakeCalCom(**kwargs)``, closed (and
    its loop stopped) on exit; :meth:`run` runs a coroutine on the fake's loop."""

    def __init__(self, **kwargs: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.fake = FakeCalCom(**kwargs)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(30)

    def __enter__(self) -> FakeCalCom:
        self.thread.start()
        self.run(self.fake.start())
        return self.fake

    def __exit__(self, *exc: object) -> None:
        self.run(self.fake.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
