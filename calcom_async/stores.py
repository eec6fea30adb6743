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
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import anyio
import orjson

from ._deadline import current as current_deadline
from ._deadline import log_wait
from ._errors import CalComError, CalComUsageError, RateLimitError
from ._progress import record_wait
from ._ratelimit import LimiterRegistry

if TYPE_CHECKING:
    from ._auth import TokenPair
    from ._ratelimit import RateLimit

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

logger = logging.getLogger("calcom_async")


class StoreUnavailableError(CalComError):
    """The shared store (Redis) did not answer within its deadline, or refused the connection.

    Nothing was decided on a guess: a rate-limit slot was not taken, a token was not refreshed.
    """


class StoreDataError(CalComError):
    """A token pair in the store cannot be read: it does not decrypt with this store's cipher (a
    different key, or a pair written without one), or it is not a token pair. Retrying does not
    help; the message names the problem, never the stored value."""


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
    the lock was taken (the fence: a new pair is written only over this version)."""

    version: int
    pair: TokenPair | None


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
    async def load_tokens(self, key: str) -> tuple[TokenPair | None, int]: ...

    async def seed_tokens(self, key: str, pair: TokenPair) -> tuple[TokenPair, int]: ...

    def refresh_lock(self, key: str) -> AbstractAsyncContextManager[RefreshLock]: ...

    async def save_tokens(self, key: str, pair: TokenPair, expected_version: int) -> bool: ...

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


# -- MemoryStore --------------------------------------------------------------------------------


class _MemoryLock:
    def __init__(self, version: int, pair: TokenPair | None) -> None:
        self.version = version
        self.pair = pair


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
        self._tokens: dict[str, tuple[TokenPair, int]] = {}
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

    async def load_tokens(self, key: str) -> tuple[TokenPair | None, int]:
        pair, version = self._tokens.get(key, (None, 0))
        return pair, version

    async def seed_tokens(self, key: str, pair: TokenPair) -> tuple[TokenPair, int]:
        return self._tokens.setdefault(key, (pair, 1))

    @asynccontextmanager
    async def refresh_lock(self, key: str) -> AsyncIterator[_MemoryLock]:
        lock = self._locks.setdefault(key, anyio.Lock())
        async with lock:
            pair, version = self._tokens.get(key, (None, 0))
            yield _MemoryLock(version, pair)

    async def save_tokens(self, key: str, pair: TokenPair, expected_version: int) -> bool:
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


# -- RedisStore ---------------------------------------------------------------------------------

# The budget of one bucket is a hash: L:<name> limit, R:<name> remaining, T:<name> reset time
# (ms, Redis clock; 0 = refilled, not learnt since), F:<name> when it was refilled; "blocked" (ms)
# after a 429. Times come from Redis's own clock, so every process agrees on them.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local key = KEYS[1]
local blocked = tonumber(redis.call('HGET', key, 'blocked') or '0')
if now < blocked then return blocked - now end
local all = redis.call('HGETALL', key)
local h = {}
local names = {}
for i = 1, #all, 2 do
  h[all[i]] = all[i + 1]
  if string.sub(all[i], 1, 2) == 'L:' then names[#names + 1] = string.sub(all[i], 3) end
end
if #names == 0 then
  if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then return 0 end
  return -1
end
local wait = 0
local pending = false
local unknown = false
for _, n in ipairs(names) do
  local lim = tonumber(h['L:' .. n])
  local rem = tonumber(h['R:' .. n])
  local reset = tonumber(h['T:' .. n])
  local from = tonumber(h['F:' .. n] or '0')
  if reset > 0 and now >= reset then
    rem = lim
    from = now
    redis.call('HSET', key, 'R:' .. n, lim, 'T:' .. n, 0, 'F:' .. n, now)
  end
  if rem < 1 then
    if reset > 0 and now < reset then
      if reset - now > wait then wait = reset - now end
    elseif now - from < tonumber(ARGV[1]) then
      -- spent since the refill, and the answers that tell when this window ends are still
      -- on their way: wait for one (a probe now would be one request over the limit)
      pending = true
    else
      unknown = true  -- no answer came for a while: one probe finds out
    end
  end
end
if wait > 0 then return wait end
if pending then return -1 end
if unknown then
  if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then return 0 end
  return -1
end
for _, n in ipairs(names) do redis.call('HINCRBY', key, 'R:' .. n, -1) end
redis.call('PEXPIRE', key, ARGV[2])
return 0
"""

# ARGV: status, retry_after ms (-1: none), slack ms, same-window ms, ttl ms, then per limit
# name, limit, remaining, reset ms (-1: none).
_LEARN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local key = KEYS[1]
redis.call('DEL', KEYS[2])
local slack = tonumber(ARGV[3])
local same = tonumber(ARGV[4])
local i = 6
while i + 3 <= #ARGV + 1 do
  local n, lim = ARGV[i], tonumber(ARGV[i + 1])
  local rem, rs = tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  i = i + 4
  local at = 0
  if rs >= 0 then at = now + rs + slack end
  local old = redis.call('HMGET', key, 'L:' .. n, 'R:' .. n, 'T:' .. n, 'F:' .. n)
  if not old[1] then
    redis.call('HSET', key, 'L:' .. n, lim, 'R:' .. n, rem, 'T:' .. n, at, 'F:' .. n, now)
  else
    local r, tt, f = tonumber(old[2]), tonumber(old[3]), tonumber(old[4])
    if tt == 0 then
      -- refilled: an answer still about the old window (reset within a second of the refill,
      -- the server rounds up) tells nothing about the new one
      if at == 0 or at > f + 1000 + slack then
        redis.call('HSET', key, 'L:' .. n, lim, 'R:' .. n, math.min(r, rem), 'T:' .. n, at)
      end
    elseif at > tt + same then
      redis.call('HSET', key, 'L:' .. n, lim, 'R:' .. n, rem, 'T:' .. n, at, 'F:' .. n, now)
    else
      local nt = tt
      if at > 0 and at < tt then nt = at end
      redis.call('HSET', key, 'L:' .. n, lim, 'R:' .. n, math.min(r, rem), 'T:' .. n, nt)
    end
  end
