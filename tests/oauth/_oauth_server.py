"""A small local stand-in for Cal.com's OAuth token endpoint and two bearer endpoints, served
by aiohttp on 127.0.0.1 (the OAuth tests' server; FakeCalCom learns the flow later).

It follows the facts file: bare RFC 6749 answers and errors, JSON or form bodies, unknown
fields rejected, single-use 10-minute codes, PKCE (S256) required for public clients and for
any code issued with a challenge, 30-minute access tokens, rotation revoking every earlier
refresh token of the client and user, scope checks with the real 403 messages. Every value it
issues contains ``SECRET`` so the leak scan (tests/support/leaks.py) watches them.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.support.clock import FakeClock
from tests.support.leaks import API_KEY, CLIENT_SECRET

CONFIDENTIAL_ID = "conf-client-id"
PUBLIC_ID = "public-client-id"
REDIRECT_URI = "https://crm.example/oauth/callback"
ACCESS_LIFETIME = 1800
CODE_LIFETIME = 600
USER_ID = 42

_CODE_FIELDS = {
    "client_id",
    "grant_type",
    "code",
    "redirect_uri",
    "client_secret",
    "code_verifier",
}
_REFRESH_FIELDS = {"client_id", "grant_type", "refresh_token", "client_secret"}


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def oauth_error(status: int, error: str, description: str) -> web.Response:
    return web.json_response(
        {"error": error, "error_description": description},
        status=status,
        headers={"Cache-Control": "no-store"},
    )


def envelope_error(status: int, message: str) -> web.Response:
    code = {401: "UnauthorizedException", 403: "ForbiddenException"}[status]
    body = {
        "status": "error",
        "timestamp": "2026-01-01T00:00:00.000Z",
        "path": "/v2/x",
        "error": {"code": code, "message": message},
    }
    return web.json_response(body, status=status)


class OAuthServer:
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.clients: dict[str, str | None] = {CONFIDENTIAL_ID: CLIENT_SECRET, PUBLIC_ID: None}
        self.codes: dict[str, dict[str, Any]] = {}
        self.access: dict[str, dict[str, Any]] = {}
        self.refresh: dict[str, dict[str, Any]] = {}
        self.token_requests: list[dict[str, Any]] = []  #: fields, content type, headers
        self.api_requests: list[web.Request] = []
        self.injected: list[web.Response] = []  #: answers the token endpoint gives next
        self.delay = 5  #: event-loop turns the token endpoint waits (lets requests pile up)
        self._n = itertools.count(1)
        self.base_url = ""

    # -- what the consent page would do --------------------------------------------------------

    def issue_code(
        self,
        client_id: str = CONFIDENTIAL_ID,
        *,
        scopes: str = "PROFILE_READ BOOKING_READ",
        challenge: str | None = None,
        redirect_uri: str = REDIRECT_URI,
    ) -> str:
        code = f"SECRET_CODE_{next(self._n)}"
        self.codes[code] = {
            "client_id": client_id,
            "scopes": scopes,
            "challenge": challenge,
            "redirect_uri": redirect_uri,
            "expires": self.clock.time() + CODE_LIFETIME,
            "used": False,
        }
        return code

    def issue_tokens(self, client_id: str, scopes: str, *, rotate: bool = False) -> dict[str, Any]:
        n = next(self._n)
        access, refresh = f"SECRET_AT_{n}", f"SECRET_RT_{n}"
        for data in self.refresh.values() if rotate else ():  # earlier ones are revoked
            if data["client_id"] == client_id:
                data["revoked"] = True
        self.access[access] = {
            "expires": self.clock.time() + ACCESS_LIFETIME,
            "scopes": scopes.split(),
            "revoked": False,
        }
        self.refresh[refresh] = {"client_id": client_id, "scopes": scopes, "revoked": False}
        return {
            "access_token": access,
            "token_type": "bearer",
            "refresh_token": refresh,
            "expires_in": ACCESS_LIFETIME,
            "scope": scopes,
        }

    @property
    def refresh_grants(self) -> list[dict[str, Any]]:
        return [r for r in self.token_requests if r["fields"].get("grant_type") == "refresh_token"]

    # -- the token endpoint ----------------------------------------------------------------------

    async def token(self, request: web.Request) -> web.Response:
        raw = await request.read()
        if request.content_type == "application/json":
            fields = await request.json()
        else:
            fields = dict(parse_qsl(raw.decode()))
        self.token_requests.append(
            {"fields": fields, "content_type": request.content_type, "headers": request.headers}
        )
        for _ in range(self.delay):
            await asyncio.sleep(0)
        if self.injected:
            return self.injected.pop(0)
        grant = fields.get("grant_type")
        allowed = {"authorization_code": _CODE_FIELDS, "refresh_token": _REFRESH_FIELDS}.get(grant)
        if allowed is None:
            return oauth_error(400, "invalid_request", "unsupported grant_type")
        if set(fields) - allowed:
            return oauth_error(400, "invalid_request", "unknown fields")
        client_id = fields.get("client_id")
        if client_id not in self.clients:
            return oauth_error(401, "invalid_client", "unknown client")
        secret = self.clients[client_id]
        if secret is not None and fields.get("client_secret") != secret:
            return oauth_error(401, "invalid_client", "invalid client secret")
        if grant == "authorization_code":
            return self._code_grant(fields)
        return self._refresh_grant(fields)

    def _code_grant(self, fields: dict[str, Any]) -> web.Response:
        code = self.codes.get(fields.get("code", ""))
        if code is None or code["used"] or self.clock.time() >= code["expires"]:
            return oauth_error(400, "invalid_grant", "code_invalid_or_expired")
        code["used"] = True
        if code["client_id"] != fields["client_id"]:
            return oauth_error(400, "invalid_grant", "client_id_mismatch")
        if code["redirect_uri"] != fields.get("redirect_uri"):
            return oauth_error(400, "invalid_grant", "redirect_uri_mismatch")
        verifier = fields.get("code_verifier")
        public = self.clients[fields["client_id"]] is None
        if (public or code["challenge"]) and (
            not verifier or code["challenge"] is None or s256(verifier) != code["challenge"]
        ):
            return oauth_error(400, "invalid_grant", "pkce_verification_failed")
        return self._tokens(fields["client_id"], code["scopes"])

    def _refresh_grant(self, fields: dict[str, Any]) -> web.Response:
        data = self.refresh.get(fields.get("refresh_token", ""))
        if data is None:
            return oauth_error(400, "invalid_grant", "invalid_refresh_token")
        if data["revoked"]:
            return oauth_error(400, "invalid_grant", "refresh_token_revoked")
        if data["client_id"] != fields["client_id"]:
            return oauth_error(400, "invalid_grant", "client_id_mismatch")
        return self._tokens(fields["client_id"], data["scopes"], rotate=True)

    def _tokens(self, client_id: str, scopes: str, *, rotate: bool = False) -> web.Response:
        body = self.issue_tokens(client_id, scopes, rotate=rotate)
        return web.json_response(body, headers={"Cache-Control": "no-store"})

    # -- bearer endpoints --------------------------------------------------------------------------

    def _bearer(self, request: web.Request) -> dict[str, Any] | None:
        header = request.headers.get("Authorization", "")
        data = self.access.get(header.removeprefix("Bearer "))
        if data is None or data["revoked"] or self.clock.time() >= data["expires"]:
            return None
        return data

    async def me(self, request: web.Request) -> web.Response:
        self.api_requests.append(request)
        data = self._bearer(request)
        if data is None:
            return envelope_error(401, "Invalid Access Token.")
        if "PROFILE_READ" not in data["scopes"]:
            return envelope_error(
                403,
                "insufficient_scope: token does not have the required scopes. Required: "
                f"PROFILE_READ. Token has: {', '.join(data['scopes'])}",
            )
        return web.json_response({"status": "success", "data": {"id": USER_ID, "name": "Ada"}})

    async def ics_feed(self, request: web.Request) -> web.Response:
        self.api_requests.append(request)
        if self._bearer(request) is None:
            return envelope_error(401, "Invalid Access Token.")
        return envelope_error(
            403, "insufficient_scope: this endpoint is not available for third-party OAuth tokens"
        )

    async def describe(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {API_KEY}":
            return envelope_error(401, "Invalid API key")
        client_id = request.match_info["clientId"]
        data = {
            "client_id": client_id,
            "redirect_uris": [REDIRECT_URI],
            "name": "CRM sync",
            "logo": None,
            "is_trusted": False,
            "client_type": "PUBLIC" if self.clients.get(client_id) is None else "CONFIDENTIAL",
        }
        return web.json_response({"status": "success", "data": data})

    def web_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v2/auth/oauth2/token", self.token)
        app.router.add_get("/v2/me", self.me)
        app.router.add_post("/v2/calendars/ics-feed/save", self.ics_feed)
        app.router.add_get("/v2/auth/oauth2/clients/{clientId}", self.describe)
        return app


@asynccontextmanager
async def running(clock: FakeClock) -> AsyncIterator[OAuthServer]:
    server = OAuthServer(clock)
    async with TestServer(server.web_app(), host="127.0.0.1") as test_server:
        server.base_url = f"http://127.0.0.1:{test_server.port}"
        yield server
