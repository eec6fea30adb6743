"""Where a client keeps the state that several processes may share.

    from calcom_async.stores import RedisStore

    store = RedisStore.from_url("redis://localhost:6379/0", namespace="acme")
    async with CalCom(client_id=..., client_secret=..., access_token=..., refresh_token=...,
                      token_key="managed-user-42", store=store) as cal:
        async for booking in cal.bookings.sync(checkpoint_key="nightly"):
            ...

The state that goes through a :class:`Store`:

- the **rate-limit budget** per credential and named window (``X-RateLimit-*-<Name>``);
- **managed-user token pairs** with their **refresh lock** (refresh tokens rotate: two processes
  refreshing one user at once would lock the user out);
- **sync checkpoints** (``cal.bookings.sync(checkpoint_key=...)``);
- **webhook deliveries already received** (``webhooks.Router(..., replay_window=...,
  store=...)``), so that a repeat reaching another receiver process is not dispatched twice.

:class:`MemoryStore` (the default) keeps everything in the process: the client paces itself with
its in-process limiter and refreshes tokens single-flight within the process, as before.
:class:`RedisStore` (``pip install 'calcom-async[redis]'``) shares all three across processes and
machines: the budget is taken atomically by a Lua script and corrected from the server's headers,
a refresh is single-flight across processes (a lock with an expiry, and a fenced write: a pair is
stored only over the version it was refreshed from, so a holder whose lock expired can never
overwrite a newer pair), checkpoints are written atomically.

Every Redis call runs under a deadline (``timeout``): an unreachable Redis, or one that goes
away mid-run, raises :class:`StoreUnavailableError` — never a hang. No key name carries a secret
(credentials are hashed into key names, token keys are your own identifiers); token pairs can be
encrypted at rest with any object that has ``encrypt(bytes) -> bytes`` and
``decrypt(bytes) -> bytes`` (``cryptography.fernet.Fernet`` fits).

A store holds token pairs as bytes (``TokenPair.to_json`` / ``TokenPair.from_json``), so no
store knows a token class. The rooms: ``base`` (the :class:`Store` protocol, ``Cipher``,
``credential_bucket``), ``memory`` (:class:`MemoryStore`), ``redis`` (:class:`RedisStore`, its
Lua scripts in ``lua/*.lua``).
"""

from .._errors import StoreDataError, StoreUnavailableError
from .base import Cipher, RefreshLock, Store, credential_bucket
from .memory import MemoryStore
from .redis import RedisStore

__all__ = [
    "Cipher",
    "MemoryStore",
    "RedisStore",
    "RefreshLock",
    "Store",
    "StoreDataError",
    "StoreUnavailableError",
    "credential_bucket",
]
