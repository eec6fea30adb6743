"""Credentials and the headers they put on a call.

Three modes (see ``AuthMode``): an API key (``Authorization: Bearer cal_…``), the platform OAuth
client pair (``x-cal-client-id`` / ``x-cal-secret-key``) and access tokens (``Authorization:
Bearer <token>``) — a managed user's, or a third-party OAuth app's user token — which refresh
themselves shortly before they expire and once after a 401, one refresh at a time, however many
requests wait for it. *How* a token is renewed is a :class:`Refresher` per kind of token
(:class:`ManagedUserRefresher` here, ``calcom_async.oauth.OAuthRefresher``); *when*, the
single-flight lock and the ``on_token_refresh`` hand-off are ``_refresh.TokenKeeper``'s, shared
by both.

Auth never sends anything: :meth:`Auth.headers` gives the headers of a call (and says when its
token is due for a refresh), :meth:`Auth.refresh` a turn whose ``call`` the session sends
through its pipeline and whose answer it hands back (``calcom_async._refresh``).

No object here shows a secret in its ``repr`` or ``str``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

from ._clock import Clock
from ._errors import CalComError, CalComUsageError, ResponseValidationError
from ._operation import AuthMode, Operation
from ._refresh import RefreshCall, Refresher, RefreshTurn, TokenKeeper
from ._tokens import OAuthToken, TokenPair, parse_expiry

if TYPE_CHECKING:
    from ._response import APIResponse
    from .stores.base import Store

__all__ = [
    "Auth",
    "AuthHeaders",
    "ManagedUserRefresher",
    "RefreshCall",
    "Refresher",
    "TokenIssuer",
    "TokenPair",
    "TokenRefreshCallback",
    "parse_expiry",
]


#: what ``on_token_refresh=`` takes: called with a managed user's new ``TokenPair``, or with the
#: new ``calcom_async.oauth.OAuthToken`` of a third-party OAuth app's user (``oauth=``)
TokenRefreshCallback = (
    Callable[[TokenPair], "Awaitable[None] | None"]
    | Callable[[OAuthToken], "Awaitable[None] | None"]
)

#: operation rows whose auth is kept worked out (``Auth._chosen``, ``Auth._fixed``)
_ROWS_KEPT = 1024


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

    def call(self, tokens: TokenPair) -> RefreshCall:
        from ._generated.operations import MANAGED_USERS_REFRESH_TOKENS

        return RefreshCall(
            operation=MANAGED_USERS_REFRESH_TOKENS,
            path={"clientId": self.client_id},
            body={"refreshToken": tokens.refresh_token},
        )

    def read(self, answer: APIResponse[Any], tokens: TokenPair, clock: Clock) -> TokenPair:
        return _read_tokens(answer.json())

    def error(self, error: CalComError) -> CalComError:
        return error


@attrs.frozen(slots=True)
class AuthHeaders:
    """The auth headers of one attempt. ``token``: the access token in them (None: none, so
    nothing to refresh after a 401); ``refresh_due``: it expires within the leeway and can be
    refreshed — refresh it (:meth:`Auth.refresh`) and ask again."""

    headers: Mapping[str, str] = attrs.field(repr=False)  #: not to be changed
    token: str | None = attrs.field(default=None, repr=False)
    refresh_due: bool = False


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
        # a distributed store (calcom_async.stores) shares the pair and its refresh lock with
        # other processes under ``token_key``; None: this process alone decides
        shared = store if store is not None and store.distributed else None
        if shared is not None and tokens is not None and tokens.refresh_token and not token_key:
            raise CalComUsageError(
                "a shared store needs token_key= (a name for this user's tokens, such as "
                "the managed user's id; never a secret) to coordinate refreshes"
            )
        self._api_key = api_key
        self._client_id = client_id
        self._client_secret = client_secret
        self._keeper = (
            None
            if tokens is None
            else TokenKeeper(
                tokens,
                clock=clock,
                refresher=refresher,
                on_token_refresh=on_token_refresh,
                refresh_leeway=refresh_leeway,
                store=shared,
                token_key=token_key,
            )
        )
        modes = set()
        if api_key:
            modes.add(AuthMode.API_KEY)
        if tokens is not None:
            modes.add(AuthMode.ACCESS_TOKEN)
        if client_id and client_secret:
            modes.add(AuthMode.PLATFORM)
        self._modes = frozenset(modes)
        #: what is fixed per operation row, worked out on its first call (bounded: a program
        #: uses a few rows of a few hundred): the modes it uses, and the headers of a row that
        #: sends no access token (the same on every call)
        self._chosen: dict[Operation, frozenset[AuthMode]] = {}
        self._fixed: dict[Operation, AuthHeaders] = {}

    def __repr__(self) -> str:
        modes = [m.value for m in self.modes]
        return f"Auth(modes={modes!r}, client_id={self._client_id!r})"

    @property
    def client_id(self) -> str | None:
        return self._client_id

    @property
    def modes(self) -> frozenset[AuthMode]:
        """The auth modes this client can use."""
        return self._modes

    @property
    def tokens(self) -> TokenPair | None:
        """The current access tokens (after any refresh)."""
        return None if self._keeper is None else self._keeper.tokens

    @property
    def refresher(self) -> Refresher | None:
        return None if self._keeper is None else self._keeper.refresher

    @property
    def can_refresh(self) -> bool:
        return self._keeper is not None and self._keeper.can_refresh

    def secrets(self) -> tuple[str, ...]:
        """Every secret value held (for tests and log scrubbing)."""
        values = [self._api_key, self._client_secret]
        tokens = self.tokens
        if tokens is not None:
            values += [tokens.access_token, tokens.refresh_token]
        return tuple(v for v in values if v)

    def choose(self, op: Operation) -> frozenset[AuthMode]:
        """The modes a call of ``op`` will use (empty: send no credentials)."""
        if op.anonymous:  # the credentials travel in the body (the OAuth token endpoint)
            return frozenset()
        have, accepted = self._modes, op.auth
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

    def fixed_headers(self, op: Operation) -> AuthHeaders | None:
        """The auth headers of ``op`` when they are already worked out and carry no access
        token (an API key, the platform secret, none): the same on every call, so no await.
        None: ask :meth:`headers`."""
        return self._fixed.get(op)

    async def headers(self, op: Operation) -> AuthHeaders:
        """The auth headers of a call of ``op`` with the credentials held now (not to be
        changed: a row that sends no access token gets the same ones on every call). With a
        shared store, an access token is first brought up to date with the stored pair."""
        fixed = self._fixed.get(op)
        if fixed is not None:
            return fixed
        modes = self._chosen.get(op)
        if modes is None:
            modes = self.choose(op)
            if len(self._chosen) >= _ROWS_KEPT:
                self._chosen.clear()
            self._chosen[op] = modes
        headers: dict[str, str] = {}
        if AuthMode.PLATFORM in modes:
            assert self._client_id is not None and self._client_secret is not None
            headers["x-cal-client-id"] = self._client_id
            headers["x-cal-secret-key"] = self._client_secret
        if AuthMode.ACCESS_TOKEN in modes:
            assert self._keeper is not None
            token, due = await self._keeper.current()
            headers["Authorization"] = f"Bearer {token}"
            return AuthHeaders(headers, token, due)
        if AuthMode.API_KEY in modes:
            headers["Authorization"] = f"Bearer {self._api_key}"
        fixed = AuthHeaders(headers)
        if len(self._fixed) >= _ROWS_KEPT:
            self._fixed.clear()
        self._fixed[op] = fixed
        return fixed

    def refresh(self, stale_access_token: str) -> AbstractAsyncContextManager[RefreshTurn]:
        """A turn at refreshing ``stale_access_token`` (one at a time, within the call's
        deadline): send its ``call`` unless it is None, then hand back the answer or the error
        (``calcom_async._refresh``). ``turn.refreshed``: the tokens changed."""
        if self._keeper is None:
            raise CalComUsageError("this client holds no access token to refresh")
        return self._keeper.turn(stale_access_token)


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
