"""Third-party OAuth against FakeCalCom: the consent page driven over HTTP, the token endpoint,
rotation, scope checks, and ``CalCom(oauth=…, oauth_app=…)`` on the fake's tokens.

Every secret here contains ``SECRET`` (the client secrets, and every code and token the fake
issues), so the autouse leak scan (``tests/support/leaks.py``) checks log records, reprs and
exceptions.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
import pytest_asyncio

from calcom_async import CalCom, InsufficientScopeError
from calcom_async.oauth import (
    InvalidClientError,
    InvalidGrantError,
    OAuthApp,
    OAuthToken,
    Scope,
)
from calcom_async.testing import FakeCalCom
from calcom_async.testing._oauth import DEFAULT_OAUTH_CLIENT_ID
from calcom_async.testing._oauth.base import ACCESS_TOKEN_TTL
from calcom_async.testing._oauth.tokens import s256
from tests.support.fake_oauth import (
    OLD_SECRET,
    OTHER_REDIRECT,
    REDIRECT,
    SCOPES,
    authorize,
    confidential,
    consent,
    public,
    redirect_query,
)
from tests.support.leaks import CLIENT_SECRET

# Test secrets live in names: a traceback quotes source lines, and the leak scan reads tracebacks.
WRONG_SECRET, ANY_REFRESH_TOKEN = "SECRET_not_the_secret", "SECRET_any_refresh_token"


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeCalCom]:
    async with FakeCalCom() as fake:
        fake.seed(bookings=30, event_types=3, teams=1)
        yield fake


async def raw_page(url: str) -> tuple[int, str, str | None]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(url, allow_redirects=False) as page,
    ):
        return page.status, await page.text(), page.headers.get("Location")


async def post_token(
    fake: FakeCalCom, fields: dict[str, str], *, form: bool = False
) -> tuple[int, dict[str, Any], dict[str, str]]:
    async with aiohttp.ClientSession() as http:
        kwargs: dict[str, Any] = {"data": urlencode(fields)} if form else {"json": fields}
        if form:
            kwargs["headers"] = {"Content-Type": "application/x-www-form-urlencoded"}
        async with http.post(f"{fake.base_url}/v2/auth/oauth2/token", **kwargs) as answer:
            return answer.status, await answer.json(), dict(answer.headers)


def authorize_url(fake: FakeCalCom, **params: str | list[str]) -> str:
    return f"{fake.base_url}/auth/oauth2/authorize?{urlencode(params, doseq=True)}"


# -- the whole flow ------------------------------------------------------------------------------


async def test_the_whole_flow_for_a_confidential_client(fake: FakeCalCom) -> None:
    client = confidential(fake)
    async with fake.oauth.app(client, redirect_uri=REDIRECT, scopes=SCOPES) as app:
        assert not app.is_public
        token = await authorize(fake, app)
        assert token.scopes == (Scope.PROFILE_READ, Scope.BOOKING_READ)
        left = token.expires_in()
        assert left is not None and ACCESS_TOKEN_TTL - 30 < left <= ACCESS_TOKEN_TTL
        async with CalCom(base_url=fake.base_url, oauth=token, oauth_app=app) as cal:
            me = await cal.me.with_raw_response.get()
            assert me.json()["data"]["name"] == "Frankie Owner"
            assert (await cal.me.get()).id == fake.store.owner_id
            upcoming = await cal.bookings.list(status=["upcoming"], take=5)
            assert upcoming and all(b.status != "cancelled" for b in upcoming)
    (call,) = [r for r in fake.oauth.token_requests if r.grant_type == "authorization_code"]
    assert call.status == 200 and call.client_id == "crm-confidential"
    assert call.content_type == "application/json"
    assert fake.operations["oauth2.token"] == 1 and fake.operations["me.get"] == 2
    # the other of the two secrets (a rotation in progress) works too
    grant = fake.oauth.grant(client.client_id, scopes=["PROFILE_READ"])
    status, body, _ = await post_token(
        fake,
        {
            "client_id": client.client_id,
            "client_secret": OLD_SECRET,
            "grant_type": "refresh_token",
            "refresh_token": grant["refresh_token"],
        },
        form=True,
    )
    assert status == 200 and body["scope"] == "PROFILE_READ"


async def test_the_whole_flow_for_a_public_client(fake: FakeCalCom) -> None:
    client = public(fake)
    async with fake.oauth.app(client, redirect_uri=REDIRECT) as app:
        assert app.is_public
        token = await authorize(fake, app)
        assert token.scopes == (Scope.PROFILE_READ, Scope.BOOKING_READ)
        refreshed = await app.refresh(token)  # no secret: the refresh grant with client_id only
        assert refreshed.refresh_token != token.refresh_token
        async with CalCom(base_url=fake.base_url, oauth=refreshed, oauth_app=app) as cal:
            assert (await cal.me.get()).id == fake.store.owner_id
    # a public client must use PKCE: no challenge, no code
    status, _, location = await raw_page(
        authorize_url(fake, client_id=client.client_id, redirect_uri=REDIRECT, scope="PROFILE_READ")
    )
    assert status == 302 and location is not None
    back = redirect_query(location)
    assert back["error"] == "invalid_request" and "code_challenge" in back["error_description"]


async def test_deny_redirects_with_access_denied_and_the_state(fake: FakeCalCom) -> None:
    confidential(fake)
    async with fake.oauth.app("crm-confidential", redirect_uri=REDIRECT, scopes=SCOPES) as app:
        request = app.authorization_url()
        back = await consent(request.url, "deny")
    assert back["error"] == "access_denied" and back["state"] == request.state
    assert "code" not in back


async def test_the_consent_page_shows_the_app_the_user_and_the_scopes(fake: FakeCalCom) -> None:
    confidential(fake)
    async with fake.oauth.app("crm-confidential", redirect_uri=REDIRECT, scopes=SCOPES) as app:
        status, text, _ = await raw_page(app.authorization_url().url)
    assert status == 200
    assert "CRM sync" in text and "Frankie Owner" in text
    assert "PROFILE_READ" in text and "BOOKING_READ" in text and "BOOKING_WRITE" not in text


# -- the consent page's checks -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "shown"),
    [
        ({"client_id": "nobody", "redirect_uri": REDIRECT}, "Unknown application"),
        ({"client_id": "crm-confidential"}, "Invalid redirect URI"),
        (
            {"client_id": "crm-confidential", "redirect_uri": "https://evil.example/cb"},
            "Invalid redirect URI",
        ),
        (
            {"client_id": "crm-confidential", "redirect_uri": REDIRECT + "/x"},
            "Invalid redirect URI",
        ),
    ],
)
async def test_an_unknown_client_or_redirect_uri_is_shown_never_redirected(
    fake: FakeCalCom, params: dict[str, str], shown: str
) -> None:
    confidential(fake)
    status, text, location = await raw_page(
        authorize_url(fake, **params, state="s1", scope="PROFILE_READ")
    )
    assert status == 400 and location is None and shown in text


_CHALLENGE = s256("v" * 43)


@pytest.mark.parametrize(
    ("params", "error", "description"),
    [
        ({}, "invalid_request", "scope is required"),
        ({"scope": "PROFILE_READ TEAM_PROFILE_READ"}, "invalid_request", "TEAM_PROFILE_READ"),
        ({"scope": "PROFILE_READ,NOT_A_SCOPE"}, "invalid_request", "NOT_A_SCOPE"),
        (
            {"scope": "PROFILE_READ", "code_challenge": "v" * 43, "code_challenge_method": "plain"},
            "invalid_request",
            "S256",
        ),
        ({"scope": "PROFILE_READ", "code_challenge": _CHALLENGE}, "invalid_request", "S256"),
        ({"scope": "PROFILE_READ", "code_challenge_method": "S256"}, "invalid_request", ""),
        ({"scope": ["PROFILE_READ", "BOOKING_READ"]}, "invalid_request", "scope is repeated"),
        (
            {"scope": "PROFILE_READ", "code_challenge": "short", "code_challenge_method": "S256"},
            "invalid_request",
            "",
        ),
    ],
)
async def test_bad_scopes_and_pkce_parameters_redirect_with_an_error(
    fake: FakeCalCom, params: dict[str, Any], error: str, description: str
) -> None:
    confidential(fake)
    url = authorize_url(
        fake, client_id="crm-confidential", redirect_uri=REDIRECT, state="s1", **params
    )
    status, _, location = await raw_page(url)
    assert status == 302 and location is not None
    back = redirect_query(location)
    assert back["error"] == error and back["state"] == "s1" and "code" not in back
    assert description in back["error_description"]


async def test_an_unapproved_client_gets_unauthorized_client(fake: FakeCalCom) -> None:
    confidential(fake, approved=False)
    url = authorize_url(
        fake, client_id="crm-confidential", redirect_uri=REDIRECT, scope="PROFILE_READ"
    )
    status, _, location = await raw_page(url)
    assert status == 302 and location is not None
    assert redirect_query(location)["error"] == "unauthorized_client"


async def test_a_legacy_client_may_leave_scope_out(fake: FakeCalCom) -> None:
    fake.register_oauth_client(
        client_id="legacy",
        secret=CLIENT_SECRET,
        redirect_uris=[REDIRECT],
        scopes=["READ_BOOKING", "READ_PROFILE"],
        legacy=True,
    )
    async with fake.oauth.app("legacy", scopes=()) as app:
        token = await authorize(fake, app)
        assert token.scopes == (Scope.READ_BOOKING, Scope.READ_PROFILE)
        async with CalCom(base_url=fake.base_url, oauth=token, oauth_app=app) as cal:
            assert (await cal.me.get()).id == fake.store.owner_id  # READ_PROFILE: PROFILE_READ


# -- the token endpoint ----------------------------------------------------------------------------


async def test_a_code_is_single_use(fake: FakeCalCom) -> None:
    confidential(fake)
    async with fake.oauth.app("crm-confidential", redirect_uri=REDIRECT, scopes=SCOPES) as app:
        request = app.authorization_url()
        code = (await consent(request.url))["code"]
        await app.exchange_code(code, code_verifier=request.code_verifier)
        with pytest.raises(InvalidGrantError) as info:
            await app.exchange_code(code, code_verifier=request.code_verifier)
    assert info.value.error == "invalid_grant" and info.value.reason == "code_invalid_or_expired"
    assert info.value.status_code == 400


async def test_a_code_expires_after_ten_minutes(fake: FakeCalCom) -> None:
    confidential(fake)
    async with fake.oauth.app("crm-confidential", redirect_uri=REDIRECT, scopes=SCOPES) as app:
        request = app.authorization_url()
        code = (await consent(request.url))["code"]
        fake.advance(601)
        with pytest.raises(InvalidGrantError, match="code_invalid_or_expired"):
            await app.exchange_code(code, code_verifier=request.code_verifier)


@pytest.mark.parametrize("kind", ["confidential", "public"])
async def test_a_wrong_verifier_fails_pkce(fake: FakeCalCom, kind: str) -> None:
    client = confidential(fake) if kind == "confidential" else public(fake)
    async with fake.oauth.app(client, redirect_uri=REDIRECT, scopes=SCOPES) as app:
        request = app.authorization_url()
        code = (await consent(request.url))["code"]
        other = app.authorization_url().code_verifier
        with pytest.raises(InvalidGrantError) as info:
            await app.exchange_code(code, code_verifier=other)
    assert info.value.reason == "pkce_verification_failed"


async def test_the_redirect_uri_must_match_the_code(fake: FakeCalCom) -> None:
    confidential(fake)
    async with fake.oauth.app("crm-confidential", redirect_uri=REDIRECT, scopes=SCOPES) as app:
        request = app.authorization_url()
        code = (await consent(request.url))["code"]
        with pytest.raises(InvalidGrantError, match="redirect_uri_mismatch"):
            await app.exchange_code(
                code, code_verifier=request.code_verifier, redirect_uri=OTHER_REDIRECT
            )


async def test_token_endpoint_answers_bare_bodies_for_form_and_json(fake: FakeCalCom) -> None:
    client = confidential(fake)
    grant = fake.oauth.grant(client.client_id, scopes=SCOPES)
    fields = {
        "client_id": client.client_id,
        "client_secret": CLIENT_SECRET,
        "grant_type": "refresh_token",
        "refresh_token": grant["refresh_token"],
    }
    status, body, headers = await post_token(fake, fields, form=True)
    assert status == 200
    assert set(body) == {"access_token", "token_type", "refresh_token", "expires_in", "scope"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 1800
    assert body["scope"] == "PROFILE_READ BOOKING_READ"
    assert headers["Cache-Control"] == "no-store"
    # rotation: the refresh token just used is revoked
    status, body, headers = await post_token(fake, fields)
    assert status == 400 and body == {
        "error": "invalid_grant",
        "error_description": "refresh_token_revoked",
    }
    assert headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("change", "status", "error", "description"),
    [
        ({"scope": "PROFILE_READ"}, 400, "invalid_request", "unknown fields: scope"),
        ({"grant_type": "password"}, 400, "invalid_request", "unsupported grant_type"),
        ({"grant_type": None}, 400, "invalid_request", "grant_type is required"),
        ({"refresh_token": None}, 400, "invalid_request", "refresh_token is required"),
        ({"client_id": "nobody"}, 401, "invalid_client", "unknown client"),
        ({"client_secret": "SECRET_wrong"}, 401, "invalid_client", "invalid client_secret"),
        ({"client_secret": None}, 401, "invalid_client", "invalid client_secret"),
        ({"refresh_token": "SECRET_nope"}, 400, "invalid_grant", "invalid_refresh_token"),
        ({"client_id": DEFAULT_OAUTH_CLIENT_ID}, 401, "invalid_client", "invalid client_secret"),
    ],
)
async def test_token_endpoint_errors(
    fake: FakeCalCom, change: dict[str, str | None], status: int, error: str, description: str
) -> None:
    client = confidential(fake)
    grant = fake.oauth.grant(client.client_id)
    fields: dict[str, Any] = {
        "client_id": client.client_id,
        "client_secret": CLIENT_SECRET,
        "grant_type": "refresh_token",
        "refresh_token": grant["refresh_token"],
        **change,
    }
    fields = {k: v for k, v in fields.items() if v is not None}
    got, body, _ = await post_token(fake, fields)
    assert (got, body) == (status, {"error": error, "error_description": description})


async def test_a_refresh_token_of_another_client_is_a_client_id_mismatch(
    fake: FakeCalCom,
) -> None:
    client = confidential(fake)
    grant = fake.oauth.grant(client.client_id)
    fields = {
        "client_id": DEFAULT_OAUTH_CLIENT_ID,
        "client_secret": fake.oauth.clients[DEFAULT_OAUTH_CLIENT_ID].secret or "",
        "grant_type": "refresh_token",
        "refresh_token": grant["refresh_token"],
    }
    status, body, _ = await post_token(fake, fields)
    assert (status, body["error_description"]) == (400, "client_id_mismatch")


async def test_a_wrong_secret_raises_invalid_client(fake: FakeCalCom) -> None:
    confidential(fake)
    app = OAuthApp(
        "crm-confidential",
        WRONG_SECRET,
        redirect_uri=REDIRECT,
        base_url=fake.base_url,
        authorize_url=f"{fake.base_url}/auth/oauth2/authorize",
    )
    async with app:
        with pytest.raises(InvalidClientError) as info:
            await app.refresh(ANY_REFRESH_TOKEN)
    assert info.value.status_code == 401


# -- the API with the user's token -----------------------------------------------------------------


async def test_twenty_concurrent_calls_on_an_expired_token_refresh_once(fake: FakeCalCom) -> None:
    confidential(fake)
    pairs: list[OAuthToken] = []

    async def save(pair: OAuthToken) -> None:
        await asyncio.sleep(0)
        pairs.append(pair)

    async with fake.oauth.app("crm-confidential", redirect_uri=REDIRECT, scopes=SCOPES) as app:
        token = await authorize(fake, app)
        fake.advance(ACCESS_TOKEN_TTL + 5)  # expired, by the fake's clock only
        fake.reset_stats()
        async with CalCom(
            base_url=fake.base_url, oauth=token, oauth_app=app, on_token_refresh=save
        ) as cal:
            results = await asyncio.gather(*(cal.me.get() for _ in range(20)))
            assert all(me.id == fake.store.owner_id for me in results)
            refreshes = [r for r in fake.oauth.token_requests if r.grant_type == "refresh_token"]
            assert len(refreshes) == 1 and refreshes[0].status == 200
            assert fake.operations["oauth2.token"] == 1
            (new,) = pairs
            assert new == cal.tokens and new.refresh_token != token.refresh_token
            assert new.scopes == token.scopes
            # every call got through: a first try with the old token (401: the fake's clock says
            # it expired), then a retry with the new one
            statuses = [r.status for r in fake.requests if r.operation == "me.get"]
            assert statuses.count(200) == 20 and 1 <= statuses.count(401) <= 20
            assert len(statuses) == 20 + statuses.count(401)
        # the fake now rejects the old refresh token
        with pytest.raises(InvalidGrantError) as info:
            await app.refresh(token)
        assert info.value.reason == "refresh_token_revoked"
        assert fake.oauth.token_requests[-1].error == "refresh_token_revoked"


async def test_the_client_refreshes_before_expiry_on_its_own_clock(fake: FakeCalCom) -> None:
    confidential(fake)
    pairs: list[OAuthToken] = []
    async with fake.oauth.app("crm-confidential", redirect_uri=REDIRECT, scopes=SCOPES) as app:
        token = await authorize(fake, app)
        soon = OAuthToken(
            token.access_token, token.refresh_token, 1.0, scopes=token.scopes
        )  # the client thinks it expired long ago
        async with CalCom(
            base_url=fake.base_url, oauth=soon, oauth_app=app, on_token_refresh=pairs.append
        ) as cal:
            await asyncio.gather(*(cal.me.get() for _ in range(5)))
    assert len(pairs) == 1
    assert [r.status for r in fake.requests if r.operation == "me.get"] == [200] * 5


async def test_a_scope_limited_token_raises_insufficient_scope(fake: FakeCalCom) -> None:
    confidential(fake)
    async with fake.oauth.app("crm-confidential", redirect_uri=REDIRECT) as app:
        token = await authorize(fake, app, scopes=["BOOKING_READ"])
        assert token.scopes == (Scope.BOOKING_READ,)
        async with CalCom(base_url=fake.base_url, oauth=token, oauth_app=app) as cal:
            assert await cal.bookings.list(take=2)
            with pytest.raises(InsufficientScopeError) as info:
                await cal.me.get()
            assert info.value.required == (Scope.PROFILE_READ,)
            assert info.value.held == (Scope.BOOKING_READ,)
            assert info.value.status_code == 403
            assert info.value.message == (
                "insufficient_scope: token does not have the required scopes. "
                "Required: PROFILE_READ. Token has: BOOKING_READ"
            )
            with pytest.raises(InsufficientScopeError) as teams:
                await cal.teams.list()
            assert teams.value.required == (Scope.TEAM_PROFILE_READ,)
            with pytest.raises(InsufficientScopeError) as writing:
                await cal.bookings.cancel("no-such-uid", {"cancellationReason": "x"})
            assert writing.value.required == (Scope.BOOKING_WRITE,)
            with pytest.raises(InsufficientScopeError) as closed:
                await cal.webhooks.list()
            assert closed.value.not_available
        # an ORG_* scope satisfies the matching TEAM_* one
        token = await authorize(fake, app, scopes=["PROFILE_READ", "ORG_PROFILE_READ"])
        async with CalCom(base_url=fake.base_url, oauth=token, oauth_app=app) as cal:
            assert [t.id for t in await cal.teams.list()]
    assert not [r for r in fake.oauth.token_requests if r.grant_type == "refresh_token"]


async def test_event_type_and_schedule_scopes(fake: FakeCalCom) -> None:
    fake.register_oauth_client(
        client_id="planner",
        secret=CLIENT_SECRET,
        redirect_uris=[REDIRECT],
        scopes=["EVENT_TYPE_READ", "SCHEDULE_READ", "SCHEDULE_WRITE"],
    )
    async with fake.oauth.app("planner") as app:
        token = await authorize(fake, app)
        async with CalCom(base_url=fake.base_url, oauth=token, oauth_app=app) as cal:
            assert await cal.event_types.list()
            assert await cal.schedules.list()
            with pytest.raises(InsufficientScopeError) as info:
                await cal.event_types.delete(1)
            assert info.value.required == (Scope.EVENT_TYPE_WRITE,)
            assert set(info.value.held) == {
                Scope.EVENT_TYPE_READ,
                Scope.SCHEDULE_READ,
                Scope.SCHEDULE_WRITE,
            }


async def test_describe_a_client_with_the_api_key(fake: FakeCalCom) -> None:
    confidential(fake)
    async with fake.oauth.app("crm-confidential", redirect_uri=REDIRECT) as app:
        info = await app.describe(fake.client())
        assert info.client_id == "crm-confidential" and info.name == "CRM sync"
        assert info.redirect_uris == (REDIRECT, OTHER_REDIRECT)
        assert info.client_type == "CONFIDENTIAL" and info.is_trusted is False
    async with aiohttp.ClientSession() as http:
        url = f"{fake.base_url}/v2/auth/oauth2/clients/crm-public"
        async with http.get(url, headers={"Authorization": f"Bearer {fake.api_key}"}) as answer:
            assert answer.status == 404
        async with http.get(url) as answer:
            assert answer.status == 401


async def test_nothing_secret_in_the_fakes_reprs(fake: FakeCalCom) -> None:
    client = confidential(fake)
    fake.oauth.grant(client.client_id)
    for text in (repr(client), str(client), repr(fake.oauth), repr(fake.oauth.token_requests)):
        assert "SECRET" not in text
