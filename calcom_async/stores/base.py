"""The :class:`Store` boundary: what a client keeps in a store, and the helpers every store uses
(see :mod:`calcom_async.stores`)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .._ratelimit import RateLimit

__all__ = ["Cipher", "RefreshLock", "Store", "TokenLock", "credential_bucket"]


@runtime_checkable
class Cipher(Protocol):
    """Encrypts token pairs at rest (``cryptography.fernet.Fernet`` has this shape)."""

    def encrypt(self, data: bytes) -> bytes: ...

    def decrypt(self, token: bytes) -> bytes: ...


def credential_bucket(headers: Mapping[str, str]) -> str:
    """The rate-limit bucket of a request: a hash of the credential it carries (never the
    credential itself)."""
    credential = headers.get("Authorization") or headers.get("x-cal-client-id") or ""
    return hashlib.sha256(credential.encode()).hexdigest()[:24]


class RefreshLock(Protocol):
    """Held while one process refreshes a token pair. ``version``: the stored pair's version when
        the lock was taken (the fence: a new pair is written only over this version); ``pair``: the
    stored pair then (bytes, ``TokenPair.from_json``), or None."""

    version: int
    pair: bytes | None


class Store(Protocol):
    """The boundary (see the module docstring). ``distributed``: state is shared beyond this
    process, so the client coordinates through the store instead of in-process only."""

    distributed: bool

    # -- rate limits ------------------------------------------------------------------------
    async def rate_acquire(self, bucket: str, max_wait: float) -> None: ...

    async def rate_release(
        self,
        bucket: str,
        limits: Mapping[str, RateLimit] | None,
        status: int | None,
        retry_after: float | None,
    ) -> None: ...

    # -- token pairs --------------------------------------------------------------------------
    # a pair is bytes here (``TokenPair.to_json``): a store never reads what it holds
    async def load_tokens(self, key: str) -> tuple[bytes | None, int]: ...

    async def seed_tokens(self, key: str, pair: bytes) -> tuple[bytes, int]: ...

    def refresh_lock(self, key: str) -> AbstractAsyncContextManager[RefreshLock]: ...

    async def save_tokens(self, key: str, pair: bytes, expected_version: int) -> bool: ...

    # -- checkpoints --------------------------------------------------------------------------
    async def get_checkpoint(self, key: str) -> str | None: ...

    async def set_checkpoint(self, key: str, value: str) -> None: ...

    async def delete_checkpoint(self, key: str) -> None: ...

    # -- webhook deliveries -----------------------------------------------------------------
    async def claim(self, key: str, ttl: float) -> bool:
        """``True`` for the first claim of ``key`` within ``ttl`` seconds (atomically, across
        every process sharing the store), ``False`` for a repeat."""
        ...

    async def aclose(self) -> None: ...


class TokenLock:
    """A held :class:`RefreshLock`: the version and the pair (bytes) it was taken over."""

    def __init__(self, version: int, pair: bytes | None) -> None:
        self.version = version
        self.pair = pair
