"""Renewing an access token: when, one at a time, and with other processes through a store.

Nothing here sends anything. A :class:`Refresher` (one per kind of token:
``_auth.ManagedUserRefresher``, ``calcom_async.oauth.OAuthRefresher``) says *what* to send — a
:class:`RefreshCall`, an operation row with its path values and body — and reads the new tokens
from the answer. :class:`TokenKeeper` holds the tokens and decides *when*: shortly before they
expire and once after a 401, one refresh at a time however many calls wait for it (the
in-process lock, and a store's refresh lock across processes), handing each new pair to
``on_token_refresh``. The session drives a refresh with :meth:`TokenKeeper.turn`::

    async with keeper.turn(stale_access_token) as turn:   # the locks, held to the end
        if turn.call is not None:                         # still to be done: send it
            try:
                answer = await session.request(turn.call.operation, ..., raw=True)
            except CalComError as exc:
                await turn.failed(exc)     # raises, unless another pair took ours' place
            else:
                await turn.answered(answer)     # turn.refreshed: the tokens changed
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import anyio
import attrs

from ._clock import Clock
from ._deadline import current as current_deadline
from ._errors import APIStatusError, CalComError
from ._tokens import TokenPair

if TYPE_CHECKING:
    from ._operation import Operation
    from ._response import APIResponse
    from .stores.base import RefreshLock, Store

__all__ = ["RefreshCall", "RefreshTurn", "Refresher", "TokenKeeper"]

logger = logging.getLogger("calcom_async")


@attrs.frozen(slots=True, kw_only=True)
class RefreshCall:
    """What a refresher asks the session to send (as any call: encoded, authenticated as its
    row says, retried, with a deadline of its own) to renew a pair of tokens."""

    operation: Operation
    body: Mapping[str, Any] = attrs.field(repr=False)  #: holds the refresh token
    path: Mapping[str, str] = attrs.field(factory=dict)


class Refresher(Protocol):
    """How one kind of token is renewed. :class:`TokenKeeper` decides when, runs one refresh at
    a time and hands the result to ``on_token_refresh``."""

    #: what is refreshed, for log lines ("managed-user", "OAuth")
    label: str

    def call(self, tokens: TokenPair) -> RefreshCall:
        """What to send to renew ``tokens`` (which has a refresh token)."""
        ...

    def read(self, answer: APIResponse[Any], tokens: TokenPair, clock: Clock) -> TokenPair:
        """The new tokens in the (2xx) answer to :meth:`call`; ``clock`` dates ``expires_in``."""
        ...

    def error(self, error: CalComError) -> CalComError:
        """The error to raise when the refresh call failed with ``error`` (OAuth turns an error
        answer into its ``OAuthError``)."""
        ...


class TokenKeeper:
    """A client's access token pair, renewed by its refresher (see the module's docstring).

    ``store``: a distributed store (``calcom_async.stores``) shares the pair and its refresh
    lock with other processes under ``token_key``; None: this process alone decides."""

    def __init__(
        self,
        tokens: TokenPair,
        *,
        clock: Clock,
        refresher: Refresher | None,
        on_token_refresh: Callable[[Any], Awaitable[None] | None] | None,
        refresh_leeway: float,
        store: Store | None,
        token_key: str | None,
    ) -> None:
        self._tokens = tokens
        self._clock = clock
        self.refresher = refresher
        # called with what the refresher makes (a TokenPair, or an OAuthToken)
        self._on_refresh = on_token_refresh
        self._leeway = refresh_leeway
        self._store = store
        self._token_key = token_key
        #: how a stored pair is read: the client's own kind of token (an OAuthToken keeps scopes)
        self._kind: type[TokenPair] = type(tokens)
        self._version = 0  #: the stored version of self._tokens (0: not synced yet)
        #: our pair is not in the store yet (refreshed while the store was away): the version it
        #: is to be written over, fenced, as soon as the store answers again
        self._unsaved: int | None = None
        self._lock = anyio.Lock()
        # a refresh token the server rejected, and how: waiters fail at once instead of each
        # sending the same dead token again
        self._rejected: tuple[str, BaseException] | None = None

    @property
    def tokens(self) -> TokenPair:
        return self._tokens

    @property
    def can_refresh(self) -> bool:
        return bool(self._tokens.refresh_token and self.refresher is not None)

    async def current(self) -> tuple[str, bool]:
        """The access token to send now, and whether it is due for a refresh first (it expires
        within the leeway and can be refreshed). With a shared store, the stored pair first."""
        shared = self._store is not None and self.can_refresh
        if shared and self._version == 0:
            await self._sync_shared()
        elif shared and self._unsaved is not None:
            await self._write_back()
        tokens = self._tokens
        expires = tokens.access_token_expires_at
        expiring = expires is not None and self._clock.time() >= expires - self._leeway
        return tokens.access_token, expiring and self.can_refresh

    @contextlib.asynccontextmanager
    async def turn(self, stale_access_token: str) -> AsyncIterator[RefreshTurn]:
        """This task's turn to refresh ``stale_access_token``: the locks are held until the
        ``async with`` ends; ``turn.call`` is None when there is nothing to send."""
        await self._acquire_lock()
        try:
            async with contextlib.AsyncExitStack() as locks:
                turn = RefreshTurn(self, locks)
                await turn.begin(stale_access_token)
                yield turn
        finally:
            self._lock.release()

    async def _acquire_lock(self) -> None:
        """The refresh lock, waited for within the call's deadline (another call may be
        refreshing: its refresh keeps its own deadline, the waiters give up at theirs)."""
        deadline = current_deadline()
        left = None if deadline is None else deadline.remaining(self._clock.monotonic())
        if left is None or not self._lock.locked():
            await self._lock.acquire()
            return
        with anyio.move_on_after(max(0.0, left)) as scope:
            await self._lock.acquire()
        if scope.cancelled_caught:
            assert deadline is not None
            raise deadline.exceeded(self._clock.monotonic(), "token refresh")

    # -- the shared store -----------------------------------------------------------------------

    async def _sync_shared(self) -> None:
        """Adopt the shared store's pair (newer than ours when another process refreshed), or
        put ours there if it has none."""
        assert self._store is not None and self._token_key
        async with self._lock:
            if self._version == 0:
                store, key, mine = self._store, self._token_key, self._tokens
                blob, version = await store.seed_tokens(key, mine.to_json())
                pair = self._kind.from_json(blob)
                if _later(mine, pair):
                    # ours expires later: a newer pair than the stored one (a force-refresh).
                    # Written under the refresh lock, so never in the middle of another
                    # process's refresh (and fenced by the version it read)
                    async with store.refresh_lock(key) as lock:
                        pair, version = self._decode(lock.pair) or pair, lock.version
                        saved = _later(mine, pair) and await store.save_tokens(
                            key, mine.to_json(), version
                        )
                        if saved:
                            pair, version = mine, version + 1
                self._tokens, self._version = pair, version

    def _decode(self, blob: bytes | None) -> TokenPair | None:
        """A pair as the store holds it (bytes) read as this client's kind of token."""
        return None if blob is None else self._kind.from_json(blob)

    async def _load_shared(self) -> tuple[TokenPair | None, int]:
        assert self._store is not None and self._token_key
        blob, version = await self._store.load_tokens(self._token_key)
        return self._decode(blob), version

    async def _write_back(self) -> None:
        """Put the pair we refreshed while the store was away into the store (fenced by the
        version it was refreshed from), so that other processes stop using the revoked one."""
        assert self._store is not None and self._token_key
        async with self._lock:
            base = self._unsaved
            if base is None:
                return
            store, key, mine = self._store, self._token_key, self._tokens
            try:
                if await store.save_tokens(key, mine.to_json(), base):
                    self._version, self._unsaved = base + 1, None
                    return
                pair, version = await self._load_shared()
            except CalComError as exc:  # still away: the request goes on with our pair
                logger.debug("the refreshed pair is not in the shared store yet: %s", exc)
                return
            # another client wrote meanwhile: our own pair (started with the persisted one), or
            # a pair refreshed from it; either way the stored one is current
            self._unsaved = None
            if pair is not None and version > base:
                self._version = version
                if pair.access_token != mine.access_token:
                    self._tokens = pair

    async def _adopt_stored(self, current: TokenPair) -> bool:
        """After our refresh token was rejected: take a pair another client stored since (a
        recovery, such as a client started with the persisted pair), if there is one."""
        try:
            pair, version = await self._load_shared()
        except CalComError:
            return False
        if pair is None or pair.refresh_token == current.refresh_token:
            return False
        self._tokens, self._version, self._rejected = pair, version, None
        return True

    async def _persist(self, pair: TokenPair) -> None:
        if self._on_refresh is not None:
            result = self._on_refresh(pair)
            if inspect.isawaitable(result):
                await result


