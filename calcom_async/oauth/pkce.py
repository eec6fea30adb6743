"""PKCE (RFC 7636, S256) and the consent page URL, built by oauthlib's transport-agnostic
``WebApplicationClient`` (imported on first use)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from urllib.parse import urlsplit

import attrs

__all__ = ["AuthorizationRequest", "authorization_request", "new_state"]

_VERIFIER_LENGTH = 64  # RFC 7636: 43..128 characters; 64 of 66 symbols is ~386 bits

_STATE_BYTES = 32


@attrs.frozen(slots=True, repr=False)
class AuthorizationRequest:
    """Where to send the user, and what to keep until the redirect comes back: ``state`` (check
    it, once) and ``code_verifier`` (give it to :meth:`OAuthApp.exchange_code`). Unpacks as
    ``url, state, code_verifier``."""

    url: str
    state: str
    code_verifier: str
    code_challenge: str

    def __repr__(self) -> str:
        return (
            f"AuthorizationRequest(url={self.url.split('?', 1)[0] + '?…'!r}, state='***', "
            "code_verifier='***')"
        )

    __str__ = __repr__

    def __iter__(self) -> Iterator[str]:
        return iter((self.url, self.state, self.code_verifier))


def new_state() -> str:
    """An unguessable ``state`` (32 random bytes, URL-safe)."""
    return secrets.token_urlsafe(_STATE_BYTES)


def authorization_request(
    client_id: str, authorize_url: str, redirect_uri: str, scopes: Sequence[str], state: str
) -> AuthorizationRequest:
    """The consent page URL for ``state`` with a fresh PKCE pair (S256)."""
    from oauthlib.oauth2 import WebApplicationClient

    lib = WebApplicationClient(client_id)
    verifier = lib.create_code_verifier(_VERIFIER_LENGTH)
    challenge = lib.create_code_challenge(verifier, "S256")
    # oauthlib refuses http:// unless a process-wide environment switch is set; our own
    # check (https, or http on loopback for a local server) has run, so let it build the
    # query on the https twin of the URL and put the real scheme back.
    parts = urlsplit(authorize_url)
    built = lib.prepare_request_uri(
        parts._replace(scheme="https").geturl(),
        redirect_uri=redirect_uri,
        scope=list(scopes) or None,
        state=state,
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    url = urlsplit(built)._replace(scheme=parts.scheme).geturl()
    return AuthorizationRequest(url, state, verifier, challenge)
