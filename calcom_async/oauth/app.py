"""The registered OAuth client (:class:`OAuthApp`): the authorization URL, the code exchange,
the refresh grant, and the :class:`OAuthRefresher` a ``CalCom(oauth=…, oauth_app=…)`` client
renews its tokens with."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import parse_qsl, urlsplit

import attrs

from .._clock import Clock, SystemClock
from .._errors import APIStatusError, CalComError, CalComUsageError, ResponseValidationError
from .._refresh import RefreshCall
from .._scopes import Scope, parse_scopes
from .._tokens import OAuthToken, TokenPair
from .._types import OpenStrEnum
from .errors import converted
from .pkce import AuthorizationRequest, authorization_request, new_state
from .tokens import read_token

if TYPE_CHECKING:
    import aiohttp

    from .._client import CalCom
    from .._response import APIResponse

__all__ = [
    "DEFAULT_AUTHORIZE_URL",
    "ClientType",
    "OAuthApp",
    "OAuthClientInfo",
    "OAuthRefresher",
]

logger = logging.getLogger("calcom_async")

DEFAULT_AUTHORIZE_URL = "https://app.cal.com/auth/oauth2/authorize"


def _check_text(label: str, value: object, *, optional: bool = False) -> str | None:
    """A non-empty one-line string; the message never shows the value (it may be secret)."""
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value or value != value.strip():
        raise CalComUsageError(f"{label} must be a non-empty string without surrounding spaces")
    if not value.isprintable():
        raise CalComUsageError(f"{label} contains control characters")
    return value


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
    from .._client import normalize_base_url

    if not isinstance(url, str):
        raise CalComUsageError(f"{label} must be a URL string")
    try:
        normalize_base_url(url)  # https, or http on loopback only; no query or credentials
    except CalComUsageError as exc:
        raise CalComUsageError(f"{label}: {exc}") from None
    return url.strip()


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
        from .._client import DEFAULT_BASE_URL, normalize_base_url

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
            from .._client import CalCom

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
            return self._given_client.session.clock
        return SystemClock()

    def refresher(self) -> OAuthRefresher:
        """How a ``CalCom(oauth=…, oauth_app=self)`` client renews its tokens."""
        return OAuthRefresher(self)

    # -- the flow -------------------------------------------------------------------------------

    def authorization_url(
        self, state: str | None = None, *, scopes: Iterable[Scope | str] | str | None = None
    ) -> AuthorizationRequest:
        """The consent page URL with a fresh PKCE pair (S256) and ``state`` (an unguessable one
        unless given). Keep ``state`` and ``code_verifier`` server-side until the redirect."""
        if state is None:
            state = new_state()
        else:
            _check_text("state", state)
        wanted = self.scopes if scopes is None else parse_scopes(scopes)
        return authorization_request(
            self.client_id, self.authorize_url, self.redirect_uri, [str(s) for s in wanted], state
        )

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
        return await self._token_call(_form_fields(body), None)

    async def refresh(self, token: TokenPair | str) -> OAuthToken:
        """New tokens for ``token`` (an :class:`OAuthToken` or a refresh token string).

        The answer's refresh token replaces the old one, which the server revokes: persist the
        result. A ``CalCom(oauth=…, oauth_app=…)`` client refreshes by itself.
        """
        pair = TokenPair("-", token) if isinstance(token, str) else token
        return await self._token_call(self._refresh_call(pair).body, pair)

    def _refresh_call(self, tokens: TokenPair) -> RefreshCall:
        """The refresh grant for ``tokens`` at the token endpoint (what is sent to renew them)."""
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
        from .._generated.operations import OAUTH2_TOKEN  # the table's row (overlay)

        return RefreshCall(operation=OAUTH2_TOKEN, body=_form_fields(body))

    async def _token_call(
        self, fields: Mapping[str, str], previous: TokenPair | None
    ) -> OAuthToken:
        """The token endpoint called through the app's client: its answer read into a token,
        an OAuth error answer raised as its :class:`OAuthError`."""
        from .._generated.operations import OAUTH2_TOKEN  # the table's row (overlay)

        client = self._client()
        try:
            response = await client.session.request(OAUTH2_TOKEN, body=fields, raw=True)
        except APIStatusError as exc:
            answer = converted(exc)
            if answer is exc:
                raise
            raise answer from exc
        return read_token(response.content, self.clock, previous)

    async def describe(self, client: CalCom) -> OAuthClientInfo:
        """This OAuth client as Cal.com has it registered (``client`` needs an API key)."""
        from .._generated.operations import OAUTH2_GET_CLIENT  # the table's row (overlay)

        response = await client.session.request(
            OAUTH2_GET_CLIENT, path={"clientId": self.client_id}, raw=True
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


def _form_fields(form: str) -> dict[str, str]:
    """oauthlib writes the RFC 6749 form body; the endpoint takes the same fields as JSON,
    which is what the pipeline sends."""
    return dict(parse_qsl(form, keep_blank_values=True))


class OAuthRefresher:
    """The :class:`~calcom_async._refresh.Refresher` for ``CalCom(oauth=…, oauth_app=…)``: the
    refresh grant at the token endpoint, sent through that client's pipeline."""

    label = "OAuth"

    def __init__(self, app: OAuthApp) -> None:
        self.app = app

    def __repr__(self) -> str:
        return f"OAuthRefresher(client_id={self.app.client_id!r})"

    def call(self, tokens: TokenPair) -> RefreshCall:
        return self.app._refresh_call(tokens)

    def read(self, answer: APIResponse[Any], tokens: TokenPair, clock: Clock) -> TokenPair:
        return read_token(answer.content, clock, tokens)

    def error(self, error: CalComError) -> CalComError:
        return converted(error) if isinstance(error, APIStatusError) else error
