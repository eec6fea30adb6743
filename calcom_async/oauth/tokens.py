"""The token endpoint's answer (RFC 6749, bare JSON) read into an :class:`OAuthToken`.

:class:`OAuthToken` itself lives beside :class:`~calcom_async.TokenPair` (``_tokens``): the
auth layer refreshes and stores both kinds without importing this package.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .._clock import Clock
from .._errors import ResponseValidationError
from .._tokens import OAuthToken, TokenPair
from .errors import oauth_error

__all__ = ["OAuthToken", "read_token"]


def read_token(content: bytes, clock: Clock, previous: TokenPair | None) -> OAuthToken:
    """An :class:`OAuthToken` from the token endpoint's bare RFC 6749 answer."""
    from oauthlib.oauth2.rfc6749.errors import MissingTokenError, OAuth2Error
    from oauthlib.oauth2.rfc6749.parameters import parse_token_response

    received = clock.time()
    text = content.decode("utf-8", errors="replace")
    try:
        # No requested scope is passed: the server may grant fewer, and oauthlib would raise.
        params: Mapping[str, Any] = parse_token_response(text)
    except MissingTokenError:
        params = {}
    except OAuth2Error as exc:  # a 200 carrying {"error": ...}
        raise oauth_error(exc.error or "server_error", exc.description or None) from None
    except (ValueError, TypeError):  # expires_in not a number, …
        params = {"invalid": True}
    access = params.get("access_token")
    refresh = params.get("refresh_token")
    if refresh is None and previous is not None:
        refresh = previous.refresh_token  # a server that does not rotate
    expires_in = params.get("expires_in")
    if (
        not isinstance(access, str)
        or not access
        or (refresh is not None and not isinstance(refresh, str))
        or (expires_in is not None and not isinstance(expires_in, int | float))
    ):
        # The answer holds secrets: the error shows only its field names.
        raise ResponseValidationError(
            f"the token endpoint's answer does not have the expected fields (got {sorted(params)})"
        )
    scopes: Iterable[str] | None = params.get("scope")
    if scopes is None and isinstance(previous, OAuthToken):
        scopes = previous.scopes  # scopes carry over from the grant
    return OAuthToken(
        access,
        refresh,
        received + float(expires_in) if expires_in is not None else None,
        scopes=scopes,
        token_type=str(params.get("token_type") or "bearer"),
    )
