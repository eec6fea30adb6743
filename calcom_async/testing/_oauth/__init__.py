"""OAuth 2.0 for third-party apps in FakeCalCom: registered clients, the consent page, the token
endpoint and the scope checks of the API routes (``CALCOM-API.md``, "OAuth 2.0 for third-party
apps").

- ``GET /auth/oauth2/authorize``: the consent page (plain HTML, an Allow and a Deny button) for
  the fake's signed-in user (:attr:`FakeOAuth.user_id`, the account owner by default). An
  unknown client or a redirect URI the client did not register is shown on the page and never
  redirected; a bad scope or PKCE parameter redirects with ``error=invalid_request``; a client
  that is not approved with ``error=unauthorized_client``; Deny with ``error=access_denied``;
  Allow with ``code`` (single use, 10 minutes) and ``state``.
- ``POST /v2/auth/oauth2/token``: JSON or form bodies, unknown fields rejected, both grants,
  PKCE (S256) required for public clients and for every code issued with a challenge, 30-minute
  access tokens, 30-day refresh tokens, rotation that revokes every earlier refresh token of the
  client and user; bare RFC 6749 answers and ``{"error", "error_description"}`` errors, all with
  ``Cache-Control: no-store``.
- ``GET /v2/auth/oauth2/clients/{clientId}`` (API key): the client, in the usual envelope.
- The API routes take the access tokens as ``Authorization: Bearer`` for the user who allowed
  the app, and check scopes (:data:`OPERATION_SCOPES`) with the real 403 messages.

Every secret it issues (client secrets it makes up, codes, tokens) contains ``SECRET``, so a leak
scan of a test suite can find them.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import web

from ..._operation import AuthMode, Operation
from .._answers import error_response
from .._records import Principal
from .._util import ApiError
from .consent import ConsentPage
from .records import OAuthClient, new_secret
from .scopes import ALL_SCOPES, OPERATION_SCOPES, SCOPE_NAME, satisfies
from .tokens import TokenEndpoint

if TYPE_CHECKING:
    from ...oauth import OAuthApp
    from .._server import FakeCalCom

__all__ = [
    "DEFAULT_OAUTH_CLIENT_ID",
    "DEFAULT_OAUTH_CLIENT_SECRET",
    "DEFAULT_OAUTH_REDIRECT_URIS",
    "DEFAULT_PUBLIC_OAUTH_CLIENT_ID",
    "FakeOAuth",
]

MAX_REDIRECT_URIS = 10
MAX_SECRETS = 2  #: a confidential client has up to two secrets during rotation

DEFAULT_OAUTH_CLIENT_ID = "fake-oauth-app"
DEFAULT_OAUTH_CLIENT_SECRET = "fake_oauth_SECRET_0123456789abcdef"
DEFAULT_PUBLIC_OAUTH_CLIENT_ID = "fake-oauth-public-app"
DEFAULT_OAUTH_REDIRECT_URIS = (
    "http://127.0.0.1:8000/oauth/callback",
    "http://localhost:8000/oauth/callback",
)

_FORBIDDEN = "ForbiddenException"
_NOT_AVAILABLE = "insufficient_scope: this endpoint is not available for third-party OAuth tokens"


class FakeOAuth(ConsentPage, TokenEndpoint):
    """The OAuth side of a :class:`~calcom_async.testing.FakeCalCom` (``fake.oauth``).

    ``clients``: the registered clients by id (two at start: :data:`DEFAULT_OAUTH_CLIENT_ID`,
    confidential, and :data:`DEFAULT_PUBLIC_OAUTH_CLIENT_ID`, public, both with every scope and
    :data:`DEFAULT_OAUTH_REDIRECT_URIS`); ``user_id``: who is signed in on the consent page;
    ``token_requests``: every call of the token endpoint (:class:`TokenRequest`).
    """

    def __init__(self, fake: FakeCalCom) -> None:
        super().__init__(fake)
        self.register_client(
            client_id=DEFAULT_OAUTH_CLIENT_ID,
            secret=DEFAULT_OAUTH_CLIENT_SECRET,
            name="Fake CRM (confidential)",
            redirect_uris=DEFAULT_OAUTH_REDIRECT_URIS,
        )
        self.register_client(
            client_id=DEFAULT_PUBLIC_OAUTH_CLIENT_ID,
            public=True,
            name="Fake mobile app (public)",
            redirect_uris=DEFAULT_OAUTH_REDIRECT_URIS,
        )

    def __repr__(self) -> str:
        return f"FakeOAuth(clients={sorted(self.clients)!r})"

    # -- clients ----------------------------------------------------------------------------

    def register_client(
        self,
        *,
        redirect_uris: Sequence[str],
        scopes: Iterable[str] | None = None,
        client_id: str | None = None,
        secret: str | Sequence[str] | None = None,
        public: bool = False,
        name: str = "Fake OAuth app",
        logo: str | None = None,
        is_trusted: bool = False,
        legacy: bool = False,
        approved: bool = True,
    ) -> OAuthClient:
        """Register (or replace) a client. Confidential unless ``public=True``: its secret is
        ``secret`` (or two, during a rotation), else one is made up (``client.secret``).
        ``scopes``: what it may ask for (default: every non-legacy scope)."""
        uris = tuple(redirect_uris)
        if not 1 <= len(uris) <= MAX_REDIRECT_URIS:
            raise ValueError(f"an OAuth client has 1 to {MAX_REDIRECT_URIS} redirect URIs")
        for uri in uris:
            parts = urlsplit(uri)
            if not parts.scheme or not (parts.netloc or parts.path) or parts.fragment:
                raise ValueError(f"redirect URI {uri!r} must be absolute, without a fragment")
        wanted = tuple(dict.fromkeys(ALL_SCOPES if scopes is None else scopes))
        for scope in wanted:
            if not SCOPE_NAME.match(scope):
                raise ValueError(f"{scope!r} is not a scope name")
        if public:
            if secret is not None:
                raise ValueError("a public client has no secret")
            held: tuple[str, ...] = ()
        elif secret is None:
            held = (new_secret("fake_oauth"),)
        else:
            held = (secret,) if isinstance(secret, str) else tuple(secret)
            if not 1 <= len(held) <= MAX_SECRETS or not all(held):
                raise ValueError(f"a confidential client has 1 to {MAX_SECRETS} secrets")
        client = OAuthClient(
            client_id=client_id or f"fakeoauth{secrets.token_hex(6)}",
            name=name,
            redirect_uris=uris,
            scopes=wanted,
            secrets=held,
            logo=logo,
            is_trusted=is_trusted,
            legacy=legacy,
            approved=approved,
        )
        self.clients[client.client_id] = client
        return client

    def app(
        self,
        client: OAuthClient | str = DEFAULT_OAUTH_CLIENT_ID,
        *,
        redirect_uri: str | None = None,
        scopes: Iterable[str] | str | None = None,
        **kwargs: Any,
    ) -> OAuthApp:
        """An :class:`~calcom_async.oauth.OAuthApp` for a registered client, pointed at this
        fake (its consent page and token endpoint). Close it (``async with``) when done."""
        from ...oauth import OAuthApp

        found = self.clients[client] if isinstance(client, str) else client
        return OAuthApp(
            found.client_id,
            found.secret,
            redirect_uri=redirect_uri or found.redirect_uris[0],
            scopes=found.scopes if scopes is None else scopes,
            authorize_url=f"{self._fake.base_url}/auth/oauth2/authorize",
            base_url=self._fake.base_url,
            **kwargs,
        )

    def grant(
        self,
        client_id: str = DEFAULT_OAUTH_CLIENT_ID,
        *,
        user_id: int | None = None,
        scopes: Iterable[str] | None = None,
    ) -> dict[str, Any]:
        """Tokens for ``client_id`` and a user without the consent page: the token endpoint's
        answer (``access_token``, ``refresh_token``, ``expires_in``, ``scope``, …)."""
        client = self.clients[client_id]
        return self._issue(
            client.client_id,
            self.user_id if user_id is None else user_id,
            client.scopes if scopes is None else tuple(scopes),
        )

    def revoke(self, token: str) -> None:
        """Revoke an access or refresh token (the API then answers 401 / ``invalid_grant``)."""
        for table in (self._access, self._refresh):
            if token in table:
                table[token].revoked = True

    # -- the API routes ----------------------------------------------------------------------

    def principal(self, op: Operation, authorization: str | None) -> Principal | None:
        """The user behind an OAuth access token (None if ``authorization`` holds no token of
        this provider), after the scope check of ``op``. Raises 401 for an expired or revoked
        token and 403 ``insufficient_scope: …`` for a missing scope."""
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        grant = self._access.get(token.strip()) if scheme.lower() == "bearer" else None
        if grant is None:
            return None
        if grant.revoked:
            raise ApiError(401, "UnauthorizedException", "Invalid Access Token")
        if grant.expires <= self.now():
            raise ApiError(401, "UnauthorizedException", "ACCESS_TOKEN_IS_EXPIRED")
        required = OPERATION_SCOPES.get(op.name)
        if required is None and op.auth:
            raise ApiError(403, _FORBIDDEN, _NOT_AVAILABLE)
        if required is not None and not satisfies(grant.scopes, required):
            raise ApiError(
                403,
                _FORBIDDEN,
                "insufficient_scope: token does not have the required scopes. "
                f"Required: {required}. Token has: {', '.join(grant.scopes)}",
            )
        return Principal(
            AuthMode.ACCESS_TOKEN.value, f"oauth:{grant.client_id}:{grant.user_id}", grant.user_id
        )

    # -- routes ------------------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/auth/oauth2/authorize", self.authorize_page)
        app.router.add_post("/auth/oauth2/authorize", self.authorize_decision)
        app.router.add_post("/v2/auth/oauth2/token", self.token)
        app.router.add_get("/v2/auth/oauth2/clients/{clientId}", self.describe)

    # -- describing a client -----------------------------------------------------------------

    async def describe(self, request: web.Request) -> web.Response:
        fake = self._fake
        request_id = request.headers.get("X-Request-Id")
        echo = {"X-Request-Id": request_id} if request_id else {}
        found, _ = fake.store.principals(request.headers.get("Authorization"), None, None)
        if not any(p.kind == AuthMode.API_KEY.value for p in found):
            error = ApiError(401, "UnauthorizedException", "This endpoint needs an API key")
        else:
            client = self.clients.get(request.match_info["clientId"])
            if client is not None:
                self._record(request, "oauth2.get_client", 200)
                body = {"status": "success", "data": client.describe()}
                return web.json_response(body, headers=echo)
            error = ApiError(404, "NotFoundException", "OAuth client not found")
        self._record(request, "oauth2.get_client", error.status)
        return error_response(request, error, echo, now=fake.now())
