"""The token endpoint, ``POST /v2/auth/oauth2/token``: JSON or form bodies, both grants, PKCE
(S256), rotation; bare RFC 6749 answers and errors, all with ``Cache-Control: no-store``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from .base import OAuthBase
from .records import UNRESERVED, OAuthClient, TokenRequest

__all__ = ["TokenEndpoint", "s256"]

_CODE_FIELDS = frozenset(
    {"client_id", "grant_type", "code", "redirect_uri", "client_secret", "code_verifier"}
)
_REFRESH_FIELDS = frozenset({"client_id", "grant_type", "refresh_token", "client_secret"})
_GRANTS = {"authorization_code": _CODE_FIELDS, "refresh_token": _REFRESH_FIELDS}
_REQUIRED = {
    "authorization_code": ("client_id", "code", "redirect_uri"),
    "refresh_token": ("client_id", "refresh_token"),
}


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of ``verifier`` (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


class _Problem(Exception):
    """A token endpoint error, answered as a bare RFC 6749 body."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


class TokenEndpoint(OAuthBase):
    """The token endpoint's route."""

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
                or not UNRESERVED.match(verifier)
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
