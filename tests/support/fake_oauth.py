"""The OAuth flow of FakeCalCom driven as a browser would: the OAuth clients the tests register,
the consent page answered over HTTP, the code exchanged (oauth/ and stores/ use it)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp

from calcom_async.oauth import OAuthApp, OAuthToken
from calcom_async.testing import FakeCalCom, OAuthClient
from tests.support.leaks import CLIENT_SECRET

REDIRECT = "https://crm.example/oauth/callback"
OTHER_REDIRECT = "https://crm.example/other/callback"
SCOPES = ["PROFILE_READ", "BOOKING_READ"]
OLD_SECRET = "SECRET_old_client_secret_0001"


def confidential(fake: FakeCalCom, **kwargs: Any) -> OAuthClient:
    kwargs.setdefault("scopes", [*SCOPES, "BOOKING_WRITE", "ORG_PROFILE_READ"])
    return fake.register_oauth_client(
        client_id="crm-confidential",
        secret=[OLD_SECRET, CLIENT_SECRET],
        name="CRM sync",
        redirect_uris=[REDIRECT, OTHER_REDIRECT],
        **kwargs,
    )


def public(fake: FakeCalCom) -> OAuthClient:
    return fake.register_oauth_client(
        client_id="crm-public", public=True, redirect_uris=[REDIRECT], scopes=SCOPES
    )


async def consent(url: str, decision: str = "allow") -> dict[str, str]:
    """Open the consent page like a browser, press ``decision``, and return the query of the
    redirect back to the app (the redirect is not followed: the app is not running)."""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    async with aiohttp.ClientSession() as http:
        async with http.get(url, allow_redirects=False) as page:
            text = await page.text()
            assert page.status == 200, text
            assert page.headers["Cache-Control"] == "no-store"
        assert "Allow" in text and "Deny" in text
        match = re.search(r'name="consent" value="([^"]+)"', text)
        assert match is not None
        form = {"consent": match.group(1), "decision": decision}
        async with http.post(
            f"{origin}/auth/oauth2/authorize", data=form, allow_redirects=False
        ) as answer:
            assert answer.status == 302
            location = answer.headers["Location"]
        # the same consent cannot be answered twice
        async with http.post(f"{origin}/auth/oauth2/authorize", data=form) as again:
            assert again.status == 400 and "expired" in await again.text()
    return redirect_query(location)


def redirect_query(location: str) -> dict[str, str]:
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" in (REDIRECT, OTHER_REDIRECT)
    return {k: v[0] for k, v in parse_qs(parts.query).items()}


async def authorize(fake: FakeCalCom, app: OAuthApp, **kwargs: Any) -> OAuthToken:
    request = app.authorization_url(**kwargs)
    back = await consent(request.url)
    assert back["state"] == request.state and set(back) == {"code", "state"}
    return await app.exchange_code(back["code"], code_verifier=request.code_verifier)
