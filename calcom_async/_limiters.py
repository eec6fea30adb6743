"""One rate-limit budget per credential per process: which :class:`RateLimiter` a client uses.

The clients that send the same credential to the same server share one limiter, found in a
:class:`LimiterRegistry` by (server, a hash of the credential, clock), never the credential
itself. The event loop is not part of the key: a ``CalComSync`` runs a loop of its own in a
thread, and thirty of them, one after another or at once, spend one budget (the limiter is
thread-safe and wakes a waiting task on its own loop, see ``_ratelimit``).

A limiter is kept while a client holds it, and after its last client is gone for as long as it
knows something a new client would otherwise learn from a 429 (a window not yet ended, a block,
requests in flight): one client per request (or per script run of a ``with CalComSync(...)``)
finds the budget the previous one left. A limiter that knows nothing more than a fresh one is
dropped.

Clients given a store of their own (``store=MemoryStore()``) use that store's registry instead,
and share only with the clients given the same store.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from ._clock import Clock, SystemClock
from ._ratelimit import RateLimiter

__all__ = ["PROCESS_LIMITERS", "LimiterRegistry"]

_PRUNE_AT = 64  #: look for idle limiters to drop once this many are kept past their clients


class LimiterRegistry:
    """Rate limiters by (server, credential hash, clock): the clients that find theirs here
    share one budget, from any event loop or thread (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        #: every limiter a client holds (weakly: it goes with its last client, unless kept)
        self._limiters: weakref.WeakValueDictionary[tuple[Any, ...], RateLimiter] = (
            weakref.WeakValueDictionary()
        )
        #: the limiters handed out, kept past their clients until they are idle
        self._kept: dict[tuple[Any, ...], RateLimiter] = {}
        self._prune_at = _PRUNE_AT

    def get(self, scope: str, bucket: str, clock: Clock, max_wait: float) -> RateLimiter:
        # every SystemClock is the same clock; an injected one (tests) shares with itself only
        key = (scope, bucket, "system" if type(clock) is SystemClock else clock)
        try:
            hash(key)
        except TypeError:  # an injected clock that cannot be hashed: a budget of its own
            return RateLimiter(clock, max_wait=max_wait)
        with self._lock:
            limiter = self._limiters.get(key)
            if limiter is None:
                limiter = self._limiters[key] = RateLimiter(clock, max_wait=max_wait)
            self._kept[key] = limiter
            if len(self._kept) >= self._prune_at:  # amortised: the kept ones at most double
                self._kept = {k: v for k, v in self._kept.items() if not v.idle()}
                self._prune_at = max(_PRUNE_AT, 2 * len(self._kept))
        return limiter

    def forget(self, scope: str) -> None:
        """Drop every budget learnt from the server at ``scope`` (its base URL): a new server
        there starts with a fresh one (``FakeCalCom`` calls it when it starts on a port)."""
        with self._lock:
            for key in [k for k in self._limiters if k[0] == scope]:
                del self._limiters[key]
            self._kept = {k: v for k, v in self._kept.items() if k[0] != scope}

    def clear(self) -> None:
        """Forget every budget (a test that wants a process with no history)."""
        with self._lock:
            self._limiters.clear()
            self._kept.clear()

    def __len__(self) -> int:
        return len(self._limiters)


#: the process-wide registry: clients with no store of their own share budgets through it
PROCESS_LIMITERS = LimiterRegistry()