end
if ARGV[1] == '429' then
  local wait = tonumber(ARGV[2])
  if wait < 0 then wait = 60000 end
  local until_ = now + wait + slack
  local b = tonumber(redis.call('HGET', key, 'blocked') or '0')
  if until_ > b then redis.call('HSET', key, 'blocked', until_) end
end
redis.call('PEXPIRE', key, ARGV[5])
return 0
"""

# KEYS: pair, version; ARGV: new pair blob, expected version. The fence: written only over the
# version the refresh started from.
_SAVE = """
local v = tonumber(redis.call('GET', KEYS[2]) or '0')
if v == tonumber(ARGV[2]) + 1 and redis.call('GET', KEYS[1]) == ARGV[1] then
  return 1  -- this very write, sent again after its reply was lost (a reconnect)
end
if v ~= tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], v + 1)
return 1
"""

_SEED = """
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('SET', KEYS[1], ARGV[1])
  redis.call('SET', KEYS[2], 1)
end
return {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2])}
"""

# taken, or already ours (the same request sent again after its reply was lost)
_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
"""

_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# the holder keeps its lock alive while it works (a slow refresh must not let a second process
# refresh the same token); a holder that dies stops extending it, and it expires
_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


class _RedisLock:
    def __init__(self, version: int, pair: TokenPair | None) -> None:
        self.version = version
        self.pair = pair


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
        self._take = client.register_script(_TAKE)
        self._learn = client.register_script(_LEARN)
        self._save = client.register_script(_SAVE)
        self._seed = client.register_script(_SEED)
        self._lock = client.register_script(_LOCK)
        self._unlock = client.register_script(_UNLOCK)
        self._extend = client.register_script(_EXTEND)

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

    def _dump(self, pair: TokenPair) -> bytes:
        fields: dict[str, Any] = {
            "a": pair.access_token,
            "r": pair.refresh_token,
            "e": pair.access_token_expires_at,
        }
        scopes = getattr(pair, "scopes", None)
        if scopes is not None:  # an OAuthToken keeps its scopes and type
            fields["k"] = "oauth"
            fields["s"] = [str(getattr(x, "value", x)) for x in scopes]
            fields["t"] = getattr(pair, "token_type", "bearer")
        data = orjson.dumps(fields)
        return self._cipher.encrypt(data) if self._cipher is not None else data

    def _load(self, blob: bytes | None) -> TokenPair | None:
        from ._auth import TokenPair

        if blob is None:
            return None
        try:
            if self._cipher is not None:
                blob = self._cipher.decrypt(blob)
            data = orjson.loads(blob)
            if not isinstance(data, dict) or not isinstance(data.get("a"), str):
                raise ValueError("not a token pair")
        except Exception as exc:  # the cipher's own error (Fernet: InvalidToken), bad JSON
            how = "decrypt with this store's cipher (another key?)" if self._cipher else "parse"
            raise StoreDataError(
                f"a stored token pair does not {how}: {type(exc).__name__}"
            ) from None
        if data.get("k") == "oauth":
            from .oauth import OAuthToken

            return OAuthToken(
                data["a"],
                data.get("r"),
                data.get("e"),
                scopes=data.get("s") or (),
                token_type=data.get("t") or "bearer",
            )
        return TokenPair(data["a"], data.get("r"), data.get("e"))

    def _token_keys(self, key: str) -> list[str]:
        return [self.key("tokens", key), self.key("tokens-version", key)]

    async def load_tokens(self, key: str) -> tuple[TokenPair | None, int]:
        blob, version = await self._call("load tokens", self._redis.mget(self._token_keys(key)))
        return self._load(blob), int(version or 0)

    async def seed_tokens(self, key: str, pair: TokenPair) -> tuple[TokenPair, int]:
        blob, version = await self._call(
            "store tokens", self._seed(keys=self._token_keys(key), args=[self._dump(pair)])
        )
        loaded = self._load(blob)
        assert loaded is not None
        return loaded, int(version)

    async def save_tokens(self, key: str, pair: TokenPair, expected_version: int) -> bool:
        with anyio.CancelScope(shield=True):  # a rotated pair must not be lost to a cancel
            done = await self._call(
                "store tokens",
                self._save(keys=self._token_keys(key), args=[self._dump(pair), expected_version]),
            )
        return bool(done)

    @asynccontextmanager
    async def refresh_lock(self, key: str) -> AsyncIterator[_RedisLock]:
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
            yield _RedisLock(version, pair)
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
