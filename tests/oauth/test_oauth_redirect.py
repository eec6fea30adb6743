"""The redirect endpoint (``OAuthRedirect``) of a web app, driven over real HTTP on 127.0.0.1:
good state; tampered, missing, reused, expired and foreign-browser state; ``error=`` redirects;
a missing code; a failed exchange. A refused redirect never reaches the token endpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer, unused_port

from calcom_async.oauth import (
    AccessDeniedError,
    MemoryStateStore,
    OAuthApp,
    OAuthError,
    OAuthRedirect,
    OAuthToken,
    Scope,
)
from tests.oauth._oauth_server import CONFIDENTIAL_ID, OAuthServer, running
from tests.support.clock import FakeClock
from tests.support.leaks import CLIENT_SECRET

COOKIE = "calcom_oauth_state"


@pytest.fixture(autouse=True)
def secret_states(monkeypatch: pytest.MonkeyPatch) -> None:
    """Generated states contain ``SECRET``, so the leak scan watches them too."""
    import secrets

    import calcom_async.oauth.pkce

    real = secrets.token_urlsafe

    class Secrets:
        @staticmethod
        def token_urlsafe(nbytes: int) -> str:
            return "SECRET-" + real(nbytes)

    monkeypatch.setattr(calcom_async.oauth.pkce, "secrets", Secrets)


class Site:
    """A web app with the redirect helper mounted, its token server and a browser."""

    def __init__(self, server: OAuthServer, redirect: OAuthRedirect, base: str) -> None:
        self.server = server
        self.redirect = redirect
        self.base = base
        self.tokens: list[OAuthToken] = []
        self.browser: aiohttp.ClientSession | None = None

    async def get(self, path: str, **kwargs: Any) -> tuple[int, str, Any]:
        assert self.browser is not None
        async with self.browser.get(self.base + path, allow_redirects=False, **kwargs) as resp:
            return resp.status, await resp.text(), resp.headers

    async def connect(self) -> tuple[str, str]:
        """Click "Connect": the state and challenge of the consent URL the app redirected to."""
        status, _, headers = await self.get("/oauth/connect")
        assert status == 302
        location = headers["Location"]
        assert location.startswith("https://app.cal.com/auth/oauth2/authorize?")
        query = parse_qs(urlsplit(location).query)
        assert query["redirect_uri"] == [self.redirect.app.redirect_uri]
        return query["state"][0], query["code_challenge"][0]

    def consent(self, challenge: str) -> str:
        """The user clicks Allow: the consent page issues a code."""
        return self.server.issue_code(
            CONFIDENTIAL_ID, challenge=challenge, redirect_uri=self.redirect.app.redirect_uri
        )

    async def callback(self, **query: str) -> tuple[int, str, Any]:
        return await self.get("/oauth/callback?" + urlencode(query))


async def _site(
    clock: FakeClock, *, raise_redirect: bool = False, **redirect_kw: Any
) -> AsyncIterator[Site]:
    port = unused_port()
    async with running(clock) as server:
        app = OAuthApp(
            CONFIDENTIAL_ID,
            CLIENT_SECRET,
            redirect_uri=f"http://127.0.0.1:{port}/oauth/callback",
            scopes=[Scope.PROFILE_READ, Scope.BOOKING_READ],
            base_url=server.base_url,
            clock=clock,
        )
        site: Site

        async def on_token(request: web.Request, token: OAuthToken) -> web.StreamResponse:
            site.tokens.append(token)
            if raise_redirect:
                raise web.HTTPFound("/dashboard")
            return web.Response(text="connected", content_type="text/html")

        redirect = OAuthRedirect(app, on_token, clock=clock, **redirect_kw)
        web_app = web.Application()
        redirect.add_routes(web_app)
        site = Site(server, redirect, f"http://127.0.0.1:{port}")
        async with (
            TestServer(web_app, host="127.0.0.1", port=port),
            aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser,
            app,
        ):
            site.browser = browser
            yield site


@pytest.fixture
async def site(clock: FakeClock) -> AsyncIterator[Site]:
    async for value in _site(clock):
        yield value


async def test_good_state_exchanges_the_code_and_calls_the_handler(site: Site) -> None:
    state, challenge = await site.connect()
    code = site.consent(challenge)
    status, body, headers = await site.callback(code=code, state=state)
    assert (status, body) == (200, "connected")
    (token,) = site.tokens
    assert token.access_token in site.server.access
    assert token.scopes == (Scope.PROFILE_READ, Scope.BOOKING_READ)
    (sent,) = site.server.token_requests  # the stored verifier matched the challenge
    assert sent["fields"]["code"] == code and sent["fields"]["code_verifier"]
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"
    assert COOKIE in headers.get("Set-Cookie", "")  # the binding cookie is cleared
    assert len(site.redirect.store) == 0  # type: ignore[arg-type]


async def test_the_start_cookie_is_httponly_lax_and_scoped_to_the_callback(site: Site) -> None:
    status, _, headers = await site.get("/oauth/connect")
    cookie = headers["Set-Cookie"]
    assert status == 302 and f"{COOKIE}=" in cookie
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/oauth/callback" in cookie
    assert headers["Cache-Control"] == "no-store"


async def test_tampered_state_is_refused_without_exchange(site: Site) -> None:
    state, challenge = await site.connect()
    code = site.consent(challenge)
    status, body, _ = await site.callback(
        code=code, state=state[:-1] + ("B" if state.endswith("A") else "A")
    )
    assert status == 400 and "could not be verified" in body
    assert site.server.token_requests == [] and site.tokens == []


async def test_missing_state_is_refused(site: Site) -> None:
    _, challenge = await site.connect()
    status, body, _ = await site.callback(code=site.consent(challenge))
    assert status == 400 and "no state" in body
    assert site.server.token_requests == []


async def test_reused_state_is_refused(site: Site) -> None:
    state, challenge = await site.connect()
    code = site.consent(challenge)
    assert (await site.callback(code=code, state=state))[0] == 200
    # the replay carries the cookie by hand: the store has already consumed the state
    replay = "/oauth/callback?" + urlencode({"code": code, "state": state})
    status, body, _ = await site.get(replay, headers={"Cookie": f"{COOKIE}={state}"})
    assert status == 400 and "already used or has expired" in body
    assert len(site.server.token_requests) == 1 and len(site.tokens) == 1


async def test_expired_state_is_refused(site: Site, clock: FakeClock) -> None:
    state, challenge = await site.connect()
    code = site.consent(challenge)
    clock.advance(601)  # the state lives 10 minutes
    status, body, _ = await site.callback(code=code, state=state)
    assert status == 400 and "expired" in body
    assert site.server.token_requests == []


async def test_state_from_another_browser_is_refused(site: Site) -> None:
    """Login CSRF: an attacker's own valid state and code, replayed in the victim's browser."""
    state, challenge = await site.connect()
    code = site.consent(challenge)
    assert site.browser is not None
    site.browser.cookie_jar.clear()
    status, body, _ = await site.callback(code=code, state=state)
    assert status == 400 and "this browser" in body
    assert site.server.token_requests == []


async def test_access_denied_gets_a_403_page_and_no_exchange(site: Site) -> None:
    state, _ = await site.connect()
    status, body, headers = await site.callback(
        error="access_denied", error_description="The user denied access", state=state
    )
    assert status == 403 and "Access denied" in body and "declined" in body
    assert headers["Content-Type"].startswith("text/html")
    assert site.server.token_requests == [] and site.tokens == []


async def test_error_redirects_are_escaped(site: Site) -> None:
    state, _ = await site.connect()
    status, body, _ = await site.callback(
        error="invalid_request", error_description="<script>alert(1)</script>", state=state
    )
    assert status == 400
    assert "<script>" not in body and "&lt;script&gt;" in body


async def test_missing_code_is_refused(site: Site) -> None:
    state, _ = await site.connect()
    status, body, _ = await site.callback(state=state)
    assert status == 400 and "no authorization code" in body
    assert site.server.token_requests == []


async def test_a_failed_exchange_gets_an_error_page(site: Site) -> None:
    state, challenge = await site.connect()
    code = site.consent(challenge)
    site.server.codes[code]["used"] = True
    status, body, _ = await site.callback(code=code, state=state)
    assert status == 400 and "invalid_grant" in body and "code_invalid_or_expired" in body
    assert site.tokens == []


async def test_a_custom_error_page(clock: FakeClock) -> None:
    seen: list[OAuthError] = []

    async def on_error(request: web.Request, error: OAuthError) -> web.StreamResponse:
        seen.append(error)
        return web.Response(status=403, text="our own denied page", content_type="text/html")

    async for site in _site(clock, on_error=on_error):
        state, _ = await site.connect()
        status, body, _ = await site.callback(error="access_denied", state=state)
        assert (status, body) == (403, "our own denied page")
        assert isinstance(seen[0], AccessDeniedError)


async def test_without_browser_binding(clock: FakeClock) -> None:
    async for site in _site(clock, bind_to_browser=False):
        auth = site.redirect.app.authorization_url()
        await site.redirect.store.put(auth.state, auth.code_verifier, 600)
        code = site.consent(auth.code_challenge)
        status, body, _ = await site.callback(code=code, state=auth.state)
        assert (status, body) == (200, "connected")


async def test_a_handler_may_raise_a_redirect(clock: FakeClock) -> None:
    async for site in _site(clock, raise_redirect=True):
        state, challenge = await site.connect()
        status, _, headers = await site.callback(code=site.consent(challenge), state=state)
        assert status == 302 and headers["Location"] == "/dashboard"
        assert headers["Referrer-Policy"] == "no-referrer" and COOKIE in headers["Set-Cookie"]
        assert len(site.tokens) == 1


async def test_memory_state_store(clock: FakeClock) -> None:
    store = MemoryStateStore(clock=clock, max_entries=3)
    await store.put("SECRET-state-a", "SECRET-verifier-a", 10)
    assert await store.take("SECRET-state-b") is None
    assert await store.take("SECRET-state-a") == "SECRET-verifier-a"
    assert await store.take("SECRET-state-a") is None  # single use
    await store.put("SECRET-state-c", "SECRET-verifier-c", 10)
    clock.advance(10)
    assert await store.take("SECRET-state-c") is None  # expired
    for n in range(5):
        await store.put(f"SECRET-state-{n}", "v", 10)
    assert len(store) == 3  # bounded: the oldest were dropped
    assert await store.take("SECRET-state-4") == "v" and await store.take("SECRET-state-0") is None
    assert "SECRET" not in repr(store)
