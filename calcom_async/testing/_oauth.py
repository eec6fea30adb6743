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

import base64
import hashlib
import hmac
import html
import json
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from aiohttp import web
from multidict import MultiMapping

from .._operation import AuthMode, Operation
from ._answers import error_response
from ._records import Principal
from ._requests import RequestRecord
from ._util import ApiError

if TYPE_CHECKING:
    from ..oauth import OAuthApp
    from ._server import FakeCalCom

__all__ = [
    "ACCESS_TOKEN_TTL",
    "ALL_SCOPES",
    "CODE_TTL",
    "DEFAULT_OAUTH_CLIENT_ID",
    "DEFAULT_OAUTH_CLIENT_SECRET",
    "DEFAULT_OAUTH_REDIRECT_URIS",
    "DEFAULT_PUBLIC_OAUTH_CLIENT_ID",
    "OPERATION_SCOPES",
    "REFRESH_TOKEN_TTL",
    "FakeOAuth",
    "OAuthClient",
    "TokenRequest",
]

ACCESS_TOKEN_TTL = 1800.0  #: 30 minutes
REFRESH_TOKEN_TTL = 30 * 86400.0  #: 30 days
CODE_TTL = 600.0  #: 10 minutes, single use
CONSENT_TTL = 600.0  #: how long a shown consent page can be answered
MAX_REDIRECT_URIS = 10
MAX_SECRETS = 2  #: a confidential client has up to two secrets during rotation

DEFAULT_OAUTH_CLIENT_ID = "fake-oauth-app"
DEFAULT_OAUTH_CLIENT_SECRET = "fake_oauth_SECRET_0123456789abcdef"
DEFAULT_PUBLIC_OAUTH_CLIENT_ID = "fake-oauth-public-app"
DEFAULT_OAUTH_REDIRECT_URIS = (
    "http://127.0.0.1:8000/oauth/callback",
    "http://localhost:8000/oauth/callback",
)

_KINDS = ("EVENT_TYPE", "BOOKING", "SCHEDULE", "PROFILE", "MEMBERSHIP")
_RW = ("READ", "WRITE")
#: every scope of the facts file except the legacy ``READ_BOOKING`` and ``READ_PROFILE``
ALL_SCOPES: tuple[str, ...] = (
    *(f"{k}_{rw}" for k in ("PROFILE", "EVENT_TYPE", "BOOKING", "SCHEDULE", "APPS") for rw in _RW),
    *(f"TEAM_{k}_{rw}" for k in _KINDS for rw in _RW),
    *(f"ORG_{k}_{rw}" for k in _KINDS for rw in _RW),
)
_LEGACY = {"READ_BOOKING": "BOOKING_READ", "READ_PROFILE": "PROFILE_READ"}
_SCOPE_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
_UNRESERVED = re.compile(r"^[A-Za-z0-9\-._~]+$")
_FORBIDDEN = "ForbiddenException"
_NOT_AVAILABLE = "insufficient_scope: this endpoint is not available for third-party OAuth tokens"


def _scopes_for(table: Mapping[str, Sequence[str]]) -> dict[str, str]:
    return {name: scope for scope, names in table.items() for name in names}


#: The scope each operation the fake models needs from a third-party OAuth token. An operation
#: not listed here that needs credentials answers 403 "not available for third-party OAuth
#: tokens"; one that needs none (slots) is open to them.
OPERATION_SCOPES: dict[str, str] = _scopes_for(
    {
        "PROFILE_READ": ["me.get"],
        "PROFILE_WRITE": ["me.update"],
        "BOOKING_READ": [
            "bookings.list",
            "bookings.get",
            "bookings.get_calendar_links",
            "bookings.get_references",
            "bookings.get_recordings",
            "bookings.get_transcripts",
        ],
        "BOOKING_WRITE": [
            "bookings.create",
            "bookings.cancel",
            "bookings.reschedule",
            "bookings.confirm",
            "bookings.decline",
            "bookings.mark_absent",
            "bookings.reassign",
            "bookings.reassign_to_user",
        ],
        "EVENT_TYPE_READ": ["event_types.list", "event_types.get"],
        "EVENT_TYPE_WRITE": ["event_types.create", "event_types.update", "event_types.delete"],
        "SCHEDULE_READ": ["schedules.list", "schedules.get", "schedules.get_default"],
        "SCHEDULE_WRITE": ["schedules.create", "schedules.update", "schedules.delete"],
        "TEAM_PROFILE_READ": ["teams.list", "teams.get"],
        "TEAM_PROFILE_WRITE": ["teams.create", "teams.update", "teams.delete"],
        "TEAM_EVENT_TYPE_READ": ["teams.event_types.list", "teams.event_types.get"],
        "TEAM_EVENT_TYPE_WRITE": [
            "teams.event_types.create",
            "teams.event_types.update",
            "teams.event_types.delete",
        ],
        "TEAM_SCHEDULE_READ": ["teams.schedules.list"],
        "TEAM_MEMBERSHIP_READ": ["teams.memberships.list", "teams.memberships.get"],
        "TEAM_MEMBERSHIP_WRITE": [
            "teams.memberships.create",
            "teams.memberships.update",
            "teams.memberships.delete",
        ],
    }
)

