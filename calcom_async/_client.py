"""``CalCom``: configuration, lifecycle and the resource namespaces."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

import attrs

from ._auth import Auth, Refresher, TokenIssuer, TokenPair, TokenRefreshCallback, parse_expiry
from ._clock import Clock, SystemClock
from ._custom import CustomRequests
from ._errors import CalComUsageError
from ._gate import Gate
from ._generated.client import GeneratedNamespaces
from ._http import AiohttpTransport
from ._options import check_retries, check_seconds
from ._pipeline import Session
from ._request import SessionConfig
from ._retry import RetryPolicy
from ._session import check_api_version
from ._transport import Transport
from .stores import Store

if TYPE_CHECKING:
    import aiohttp

    from ._tokens import OAuthToken
    from .oauth import OAuthApp

__all__ = ["DEFAULT_BASE_URL", "EU_BASE_URL", "CalCom"]

DEFAULT_BASE_URL = "https://api.cal.com"
EU_BASE_URL = "https://api.cal.eu"
_UNSET: Any = object()


def normalize_base_url(url: str) -> str:
    """``https://host[:port][/prefix]`` without a trailing ``/`` or ``/v2``; refuses plain
    ``http://`` except on loopback (a key must not travel in clear text)."""
    if not isinstance(url, str) or not url.strip():
        raise CalComUsageError("base_url must be a non-empty string")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise CalComUsageError(f"base_url must be an http(s) URL with a host, not {url!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise CalComUsageError("base_url may not carry a query, fragment or credentials")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise CalComUsageError(
            f"refusing plain http:// to {parts.hostname}: credentials would travel in clear "
            "text; use https:// (http is allowed for localhost only)"
        )
    path = parts.path.rstrip("/")
    path = path.removesuffix("/v2").rstrip("/")
    return f"{parts.scheme}://{parts.netloc}{path}"


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _oauth_credentials(
    token: OAuthToken | None, app: OAuthApp | None
) -> tuple[TokenPair, Refresher | None]:
    """The tokens and refresher of ``CalCom(oauth=…, oauth_app=…)``."""
    if not isinstance(token, TokenPair) or not token.access_token:
        raise CalComUsageError(
            "oauth= must be the user's OAuthToken (from OAuthApp.exchange_code or "
            "OAuthToken.from_dict)"
        )
    if app is None:
        if token.refresh_token:
            raise CalComUsageError(
                "refreshing an OAuth token needs oauth_app= (the OAuthApp that obtained it)"
            )
        return token, None
    if not isinstance(app, TokenIssuer):  # (the oauth package builds on this module)
        raise CalComUsageError("oauth_app= must be an OAuthApp")
    return token, app.refresher()


def _check_pins(pins: Mapping[str, str]) -> dict[str, str]:
    """Pins by operation name, operationId or family; each value must be a known version."""
    from ._generated.operations import OPERATIONS

    known = {key for op in OPERATIONS for key in op.pin_keys}
    checked = {}
    for key, value in pins.items():
        if key not in known:
            raise CalComUsageError(
                f"api_versions: {key!r} is neither an operation (like 'bookings.get') nor a "
                "family (like 'bookings')"
            )
        checked[key] = check_api_version(value, f"api_versions[{key!r}]")
    return checked


class SyncContextError(CalComUsageError, TypeError):
    """``with CalCom()`` without ``async``: a :class:`CalComUsageError` (the library's "you used
    it wrong, nothing was sent") that is also the ``TypeError`` Python itself raises for an
    object that is no context manager, so code catching either keeps working."""


class CalCom(CustomRequests, GeneratedNamespaces):
    """The async client. ``async with CalCom(api_key=...) as cal: await cal.bookings.list()``.

    Credentials (any combination; each call sends what its operation accepts):

    - ``api_key`` (default: the ``CALCOM_API_KEY`` environment variable);
    - ``client_id`` + ``client_secret``: the platform OAuth client pair;
    - ``access_token`` (+ ``refresh_token``, ``access_token_expires_at``): a managed user's tokens,
      refreshed before they expire and once after a 401; ``on_token_refresh(pair)`` (sync or
      async) receives every new pair — persist it, the old refresh token stops working.
    - ``oauth`` (an ``OAuthToken`` of a third-party app's user) + ``oauth_app`` (the
      ``OAuthApp`` that got it): refreshed the same way, at the OAuth token endpoint; the
      callback receives each new ``OAuthToken``. See ``calcom_async.oauth``.

    Other settings: ``base_url`` (default ``https://api.cal.com``, EU ``https://api.cal.eu``, or a
    self-hosted URL; a trailing ``/v2`` is accepted); ``api_versions`` pins a ``cal-api-version``
    per operation or family (``{"bookings": "2024-08-13"}``); ``timeout`` / ``connect_timeout``
    (seconds); ``max_retries``; ``retry_unsafe`` (also re-send POST/PATCH after errors the server
    may have processed); ``max_concurrency`` (requests in flight, and pooled connections);
    ``rate_limit`` (pace requests by the server's rate-limit headers); ``http_session`` (your own
    ``aiohttp.ClientSession``, left open on close); ``transport`` (what sends each request: any
    object with ``async send(Request) -> Response`` and ``aclose()``, see
    ``calcom_async.Transport``; default an ``AiohttpTransport``; the rate limiter, retries and
    deadlines apply to it as to the default); ``default_headers``; ``strict`` (raise
    ``ResponseValidationError`` when an answer deviates from its model, instead of reading it
    tolerantly: the value kept as sent, the deviation logged once on ``calcom_async.drift``).

    What the document lacks: ``await cal.request("PATCH", "/v2/bookings/{bookingUid}/location",
    path={"bookingUid": uid}, json={...}, api_version="2024-08-13", cast_to=Model)``, its raw twin
    ``cal.with_raw_response.request`` and ``cal.paginate`` (``calcom_async._custom``).

    Scaling out (``docs/scaling.md``): ``store`` (``calcom_async.stores``; default a
    ``MemoryStore``) keeps the rate-limit budget, token pairs and sync checkpoints; a
    ``RedisStore`` shares them between processes. ``token_key`` names this user's tokens in a
    shared store (e.g. the managed user's id; never a secret). The store is not closed with the
    client: several clients share one.
    """

    _session: Session  #: the request pipeline (``session``); what the namespaces call

    def __init__(
        self,
        api_key: str | None = None,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        access_token: str | None = None,
        refresh_token: str | None = None,
        access_token_expires_at: float | str | None = None,
        on_token_refresh: TokenRefreshCallback | None = None,
        oauth: OAuthToken | None = None,
        oauth_app: OAuthApp | None = None,
        base_url: str | None = None,
        api_versions: Mapping[str, str] | None = None,
        timeout: float | None = 120.0,
        connect_timeout: float | None = 10.0,
        max_retries: int = 2,
        retry_unsafe: bool = False,
        max_concurrency: int = 64,
        rate_limit: bool = True,
        default_headers: Mapping[str, str] | None = None,
        http_session: aiohttp.ClientSession | None = None,
        transport: Transport | None = None,
        clock: Clock | None = None,
        retry_policy: RetryPolicy | None = None,
        store: Store | None = None,
        token_key: str | None = None,
        strict: bool = False,
    ) -> None:
        if api_key is None:
            api_key = os.environ.get("CALCOM_API_KEY") or None
        for label, value in (
            ("api_key", api_key),
            ("client_id", client_id),
            ("client_secret", client_secret),
            ("access_token", access_token),
            ("refresh_token", refresh_token),
        ):
            if value is not None and (
                not isinstance(value, str) or not value or value != value.strip()
            ):
                raise CalComUsageError(f"{label} must be a non-empty string without whitespace")
            if value is not None and not value.isprintable():
                raise CalComUsageError(f"{label} contains control characters")
        if refresh_token is not None and access_token is None:
            raise CalComUsageError("refresh_token needs access_token too")
        check_retries(max_retries)
        check_seconds("timeout", timeout)
        check_seconds("connect_timeout", connect_timeout)
        if not isinstance(max_concurrency, int) or max_concurrency < 1:
            raise CalComUsageError("max_concurrency must be an integer >= 1")
        if transport is not None and http_session is not None:
            raise CalComUsageError(
                "pass http_session= or transport=, not both (an AiohttpTransport takes the "
                "session: transport=AiohttpTransport(http_session=...))"
            )
        if transport is not None and not isinstance(transport, Transport):
            raise CalComUsageError(
                "transport= must have async send(request) -> Response and aclose() "
                f"(calcom_async.Transport), not {type(transport).__name__}"
            )
        clock = clock or SystemClock()
        try:
            expires = parse_expiry(access_token_expires_at)
        except ValueError as exc:
            raise CalComUsageError(f"access_token_expires_at: {exc}") from None
        tokens = TokenPair(access_token, refresh_token, expires) if access_token else None
        refresher: Refresher | None = None
        if oauth is not None or oauth_app is not None:
            if access_token is not None:
                raise CalComUsageError("pass either oauth= or access_token=, not both")
            tokens, refresher = _oauth_credentials(oauth, oauth_app)
        auth = Auth(
            clock=clock,
            api_key=api_key,
            client_id=client_id,
            client_secret=client_secret,
            tokens=tokens,
            on_token_refresh=on_token_refresh,
            refresher=refresher,
            store=store,
            token_key=token_key,
        )
        policy = retry_policy or RetryPolicy()
        config = SessionConfig(
            base_url=normalize_base_url(
                base_url or os.environ.get("CALCOM_BASE_URL") or DEFAULT_BASE_URL
            ),
            timeout=timeout,
            connect_timeout=connect_timeout,
            retry=attrs.evolve(policy, max_retries=max_retries),
            retry_unsafe=retry_unsafe,
            api_versions=_check_pins(api_versions or {}),
            default_headers=dict(default_headers or {}),
            strict=bool(strict),
        )
        gate = Gate(
            scope=config.base_url,
            clock=clock,
            max_concurrency=max_concurrency,
            rate_limit=rate_limit,
            max_wait=policy.max_wait,
            store=store,
        )
        if transport is None:
            transport = AiohttpTransport(http_session=http_session, max_connections=max_concurrency)
        self._session = Session(config, auth=auth, transport=transport, gate=gate, clock=clock)
        self._namespaces = {}  #: cal.bookings, … made on first use (``_resource.namespace``)

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

    if not TYPE_CHECKING:  # hidden from type checkers: `with CalCom()` stays a type error

        def __enter__(self) -> None:
            raise SyncContextError(
                "CalCom is an async client: use `async with`, or `CalComSync` in blocking "
                "code (`async with CalCom(...) as cal:` in a coroutine; "
                "`with calcom_async.CalComSync(...) as cal:` in a script)"
            )

        def __exit__(self, *exc: object) -> None:  # pragma: no cover - __enter__ raised
            return None

    async def aclose(self) -> None:
        """Close the connection pool (a ``http_session`` you passed in is left open; a
        ``transport`` you passed in is closed)."""
        await self._session.aclose()

    @property
    def is_closed(self) -> bool:
        return self._session.gate.closed

    # -- configuration --------------------------------------------------------------------------

    def with_options(
        self,
        *,
        base_url: str | None = None,
        api_versions: Mapping[str, str] | None = None,
        timeout: float | None = _UNSET,
        connect_timeout: float | None = _UNSET,
        max_retries: int | None = None,
        retry_unsafe: bool | None = None,
        default_headers: Mapping[str, str] | None = None,
        strict: bool | None = None,
    ) -> Self:
        """A copy with other settings, sharing the connection pool, the rate limiter and the
        credentials (a refreshed token is seen by both). ``api_versions`` and
        ``default_headers`` are merged over this client's."""
        config = self._session.config
        retry = config.retry
        if timeout is not _UNSET:
            check_seconds("timeout", timeout)
        if connect_timeout is not _UNSET:
            check_seconds("connect_timeout", connect_timeout)
        check_retries(max_retries, optional=True)
        if max_retries is not None:
            retry = attrs.evolve(retry, max_retries=max_retries)
        new_config = SessionConfig(
            base_url=normalize_base_url(base_url) if base_url is not None else config.base_url,
            timeout=config.timeout if timeout is _UNSET else timeout,
            connect_timeout=config.connect_timeout
            if connect_timeout is _UNSET
            else connect_timeout,
            retry=retry,
            retry_unsafe=config.retry_unsafe if retry_unsafe is None else retry_unsafe,
            api_versions={**config.api_versions, **_check_pins(api_versions or {})},
            default_headers={**config.default_headers, **(default_headers or {})},
            strict=config.strict if strict is None else strict,
        )
        copy = object.__new__(type(self))
        session = self._session
        copy._namespaces = {}
        copy._session = Session(
            new_config,
            auth=session.auth,
            transport=session.transport,
            gate=session.gate,
            clock=session.clock,
        )
        return copy

    @property
    def base_url(self) -> str:
        return self._session.config.base_url

    @property
    def api_versions(self) -> Mapping[str, str]:
        """The versions pinned on this client (by operation or family)."""
        return dict(self._session.config.api_versions)

    @property
    def tokens(self) -> TokenPair | None:
        """The managed user's current tokens (after any refresh), or None."""
        return self._session.auth.tokens

    @property
    def store(self) -> Store:
        """Where this client keeps shared state (``calcom_async.stores``)."""
        return self._session.gate.store

    @property
    def session(self) -> Session:
        """The request pipeline (for paginators and advanced use)."""
        return self._session

    def __repr__(self) -> str:
        modes = sorted(m.value for m in self._session.auth.modes)
        return f"CalCom(base_url={self.base_url!r}, auth={modes!r})"
