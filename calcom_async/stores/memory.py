"""The default store: everything in this process."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import anyio

from .._limiters import LimiterRegistry
from .base import TokenLock

if TYPE_CHECKING:
    from .._ratelimit import RateLimit

__all__ = ["MemoryStore"]


class MemoryStore:
    """The default: everything stays in this process (the in-process limiter and refresh lock do
    the work, as without a store). Without ``store=``, clients share one budget per credential
    with every client of the process; the clients given one ``MemoryStore`` share their budgets
    with each other only (``limiters``). Checkpoints (``checkpoint_key=``) and webhook claims
    are kept in dicts, shared by the clients and routers given the same store; token pairs are
    not shared through it (a client refreshes its own pair, single-flight within the client)."""

    distributed = False

    def __init__(self) -> None:
        self._checkpoints: dict[str, str] = {}
        self._tokens: dict[str, tuple[bytes, int]] = {}
        self._locks: dict[str, anyio.Lock] = {}
        self._claims: dict[str, float] = {}
        #: the rate-limit budgets of the clients given this store (one per credential)
        self.limiters = LimiterRegistry()

    def __repr__(self) -> str:
        return "MemoryStore()"

    async def rate_acquire(self, bucket: str, max_wait: float) -> None:
        return None  # the in-process RateLimiter paces requests

    async def rate_release(
        self,
        bucket: str,
        limits: Mapping[str, RateLimit] | None,
        status: int | None,
        retry_after: float | None,
    ) -> None:
        return None

    async def load_tokens(self, key: str) -> tuple[bytes | None, int]:
        pair, version = self._tokens.get(key, (None, 0))
        return pair, version

    async def seed_tokens(self, key: str, pair: bytes) -> tuple[bytes, int]:
        return self._tokens.setdefault(key, (pair, 1))

    @asynccontextmanager
    async def refresh_lock(self, key: str) -> AsyncIterator[TokenLock]:
        lock = self._locks.setdefault(key, anyio.Lock())
        async with lock:
            pair, version = self._tokens.get(key, (None, 0))
            yield TokenLock(version, pair)

    async def save_tokens(self, key: str, pair: bytes, expected_version: int) -> bool:
        _, version = self._tokens.get(key, (None, 0))
        if version != expected_version:
            return False
        self._tokens[key] = (pair, version + 1)
        return True

    async def get_checkpoint(self, key: str) -> str | None:
        return self._checkpoints.get(key)

    async def set_checkpoint(self, key: str, value: str) -> None:
        self._checkpoints[key] = value

    async def delete_checkpoint(self, key: str) -> None:
        self._checkpoints.pop(key, None)

    async def claim(self, key: str, ttl: float) -> bool:
        now = time.monotonic()
        if len(self._claims) > 1024:  # now and then: forget the expired ones
            self._claims = {k: t for k, t in self._claims.items() if t > now}
        if self._claims.get(key, 0.0) > now:
            return False
        self._claims[key] = now + ttl
        return True

    async def aclose(self) -> None:
        return None

    async def __aenter__(self) -> MemoryStore:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