_SCOPE_TEXT = {
    "PROFILE": "your profile",
    "EVENT_TYPE": "your event types",
    "BOOKING": "your bookings",
    "SCHEDULE": "your availability schedules",
    "APPS": "your installed apps",
    "MEMBERSHIP": "memberships",
}


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of ``verifier`` (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def satisfies(held: Iterable[str], required: str) -> bool:
    """Whether ``held`` covers ``required``: the scope itself, its ``ORG_*`` twin for a
    ``TEAM_*`` one, or a legacy scope (``READ_BOOKING``, ``READ_PROFILE``) for its read twin."""
    have = {_LEGACY.get(s, s) for s in held}
    if required in have:
        return True
    return required.startswith("TEAM_") and "ORG_" + required.removeprefix("TEAM_") in have


def _new_secret(prefix: str) -> str:
    return f"{prefix}_SECRET_{secrets.token_urlsafe(24)}"


# -- data ---------------------------------------------------------------------------------------


@dataclass(repr=False)
class OAuthClient:
    """A registered third-party OAuth client. ``secrets`` empty: a public client (PKCE only)."""

    client_id: str
    name: str
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    secrets: tuple[str, ...] = ()
    logo: str | None = None
    is_trusted: bool = False
    legacy: bool = False  #: an old client: ``scope`` may be left out (all its scopes)
    approved: bool = True  #: False: the consent page answers ``unauthorized_client``

    def __repr__(self) -> str:
        return (
            f"OAuthClient(client_id={self.client_id!r}, {self.client_type}, "
            f"redirect_uris={list(self.redirect_uris)!r}, scopes={list(self.scopes)!r})"
        )

    @property
    def client_type(self) -> str:
        return "CONFIDENTIAL" if self.secrets else "PUBLIC"

    @property
    def secret(self) -> str | None:
        """The (newest) client secret; None for a public client."""
        return self.secrets[-1] if self.secrets else None

    def describe(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "redirect_uris": list(self.redirect_uris),
            "name": self.name,
            "logo": self.logo,
            "is_trusted": self.is_trusted,
            "client_type": self.client_type,
        }

    def check_secret(self, given: str) -> bool:
        ok = False
        for secret in self.secrets:  # every one compared: no early exit
            ok |= hmac.compare_digest(secret.encode(), given.encode("utf-8", "surrogatepass"))
        return ok


@dataclass(repr=False)
class _Consent:
    client_id: str
    redirect_uri: str
    state: str | None
    scopes: tuple[str, ...]
    challenge: str | None
    user_id: int
    expires: float


@dataclass(repr=False)
class _Code:
    client_id: str
    user_id: int
    redirect_uri: str
    scopes: tuple[str, ...]
    challenge: str | None
    expires: float
    used: bool = False


@dataclass(repr=False)
class _Grant:
    """An access or refresh token."""

    client_id: str
    user_id: int
    scopes: tuple[str, ...]
    expires: float
    revoked: bool = False


@dataclass
class TokenRequest:
    """One call of the token endpoint (no secret in it): ``error`` is the answer's
    ``error_description`` (``refresh_token_revoked``, …) or None on success."""

    grant_type: str | None
    client_id: str | None
    status: int
    error: str | None = None
    content_type: str = ""


class _Problem(Exception):
    """A token endpoint error, answered as a bare RFC 6749 body."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


class _Redirect(Exception):
    """An authorization request error that goes back to the app (``error=`` on the redirect)."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


_CODE_FIELDS = frozenset(
    {"client_id", "grant_type", "code", "redirect_uri", "client_secret", "code_verifier"}
)
_REFRESH_FIELDS = frozenset({"client_id", "grant_type", "refresh_token", "client_secret"})
_GRANTS = {"authorization_code": _CODE_FIELDS, "refresh_token": _REFRESH_FIELDS}
_AUTHORIZE_PARAMS = (
    "client_id",
    "redirect_uri",
    "state",
    "scope",
    "code_challenge",
    "code_challenge_method",
)
_REQUIRED = {
    "authorization_code": ("client_id", "code", "redirect_uri"),
    "refresh_token": ("client_id", "refresh_token"),
}


# -- the provider -------------------------------------------------------------------------------


class FakeOAuth:
    """The OAuth side of a :class:`~calcom_async.testing.FakeCalCom` (``fake.oauth``).

    ``clients``: the registered clients by id (two at start: :data:`DEFAULT_OAUTH_CLIENT_ID`,
    confidential, and :data:`DEFAULT_PUBLIC_OAUTH_CLIENT_ID`, public, both with every scope and
    :data:`DEFAULT_OAUTH_REDIRECT_URIS`); ``user_id``: who is signed in on the consent page;
    ``token_requests``: every call of the token endpoint (:class:`TokenRequest`).
    """

    def __init__(self, fake: FakeCalCom) -> None:
        self._fake = fake
        self.clients: dict[str, OAuthClient] = {}
        self.user_id: int = fake.store.owner_id
        self.access_token_ttl = ACCESS_TOKEN_TTL
        self.refresh_token_ttl = REFRESH_TOKEN_TTL
        self.code_ttl = CODE_TTL
        self.token_requests: list[TokenRequest] = []
        self._consents: dict[str, _Consent] = {}
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, _Grant] = {}
        self._refresh: dict[str, _Grant] = {}
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

    def now(self) -> float:
        return self._fake.now()

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
            if not _SCOPE_NAME.match(scope):
                raise ValueError(f"{scope!r} is not a scope name")
        if public:
            if secret is not None:
                raise ValueError("a public client has no secret")
            held: tuple[str, ...] = ()
        elif secret is None:
            held = (_new_secret("fake_oauth"),)
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
        from ..oauth import OAuthApp

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

    # -- tokens ------------------------------------------------------------------------------

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

    def _issue(self, client_id: str, user_id: int, scopes: tuple[str, ...]) -> dict[str, Any]:
        now = self.now()
        for grant in self._refresh.values():  # rotation: every earlier one is revoked
            if grant.client_id == client_id and grant.user_id == user_id:
                grant.revoked = True
        access, refresh = _new_secret("oat"), _new_secret("ort")
        self._access[access] = _Grant(client_id, user_id, scopes, now + self.access_token_ttl)
        self._refresh[refresh] = _Grant(client_id, user_id, scopes, now + self.refresh_token_ttl)
        return {
            "access_token": access,
            "token_type": "bearer",
            "refresh_token": refresh,
            "expires_in": int(self.access_token_ttl),
            "scope": " ".join(scopes),
        }

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

    def _record(self, request: web.Request, name: str, status: int) -> None:
        self._fake.operations[name] += 1
        self._fake.requests.append(
            RequestRecord(
                request.method,
                request.path,
                name,
                status,
                request.headers.get("X-Request-Id"),
                None,
                {} if name.startswith("oauth2.authorize") else dict(request.query),
            )
        )

    # -- the consent page --------------------------------------------------------------------

    async def authorize_page(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        client = self.clients.get(query.get("client_id", ""))
        if client is None:
            self._record(request, "oauth2.authorize", 400)
            return _html(400, "Unknown application", "<p>No OAuth client has this client_id.</p>")
        redirect_uri = query.get("redirect_uri", "")
        if redirect_uri not in client.redirect_uris:
            self._record(request, "oauth2.authorize", 400)
            text = (
                f"<p>The redirect URI is not registered for {html.escape(client.name)}. "
                "You were not sent back to the application.</p>"
            )
            return _html(400, "Invalid redirect URI", text)
        state = query.get("state")
        try:
            scopes, challenge = self._check_request(client, query)
        except _Redirect as exc:
            self._record(request, "oauth2.authorize", 302)
            return _redirect(
                redirect_uri, error=exc.error, error_description=exc.description, state=state
            )
        ticket = secrets.token_urlsafe(24)
        now = self.now()
        self._consents = {k: c for k, c in self._consents.items() if c.expires > now}
        expires = now + CONSENT_TTL
        self._consents[ticket] = _Consent(
            client.client_id, redirect_uri, state, scopes, challenge, self.user_id, expires
        )
        self._record(request, "oauth2.authorize", 200)
        return _consent_page(client, scopes, self._fake.store.user(self.user_id), ticket)

    def _check_request(
        self, client: OAuthClient, query: MultiMapping[str]
    ) -> tuple[tuple[str, ...], str | None]:
        if not client.approved:
            raise _Redirect("unauthorized_client", "the client is not approved")
        for name in _AUTHORIZE_PARAMS:
            if len(query.getall(name, [])) > 1:
                raise _Redirect("invalid_request", f"{name} is repeated")
        text = query.get("scope", "")
        asked = tuple(dict.fromkeys(text.replace(",", " ").split()))
        if not asked:
            if not client.legacy:
                raise _Redirect("invalid_request", "scope is required")
            asked = client.scopes
        unknown = [s for s in asked if s not in client.scopes]
        if unknown:
            raise _Redirect(
                "invalid_request", f"scope not registered for this client: {' '.join(unknown)}"
            )
        challenge = query.get("code_challenge")
        method = query.get("code_challenge_method")
        if challenge is None and method is not None:
            raise _Redirect("invalid_request", "code_challenge_method without code_challenge")
        if challenge is not None:
            if method != "S256":
                raise _Redirect("invalid_request", "code_challenge_method must be S256")
            if len(challenge) != 43 or not _UNRESERVED.match(challenge):
                raise _Redirect("invalid_request", "code_challenge is not an S256 challenge")
        elif not client.secrets:
            raise _Redirect("invalid_request", "code_challenge is required for public clients")
        return asked, challenge

    async def authorize_decision(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        ticket = form.get("consent")
        consent = self._consents.pop(ticket, None) if isinstance(ticket, str) else None
        if consent is None or consent.expires <= self.now():
            self._record(request, "oauth2.authorize.decide", 400)
            text = "<p>This consent request has expired or was already answered.</p>"
            return _html(400, "Request expired", text)
        decision = form.get("decision")
        self._record(request, "oauth2.authorize.decide", 302)
        if decision == "allow":
            code = _new_secret("oac")
            self._codes[code] = _Code(
                consent.client_id,
                consent.user_id,
                consent.redirect_uri,
                consent.scopes,
                consent.challenge,
                self.now() + self.code_ttl,
            )
            return _redirect(consent.redirect_uri, code=code, state=consent.state)
        return _redirect(
            consent.redirect_uri,
            error="access_denied",
            error_description="The user denied the request",
            state=consent.state,
        )

    # -- the token endpoint ------------------------------------------------------------------

    async def token(self, request: web.Request) -> web.Response:
        record = TokenRequest(None, None, 0, content_type=request.content_type)
        self.token_requests.append(record)
        try:
            fields = await _token_fields(request)
            record.grant_type = fields.get("grant_type")
            record.client_id = fields.get("client_id")
            body = self._token(fields)
        except _Problem as exc:
            record.status, record.error = exc.status, exc.description
            self._record(request, "oauth2.token", exc.status)
            return _json(
                {"error": exc.error, "error_description": exc.description}, exc.status, request
            )
        record.status = 200
        self._record(request, "oauth2.token", 200)
        return _json(body, 200, request)

    def _token(self, fields: dict[str, str]) -> dict[str, Any]:
        grant_type = fields.get("grant_type")
        if not grant_type:
            raise _Problem(400, "invalid_request", "grant_type is required")
        allowed = _GRANTS.get(grant_type)
        if allowed is None:
            raise _Problem(400, "invalid_request", "unsupported grant_type")
        unknown = sorted(set(fields) - allowed)
        if unknown:
            raise _Problem(400, "invalid_request", f"unknown fields: {', '.join(unknown)}"[:200])
        for name in _REQUIRED[grant_type]:
            if not fields.get(name):
                raise _Problem(400, "invalid_request", f"{name} is required")
        client = self.clients.get(fields["client_id"])
        if client is None:
            raise _Problem(401, "invalid_client", "unknown client")
        given = fields.get("client_secret")
        if client.secrets:
            if not given or not client.check_secret(given):
                raise _Problem(401, "invalid_client", "invalid client_secret")
        elif given:
            raise _Problem(401, "invalid_client", "a public client has no client_secret")
        if grant_type == "authorization_code":
            return self._code_grant(client, fields)
        return self._refresh_grant(client, fields)

    def _code_grant(self, client: OAuthClient, fields: dict[str, str]) -> dict[str, Any]:
        code = self._codes.get(fields["code"])
        if code is None or code.used or code.expires <= self.now():
            raise _Problem(400, "invalid_grant", "code_invalid_or_expired")
        code.used = True  # single use: a failed exchange burns it too
        if code.client_id != client.client_id:
            raise _Problem(400, "invalid_grant", "client_id_mismatch")
        if code.redirect_uri != fields["redirect_uri"]:
            raise _Problem(400, "invalid_grant", "redirect_uri_mismatch")
        if not client.secrets or code.challenge is not None:
            verifier = fields.get("code_verifier") or ""
            if (
                code.challenge is None
                or not 43 <= len(verifier) <= 128
                or not _UNRESERVED.match(verifier)
                or not hmac.compare_digest(s256(verifier), code.challenge)
            ):
                raise _Problem(400, "invalid_grant", "pkce_verification_failed")
        return self._issue(client.client_id, code.user_id, code.scopes)

    def _refresh_grant(self, client: OAuthClient, fields: dict[str, str]) -> dict[str, Any]:
        grant = self._refresh.get(fields["refresh_token"])
        if grant is None or grant.expires <= self.now():
            raise _Problem(400, "invalid_grant", "invalid_refresh_token")
        if grant.revoked:
            raise _Problem(400, "invalid_grant", "refresh_token_revoked")
        if grant.client_id != client.client_id:
            raise _Problem(400, "invalid_grant", "client_id_mismatch")
        return self._issue(client.client_id, grant.user_id, grant.scopes)

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


# -- helpers ------------------------------------------------------------------------------------


async def _token_fields(request: web.Request) -> dict[str, str]:
    raw = await request.read()
    if request.content_type == "application/json":
        try:
            data = json.loads(raw)
        except ValueError:
            raise _Problem(400, "invalid_request", "the body is not valid JSON") from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise _Problem(400, "invalid_request", "the body must be an object of strings")
        return data
    if request.content_type == "application/x-www-form-urlencoded":
        try:
            pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        except ValueError:
            raise _Problem(400, "invalid_request", "the form body is malformed") from None
        fields = dict(pairs)
        if len(fields) != len(pairs):
            raise _Problem(400, "invalid_request", "a parameter is repeated")
        return fields
    raise _Problem(
        400,
        "invalid_request",
        "the body must be application/json or application/x-www-form-urlencoded",
    )


def _json(body: Mapping[str, Any], status: int, request: web.Request) -> web.Response:
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    request_id = request.headers.get("X-Request-Id")
    if request_id:
        headers["X-Request-Id"] = request_id
    return web.json_response(dict(body), status=status, headers=headers)


def _redirect(uri: str, **params: str | None) -> web.Response:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    location = f"{uri}{'&' if urlsplit(uri).query else '?'}{query}"
    return web.Response(
        status=302,
        headers={
            "Location": location,
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
        },
    )


_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;"
    "color:#111}h1{font-size:1.4rem}ul{padding-left:1.2rem}.who{color:#555}"
    "button{font-size:1rem;padding:.5rem 1.4rem;margin-right:.6rem;border-radius:6px;"
    "border:1px solid #111;cursor:pointer}button.allow{background:#111;color:#fff}"
    "button.deny{background:#fff;color:#111}"
)


def _html(status: int, title: str, body: str) -> web.Response:
    text = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)} · Cal.com (fake)</title><style>{_STYLE}</style></head>\n"
        f"<body>\n<h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n"
    )
    return web.Response(
        status=status,
        text=text,
        content_type="text/html",
        headers={
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Frame-Options": "DENY",
            "Content-Security-Policy": "frame-ancestors 'none'",
        },
    )


