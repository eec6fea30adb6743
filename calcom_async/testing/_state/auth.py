"""Who is calling (the API keys, managed users' access tokens and the OAuth client headers the
fake knows) and the managed users' token pairs it issues."""

from __future__ import annotations

from typing import Any

from ..._operation import AuthMode
from .._records import Principal, Token
from .._util import ApiError
from .core import StateCore

__all__ = ["AuthState"]


class AuthState(StateCore):
    """The credentials: checked, and issued."""

    def principals(
        self, authorization: str | None, client_id: str | None, secret: str | None
    ) -> tuple[list[Principal], list[ApiError]]:
        found: list[Principal] = []
        errors: list[ApiError] = []
        if authorization:
            scheme, _, token = authorization.partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not token:
                errors.append(ApiError(401, "UnauthorizedException", "Invalid Authorization"))
            elif token in self.api_keys:
                found.append(
                    Principal(AuthMode.API_KEY.value, "key:" + token[-8:], self.api_keys[token])
                )
            elif token in self.access_tokens:
                access = self.access_tokens[token]
                if access.expires <= self.now():
                    errors.append(ApiError(401, "UnauthorizedException", "ACCESS_TOKEN_IS_EXPIRED"))
                else:
                    found.append(
                        Principal(
                            AuthMode.ACCESS_TOKEN.value,
                            f"user:{access.user_id}",
                            access.user_id,
                            access.client_id,
                        )
                    )
            else:
                what = "API Key" if token.startswith("cal_") else "Access Token"
                errors.append(ApiError(401, "UnauthorizedException", f"Invalid {what}"))
        if client_id:
            client = self.clients.get(client_id)
            if client is None:
                errors.append(ApiError(401, "UnauthorizedException", "OAuth client not found"))
            elif secret != client["secret"]:
                errors.append(ApiError(401, "UnauthorizedException", "Invalid OAuth client secret"))
            else:
                found.append(
                    Principal(AuthMode.PLATFORM.value, f"client:{client_id}", None, client_id)
                )
        return found, errors

    def issue_tokens(self, user_id: int, client_id: str) -> dict[str, Any]:
        now = self.now()
        # every secret the fake issues carries SECRET: the tests' leak scan looks for it
        access, refresh = "mat_SECRET_" + self.uid(40), "mrt_SECRET_" + self.uid(40)
        # rotation: every earlier refresh token of this user stops working
        for key in [k for k, t in self.refresh_tokens.items() if t.user_id == user_id]:
            del self.refresh_tokens[key]
        self.access_tokens[access] = Token(user_id, client_id, now + self.access_token_ttl)
        self.refresh_tokens[refresh] = Token(user_id, client_id, now + self.refresh_token_ttl)
        return {
            "accessToken": access,
            "refreshToken": refresh,
            "accessTokenExpiresAt": int((now + self.access_token_ttl) * 1000),
            "refreshTokenExpiresAt": int((now + self.refresh_token_ttl) * 1000),
        }
