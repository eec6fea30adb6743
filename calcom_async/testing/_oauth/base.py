"""The data of the fake's OAuth server (:class:`OAuthBase`: its clients, consents, codes and
tokens), the tokens it issues, and the record of each request it answers. The consent page
(``consent.py``) and the token endpoint (``tokens.py``) are built on it; ``FakeOAuth`` is both."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from .._requests import RequestRecord
from .records import Code, Consent, Grant, OAuthClient, TokenRequest, new_secret

if TYPE_CHECKING:
    from .._server import FakeCalCom

__all__ = ["ACCESS_TOKEN_TTL", "CODE_TTL", "REFRESH_TOKEN_TTL", "OAuthBase"]

ACCESS_TOKEN_TTL = 1800.0  #: 30 minutes
REFRESH_TOKEN_TTL = 30 * 86400.0  #: 30 days
CODE_TTL = 600.0  #: 10 minutes, single use


class OAuthBase:
    """The OAuth server's data (``FakeOAuth`` adds its two default clients)."""

    def __init__(self, fake: FakeCalCom) -> None:
        self._fake = fake
        self.clients: dict[str, OAuthClient] = {}
        self.user_id: int = fake.store.owner_id
        self.access_token_ttl = ACCESS_TOKEN_TTL
        self.refresh_token_ttl = REFRESH_TOKEN_TTL
        self.code_ttl = CODE_TTL
        self.token_requests: list[TokenRequest] = []
        self._consents: dict[str, Consent] = {}
        self._codes: dict[str, Code] = {}
        self._access: dict[str, Grant] = {}
        self._refresh: dict[str, Grant] = {}

    def now(self) -> float:
        return self._fake.now()

    def _issue(self, client_id: str, user_id: int, scopes: tuple[str, ...]) -> dict[str, Any]:
        now = self.now()
        for grant in self._refresh.values():  # rotation: every earlier one is revoked
            if grant.client_id == client_id and grant.user_id == user_id:
                grant.revoked = True
        access, refresh = new_secret("oat"), new_secret("ort")
        self._access[access] = Grant(client_id, user_id, scopes, now + self.access_token_ttl)
        self._refresh[refresh] = Grant(client_id, user_id, scopes, now + self.refresh_token_ttl)
        return {
            "access_token": access,
            "token_type": "bearer",
            "refresh_token": refresh,
            "expires_in": int(self.access_token_ttl),
            "scope": " ".join(scopes),
        }

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