def _describe_scope(scope: str) -> str:
    rest, whose = _LEGACY.get(scope, scope), ""
    for prefix, owner in (("TEAM_", "your teams' "), ("ORG_", "your organization's ")):
        if scope.startswith(prefix):
            rest, whose = scope.removeprefix(prefix), owner
            break
    kind, _, access = rest.rpartition("_")
    what = _SCOPE_TEXT.get(kind, kind.lower().replace("_", " "))
    if whose:
        what = whose + what.removeprefix("your ")
    verb = "Read" if access == "READ" else "Create, change and delete"
    return f"{verb} {what}"


def _consent_page(
    client: OAuthClient, scopes: Sequence[str], user: Mapping[str, Any], ticket: str
) -> web.Response:
    name = html.escape(client.name)
    items = "\n".join(
        f"<li>{html.escape(_describe_scope(s))} <code>{html.escape(s)}</code></li>" for s in scopes
    )
    body = (
        f'<p class="who">Signed in as {html.escape(str(user.get("name")))} '
        f"({html.escape(str(user.get('email')))})</p>\n"
        f"<p><strong>{name}</strong> wants to access your Cal.com account. It will be able to:</p>"
        f"\n<ul>\n{items}\n</ul>\n"
        '<form method="post" action="/auth/oauth2/authorize">\n'
        f'<input type="hidden" name="consent" value="{html.escape(ticket)}">\n'
        '<button class="allow" type="submit" name="decision" value="allow">Allow</button>\n'
        '<button class="deny" type="submit" name="decision" value="deny">Deny</button>\n'
        "</form>"
    )
    return _html(200, f"Authorize {client.name}", body)
