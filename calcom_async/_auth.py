"""Credentials and the headers they put on a call.

Three modes (see ``AuthMode``): an API key (``Authorization: Bearer cal_…``), the platform OAuth
client pair (``x-cal-client-id`` / ``x-cal-secret-key``) and access tokens (``Authorization:
Bearer <token>``) — a managed user's, or a third-party OAuth app's user token — which refresh
themselves shortly before they expire and once after a 401, one refresh at a time, however many
requests wait for it. *How* a token is renewed is a :class:`Refresher` per kind of token
(:class:`ManagedUserRefresher` here, ``calcom_async.oauth.OAuthRefresher``); *when*, the
single-flight lock and the ``on_token_refresh`` hand-off are :class:`Auth`'s, shared by both.

No object here shows a secret in its ``repr`` or ``str``.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import anyio

from ._clock import Clock
from ._deadline import current as current_deadline
from ._errors import APIStatusError, CalComError, CalComUsageError, ResponseValidationError
from ._operation import AuthMode, Operation
from ._tokens import OAuthToken, TokenPair, parse_expiry

if TYPE_CHECKING:
    from .stores.base import Store

__all__ = [
    "ANONYMOUS_OPERATIONS",
    "Auth",
    "ManagedUserRefresher",
    "Refresher",
    "SendOperation",
    "TokenIssuer",
    "TokenPair",
    "TokenRefreshCallback",
    "parse_expiry",
]

logger = logging.getLogger("calcom_async")

#: what ``on_token_refresh=`` takes: called with a managed user's new ``TokenPair``, or with the
#: new ``calcom_async.oauth.OAuthToken`` of a third-party OAuth app's user (``oauth=``)
TokenRefreshCallback = (
    Callable[[TokenPair], "Awaitable[None] | None"]
    | Callable[[OAuthToken], "Awaitable[None] | None"]
)
#: ``Session.request``: a refresher sends its call through the one pipeline with it.
SendOperation = Callable[..., Awaitable[Any]]

#: Operations whose body carries their credentials (the OAuth token endpoint): the client's own
#: credentials are never added to them (which would also recurse into a refresh).
ANONYMOUS_OPERATIONS = frozenset({"OAuth2Controller_token"})


class Refresher(Protocol):
    """How one kind of token is renewed. :class:`Auth` decides when (shortly before expiry, once
    after a 401), runs one refresh at a time and hands the result to ``on_token_refresh``."""

    #: what is refreshed, for log lines ("managed-user", "OAuth")
    label: str

    async def refresh(self, tokens: TokenPair, send: SendOperation, clock: Clock) -> TokenPair:
        """New tokens for ``tokens`` (which has a refresh token); the call goes out with
        ``send`` (the session pipeline); ``clock`` dates an ``expires_in`` answer."""
        ...


@runtime_checkable
class TokenIssuer(Protocol):
    """What ``CalCom(oauth_app=…)`` takes: the app that issued a user's tokens, which knows how
    they are renewed (``calcom_async.oauth.OAuthApp``)."""

    def refresher(self) -> Refresher: ...


class ManagedUserRefresher:
    """Managed users: ``POST /v2/oauth/{clientId}/refresh`` with the platform client pair."""

    label = "managed-user"

    def __init__(self, client_id: str) -> None:
        self.client_id = client_id

    def __repr__(self) -> str:
        return f"ManagedUserRefresher(client_id={self.client_id!r})"

    async def refresh(self, tokens: TokenPair, send: SendOperation, clock: Clock) -> TokenPair:
        from ._generated.operations import MANAGED_USERS_REFRESH_TOKENS

        response = await send(
            MANAGED_USERS_REFRESH_TOKENS,
            path={"clientId": self.client_id},
            body={"refreshToken": tokens.refresh_token},
            raw=True,
        )
        return _read_tokens(response.json())


class Auth:
    """The client's credentials; decides the auth headers of each call from its operation row."""

    def __init__(
        self,
        *,
        clock: Clock,
        api_key: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        tokens: TokenPair | None = None,
        on_token_refresh: TokenRefreshCallback | None = None,
        refresh_leeway: float = 60.0,
        refresher: Refresher | None = None,
        store: Store | None = None,
        token_key: str | None = None,
    ) -> None:
        if (client_id is None) != (client_secret is None):
            raise CalComUsageError("client_id and client_secret go together: pass both or neither")
        if tokens is not None and tokens.refresh_token and refresher is None:
            if client_id is None:
                raise CalComUsageError(
                    "refreshing managed-user tokens needs the platform client_id and client_secret"
                )
            refresher = ManagedUserRefresher(client_id)
        self._refresher = refresher
        # a distributed store (calcom_async.stores) shares the pair and its refresh lock with
        # other processes under ``token_key``; None: this process alone decides
        self._store = store if store is not None and store.distributed else None
        if (
            self._store is not None
            and tokens is not None
            and tokens.refresh_token
            and not token_key
        ):
            raise CalComUsageError(
                "a shared store needs token_key= (a name for this user's tokens, such as "
                "the managed user's id; never a secret) to coordinate refreshes"
            )
        self._token_key = token_key
        self._version = 0  #: the stored version of self._tokens (0: not synced yet)
        #: our pair is not in the store yet (refreshed while the store was away): the version it
        #: is to be written over, fenced, as soon as the store answers again
        self._unsaved: int | None = None
        self._clock = clock
        self._api_key = api_key
        self._client_id = client_id
        self._client_secret = client_secret
        self._tokens = tokens
        #: how a stored pair is read: the client's own kind of token (an OAuthToken keeps scopes)
        self._kind: type[TokenPair] = TokenPair if tokens is None else type(tokens)
        # called with what this client's refresher makes (a TokenPair, or an OAuthToken)
        self._on_refresh: Callable[[Any], Awaitable[None] | None] | None = on_token_refresh
        self._leeway = refresh_leeway
        self._lock = anyio.Lock()
        #: (id(op), no tokens) -> (op, its headers), for operations sent without an access token
        self._fixed_headers: dict[tuple[int, bool], tuple[Operation, dict[str, str]]] = {}
        # a refresh token the server rejected, and how: waiters fail at once instead of each
        # sending the same dead token again
        self._rejected: tuple[str, BaseException] | None = None

    def __repr__(self) -> str:
        modes = [m.value for m in self.modes]
        return f"Auth(modes={modes!r}, client_id={self._client_id!r})"

    @property
    def client_id(self) -> str | None:
        return self._client_id

    @property
    def modes(self) -> frozenset[AuthMode]:
        """The auth modes this client can use."""
        modes = set()
        if self._api_key:
            modes.add(AuthMode.API_KEY)
        if self._tokens is not None:
            modes.add(AuthMode.ACCESS_TOKEN)
        if self._client_id and self._client_secret:
            modes.add(AuthMode.PLATFORM)
        return frozenset(modes)

    @property
    def tokens(self) -> TokenPair | None:
        """The current managed-user tokens (after any refresh)."""
        return self._tokens

    @property
    def can_refresh(self) -> bool:
        return bool(
            self._tokens is not None and self._tokens.refresh_token and self._refresher is not None
        )

    def secrets(self) -> tuple[str, ...]:
        """Every secret value held (for tests and log scrubbing)."""
        values = [self._api_key, self._client_secret]
        if self._tokens is not None:
            values += [self._tokens.access_token, self._tokens.refresh_token]
        return tuple(v for v in values if v)

    def choose(self, op: Operation) -> frozenset[AuthMode]:
        """The modes a call of ``op`` will use (empty: send no credentials)."""
        if op.operation_id in ANONYMOUS_OPERATIONS:
            return frozenset()
        have, accepted = self.modes, op.auth
        chosen: set[AuthMode] = set()
        if AuthMode.PLATFORM in accepted and AuthMode.PLATFORM in have:
            chosen.add(AuthMode.PLATFORM)
        bearer = [m for m in (AuthMode.ACCESS_TOKEN, AuthMode.API_KEY) if m in have]
        if bearer and accepted & {AuthMode.ACCESS_TOKEN, AuthMode.API_KEY}:
            preferred = [m for m in bearer if m in accepted]
            chosen.add((preferred or bearer)[0])
        if not chosen and not accepted and bearer:
            # The document declares no auth header: send the bearer credential we hold and let
            # the server judge. The platform secret goes only where an operation declares it.
            chosen.add(bearer[0])
        if not chosen and op.auth_required:
            needed = " or ".join(sorted(m.value for m in accepted)) or "credentials"
            raise CalComUsageError(
                f"{op.name} needs {needed}: pass api_key= (or set CALCOM_API_KEY), "
                "client_id=/client_secret=, or access_token="
            )
        return frozenset(chosen)

    def fixed_headers(self, op: Operation) -> Mapping[str, str] | None:
        """The auth headers of ``op`` when they are known to be the same on every call (no access
        token in them), else None (then ``await headers(...)``). Not to be changed."""
        fixed = self._fixed_headers.get((id(op), self._tokens is None))
        return fixed[1] if fixed is not None and fixed[0] is op else None

    async def headers(
        self, op: Operation, sender: SendOperation
    ) -> tuple[dict[str, str], str | None]:
        """The auth headers for ``op`` and the access token used (None if none was).

        ``sender`` sends a refresh call, should the access token be about to expire.
        """
        key = (id(op), self._tokens is None)
        fixed = self._fixed_headers.get(key)
        if fixed is not None and fixed[0] is op:
            return fixed[1].copy(), None
        modes = self.choose(op)
        headers: dict[str, str] = {}
        token: str | None = None
        if AuthMode.PLATFORM in modes:
            assert self._client_id is not None and self._client_secret is not None
            headers["x-cal-client-id"] = self._client_id
            headers["x-cal-secret-key"] = self._client_secret
        if AuthMode.ACCESS_TOKEN in modes:
            token = await self._fresh_token(sender)
            headers["Authorization"] = f"Bearer {token}"
        elif AuthMode.API_KEY in modes:
            headers["Authorization"] = f"Bearer {self._api_key}"
        if AuthMode.ACCESS_TOKEN not in modes:  # the same for every call of op: chosen once
            if len(self._fixed_headers) >= 1024:  # bounded (the table has a few hundred rows)
                self._fixed_headers.clear()
            self._fixed_headers[key] = (op, headers.copy())
        return headers, token

    async def _fresh_token(self, sender: SendOperation) -> str:
        assert self._tokens is not None
        if self._store is not None and self.can_refresh:
            if self._version == 0:
                await self._sync_shared()
            elif self._unsaved is not None:
                await self._write_back()
        if self._expiring(self._tokens) and self.can_refresh:
            await self.refresh(self._tokens.access_token, sender)
        return self._tokens.access_token

    def _expiring(self, tokens: TokenPair) -> bool:
        expires = tokens.access_token_expires_at
        return expires is not None and self._clock.time() >= expires - self._leeway

    async def _sync_shared(self) -> None:
        """Adopt the shared store's pair (newer than ours when another process refreshed), or
        put ours there if it has none."""
        assert self._store is not None and self._token_key and self._tokens is not None
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
        assert self._store is not None and self._token_key and self._tokens is not None
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

    async def _refresh_shared(self, current: TokenPair, sender: SendOperation) -> bool:
        """The cross-process refresh (called under the in-process lock): take the store's lock,
        refresh unless another process already has, write the new pair fenced by the version
        it was refreshed from, and run ``on_token_refresh`` in the process that refreshed."""
        assert self._store is not None and self._token_key and self._refresher is not None
        store, key = self._store, self._token_key
        pair, version = await self._load_shared()
        # only a pair stored at a later version than ours is newer: an equal version with another
        # pair is the one we refreshed from while the store was away (ours replaced it); a later
        # version holding our own pair is ours, written back by a client started with it
        if pair is not None and version > self._version:
            if pair.access_token != current.access_token:
                self._tokens, self._version = pair, version  # another process refreshed
                return True
            self._version = version
        async with store.refresh_lock(key) as lock:
            locked = self._decode(lock.pair)
            if locked is not None and lock.version > self._version:
                if locked.access_token != current.access_token:
                    self._tokens, self._version = locked, lock.version
                    return True
                self._version = lock.version
            base = current if lock.version <= self._version else (locked or current)
            if not base.refresh_token:
                return False
            label = self._refresher.label
            logger.info("refreshing %s access token (shared store)", label)
            try:
                new = await self._refresher.refresh(base, sender, self._clock)
            except (APIStatusError, CalComError) as exc:
                # the refresh token may have been rotated by a holder whose lock expired: a
                # newer pair in the store is the answer, not an error
                pair, version = await self._load_shared()
                status = getattr(exc, "status_code", None)
                rejected = isinstance(exc, APIStatusError) and status is not None and status < 500
                if pair is not None and (
                    version > self._version
                    # a Redis that lost its data (restarted without persistence, evicted) counts
                    # versions from 1 again: another pair stored there beats a rejected one
                    or (rejected and pair.refresh_token != base.refresh_token)
                ):
                    self._tokens, self._version = pair, version
                    return True
                if rejected or getattr(exc, "error", None):
                    # definitive: waiters fail at once, as without a shared store
                    self._rejected = (base.refresh_token or "", exc)
                raise
            try:
                saved = await store.save_tokens(key, new.to_json(), lock.version)
            except CalComError:
                # the store went away with the only valid pair in our hands: keep it (as based
                # on the stored version, so the stale stored pair is never taken back), and
                # hand it to on_token_refresh so that it is persisted somewhere; it is written
                # to the store, fenced by that version, at the next refresh
                self._tokens, self._version, self._unsaved = new, lock.version, lock.version
                await self._persist(new)
                raise
            if not saved:
                # fenced out: a newer pair was stored meanwhile (our lock had expired)
                pair, version = await self._load_shared()
                logger.warning("%s token refresh lost the race to a newer stored pair", label)
                if pair is None:
                    return False
                self._tokens, self._version = pair, version
                return True
            self._tokens, self._version, self._unsaved = new, lock.version + 1, None
            logger.info("%s access token refreshed", label)
            await self._persist(new)  # once per refresh: only where it happened
        return True

    async def _adopt_stored(self, current: TokenPair) -> bool:
        """After our refresh token was rejected: take a pair another client stored since (a
        recovery, such as a client started with the persisted pair), if there is one."""
        assert self._store is not None and self._token_key
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

    async def refresh(self, stale_access_token: str, sender: SendOperation) -> bool:
        """Refresh the tokens unless another task already replaced ``stale_access_token``.

        Returns whether the tokens are now different from ``stale_access_token``.
        """
        await self._acquire_lock()
        try:
            return await self._refresh_locked(stale_access_token, sender)
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

    async def _refresh_locked(self, stale_access_token: str, sender: SendOperation) -> bool:
        current = self._tokens
        if current is None or current.access_token != stale_access_token:
            return current is not None
        if not self.can_refresh:
            return False
        assert current.refresh_token and self._refresher is not None
        if self._rejected is not None and self._rejected[0] == current.refresh_token:
            if self._store is None or not await self._adopt_stored(current):
                raise self._rejected[1]
            return True
        if self._store is not None:
            return await self._refresh_shared(current, sender)
        label = self._refresher.label
        logger.info("refreshing %s access token", label)
        try:
            new = await self._refresher.refresh(current, sender, self._clock)
        except APIStatusError as exc:
            if exc.status_code is not None and 400 <= exc.status_code < 500:
                self._rejected = (current.refresh_token, exc)  # definitive: not transient
            raise
        except CalComError as exc:
            if getattr(exc, "error", None):  # an OAuth error answer (invalid_grant, …)
                self._rejected = (current.refresh_token, exc)
            raise
        self._tokens = new
        logger.info("%s access token refreshed", label)
        await self._persist(new)  # in the lock: pairs are persisted in order
        return True


def _later(mine: TokenPair, stored: TokenPair) -> bool:
    """Whether ``mine`` is a different pair that expires after ``stored``."""
    a, b = mine.access_token_expires_at, stored.access_token_expires_at
    return mine.access_token != stored.access_token and a is not None and b is not None and a > b


def _read_tokens(answer: Any) -> TokenPair:
    data = answer.get("data", answer) if isinstance(answer, dict) else None
    access = data.get("accessToken") if isinstance(data, dict) else None
    refresh = data.get("refreshToken") if isinstance(data, dict) else None
    expires: float | None = None
    ok = isinstance(access, str) and isinstance(refresh, str)
    if ok and isinstance(data, dict):
        try:
            expires = parse_expiry(data.get("accessTokenExpiresAt"))
        except (TypeError, ValueError):
            ok = False
    if not ok or not isinstance(access, str) or not isinstance(refresh, str):
        shape = sorted(data) if isinstance(data, dict) else type(data).__name__
        # The answer holds secrets: the error carries only its shape.
        raise ResponseValidationError(
            f"token refresh answer does not have the expected fields (got {shape})"
        )
    return TokenPair(access, refresh, expires)
