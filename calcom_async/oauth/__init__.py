"""OAuth 2.0 for third-party apps: authorization code with PKCE, rotating refresh, scopes.

::

    app = OAuthApp(CLIENT_ID, CLIENT_SECRET, redirect_uri="https://myapp.example/callback",
                   scopes=[Scope.PROFILE_READ, Scope.BOOKING_READ])
    request = app.authorization_url()        # .url  .state  .code_verifier  (PKCE S256)
    ...                                      # send the browser to request.url; it comes back
    token = await app.exchange_code(code, code_verifier=request.code_verifier)
    async with CalCom(oauth=token, oauth_app=app, on_token_refresh=save) as cal:
        me = await cal.me.get()

The protocol pieces (PKCE, the authorization URL, the token request bodies, reading the token
answer) come from oauthlib's transport-agnostic ``WebApplicationClient``; the requests go out
through the client's one request pipeline (retries, rate limiting, logging without secrets).
oauthlib is imported on first use. :class:`OAuthRedirect` is the aiohttp.web endpoint an app
mounts at its ``redirect_uri``. See ``docs/oauth.md``.

The rooms: ``errors`` (the typed OAuth errors), ``tokens`` (the token endpoint's answer; the
:class:`OAuthToken` class itself sits beside ``TokenPair`` in ``calcom_async._tokens``),
``pkce`` (the authorization URL), ``app`` (:class:`OAuthApp`, :class:`OAuthRefresher`),
``state`` (:class:`StateStore`), ``redirect`` (:class:`OAuthRedirect`).
"""

from .._errors import InsufficientScopeError
from .._scopes import Scope, parse_scopes, satisfies
from .._tokens import OAuthToken
from .app import (
    DEFAULT_AUTHORIZE_URL,
    ClientType,
    OAuthApp,
    OAuthClientInfo,
    OAuthRefresher,
)
from .errors import (
    AccessDeniedError,
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    InvalidStateError,
    OAuthError,
    OAuthServerError,
    UnauthorizedClientError,
    oauth_error,
)
from .pkce import AuthorizationRequest
from .redirect import OAuthRedirect
from .state import MemoryStateStore, StateStore

__all__ = [
    "DEFAULT_AUTHORIZE_URL",
    "AccessDeniedError",
    "AuthorizationRequest",
    "ClientType",
    "InsufficientScopeError",
    "InvalidClientError",
    "InvalidGrantError",
    "InvalidRequestError",
    "InvalidScopeError",
    "InvalidStateError",
    "MemoryStateStore",
    "OAuthApp",
    "OAuthClientInfo",
    "OAuthError",
    "OAuthRedirect",
    "OAuthRefresher",
    "OAuthServerError",
    "OAuthToken",
    "Scope",
    "StateStore",
    "UnauthorizedClientError",
    "oauth_error",
    "parse_scopes",
    "satisfies",
]
