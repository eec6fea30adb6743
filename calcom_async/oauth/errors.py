"""OAuth error answers as typed exceptions (RFC 6749 codes; see :class:`OAuthError`)."""

from __future__ import annotations

from .._errors import APIStatusError, CalComError

__all__ = [
    "AccessDeniedError",
    "InvalidClientError",
    "InvalidGrantError",
    "InvalidRequestError",
    "InvalidScopeError",
    "InvalidStateError",
    "OAuthError",
    "OAuthServerError",
    "UnauthorizedClientError",
    "oauth_error",
]


class OAuthError(CalComError):
    """An OAuth error answer: from the token endpoint (bare ``{"error", "error_description"}``),
    or on the redirect back from the consent page (``?error=…``).

    ``error``: the RFC 6749 code (``invalid_grant``, ``access_denied``, …); ``error_description``:
    the server's explanation (for ``invalid_grant`` a reason such as ``refresh_token_revoked``);
    ``status_code`` / ``request_id``: of the token endpoint's answer (None on a redirect).
    """

    def __init__(
        self,
        error: str,
        error_description: str | None = None,
        *,
        status_code: int | None = None,
        request_id: str | None = None,
    ) -> None:
        text = f"{error}: {error_description}" if error_description else error
        if status_code is not None:
            text = f"{status_code} {text}"
        super().__init__(text)
        self.error = error
        self.error_description = error_description
        self.status_code = status_code
        self.request_id = request_id

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(error={self.error!r}, "
            f"error_description={self.error_description!r}, status_code={self.status_code!r})"
        )


class InvalidGrantError(OAuthError):
    """``invalid_grant``: the code or refresh token is invalid, expired, used or revoked, or the
    verifier, client or redirect URI does not match. ``reason`` tells which
    (``code_invalid_or_expired``, ``invalid_refresh_token``, ``refresh_token_revoked``,
    ``client_id_mismatch``, ``redirect_uri_mismatch``, ``pkce_verification_failed``). For a
    refresh token this means the user must authorize the app again."""

    @property
    def reason(self) -> str | None:
        return self.error_description


class InvalidClientError(OAuthError):
    """``invalid_client``: unknown client, or a wrong or missing client secret."""


class UnauthorizedClientError(OAuthError):
    """``unauthorized_client``: the client may not use this grant or redirect."""


class InvalidRequestError(OAuthError):
    """``invalid_request``: a missing, repeated or unknown parameter."""


class InvalidScopeError(OAuthError):
    """``invalid_scope``: a scope the client is not registered for."""


class AccessDeniedError(OAuthError):
    """``access_denied`` on the redirect: the user declined."""


class OAuthServerError(OAuthError):
    """``server_error`` (or ``temporarily_unavailable``)."""


class InvalidStateError(OAuthError):
    """The redirect's ``state`` is missing, wrong, already used or expired (``invalid_state``;
    raised or shown by this library, not sent by the server): possible CSRF, no exchange made."""


_ERRORS: dict[str, type[OAuthError]] = {
    "invalid_grant": InvalidGrantError,
    "invalid_client": InvalidClientError,
    "unauthorized_client": UnauthorizedClientError,
    "invalid_request": InvalidRequestError,
    "invalid_scope": InvalidScopeError,
    "access_denied": AccessDeniedError,
    "server_error": OAuthServerError,
    "temporarily_unavailable": OAuthServerError,
    "invalid_state": InvalidStateError,
}


def oauth_error(
    error: str,
    error_description: str | None = None,
    *,
    status_code: int | None = None,
    request_id: str | None = None,
) -> OAuthError:
    """The typed exception for an OAuth ``error`` code (:class:`OAuthError` for unknown codes)."""
    cls = _ERRORS.get(error, OAuthError)
    return cls(error, error_description, status_code=status_code, request_id=request_id)


def converted(exc: APIStatusError) -> CalComError:
    """The OAuth error an error answer of the token endpoint carries, else ``exc`` itself."""
    body = exc.body
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        description = body.get("error_description")
        return oauth_error(
            body["error"],
            description if isinstance(description, str) else None,
            status_code=exc.status_code,
            request_id=exc.request_id,
        )
    return exc  # not an OAuth answer (a proxy's HTML page, …): the usual typed error
