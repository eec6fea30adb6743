"""Shared state in Redis: the budget, token pairs with their refresh lock, checkpoints and
webhook claims (see :mod:`calcom_async.stores`). Each atomic step is a Lua script in
``lua/<name>.lua`` beside this module (package data)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio

from .._deadline import current as current_deadline
from .._deadline import log_wait
from .._errors import (
    CalComError,
    CalComUsageError,
    RateLimitError,
    StoreDataError,
    StoreUnavailableError,
)
from .._progress import record_wait
from .base import Cipher, TokenLock

if TYPE_CHECKING:
    from .._ratelimit import RateLimit

__all__ = ["RedisStore"]

logger = logging.getLogger("calcom_async")


def _script(name: str) -> str:
    """The Lua source of one script (``lua/<name>.lua``, shipped in the package)."""
    from importlib import resources  # here: importing the package stays cheap

    return resources.files(__package__).joinpath("lua", f"{name}.lua").read_text("utf-8")


class RedisStore:
    """Shared state in Redis (see the module docstring).

    ``client``: a ``redis.asyncio.Redis`` or ``redis.asyncio.RedisCluster``. ``namespace``
    prefixes every key (``calcom:<namespace>:…``); ``timeout``: the deadline of
    each Redis call; ``lock_ttl``: how long a refresh lock lives if its holder dies (waiters
    take over after it); ``cipher``: encrypts token pairs at rest; ``slack``: seconds added to
    every reset the server reports (it rounds them to whole seconds).
    """

    distributed = True

    def __init__(
        self,
        client: Any,
        *,
        namespace: str = "default",
        timeout: float = 5.0,
        lock_ttl: float = 15.0,
        cipher: Cipher | None = None,
        slack: float = 0.25,
    ) -> None:
        if not namespace or any(c in namespace for c in " \n\r\t"):
            raise CalComUsageError("namespace must be a non-empty string without whitespace")
        if timeout <= 0 or lock_ttl <= 0:
            raise CalComUsageError("timeout and lock_ttl must be > 0")
        if cipher is not None and not isinstance(cipher, Cipher):
            raise CalComUsageError("cipher must have encrypt(bytes) and decrypt(bytes) methods")
        self._redis = client
        self._prefix = f"calcom:{namespace}:"
        self._timeout = timeout
        self.lock_ttl = lock_ttl
        self._cipher = cipher
        self._slack_ms = int(slack * 1000)
        self._take = client.register_script(_script("take"))
        self._learn = client.register_script(_script("learn"))
        self._save = client.register_script(_script("save"))
        self._seed = client.register_script(_script("seed"))
        self._lock = client.register_script(_script("lock"))
        self._unlock = client.register_script(_script("unlock"))
        self._extend = client.register_script(_script("extend"))

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        namespace: str = "default",
        timeout: float = 5.0,
        lock_ttl: float = 15.0,
        cipher: Cipher | None = None,
        cluster: bool = False,
        slack: float = 0.25,
        **redis_kwargs: Any,
    ) -> RedisStore:
        """A store on a new ``redis.asyncio.Redis`` client for ``url`` (``redis://…``,
        ``rediss://…``, ``unix://…``); ``cluster=True``: a ``redis.asyncio.RedisCluster``
        (``url`` names any node of the cluster)."""
        try:
            import redis.asyncio as aioredis
        except ImportError:  # pragma: no cover - depends on the environment
            raise CalComUsageError(
                "RedisStore needs redis-py: pip install 'calcom-async[redis]'"
            ) from None
        redis_kwargs.setdefault("socket_timeout", timeout)
        redis_kwargs.setdefault("socket_connect_timeout", timeout)
        client: Any
        if cluster:
            client = aioredis.RedisCluster.from_url(url, **redis_kwargs)
        else:
            # a connection Redis closed (a restart, a failover, an idle timeout) is reopened once
            # instead of failing the call; every script is safe to send twice (a lost reply)
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff
            from redis.exceptions import ConnectionError as RedisConnectionError

            redis_kwargs.setdefault(
                "retry", Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,))
            )
            client = aioredis.Redis.from_url(url, **redis_kwargs)
        return cls(
            client,
            namespace=namespace,
            timeout=timeout,
            lock_ttl=lock_ttl,
            cipher=cipher,
            slack=slack,
        )

    def __repr__(self) -> str:
        return f"RedisStore(namespace={self._prefix[7:-1]!r})"

    @property
    def redis(self) -> Any:
        """The ``redis.asyncio.Redis`` (or ``RedisCluster``) client."""
        return self._redis

    def key(self, kind: str, name: str) -> str:
        """The Redis key of one piece of state (``name`` must not be a secret).

        ``name`` is a hash tag (``calcom:<namespace>:<kind>:{<name>}``): the keys one script
        touches (a budget and its probe, a pair and its version) live in one slot of a Redis
        Cluster."""
        return f"{self._prefix}{kind}:{{{name}}}"

    async def _call(self, what: str, coro: Any) -> Any:
        import redis.exceptions

        try:
            with anyio.fail_after(self._timeout):
                return await coro
        except TimeoutError:
            raise StoreUnavailableError(
                f"Redis did not answer within {self._timeout:g}s ({what})"
            ) from None
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
            raise StoreUnavailableError(f"Redis unavailable ({what}): {exc}") from exc
        except redis.exceptions.RedisError as exc:  # OOM, READONLY after a failover, …
            raise StoreUnavailableError(f"Redis refused ({what}): {exc}") from exc

    async def ping(self) -> None:
        """Raise :class:`StoreUnavailableError` unless Redis answers."""
        await self._call("ping", self._redis.ping())

    # -- rate limits ------------------------------------------------------------------------

    async def rate_acquire(self, bucket: str, max_wait: float) -> None:
        keys = [self.key("rl", bucket), self.key("rl-probe", bucket)]
        waited = 0.0
        ttl_ms = 3_600_000
        # bounded: every round sleeps, and the rounds stop at max_wait
        while True:
            wait_ms = int(
                await self._call("rate limit", self._take(keys=keys, args=[5000, ttl_ms]))
            )
            if wait_ms == 0:
                return
            seconds = 0.02 if wait_ms < 0 else wait_ms / 1000.0
            deadline = current_deadline()
            if deadline is not None:  # a wait for an answer (-1): until the deadline at most
                wait = seconds if wait_ms > 0 else 0.0
                deadline.check(time.monotonic(), wait, "rate limit", limit="shared budget")
            if waited + seconds > max_wait:
                raise RateLimitError(
                    f"rate limited: the shared budget frees up in {seconds:.0f}s, longer than "
                    f"{max_wait:.0f}s",
                    retry_after=seconds,
                    status_code=429,
                    code="ClientSideRateLimit",
                )
            if wait_ms > 0:
                log_wait(seconds, "rate limit", "shared budget", deadline, time.monotonic())
            await anyio.sleep(seconds)
            record_wait(seconds)
            waited += seconds

    async def rate_release(
        self,
        bucket: str,
        limits: Mapping[str, RateLimit] | None,
        status: int | None,
        retry_after: float | None,
    ) -> None:
        keys = [self.key("rl", bucket), self.key("rl-probe", bucket)]
        args: list[Any] = [
            str(status or 0),
            -1 if retry_after is None else int(retry_after * 1000),
            self._slack_ms,
            1500,
            3_600_000,
        ]
        for info in (limits or {}).values():
            if info.limit is None or info.remaining is None:
                continue
            reset = -1 if info.reset is None else int(info.reset * 1000)
            args += [info.name or "default", info.limit, info.remaining, reset]
        with anyio.CancelScope(shield=True):  # the budget must learn even if the caller left
            await self._call("rate limit", self._learn(keys=keys, args=args))

    # -- token pairs ------------------------------------------------------------------------

    def _dump(self, pair: bytes) -> bytes:
        return self._cipher.encrypt(pair) if self._cipher is not None else pair

    def _load(self, blob: bytes | None) -> bytes | None:
        if blob is None or self._cipher is None:
            return blob
        try:
            return self._cipher.decrypt(blob)
        except Exception as exc:  # the cipher's own error (Fernet: InvalidToken)
            raise StoreDataError(
                "a stored token pair does not decrypt with this store's cipher (another key?): "
                f"{type(exc).__name__}"
            ) from None

    def _token_keys(self, key: str) -> list[str]:
        return [self.key("tokens", key), self.key("tokens-version", key)]

    async def load_tokens(self, key: str) -> tuple[bytes | None, int]:
        blob, version = await self._call("load tokens", self._redis.mget(self._token_keys(key)))
        return self._load(blob), int(version or 0)

    async def seed_tokens(self, key: str, pair: bytes) -> tuple[bytes, int]:
        blob, version = await self._call(
            "store tokens", self._seed(keys=self._token_keys(key), args=[self._dump(pair)])
        )
        loaded = self._load(blob)
        assert loaded is not None
        return loaded, int(version)

    async def save_tokens(self, key: str, pair: bytes, expected_version: int) -> bool:
        with anyio.CancelScope(shield=True):  # a rotated pair must not be lost to a cancel
            done = await self._call(
                "store tokens",
                self._save(keys=self._token_keys(key), args=[self._dump(pair), expected_version]),
            )
        return bool(done)

    @asynccontextmanager
    async def refresh_lock(self, key: str) -> AsyncIterator[TokenLock]:
        """Take the refresh lock of ``key`` (waiting for a holder, at most ``lock_ttl`` plus a
        deadline), yielding the pair and version it was taken over."""
        name = self.key("lock", key)
        me = secrets.token_hex(16)
        ttl_ms = int(self.lock_ttl * 1000)
        # a live holder extends its lock while it works: wait for it (a refresh is one request,
        # with its timeout and retries) up to a hard limit; a dead holder's lock expires
        patience = max(8 * self.lock_ttl, 180.0)
        deadline = anyio.current_time() + patience + self._timeout
        call = current_deadline()
        while not await self._call("refresh lock", self._lock(keys=[name], args=[me, ttl_ms])):
            if anyio.current_time() > deadline:
                raise StoreUnavailableError(
                    f"the refresh lock of {key!r} was not released within {patience:g}s"
                )
            if call is not None:  # another process refreshes: wait within the call's deadline
                call.check(time.monotonic(), 0.05, "token refresh")
            await anyio.sleep(0.05)
        stop = asyncio.Event()
        heartbeat = asyncio.ensure_future(self._keep_alive(name, me, ttl_ms, stop))
        try:
            pair, version = await self.load_tokens(key)
            yield TokenLock(version, pair)
        finally:
            # shielded: a holder whose caller was cancelled still releases the lock at once
            # (otherwise every other process waits for it to expire). Every step has a
            # deadline: on Python 3.11 a cancel() can be lost inside redis-py (its
            # asyncio.wait_for swallows a cancel that arrives as the send completes), so the
            # heartbeat also stops on ``stop``, and is waited for a bounded time only
            with anyio.CancelScope(shield=True):
                stop.set()
                heartbeat.cancel()
                await asyncio.wait([heartbeat], timeout=self._timeout)
                with anyio.move_on_after(self._timeout):
                    try:
                        await self._unlock(keys=[name], args=[me])
                    except Exception:  # the lock expires by itself
                        logger.warning("could not release the refresh lock of %r", key)

    async def _keep_alive(self, name: str, me: str, ttl_ms: int, stop: asyncio.Event) -> None:
        """Extend the held lock every third of its lifetime until ``stop`` (or cancelled)."""
        while not stop.is_set():
            with anyio.move_on_after(self.lock_ttl / 3):
                await stop.wait()
            if stop.is_set():
                return
            try:
                extended = await self._call(
                    "refresh lock", self._extend(keys=[name], args=[me, ttl_ms])
                )
            except CalComError:  # Redis away for a moment: try again, the lock may still be ours
                if not stop.is_set():
                    logger.warning("could not extend the refresh lock (trying again)")
                continue
            if not extended:
                logger.warning("the refresh lock expired while held (fenced writes stay safe)")
                return

    # -- checkpoints ------------------------------------------------------------------------

    async def get_checkpoint(self, key: str) -> str | None:
        value = await self._call("load checkpoint", self._redis.get(self.key("checkpoint", key)))
        return None if value is None else value.decode() if isinstance(value, bytes) else value

    async def set_checkpoint(self, key: str, value: str) -> None:
        # one SET: atomic (a reader sees the old or the new checkpoint, never a mix)
        with anyio.CancelScope(shield=True):
            await self._call(
                "store checkpoint", self._redis.set(self.key("checkpoint", key), value)
            )

    async def delete_checkpoint(self, key: str) -> None:
        await self._call("delete checkpoint", self._redis.delete(self.key("checkpoint", key)))

    # -- webhook deliveries -----------------------------------------------------------------

    async def claim(self, key: str, ttl: float) -> bool:
        """``SET NX PX`` (the lock's script: a claim resent after a lost reply is still ours):
        the first process to claim ``key`` gets ``True``."""
        me, ttl_ms = secrets.token_hex(16), max(1, int(ttl * 1000))
        name = self.key("claim", key)
        try:
            done = await self._call("claim", self._lock(keys=[name], args=[me, ttl_ms]))
        except StoreUnavailableError:
            # the claim may have landed with its answer late or lost (a busy Redis): the caller
            # answers 503 and the sender delivers again, which must not find it claimed (it
            # would be a "duplicate" never dispatched). Take it back if it is ours, best effort.
            with (
                anyio.CancelScope(shield=True),
                anyio.move_on_after(self._timeout),
                contextlib.suppress(Exception),
            ):
                await self._unlock(keys=[name], args=[me])
            raise
        return bool(done)

    async def aclose(self) -> None:
        """Close the Redis client (clients using this store are not closed)."""
        await self._redis.aclose()

    async def __aenter__(self) -> RedisStore:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
