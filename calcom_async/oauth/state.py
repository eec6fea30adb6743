"""Where :class:`~calcom_async.oauth.OAuthRedirect` keeps each issued ``state`` until the
redirect comes back."""

from __future__ import annotations

import hashlib
import hmac
from typing import Protocol

from .._clock import Clock, SystemClock

__all__ = ["MemoryStateStore", "StateStore", "same"]


class StateStore(Protocol):
    """Where :class:`OAuthRedirect` keeps each issued ``state`` with its PKCE verifier until the
    redirect comes back. ``take`` must be single use (remove what it returns) and must not
    return an entry older than its ``ttl``. Share one store (Redis, a database) between
    processes that serve the same redirect URI."""

    async def put(self, state: str, code_verifier: str, ttl: float) -> None: ...

    async def take(self, state: str) -> str | None:
        """The verifier stored for ``state`` (removing it), or None if unknown or expired."""
        ...


class MemoryStateStore:
    """The default :class:`StateStore`: a dict in this process, keyed by a hash of the state
    (the lookup reveals nothing through timing), the stored value compared in constant time,
    bounded to ``max_entries``."""

    def __init__(self, *, clock: Clock | None = None, max_entries: int = 10_000) -> None:
        self._clock = clock or SystemClock()
        self._max = max_entries
        self._entries: dict[str, tuple[str, str, float]] = {}

    def __repr__(self) -> str:
        return f"MemoryStateStore(entries={len(self._entries)})"

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def _key(state: str) -> str:
        return hashlib.sha256(state.encode("utf-8", "surrogatepass")).hexdigest()

    async def put(self, state: str, code_verifier: str, ttl: float) -> None:
        now = self._clock.monotonic()
        if len(self._entries) >= self._max:
            self._entries = {k: v for k, v in self._entries.items() if v[2] > now}
            while len(self._entries) >= self._max:  # still full: drop the oldest
                del self._entries[next(iter(self._entries))]
        self._entries[self._key(state)] = (state, code_verifier, now + ttl)

    async def take(self, state: str) -> str | None:
        entry = self._entries.pop(self._key(state), None)
        if entry is None:
            return None
        stored, verifier, expires = entry
        if not same(stored, state) or self._clock.monotonic() >= expires:
            return None
        return verifier


def same(a: str, b: str) -> bool:
    """``a == b`` in constant time."""
    return hmac.compare_digest(
        a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass")
    )
