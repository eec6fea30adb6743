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
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import html
import logging
import secrets
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self
from urllib.parse import parse_qsl, urlsplit

import attrs

from ._auth import SendOperation, TokenPair
from ._clock import Clock, SystemClock
from ._errors import (
    APIConnectionError,
    APIStatusError,
    CalComError,
    CalComUsageError,
    InsufficientScopeError,
    ResponseValidationError,
)
from ._operation import AuthMode, Operation, Param
from ._scopes import Scope, parse_scopes, satisfies
from ._types import OpenStrEnum

if TYPE_CHECKING:
    import aiohttp
    from aiohttp import web

    from ._client import CalCom

__all__ = [
    "CLIENT_OPERATION",
    "DEFAULT_AUTHORIZE_URL",
    "TOKEN_OPERATION",
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

logger = logging.getLogger("calcom_async")

DEFAULT_AUTHORIZE_URL = "https://app.cal.com/auth/oauth2/authorize"
_VERIFIER_LENGTH = 64  # RFC 7636: 43..128 characters; 64 of 66 symbols is ~386 bits
_STATE_BYTES = 32

#: ``POST /v2/auth/oauth2/token`` (both grants). Credentials travel in the body, so the client's
#: own headers are never added (``_auth.ANONYMOUS_OPERATIONS``). Not in the pinned document.
TOKEN_OPERATION = Operation(
    operation_id="OAuth2Controller_token",
    name="oauth2.token",
    method="POST",
    path="/v2/auth/oauth2/token",
    params=(),
    body=None,
    body_required=True,
    response=None,
    unwrap=False,
    api_version=None,
    auth=frozenset(),
    auth_required=False,
    pagination=None,
    summary="Exchange an authorization code or a refresh token for tokens",
)

#: ``GET /v2/auth/oauth2/clients/{clientId}`` (API key): describes an OAuth client.
CLIENT_OPERATION = Operation(
    operation_id="OAuth2Controller_getClient",
    name="oauth2.get_client",
    method="GET",
    path="/v2/auth/oauth2/clients/{clientId}",
    params=(Param("clientId", "client_id", "path", True, "str"),),
    body=None,
    body_required=False,
    response=None,
    unwrap=False,
    api_version=None,
    auth=frozenset({AuthMode.API_KEY}),
    auth_required=True,
    pagination=None,
    summary="Describe an OAuth client",
)


def _hidden(value: object) -> str:
    return "'***'" if value else "None"


def _check_text(label: str, value: object, *, optional: bool = False) -> str | None:
    """A non-empty one-line string; the message never shows the value (it may be secret)."""
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value or value != value.strip():
        raise CalComUsageError(f"{label} must be a non-empty string without surrounding spaces")
    if not value.isprintable():
        raise CalComUsageError(f"{label} contains control characters")
    return value


# -- errors -------------------------------------------------------------------------------------


class OAuthError(CalComError):
    """An OAuth error answer: from the token endpoint (bare ``{"error", "error_description"}``),
    or on the redirect back from the consent page (``?error=…``).

    ``error``: the RFC 6749 code (``invalid_grant``, ``access_denied``, …); ``error_description``:
    the server's explanation (for ``invalid_grant`` a reason such as ``refresh_token_revoked``);
    ``status_code`` / ``request_id``: of the token endpoint's answer (None on a redirect).
    """

    def __init__(
        self,
        error: str,
        error_description: str | None = None,
        *,
        status_code: int | None = None,
        request_id: str | None = None,
    ) -> None:
        text = f"{error}: {error_description}" if error_description else error
        if status_code is not None:
            text = f"{status_code} {text}"
        super().__init__(text)
        self.error = error
        self.error_description = error_description
        self.status_code = status_code
        self.request_id = request_id

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(error={self.error!r}, "
            f"error_description={self.error_description!r}, status_code={self.status_code!r})"
        )


class InvalidGrantError(OAuthError):
    """``invalid_grant``: the code or refresh token is invalid, expired, used or revoked, or the
    verifier, client or redirect URI does not match. ``reason`` tells which
    (``code_invalid_or_expired``, ``invalid_refresh_token``, ``refresh_token_revoked``,
    ``client_id_mismatch``, ``redirect_uri_mismatch``, ``pkce_verification_failed``). For a
    refresh token this means the user must authorize the app again."""

    @property
    def reason(self) -> str | None:
        return self.error_description


class InvalidClientError(OAuthError):
    """``invalid_client``: unknown client, or a wrong or missing client secret."""


class UnauthorizedClientError(OAuthError):
    """``unauthorized_client``: the client may not use this grant or redirect."""


class InvalidRequestError(OAuthError):
    """``invalid_request``: a missing, repeated or unknown parameter."""


class InvalidScopeError(OAuthError):
    """``invalid_scope``: a scope the client is not registered for."""


class AccessDeniedError(OAuthError):
    """``access_denied`` on the redirect: the user declined."""


class OAuthServerError(OAuthError):
    """``server_error`` (or ``temporarily_unavailable``)."""


class InvalidStateError(OAuthError):
    """The redirect's ``state`` is missing, wrong, already used or expired (``invalid_state``;
    raised or shown by this library, not sent by the server): possible CSRF, no exchange made."""


_ERRORS: dict[str, type[OAuthError]] = {
    "invalid_grant": InvalidGrantError,
    "invalid_client": InvalidClientError,
    "unauthorized_client": UnauthorizedClientError,
    "invalid_request": InvalidRequestError,
    "invalid_scope": InvalidScopeError,
    "access_denied": AccessDeniedError,
    "server_error": OAuthServerError,
    "temporarily_unavailable": OAuthServerError,
    "invalid_state": InvalidStateError,
}


def oauth_error(
    error: str,
    error_description: str | None = None,
    *,
    status_code: int | None = None,
    request_id: str | None = None,
) -> OAuthError:
    """The typed exception for an OAuth ``error`` code (:class:`OAuthError` for unknown codes)."""
    cls = _ERRORS.get(error, OAuthError)
    return cls(error, error_description, status_code=status_code, request_id=request_id)


def _converted(exc: APIStatusError) -> CalComError:
    body = exc.body
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        description = body.get("error_description")
        return oauth_error(
            body["error"],
            description if isinstance(description, str) else None,
            status_code=exc.status_code,
            request_id=exc.request_id,
        )
    return exc  # not an OAuth answer (a proxy's HTML page, …): the usual typed error


# -- tokens -------------------------------------------------------------------------------------


def _scopes_field(value: Iterable[str] | str | None) -> tuple[Scope, ...]:
    return parse_scopes(value)


@attrs.frozen(slots=True, repr=False)
class OAuthToken(TokenPair):
    """A user's tokens for a third-party app. Persist both after every refresh (rotation revokes
    earlier refresh tokens). ``access_token_expires_at``: Unix seconds; ``expires_at``: the same
    as an aware UTC datetime. ``scopes``: what the user granted. No secret in ``repr``/``str``."""

    scopes: tuple[Scope, ...] = attrs.field(default=(), converter=_scopes_field)
    token_type: str = "bearer"

    def __repr__(self) -> str:
        expires = self.expires_at
        return (
            f"OAuthToken(access_token={_hidden(self.access_token)}, "
            f"refresh_token={_hidden(self.refresh_token)}, "
            f"expires_at={expires.isoformat() if expires else None!r}, "
            f"scopes={[str(s) for s in self.scopes]!r})"
        )

    __str__ = __repr__

    @property
    def expires_at(self) -> dt.datetime | None:
        """When the access token expires (aware, UTC), or None when unknown."""
        when = self.access_token_expires_at
        return None if when is None else dt.datetime.fromtimestamp(when, dt.UTC)

    def expires_in(self, *, now: float | dt.datetime | None = None) -> float | None:
        """Seconds left (negative once expired) at ``now`` (Unix seconds or an aware datetime;
        default: the system clock), or None when the expiry is unknown."""
        if self.access_token_expires_at is None:
            return None
        return self.access_token_expires_at - _unix(now)

    def is_expired(self, *, now: float | dt.datetime | None = None, leeway: float = 0.0) -> bool:
        """Whether the access token has expired (or will within ``leeway`` seconds)."""
        left = self.expires_in(now=now)
        return left is not None and left <= leeway

    def has_scope(self, scope: str) -> bool:
        """Whether the granted scopes cover ``scope`` (an ``ORG_*`` scope covers ``TEAM_*``)."""
        return satisfies(self.scopes, scope)

    def _fields(self) -> dict[str, Any]:  # to_json: the pair's fields, then scopes and type
        return {
            **super()._fields(),
            "k": "oauth",
            "s": [str(s) for s in self.scopes],
            "t": self.token_type,
        }

    @classmethod
    def _from_fields(cls, fields: dict[str, Any]) -> Self:
        return cls(
            fields["a"],
            fields.get("r"),
            fields.get("e"),
            scopes=fields.get("s") or (),
            token_type=fields.get("t") or "bearer",
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict for storage (it holds the secrets: store it like a password)."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.access_token_expires_at,
            "scope": " ".join(self.scopes),
            "token_type": self.token_type,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OAuthToken:
        """The inverse of :meth:`to_dict`."""
        from ._auth import parse_expiry

        access = data.get("access_token")
        refresh = data.get("refresh_token")
        if not isinstance(access, str) or not access:
            raise CalComUsageError("an OAuthToken needs a non-empty 'access_token'")
        if refresh is not None and not isinstance(refresh, str):
            raise CalComUsageError("'refresh_token' must be a string or None")
        try:
            expires = parse_expiry(data.get("expires_at"))
        except (TypeError, ValueError) as exc:
            raise CalComUsageError(f"'expires_at': {exc}") from None
        return cls(
            access,
            refresh,
            expires,
            scopes=data.get("scope") or (),
            token_type=str(data.get("token_type") or "bearer"),
        )


def _unix(now: float | dt.datetime | None) -> float:
    if now is None:
        return SystemClock().time()
    if isinstance(now, dt.datetime):
        return (now if now.tzinfo else now.replace(tzinfo=dt.UTC)).timestamp()
    return float(now)


def _read_token(content: bytes, clock: Clock, previous: TokenPair | None) -> OAuthToken:
    """An :class:`OAuthToken` from the token endpoint's bare RFC 6749 answer."""
    from oauthlib.oauth2.rfc6749.errors import MissingTokenError, OAuth2Error
    from oauthlib.oauth2.rfc6749.parameters import parse_token_response

    received = clock.time()
    text = content.decode("utf-8", errors="replace")
    try:
        # No requested scope is passed: the server may grant fewer, and oauthlib would raise.
        params: Mapping[str, Any] = parse_token_response(text)
    except MissingTokenError:
        params = {}
    except OAuth2Error as exc:  # a 200 carrying {"error": ...}
        raise oauth_error(exc.error or "server_error", exc.description or None) from None
    except (ValueError, TypeError):  # expires_in not a number, …
        params = {"invalid": True}
    access = params.get("access_token")
    refresh = params.get("refresh_token")
    if refresh is None and previous is not None:
        refresh = previous.refresh_token  # a server that does not rotate
    expires_in = params.get("expires_in")
    if (
        not isinstance(access, str)
        or not access
        or (refresh is not None and not isinstance(refresh, str))
        or (expires_in is not None and not isinstance(expires_in, int | float))
    ):
        # The answer holds secrets: the error shows only its field names.
        raise ResponseValidationError(
            f"the token endpoint's answer does not have the expected fields (got {sorted(params)})"
        )
    scopes: Iterable[str] | None = params.get("scope")
    if scopes is None and isinstance(previous, OAuthToken):
        scopes = previous.scopes  # scopes carry over from the grant
    return OAuthToken(
        access,
        refresh,
        received + float(expires_in) if expires_in is not None else None,
        scopes=scopes,
        token_type=str(params.get("token_type") or "bearer"),
    )


# -- the authorization request ------------------------------------------------------------------


@attrs.frozen(slots=True, repr=False)
class AuthorizationRequest:
    """Where to send the user, and what to keep until the redirect comes back: ``state`` (check
    it, once) and ``code_verifier`` (give it to :meth:`OAuthApp.exchange_code`). Unpacks as
    ``url, state, code_verifier``."""

    url: str
    state: str
    code_verifier: str
    code_challenge: str

    def __repr__(self) -> str:
        return (
            f"AuthorizationRequest(url={self.url.split('?', 1)[0] + '?…'!r}, state='***', "
            "code_verifier='***')"
        )

    __str__ = __repr__

    def __iter__(self) -> Iterator[str]:
        return iter((self.url, self.state, self.code_verifier))


class ClientType(OpenStrEnum):
    CONFIDENTIAL = "CONFIDENTIAL"  #: has a secret (up to two during rotation)
    PUBLIC = "PUBLIC"  #: no secret; PKCE required


@attrs.frozen(slots=True)
class OAuthClientInfo:
    """``GET /v2/auth/oauth2/clients/{clientId}``: a registered OAuth client."""

    client_id: str
    redirect_uris: tuple[str, ...]
    name: str | None
    logo: str | None
    is_trusted: bool | None
    client_type: ClientType | None
    raw: Mapping[str, Any] = attrs.field(eq=False, repr=False)


def _https_or_loopback(label: str, url: object) -> str:
    from ._client import normalize_base_url

    if not isinstance(url, str):
        raise CalComUsageError(f"{label} must be a URL string")
    try:
        normalize_base_url(url)  # https, or http on loopback only; no query or credentials
    except CalComUsageError as exc:
        raise CalComUsageError(f"{label}: {exc}") from None
    return url.strip()


# -- the app ------------------------------------------------------------------------------------


class OAuthApp:
    """A third-party OAuth client registered with Cal.com.

    ``client_secret=None`` makes a public client (a browser or mobile app: PKCE only).
    ``scopes``: what :meth:`authorization_url` asks for (a subset of the registered ones).
    ``authorize_url``: the consent page (``https://app.cal.com/auth/oauth2/authorize``);
    ``base_url``: the API host whose ``/v2/auth/oauth2/token`` issues tokens. The app's own
    calls (:meth:`exchange_code`, :meth:`refresh`) go through ``client`` when given (a
    :class:`~calcom_async.CalCom`, left open), else through a small client of its own: close
    the app (``async with`` / :meth:`aclose`) when done. Given as ``oauth_app=`` to ``CalCom``,
    its refreshes go through that client's pipeline instead.
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str | None = None,
        *,
        redirect_uri: str,
        scopes: Iterable[Scope | str] | str = (),
        authorize_url: str = DEFAULT_AUTHORIZE_URL,
        base_url: str | None = None,
        client: CalCom | None = None,
        http_session: aiohttp.ClientSession | None = None,
        clock: Clock | None = None,
        timeout: float | None = 30.0,
    ) -> None:
        from ._client import DEFAULT_BASE_URL, normalize_base_url

        self.client_id: str = _check_text("client_id", client_id) or ""
        self._client_secret = _check_text("client_secret", client_secret, optional=True)
        _check_text("redirect_uri", redirect_uri)
        parts = urlsplit(redirect_uri)
        if not parts.scheme or not (parts.netloc or parts.path) or parts.fragment:
            raise CalComUsageError("redirect_uri must be an absolute URL without a fragment")
        self.redirect_uri = redirect_uri
        self.scopes: tuple[Scope, ...] = parse_scopes(scopes)
        self.authorize_url = _https_or_loopback("authorize_url", authorize_url)
        if client is not None:
            self.base_url = client.base_url if base_url is None else normalize_base_url(base_url)
        else:
            self.base_url = normalize_base_url(base_url or DEFAULT_BASE_URL)
        self._given_client = client
        self._own_client: CalCom | None = None
        self._http_session = http_session
        self._clock = clock
        self._timeout = timeout

    def __repr__(self) -> str:
        kind = "public" if self.is_public else "confidential"
        return (
            f"OAuthApp(client_id={self.client_id!r}, {kind}, redirect_uri={self.redirect_uri!r}, "
            f"scopes={[str(s) for s in self.scopes]!r})"
        )

    @property
    def is_public(self) -> bool:
        """A public client has no secret and proves itself with PKCE alone."""
        return self._client_secret is None

    # -- lifecycle ------------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the app's own client, if it made one (a ``client`` you passed stays open)."""
        client, self._own_client = self._own_client, None
        if client is not None:
            await client.aclose()

    def _client(self) -> CalCom:
        if self._given_client is not None:
            return self._given_client
        if self._own_client is None:
            from ._client import CalCom

            self._own_client = CalCom(
                base_url=self.base_url,
                http_session=self._http_session,
                clock=self._clock,
                timeout=self._timeout,
            )
        return self._own_client

    @property
    def clock(self) -> Clock:
        if self._clock is not None:
            return self._clock
        if self._given_client is not None:
            return self._given_client.session.transport.clock
        return SystemClock()

    # -- the flow -------------------------------------------------------------------------------

    def authorization_url(
        self, state: str | None = None, *, scopes: Iterable[Scope | str] | str | None = None
    ) -> AuthorizationRequest:
        """The consent page URL with a fresh PKCE pair (S256) and ``state`` (an unguessable one
        unless given). Keep ``state`` and ``code_verifier`` server-side until the redirect."""
        from oauthlib.oauth2 import WebApplicationClient

        if state is None:
            state = secrets.token_urlsafe(_STATE_BYTES)
        else:
            _check_text("state", state)
        wanted = self.scopes if scopes is None else parse_scopes(scopes)
        lib = WebApplicationClient(self.client_id)
        verifier = lib.create_code_verifier(_VERIFIER_LENGTH)
        challenge = lib.create_code_challenge(verifier, "S256")
        # oauthlib refuses http:// unless a process-wide environment switch is set; our own
        # check (https, or http on loopback for a local server) has run, so let it build the
        # query on the https twin of the URL and put the real scheme back.
        parts = urlsplit(self.authorize_url)
        built = lib.prepare_request_uri(
            parts._replace(scheme="https").geturl(),
            redirect_uri=self.redirect_uri,
            scope=[str(s) for s in wanted] or None,
            state=state,
            code_challenge=challenge,
            code_challenge_method="S256",
        )
        url = urlsplit(built)._replace(scheme=parts.scheme).geturl()
        return AuthorizationRequest(url, state, verifier, challenge)

    async def exchange_code(
        self, code: str, *, code_verifier: str, redirect_uri: str | None = None
    ) -> OAuthToken:
        """Trade the redirect's ``code`` (single use, 10 minutes) for tokens.

        Raises :class:`InvalidGrantError` (``reason``: ``code_invalid_or_expired``,
        ``pkce_verification_failed``, ``redirect_uri_mismatch``, …), :class:`InvalidClientError`,
        … (all :class:`OAuthError`).
        """
        from oauthlib.oauth2 import WebApplicationClient

        _check_text("code", code)
        _check_text("code_verifier", code_verifier)
        body = WebApplicationClient(self.client_id).prepare_request_body(
            code=code,
            redirect_uri=redirect_uri or self.redirect_uri,
            include_client_id=True,
            code_verifier=code_verifier,
            client_secret=self._client_secret,
        )
        client = self._client()
        return await self._token_call(body, client.session.request, self.clock, None)

    async def refresh(self, token: TokenPair | str) -> OAuthToken:
        """New tokens for ``token`` (an :class:`OAuthToken` or a refresh token string).

        The answer's refresh token replaces the old one, which the server revokes: persist the
        result. A ``CalCom(oauth=…, oauth_app=…)`` client refreshes by itself.
        """
        client = self._client()
        pair = TokenPair("-", token) if isinstance(token, str) else token
        return await self._refresh(pair, client.session.request, self.clock)

    async def _refresh(self, tokens: TokenPair, send: SendOperation, clock: Clock) -> OAuthToken:
        from oauthlib.oauth2 import WebApplicationClient

        if not isinstance(tokens, TokenPair):
            raise CalComUsageError("refresh() takes an OAuthToken or a refresh token string")
        refresh_token = _check_text("refresh_token", tokens.refresh_token)
        body = WebApplicationClient(self.client_id).prepare_refresh_body(
            refresh_token=refresh_token,
            scope=None,  # scopes carry over; the endpoint rejects unknown fields
            client_id=self.client_id,
            client_secret=self._client_secret,
        )
        return await self._token_call(body, send, clock, tokens)

    async def _token_call(
        self, form: str, send: SendOperation, clock: Clock, previous: TokenPair | None
    ) -> OAuthToken:
        # oauthlib writes the RFC 6749 form body; the endpoint takes the same fields as JSON,
        # which is what the pipeline sends.
        fields = dict(parse_qsl(form, keep_blank_values=True))
        try:
            response = await send(TOKEN_OPERATION, body=fields, raw=True)
        except APIStatusError as exc:
            converted = _converted(exc)
            if converted is exc:
                raise
            raise converted from exc
        return _read_token(response.content, clock, previous)

    async def describe(self, client: CalCom) -> OAuthClientInfo:
        """This OAuth client as Cal.com has it registered (``client`` needs an API key)."""
        response = await client.session.request(
            CLIENT_OPERATION, path={"clientId": self.client_id}, raw=True
        )
        answer = response.json()
        data = answer.get("data", answer) if isinstance(answer, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get("client_id"), str):
            shape = sorted(data) if isinstance(data, dict) else type(data).__name__
            raise ResponseValidationError(
                f"the OAuth client description does not have the expected fields (got {shape})",
                raw=answer,
                status_code=response.status_code,
                request_id=response.request_id,
            )
        uris = data.get("redirect_uris") or []
        kind = data.get("client_type")
        return OAuthClientInfo(
            client_id=data["client_id"],
            redirect_uris=tuple(str(u) for u in uris) if isinstance(uris, list) else (),
            name=data.get("name"),
            logo=data.get("logo"),
            is_trusted=data.get("is_trusted"),
            client_type=ClientType(kind) if isinstance(kind, str) else None,
            raw=data,
        )


class OAuthRefresher:
    """The :class:`~calcom_async._auth.Refresher` for ``CalCom(oauth=…, oauth_app=…)``: the
    refresh grant at the token endpoint, sent through that client's pipeline."""

    label = "OAuth"

    def __init__(self, app: OAuthApp) -> None:
        self.app = app

    def __repr__(self) -> str:
        return f"OAuthRefresher(client_id={self.app.client_id!r})"

    async def refresh(self, tokens: TokenPair, send: SendOperation, clock: Clock) -> TokenPair:
        return await self.app._refresh(tokens, send, clock)


# -- the redirect endpoint ----------------------------------------------------------------------


class StateStore(Protocol):
    """Where :class:`OAuthRedirect` keeps each issued ``state`` with its PKCE verifier until the
    redirect comes back. ``take`` must be single use (remove what it returns) and must not
    return an entry older than its ``ttl``. Share one store (Redis, a database) between
    processes that serve the same redirect URI."""

    async def put(self, state: str, code_verifier: str, ttl: float) -> None: ...

    async def take(self, state: str) -> str | None:
        """The verifier stored for ``state`` (removing it), or None if unknown or expired."""
        ...


class MemoryStateStore:
    """The default :class:`StateStore`: a dict in this process, keyed by a hash of the state
    (the lookup reveals nothing through timing), the stored value compared in constant time,
    bounded to ``max_entries``."""

    def __init__(self, *, clock: Clock | None = None, max_entries: int = 10_000) -> None:
        self._clock = clock or SystemClock()
        self._max = max_entries
        self._entries: dict[str, tuple[str, str, float]] = {}

    def __repr__(self) -> str:
        return f"MemoryStateStore(entries={len(self._entries)})"

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def _key(state: str) -> str:
        return hashlib.sha256(state.encode("utf-8", "surrogatepass")).hexdigest()

    async def put(self, state: str, code_verifier: str, ttl: float) -> None:
        now = self._clock.monotonic()
        if len(self._entries) >= self._max:
            self._entries = {k: v for k, v in self._entries.items() if v[2] > now}
            while len(self._entries) >= self._max:  # still full: drop the oldest
                del self._entries[next(iter(self._entries))]
        self._entries[self._key(state)] = (state, code_verifier, now + ttl)

    async def take(self, state: str) -> str | None:
        entry = self._entries.pop(self._key(state), None)
        if entry is None:
            return None
        stored, verifier, expires = entry
        if not _same(stored, state) or self._clock.monotonic() >= expires:
            return None
        return verifier


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(
        a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass")
    )


TokenHandler = Callable[["web.Request", OAuthToken], Awaitable["web.StreamResponse"]]
ErrorHandler = Callable[["web.Request", OAuthError], Awaitable["web.StreamResponse"]]


class _Failure(enum.Enum):
    MISSING_STATE = "The sign-in answer has no state: it did not come from a sign-in you started."
    STATE_MISMATCH = "The sign-in answer does not belong to a sign-in started in this browser."
    STALE_STATE = "This sign-in link was already used or has expired. Please start again."
    MISSING_CODE = "The sign-in answer has no authorization code."


class OAuthRedirect:
    """The aiohttp.web endpoints of the flow: ``start`` (sends the browser to the consent page)
    and ``callback`` (mounted at the app's ``redirect_uri``).

    ``start`` issues a fresh ``state`` + PKCE verifier, keeps them in ``store`` for
    ``state_ttl`` seconds, binds the state to the browser with an HttpOnly, SameSite=Lax cookie
    and redirects to the consent page. ``callback`` checks ``state`` (present, equal to the
    cookie in constant time, known to the store, unexpired, and consumed: single use), then
    exchanges the code with the stored verifier and calls ``on_token(request, token)``, whose
    response it returns. Anything else — a missing, tampered, replayed or expired state, a
    missing code, an ``error=`` redirect such as ``access_denied``, a failed exchange — gets a
    4xx (or 502) HTML page from ``on_error(request, error)`` (default: a plain page) and no
    exchange. ``bind_to_browser=False`` drops the cookie check (for flows started elsewhere;
    weaker against login CSRF).
    """

    def __init__(
        self,
        app: OAuthApp,
        on_token: TokenHandler,
        *,
        store: StateStore | None = None,
        state_ttl: float = 600.0,
        on_error: ErrorHandler | None = None,
        cookie_name: str = "calcom_oauth_state",
        bind_to_browser: bool = True,
        clock: Clock | None = None,
        start_path: str = "/oauth/connect",
    ) -> None:
        self.app = app
        self.on_token = on_token
        self.store: StateStore = store or MemoryStateStore(clock=clock or app.clock)
        self.state_ttl = state_ttl
        self.on_error = on_error
        self.cookie_name = cookie_name
        self.bind_to_browser = bind_to_browser
        self.start_path = start_path
        self.callback_path = urlsplit(app.redirect_uri).path or "/"

    def __repr__(self) -> str:
        return f"OAuthRedirect(app={self.app!r}, callback_path={self.callback_path!r})"

    def add_routes(self, web_app: web.Application) -> None:
        """Mount ``GET start_path`` → :meth:`start` and ``GET <redirect_uri path>`` →
        :meth:`callback`."""
        web_app.router.add_get(self.start_path, self.start)
        web_app.router.add_get(self.callback_path, self.callback)

    async def start(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import web

        auth = self.app.authorization_url()
        await self.store.put(auth.state, auth.code_verifier, self.state_ttl)
        response = web.Response(status=302, headers={"Location": auth.url})
        response.headers["Cache-Control"] = "no-store"
        response.set_cookie(
            self.cookie_name,
            auth.state,
            max_age=max(1, int(self.state_ttl)),
            path=self.callback_path,
            httponly=True,
            secure=request.secure,
            samesite="Lax",
        )
        return response

    async def callback(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        state = query.get("state")
        if not state:
            return await self._fail(request, _Failure.MISSING_STATE)
        if self.bind_to_browser:
            cookie = request.cookies.get(self.cookie_name)
            if not cookie or not _same(cookie, state):
                return await self._fail(request, _Failure.STATE_MISMATCH)
        verifier = await self.store.take(state)
        if verifier is None:
            return await self._fail(request, _Failure.STALE_STATE)
        error = query.get("error")
        if error:
            return await self._fail(request, oauth_error(error, query.get("error_description")))
        code = query.get("code")
        if not code:
            return await self._fail(request, _Failure.MISSING_CODE)
        try:
            token = await self.app.exchange_code(code, code_verifier=verifier)
        except OAuthError as exc:
            return await self._fail(request, exc)
        except (APIStatusError, APIConnectionError, ResponseValidationError) as exc:
            logger.warning("OAuth code exchange failed: %s", type(exc).__name__)
            return await self._fail(request, OAuthServerError("server_error", "no answer"))
        logger.info("OAuth authorization completed for client %s", self.app.client_id)
        from aiohttp import web

        try:
            response = await self.on_token(request, token)
        except web.HTTPException as exc:  # `raise web.HTTPFound(...)` from the handler
            if isinstance(exc, web.StreamResponse):
                self._finish(exc)
            raise
        self._finish(response)
        return response

    def _finish(self, response: web.StreamResponse) -> None:
        response.headers.setdefault("Referrer-Policy", "no-referrer")  # the URL holds the code
        response.headers.setdefault("Cache-Control", "no-store")
        if self.bind_to_browser and not response.prepared:
            response.del_cookie(self.cookie_name, path=self.callback_path)

    async def _fail(
        self, request: web.Request, failure: _Failure | OAuthError
    ) -> web.StreamResponse:
        if isinstance(failure, _Failure):
            error: OAuthError = (
                InvalidRequestError("invalid_request", failure.value)
                if failure is _Failure.MISSING_CODE
                else InvalidStateError("invalid_state", failure.value)
            )
        else:
            error = failure
        logger.warning("OAuth redirect rejected: %s", error.error)
        if self.on_error is not None:
            response = await self.on_error(request, error)
        else:
            response = _error_page(error)
        self._finish(response)
        return response


_TITLES = {
    "access_denied": "Access denied",
    "invalid_state": "Sign-in could not be verified",
}


def _error_status(error: OAuthError) -> int:
    if isinstance(error, AccessDeniedError):
        return 403
    if isinstance(error, OAuthServerError):
        return 502
    return 400


def _error_page(error: OAuthError) -> web.Response:
    from aiohttp import web

    title = _TITLES.get(error.error, "Cal.com sign-in failed")
    if isinstance(error, AccessDeniedError):
        text = "You declined to connect your Cal.com account. Nothing was shared."
    elif isinstance(error, InvalidStateError | InvalidRequestError) and error.status_code is None:
        text = error.error_description or error.error
    else:
        text = f"Cal.com answered: {error.error}" + (
            f" ({error.error_description})" if error.error_description else ""
        )
    body = (
        '<!doctype html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>\n<body><h1>{html.escape(title)}</h1>\n"
        f"<p>{html.escape(text)}</p>\n<p>No account was connected.</p></body></html>\n"
    )
    return web.Response(
        status=_error_status(error),
        text=body,
        content_type="text/html",
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )
