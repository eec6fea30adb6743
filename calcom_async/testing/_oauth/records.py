"""What the fake's OAuth server keeps: the registered clients (:class:`OAuthClient`), the consent
pages shown, the codes and the tokens it issued, and a record of each token request."""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

__all__ = ["UNRESERVED", "Code", "Consent", "Grant", "OAuthClient", "TokenRequest", "new_secret"]

UNRESERVED = re.compile(r"^[A-Za-z0-9\-._~]+$")


def new_secret(prefix: str) -> str:
    return f"{prefix}_SECRET_{secrets.token_urlsafe(24)}"


@dataclass(repr=False)
class OAuthClient:
    """A registered third-party OAuth client. ``secrets`` empty: a public client (PKCE only)."""

    client_id: str
    name: str
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    secrets: tuple[str, ...] = ()
    logo: str | None = None
    is_trusted: bool = False
    legacy: bool = False  #: an old client: ``scope`` may be left out (all its scopes)
    approved: bool = True  #: False: the consent page answers ``unauthorized_client``

    def __repr__(self) -> str:
        return (
            f"OAuthClient(client_id={self.client_id!r}, {self.client_type}, "
            f"redirect_uris={list(self.redirect_uris)!r}, scopes={list(self.scopes)!r})"
        )

    @property
    def client_type(self) -> str:
        return "CONFIDENTIAL" if self.secrets else "PUBLIC"

    @property
    def secret(self) -> str | None:
        """The (newest) client secret; None for a public client."""
        return self.secrets[-1] if self.secrets else None

    def describe(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "redirect_uris": list(self.redirect_uris),
            "name": self.name,
            "logo": self.logo,
            "is_trusted": self.is_trusted,
            "client_type": self.client_type,
        }

    def check_secret(self, given: str) -> bool:
        ok = False
        for secret in self.secrets:  # every one compared: no early exit
            ok |= hmac.compare_digest(secret.encode(), given.encode("utf-8", "surrogatepass"))
        return ok


@dataclass(repr=False)
class Consent:
    client_id: str
    redirect_uri: str
    state: str | None
    scopes: tuple[str, ...]
    challenge: str | None
    user_id: int
    expires: float


@dataclass(repr=False)
class Code:
    client_id: str
    user_id: int
    redirect_uri: str
    scopes: tuple[str, ...]
    challenge: str | None
    expires: float
    used: bool = False


@dataclass(repr=False)
class Grant:
    """An access or refresh token."""

    client_id: str
    user_id: int
    scopes: tuple[str, ...]
    expires: float
    revoked: bool = False


@dataclass
class TokenRequest:
    """One call of the token endpoint (no secret in it): ``error`` is the answer's
    ``error_description`` (``refresh_token_revoked``, …) or None on success."""

    grant_type: str | None
    client_id: str | None
    status: int
    error: str | None = None
    content_type: str = ""