class RefreshTurn:
    """One refresh of a :class:`TokenKeeper`, under its locks (see :meth:`TokenKeeper.turn`).

    ``call``: what to send, or None when nothing is (another task or process refreshed
    already, or the pair cannot be refreshed); ``refreshed``: whether the tokens are now others
    than the stale ones."""

    def __init__(self, keeper: TokenKeeper, locks: contextlib.AsyncExitStack) -> None:
        self._keeper = keeper
        self._locks = locks
        self.call: RefreshCall | None = None
        self.refreshed = False
        self._base: TokenPair | None = None  #: the pair being refreshed
        self._lock: RefreshLock | None = None  #: the store's refresh lock, when shared

    def _done(self, refreshed: bool) -> None:
        self.call, self.refreshed = None, refreshed

    async def begin(self, stale_access_token: str) -> None:
        """Decide what is to be sent (called by :meth:`TokenKeeper.turn`)."""
        keeper = self._keeper
        current = keeper._tokens
        if current.access_token != stale_access_token:
            self._done(True)  # another task refreshed while this one waited
            return
        if not keeper.can_refresh:
            self._done(False)
            return
        assert current.refresh_token and keeper.refresher is not None
        rejected = keeper._rejected
        if rejected is not None and rejected[0] == current.refresh_token:
            if keeper._store is None or not await keeper._adopt_stored(current):
                raise rejected[1]
            self._done(True)
            return
        if keeper._store is None:
            logger.info("refreshing %s access token", keeper.refresher.label)
            self._send(current)
            return
        await self._begin_shared(current)

    async def _begin_shared(self, current: TokenPair) -> None:
        """Take the store's lock unless another process already refreshed (its pair is then
        adopted); refresh from the newest pair stored."""
        keeper = self._keeper
        assert keeper._store is not None and keeper._token_key and keeper.refresher is not None
        pair, version = await keeper._load_shared()
        # only a pair stored at a later version than ours is newer: an equal version with another
        # pair is the one we refreshed from while the store was away (ours replaced it); a later
        # version holding our own pair is ours, written back by a client started with it
        if pair is not None and version > keeper._version:
            if pair.access_token != current.access_token:
                keeper._tokens, keeper._version = pair, version  # another process refreshed
                self._done(True)
                return
            keeper._version = version
        lock = await self._locks.enter_async_context(keeper._store.refresh_lock(keeper._token_key))
        self._lock = lock
        locked = keeper._decode(lock.pair)
        if locked is not None and lock.version > keeper._version:
            if locked.access_token != current.access_token:
                keeper._tokens, keeper._version = locked, lock.version
                self._done(True)
                return
            keeper._version = lock.version
        base = current if lock.version <= keeper._version else (locked or current)
        if not base.refresh_token:
            self._done(False)
            return
        logger.info("refreshing %s access token (shared store)", keeper.refresher.label)
        self._send(base)

    def _send(self, base: TokenPair) -> None:
        assert self._keeper.refresher is not None
        self._base = base
        self.call = self._keeper.refresher.call(base)

    async def answered(self, answer: APIResponse[Any]) -> None:
        """The refresh call's answer: the new pair is kept (and stored, fenced by the version it
        was refreshed from) and handed to ``on_token_refresh``."""
        keeper, base = self._keeper, self._base
        assert keeper.refresher is not None and base is not None
        try:
            new = keeper.refresher.read(answer, base, keeper._clock)
        except CalComError as exc:  # an answer without tokens: as a failed refresh
            await self.failed(exc)
            return
        label = keeper.refresher.label
        self.refreshed = True
        if self._lock is None:
            keeper._tokens = new
            logger.info("%s access token refreshed", label)
            await keeper._persist(new)  # in the lock: pairs are persisted in order
            return
        store, key, lock = keeper._store, keeper._token_key, self._lock
        assert store is not None and key
        try:
            saved = await store.save_tokens(key, new.to_json(), lock.version)
        except CalComError:
            # the store went away with the only valid pair in our hands: keep it (as based on
            # the stored version, so the stale stored pair is never taken back), and hand it to
            # on_token_refresh so that it is persisted somewhere; it is written to the store,
            # fenced by that version, at the next refresh
            keeper._tokens, keeper._version, keeper._unsaved = new, lock.version, lock.version
            await keeper._persist(new)
            raise
        if not saved:
            # fenced out: a newer pair was stored meanwhile (our lock had expired)
            pair, version = await keeper._load_shared()
            logger.warning("%s token refresh lost the race to a newer stored pair", label)
            if pair is None:
                self.refreshed = False
                return
            keeper._tokens, keeper._version = pair, version
            return
        keeper._tokens, keeper._version, keeper._unsaved = new, lock.version + 1, None
        logger.info("%s access token refreshed", label)
        await keeper._persist(new)  # once per refresh: only where it happened

    async def failed(self, error: CalComError) -> None:
        """The refresh call failed: raise its error (remembered when definitive, so that waiters
        fail at once), unless a pair stored meanwhile replaces ours."""
        keeper, base = self._keeper, self._base
        assert keeper.refresher is not None and base is not None
        raised = keeper.refresher.error(error)
        if self._lock is None:
            status = raised.status_code if isinstance(raised, APIStatusError) else None
            if (status is not None and 400 <= status < 500) or getattr(raised, "error", None):
                keeper._rejected = (base.refresh_token or "", raised)  # definitive: not transient
            _reraise(raised, error)
        # the refresh token may have been rotated by a holder whose lock expired: a newer pair
        # in the store is the answer, not an error
        pair, version = await keeper._load_shared()
        status = getattr(raised, "status_code", None)
        rejected = isinstance(raised, APIStatusError) and status is not None and status < 500
        if pair is not None and (
            version > keeper._version
            # a Redis that lost its data (restarted without persistence, evicted) counts
            # versions from 1 again: another pair stored there beats a rejected one
            or (rejected and pair.refresh_token != base.refresh_token)
        ):
            keeper._tokens, keeper._version = pair, version
            self.refreshed = True
            return
        if rejected or getattr(raised, "error", None):
            # definitive: waiters fail at once, as without a shared store
            keeper._rejected = (base.refresh_token or "", raised)
        _reraise(raised, error)


def _reraise(raised: CalComError, error: CalComError) -> None:
    if raised is error:
        raise error
    raise raised from error


def _later(mine: TokenPair, stored: TokenPair) -> bool:
    """Whether ``mine`` is a different pair that expires after ``stored``."""
    a, b = mine.access_token_expires_at, stored.access_token_expires_at
    return mine.access_token != stored.access_token and a is not None and b is not None and a > b
