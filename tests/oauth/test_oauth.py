"""OAuth apps: authorization URL, PKCE, token exchange and refresh against a local token
endpoint, typed errors, scopes, and ``CalCom(oauth=…, oauth_app=…)`` on the shared refresh
machinery."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import web

from calcom_async import (
    AuthenticationError,
    CalCom,
    CalComError,
    CalComUsageError,
    InsufficientScopeError,
    InternalServerError,
    PermissionDeniedError,
    ResponseValidationError,
)
from calcom_async._errors import make_status_error
from calcom_async._operation import AuthMode, Operation
from calcom_async.oauth import (
    AccessDeniedError,
    ClientType,
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    OAuthApp,
    OAuthError,
    OAuthServerError,
    OAuthToken,
    Scope,
    UnauthorizedClientError,
    parse_scopes,
    satisfies,
)
from tests.oauth._oauth_server import (
    ACCESS_LIFETIME,
    CONFIDENTIAL_ID,
    PUBLIC_ID,
    REDIRECT_URI,
    OAuthServer,
    oauth_error,
    running,
    s256,
)
from tests.support.clock import FakeClock
from tests.support.leaks import API_KEY, CLIENT_SECRET

RFC7636_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC7636_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
SCOPES = [Scope.PROFILE_READ, Scope.BOOKING_READ]
# Test secrets live in names: a traceback quotes source lines, and the leak scan reads tracebacks.
SOME_AT, SOME_RT, OTHER_AT = "SECRET_AT_x", "SECRET_RT_x", "SECRET_AT_y"
UNUSED_RT, SOME_CODE = "SECRET_RT_unused", "SECRET_CODE_x"

ME = Operation(
    operation_id="MeController_getMe",
    name="me.get",
    method="GET",
    path="/v2/me",
    params=(),
    body=None,
    body_required=False,
    response=None,
    unwrap=False,
    api_version=None,
    auth=frozenset({AuthMode.API_KEY, AuthMode.ACCESS_TOKEN}),
    auth_required=True,
    pagination=None,
)
ICS_SAVE = Operation(
    operation_id="CalendarsController_createIcsFeed",
    name="calendars.save_ics_feed",
    method="POST",
    path="/v2/calendars/ics-feed/save",
    params=(),
    body=None,
    body_required=False,
    response=None,
    unwrap=False,
    api_version=None,
    auth=frozenset({AuthMode.ACCESS_TOKEN}),
    auth_required=True,
    pagination=None,
)


@pytest.fixture
def secret_verifiers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make every PKCE verifier contain ``SECRET``, so the leak scan watches verifiers too."""
    from oauthlib.oauth2.rfc6749.clients.base import Client

    made: list[str] = []
    original = Client.create_code_verifier

    def create(self: Client, length: int) -> str:
        verifier = "SECRET-" + original(self, length)[7:]
        made.append(verifier)
        self.code_verifier = verifier
        return verifier

    monkeypatch.setattr(Client, "create_code_verifier", create)
    return made


@pytest.fixture
async def server(clock: FakeClock) -> AsyncIterator[OAuthServer]:
    async with running(clock) as srv:
        yield srv


@pytest.fixture
async def make_app(server: OAuthServer, clock: FakeClock) -> AsyncIterator[Callable[..., OAuthApp]]:
    apps: list[OAuthApp] = []

    def make(
        client_id: str = CONFIDENTIAL_ID, secret: str | None = CLIENT_SECRET, **kw: Any
    ) -> Any:
        kw.setdefault("redirect_uri", REDIRECT_URI)
        kw.setdefault("scopes", SCOPES)
        kw.setdefault("base_url", server.base_url)
        kw.setdefault("clock", clock)
        app = OAuthApp(client_id, secret, **kw)
        apps.append(app)
        return app

    yield make
    for app in apps:
        await app.aclose()


async def authorize(app: OAuthApp, server: OAuthServer, **code_kw: Any) -> OAuthToken:
    """Run the flow as a browser would: consent URL -> code (challenge kept) -> exchange."""
    request = app.authorization_url()
    query = parse_qs(urlsplit(request.url).query)
    code = server.issue_code(app.client_id, challenge=query["code_challenge"][0], **code_kw)
    return await app.exchange_code(code, code_verifier=request.code_verifier)


# -- the authorization URL and PKCE ----------------------------------------------------------------


def test_authorization_url_parameters() -> None:
    app = OAuthApp(CONFIDENTIAL_ID, CLIENT_SECRET, redirect_uri=REDIRECT_URI, scopes=SCOPES)
    request = app.authorization_url(state="SECRET-state-1")
    parts = urlsplit(request.url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "app.cal.com",
        "/auth/oauth2/authorize",
    )
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query == {
        "response_type": "code",
        "client_id": CONFIDENTIAL_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": "PROFILE_READ BOOKING_READ",
        "state": "SECRET-state-1",
        "code_challenge": s256(request.code_verifier),
        "code_challenge_method": "S256",
    }
    assert request.state == "SECRET-state-1"
    assert 43 <= len(request.code_verifier) <= 128
    assert set(request.code_verifier) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
    )
    url, state, verifier = request
    assert (url, state, verifier) == (request.url, request.state, request.code_verifier)
    for text in (repr(request), str(request)):
        assert request.code_verifier not in text and "SECRET" not in text


def test_generated_state_and_verifier_are_fresh_and_unguessable() -> None:
    app = OAuthApp(PUBLIC_ID, redirect_uri=REDIRECT_URI, scopes="PROFILE_READ,BOOKING_READ")
    requests = [app.authorization_url() for _ in range(20)]
    assert len({r.state for r in requests}) == 20
    assert len({r.code_verifier for r in requests}) == 20
    assert all(len(r.state) >= 43 for r in requests)  # 32 random bytes, base64url
    query = parse_qs(urlsplit(requests[0].url).query)
    assert query["scope"] == ["PROFILE_READ BOOKING_READ"]
    assert "client_secret" not in query
    wider = app.authorization_url(scopes=[Scope.PROFILE_READ, "TEAM_PROFILE_READ"])
    assert parse_qs(urlsplit(wider.url).query)["scope"] == ["PROFILE_READ TEAM_PROFILE_READ"]


def test_pkce_matches_the_rfc7636_appendix_b_vector(monkeypatch: pytest.MonkeyPatch) -> None:
    from oauthlib.oauth2.rfc6749.clients.base import Client

    digest = hashlib.sha256(RFC7636_VERIFIER.encode()).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == RFC7636_CHALLENGE
    monkeypatch.setattr(Client, "create_code_verifier", lambda self, length: RFC7636_VERIFIER)
    app = OAuthApp(PUBLIC_ID, redirect_uri=REDIRECT_URI)
    request = app.authorization_url(state="s")
    assert request.code_verifier == RFC7636_VERIFIER
    assert request.code_challenge == RFC7636_CHALLENGE
    query = parse_qs(urlsplit(request.url).query)
    assert query["code_challenge"] == [RFC7636_CHALLENGE]
    assert query["code_challenge_method"] == ["S256"]


def test_authorize_url_may_be_loopback_http_only() -> None:
    local = OAuthApp(
        PUBLIC_ID,
        redirect_uri="http://127.0.0.1:8000/cb",
        authorize_url="http://127.0.0.1:3000/auth/oauth2/authorize",
    )
    assert local.authorization_url().url.startswith("http://127.0.0.1:3000/auth/oauth2/authorize?")
    with pytest.raises(CalComUsageError, match="authorize_url"):
        OAuthApp(PUBLIC_ID, redirect_uri=REDIRECT_URI, authorize_url="http://cal.example/a")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"client_id": ""},
        {"client_secret": ""},
        {"client_secret": " SECRET "},
        {"redirect_uri": "callback"},
        {"redirect_uri": "https://crm.example/cb#frag"},
        {"base_url": "http://api.example"},
    ],
)
def test_bad_app_settings_are_usage_errors(kwargs: dict[str, Any]) -> None:
    settings: dict[str, Any] = {"client_id": CONFIDENTIAL_ID, "redirect_uri": REDIRECT_URI}
    settings.update(kwargs)
    with pytest.raises(CalComUsageError) as info:
        OAuthApp(**settings)
    assert "SECRET" not in str(info.value)


def test_app_repr_shows_no_secret() -> None:
    app = OAuthApp(CONFIDENTIAL_ID, CLIENT_SECRET, redirect_uri=REDIRECT_URI, scopes=SCOPES)
    assert CLIENT_SECRET not in repr(app) and "confidential" in repr(app)
    assert not app.is_public and OAuthApp(PUBLIC_ID, redirect_uri=REDIRECT_URI).is_public


# -- scopes ----------------------------------------------------------------------------------------


def test_scope_enum_lists_every_scope_of_the_facts_file() -> None:
    expected = {
        f"{r}_{a}"
        for r in ("PROFILE", "EVENT_TYPE", "BOOKING", "SCHEDULE", "APPS")
        for a in ("READ", "WRITE")
    }
    for prefix in ("TEAM", "ORG"):
        expected |= {
            f"{prefix}_{r}_{a}"
            for r in ("EVENT_TYPE", "BOOKING", "SCHEDULE", "PROFILE", "MEMBERSHIP")
            for a in ("READ", "WRITE")
        }
    expected |= {"READ_BOOKING", "READ_PROFILE"}
    assert {s.value for s in Scope} == expected
    assert len(expected) == 32


def test_unknown_scopes_are_kept() -> None:
    scopes = parse_scopes("PROFILE_READ, CREDITS_READ  BOOKING_READ PROFILE_READ")
    assert scopes == ("PROFILE_READ", "CREDITS_READ", "BOOKING_READ")
    assert isinstance(scopes[1], Scope) and not scopes[1].is_known and scopes[0].is_known
    assert parse_scopes(["PROFILE_READ,BOOKING_READ", Scope.APPS_READ]) == (
        "PROFILE_READ",
        "BOOKING_READ",
        "APPS_READ",
    )


def test_org_scopes_cover_team_scopes() -> None:
    assert satisfies([Scope.ORG_PROFILE_READ], "TEAM_PROFILE_READ")
    assert not satisfies([Scope.TEAM_PROFILE_READ], "ORG_PROFILE_READ")
    assert not satisfies([Scope.PROFILE_READ], "TEAM_PROFILE_READ")
    token = OAuthToken("SECRET_A", None, None, scopes=["ORG_BOOKING_READ"])
    assert token.has_scope(Scope.TEAM_BOOKING_READ) and not token.has_scope(Scope.BOOKING_READ)


@pytest.mark.parametrize(
    ("message", "required", "held"),
    [
        (
            "insufficient_scope: token does not have the required scopes. Required: "
            "PROFILE_READ. Token has: BOOKING_READ",
            ("PROFILE_READ",),
            ("BOOKING_READ",),
        ),
        (
            "insufficient_scope: token does not have the required scopes. Required: "
            "TEAM_PROFILE_READ, TEAM_MEMBERSHIP_READ. Token has: PROFILE_READ, BOOKING_WRITE",
            ("TEAM_PROFILE_READ", "TEAM_MEMBERSHIP_READ"),
            ("PROFILE_READ", "BOOKING_WRITE"),
        ),
        (
            "insufficient_scope: token does not have the required scopes. Required: "
            "CREDITS_READ. Token has: ",
            ("CREDITS_READ",),
            (),
        ),
    ],
)
def test_insufficient_scope_lists_are_parsed(
    message: str, required: tuple[str, ...], held: tuple[str, ...]
) -> None:
    body = (
        b'{"status":"error","error":{"code":"ForbiddenException","message":"%s"}}'
        % message.encode()
    )
    error = make_status_error(403, body, request_id="req_1")
    assert isinstance(error, InsufficientScopeError) and isinstance(error, PermissionDeniedError)
    assert error.required == required and error.held == held and not error.not_available
    assert all(isinstance(s, Scope) for s in error.required + error.held)
    assert error.status_code == 403 and error.code == "ForbiddenException"


def test_insufficient_scope_not_available_variant_and_plain_403() -> None:
    message = b"insufficient_scope: this endpoint is not available for third-party OAuth tokens"
    body = b'{"status":"error","error":{"code":"ForbiddenException","message":"%s"}}' % message
    error = make_status_error(403, body)
    assert isinstance(error, InsufficientScopeError)
    assert error.not_available and error.required == () and error.held == ()
    plain = make_status_error(403, b'{"status":"error","error":{"message":"no"}}')
    assert type(plain) is PermissionDeniedError


# -- tokens ----------------------------------------------------------------------------------------


def test_token_repr_hides_secrets_and_round_trips() -> None:
    token = OAuthToken(SOME_AT, SOME_RT, 1_800_000_000.0, scopes="PROFILE_READ BOOKING_READ")
    for text in (repr(token), str(token)):
        assert "SECRET" not in text
        assert "2027-01-15T08:00:00+00:00" in text and "PROFILE_READ" in text
    assert token.expires_at == dt.datetime(2027, 1, 15, 8, 0, tzinfo=dt.UTC)
    assert token.expires_at.tzinfo is not None
    assert OAuthToken.from_dict(token.to_dict()) == token
    with pytest.raises(CalComUsageError):
        OAuthToken.from_dict({"refresh_token": SOME_RT})


async def test_exchange_confidential_client(
    make_app: Any, server: OAuthServer, clock: FakeClock, secret_verifiers: list[str]
) -> None:
    app = make_app()
    clock.advance(100)
    token = await authorize(app, server)
    (sent,) = server.token_requests
    assert sent["content_type"] == "application/json"
    assert "Authorization" not in sent["headers"]
    assert "x-cal-secret-key" not in sent["headers"]
    assert sent["fields"] == {
        "grant_type": "authorization_code",
        "client_id": CONFIDENTIAL_ID,
        "client_secret": CLIENT_SECRET,
        "code": sent["fields"]["code"],
        "redirect_uri": REDIRECT_URI,
        "code_verifier": secret_verifiers[0],
    }
    assert token.access_token.startswith("SECRET_AT_")
    assert token.refresh_token and token.refresh_token.startswith("SECRET_RT_")
    assert token.scopes == (Scope.PROFILE_READ, Scope.BOOKING_READ)
    assert token.token_type == "bearer"
    # expiry on the fake clock: received at wall_start + 100, lives 30 minutes
    assert token.access_token_expires_at == clock.time() + ACCESS_LIFETIME
    assert token.expires_at == dt.datetime.fromtimestamp(clock.time() + 1800, dt.UTC)
    assert token.expires_in(now=clock.time()) == 1800
    assert not token.is_expired(now=clock.time())
    clock.advance(1799)
    assert token.is_expired(now=clock.time(), leeway=60) and not token.is_expired(now=clock.time())
    clock.advance(1)
    assert token.is_expired(now=clock.time())
    later = dt.datetime.fromtimestamp(clock.time() + 5, dt.UTC)
    assert token.is_expired(now=later)


async def test_exchange_public_client_sends_no_secret(
    make_app: Any, server: OAuthServer, secret_verifiers: list[str]
) -> None:
    app = make_app(PUBLIC_ID, None)
    token = await authorize(app, server)
    fields = server.token_requests[0]["fields"]
    assert "client_secret" not in fields and fields["code_verifier"] == secret_verifiers[0]
    assert token.access_token in server.access


async def test_refresh_rotates_and_revokes_the_old_refresh_token(
    make_app: Any, server: OAuthServer
) -> None:
    app = make_app()
    first = await authorize(app, server)
    second = await app.refresh(first)
    assert second.access_token != first.access_token
    assert second.refresh_token != first.refresh_token
    assert second.scopes == first.scopes
    assert server.token_requests[-1]["fields"] == {
        "grant_type": "refresh_token",
        "client_id": CONFIDENTIAL_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": first.refresh_token,
    }
    with pytest.raises(InvalidGrantError) as info:
        await app.refresh(first)
    assert info.value.reason == "refresh_token_revoked"
    assert (await app.refresh(second.refresh_token or "")).access_token in server.access


async def test_code_reuse_wrong_verifier_and_wrong_secret(
    make_app: Any, server: OAuthServer
) -> None:
    app = make_app()
    request = app.authorization_url()
    challenge = parse_qs(urlsplit(request.url).query)["code_challenge"][0]
    code = server.issue_code(challenge=challenge)
    await app.exchange_code(code, code_verifier=request.code_verifier)
    with pytest.raises(InvalidGrantError) as reused:
        await app.exchange_code(code, code_verifier=request.code_verifier)
    assert reused.value.reason == "code_invalid_or_expired"
    other = server.issue_code(challenge=challenge)
    with pytest.raises(InvalidGrantError) as wrong:
        await app.exchange_code(other, code_verifier=RFC7636_VERIFIER)
    assert wrong.value.reason == "pkce_verification_failed"
    assert wrong.value.status_code == 400
    intruder = make_app(secret="SECRET_WRONG_SECRET")
    with pytest.raises(InvalidClientError) as bad_client:
        await intruder.exchange_code(server.issue_code(), code_verifier=request.code_verifier)
    assert bad_client.value.status_code == 401


ERROR_ANSWERS = [
    (400, "invalid_grant", "code_invalid_or_expired", InvalidGrantError),
    (400, "invalid_grant", "invalid_refresh_token", InvalidGrantError),
    (400, "invalid_grant", "refresh_token_revoked", InvalidGrantError),
    (400, "invalid_grant", "client_id_mismatch", InvalidGrantError),
    (400, "invalid_grant", "redirect_uri_mismatch", InvalidGrantError),
    (400, "invalid_grant", "pkce_verification_failed", InvalidGrantError),
    (400, "invalid_request", "unknown fields", InvalidRequestError),
    (401, "invalid_client", "invalid client secret", InvalidClientError),
    (401, "unauthorized_client", "grant not allowed", UnauthorizedClientError),
    (500, "server_error", "boom", OAuthServerError),
    (400, "something_new", "later", OAuthError),
]


@pytest.mark.parametrize(("status", "error", "description", "cls"), ERROR_ANSWERS)
async def test_each_error_body_becomes_its_exception(
    make_app: Any,
    server: OAuthServer,
    status: int,
    error: str,
    description: str,
    cls: type[OAuthError],
) -> None:
    app = make_app()
    server.injected.append(oauth_error(status, error, description))
    with pytest.raises(cls) as info:
        await app.refresh(UNUSED_RT)
    exc = info.value
    assert type(exc) is cls and isinstance(exc, CalComError)
    assert (exc.error, exc.error_description, exc.status_code) == (error, description, status)
    assert error in str(exc) and description in str(exc)
    assert isinstance(exc.__cause__, CalComError)  # the pipeline's status error, kept as cause
    assert len(server.token_requests) == 1  # a token call is never re-sent


def test_redirect_errors_map_to_the_same_classes() -> None:
    from calcom_async.oauth import oauth_error as to_exception

    denied = to_exception("access_denied", "The user denied access")
    assert isinstance(denied, AccessDeniedError) and denied.status_code is None
    assert denied.error == "access_denied"
    assert isinstance(to_exception("unauthorized_client"), UnauthorizedClientError)
    assert isinstance(to_exception("invalid_request"), InvalidRequestError)


async def test_non_oauth_error_pages_keep_their_status_class(
    make_app: Any, server: OAuthServer
) -> None:
    server.injected.append(web.Response(status=502, text="<html>bad gateway</html>"))
    with pytest.raises(InternalServerError):
        await make_app().refresh(UNUSED_RT)


@pytest.mark.parametrize(
    "body",
    [
        {"token_type": "bearer", "refresh_token": "SECRET_RT_9"},
        {"access_token": "SECRET_AT_9", "expires_in": "soon"},
        {"access_token": 5},
    ],
)
async def test_a_malformed_token_answer_names_fields_not_values(
    make_app: Any, server: OAuthServer, body: dict[str, Any]
) -> None:
    server.injected.append(web.json_response(body))
    with pytest.raises(ResponseValidationError) as info:
        await make_app().refresh(UNUSED_RT)
    assert "SECRET" not in str(info.value)


async def test_a_200_carrying_an_error_is_an_oauth_error(
    make_app: Any, server: OAuthServer
) -> None:
    server.injected.append(web.json_response({"error": "invalid_grant", "error_description": "x"}))
    with pytest.raises(InvalidGrantError):
        await make_app().refresh(UNUSED_RT)


async def test_usage_errors_before_sending(make_app: Any, server: OAuthServer) -> None:
    app = make_app()
    with pytest.raises(CalComUsageError):
        await app.exchange_code("", code_verifier="v" * 43)
    with pytest.raises(CalComUsageError):
        await app.exchange_code(SOME_CODE, code_verifier="")
    with pytest.raises(CalComUsageError):
        await app.refresh(OAuthToken(SOME_AT))
    assert server.token_requests == []


async def test_describe_client(make_app: Any, server: OAuthServer, clock: FakeClock) -> None:
    app = make_app(PUBLIC_ID, None)
    async with CalCom(api_key=API_KEY, base_url=server.base_url, clock=clock) as cal:
        info = await app.describe(cal)
    assert info.client_id == PUBLIC_ID and info.client_type is ClientType.PUBLIC
    assert info.redirect_uris == (REDIRECT_URI,) and info.name == "CRM sync"


async def test_the_app_can_use_a_given_client(server: OAuthServer, clock: FakeClock) -> None:
    async with CalCom(base_url=server.base_url, clock=clock, api_key=API_KEY) as cal:
        app = OAuthApp(
            CONFIDENTIAL_ID, CLIENT_SECRET, redirect_uri=REDIRECT_URI, scopes=SCOPES, client=cal
        )
        token = await authorize(app, server)
        await app.aclose()  # leaves the given client open
        assert not cal.is_closed
        assert token.access_token_expires_at == clock.time() + ACCESS_LIFETIME
    # the client's API key is never sent to the token endpoint
    assert "Authorization" not in server.token_requests[0]["headers"]


def test_importing_the_oauth_module_does_not_import_oauthlib() -> None:
    code = (
        "import sys, calcom_async, calcom_async.oauth; "
        "calcom_async.OAuthApp; print('oauthlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- calling the API with a user's token -----------------------------------------------------------


async def test_twenty_concurrent_calls_on_an_expired_token_refresh_once(
    make_app: Any, server: OAuthServer, clock: FakeClock
) -> None:
    app = make_app()
    token = await authorize(app, server)
    clock.advance(ACCESS_LIFETIME + 5)  # expired
    pairs: list[Any] = []

    async def save(pair: Any) -> None:
        await asyncio.sleep(0)
        pairs.append(pair)

    async with CalCom(
        base_url=server.base_url, clock=clock, oauth=token, oauth_app=app, on_token_refresh=save
    ) as cal:
        results = await asyncio.gather(*(cal.session.request(ME) for _ in range(20)))
    assert all(r["data"]["id"] == 42 for r in results)
    assert len(server.refresh_grants) == 1
    assert server.refresh_grants[0]["fields"]["refresh_token"] == token.refresh_token
    (new,) = pairs
    assert isinstance(new, OAuthToken) and new == cal.tokens
    assert new.access_token != token.access_token and new.scopes == token.scopes
    assert new.access_token_expires_at == clock.time() + ACCESS_LIFETIME
    used = {r.headers["Authorization"] for r in server.api_requests}
    assert used == {f"Bearer {new.access_token}"}
    with pytest.raises(InvalidGrantError, match="refresh_token_revoked"):
        await app.refresh(token)


async def test_refresh_once_after_a_401(
    make_app: Any, server: OAuthServer, clock: FakeClock
) -> None:
    app = make_app()
    token = await authorize(app, server)
    server.access[token.access_token]["revoked"] = True  # valid by the clock, refused by the API
    pairs: list[Any] = []
    async with CalCom(
        base_url=server.base_url,
        clock=clock,
        oauth=token,
        oauth_app=app,
        on_token_refresh=pairs.append,
    ) as cal:
        response = await cal.session.request(ME, raw=True)
        assert response.json()["data"]["name"] == "Ada" and response.retries == 0
        assert len(pairs) == 1 and len(server.refresh_grants) == 1
        server.access[pairs[0].access_token]["revoked"] = True
        server.injected.append(oauth_error(400, "invalid_grant", "refresh_token_revoked"))
        with pytest.raises(InvalidGrantError):  # the refresh fails: re-authorize
            await cal.session.request(ME)
        server.refresh.clear()
        server.access.clear()
    async with CalCom(
        base_url=server.base_url, clock=clock, oauth=OAuthToken("SECRET_AT_gone")
    ) as cal:
        with pytest.raises(AuthenticationError):  # nothing to refresh with
            await cal.session.request(ME)


async def test_a_scope_limited_token_raises_insufficient_scope(
    make_app: Any, server: OAuthServer, clock: FakeClock
) -> None:
    app = make_app(scopes=[Scope.BOOKING_READ])
    token = await authorize(app, server, scopes="BOOKING_READ")
    assert token.scopes == (Scope.BOOKING_READ,)
    async with CalCom(base_url=server.base_url, clock=clock, oauth=token, oauth_app=app) as cal:
        with pytest.raises(InsufficientScopeError) as info:
            await cal.session.request(ME)
        assert info.value.required == (Scope.PROFILE_READ,)
        assert info.value.held == (Scope.BOOKING_READ,)
        with pytest.raises(InsufficientScopeError) as closed:
            await cal.session.request(ICS_SAVE)
        assert closed.value.not_available
    assert server.refresh_grants == []  # a 403 is not a reason to refresh


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"oauth_app": "app"}, "oauth="),
        ({"oauth": SOME_AT}, "OAuthToken"),
        ({"oauth": OAuthToken(SOME_AT, SOME_RT)}, "oauth_app="),
        ({"oauth": OAuthToken(SOME_AT), "access_token": OTHER_AT}, "not both"),
        ({"oauth": OAuthToken(SOME_AT, SOME_RT), "oauth_app": object()}, "OAuthApp"),
    ],
)
def test_oauth_client_settings_are_checked(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(CalComUsageError, match=match):
        CalCom(**kwargs)


async def test_secrets_stay_out_of_logs_and_reprs(
    make_app: Any,
    server: OAuthServer,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    secret_verifiers: list[str],
) -> None:
    app = make_app()
    token = await authorize(app, server)
    clock.advance(ACCESS_LIFETIME)
    async with CalCom(base_url=server.base_url, clock=clock, oauth=token, oauth_app=app) as cal:
        await cal.session.request(ME)
        texts = [repr(cal), repr(cal.session), repr(cal.session.auth), repr(cal.tokens)]
    messages = [r.getMessage() for r in caplog.records]
    assert any("refreshing OAuth access token" in m for m in messages)
    assert any("/v2/auth/oauth2/token" in m for m in messages)
    secrets = [
        CLIENT_SECRET,
        token.access_token,
        token.refresh_token,
        secret_verifiers[0],
        *server.codes,
    ]
    for text in messages + texts:
        assert not any(s and s in text for s in secrets), text


def test_one_refresh_machinery_with_a_refresher_per_mode() -> None:
    from calcom_async._auth import ManagedUserRefresher
    from calcom_async.oauth import OAuthRefresher

    app = OAuthApp(CONFIDENTIAL_ID, CLIENT_SECRET, redirect_uri=REDIRECT_URI)
    oauth = CalCom(oauth=OAuthToken(SOME_AT, SOME_RT), oauth_app=app)
    managed = CalCom(
        client_id=CONFIDENTIAL_ID,
        client_secret=CLIENT_SECRET,
        access_token=SOME_AT,
        refresh_token=SOME_RT,
    )
    assert type(oauth.session.auth) is type(managed.session.auth)
    assert isinstance(oauth.session.auth.refresher, OAuthRefresher)
    assert isinstance(managed.session.auth.refresher, ManagedUserRefresher)
    assert oauth.session.auth.can_refresh and managed.session.auth.can_refresh
    assert AuthMode.ACCESS_TOKEN in oauth.session.auth.modes
