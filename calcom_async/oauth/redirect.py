"""The aiohttp.web endpoints of the authorization code flow (aiohttp is imported on first
use)."""

from __future__ import annotations

import enum
import html
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .._clock import Clock
from .._errors import APIConnectionError, APIStatusError, ResponseValidationError
from .._tokens import OAuthToken
from .app import OAuthApp
from .errors import (
    AccessDeniedError,
    InvalidRequestError,
    InvalidStateError,
    OAuthError,
    OAuthServerError,
    oauth_error,
)
from .state import MemoryStateStore, StateStore, same

if TYPE_CHECKING:
    from aiohttp import web

__all__ = ["ErrorHandler", "OAuthRedirect", "TokenHandler"]

logger = logging.getLogger("calcom_async")


TokenHandler = Callable[["web.Request", OAuthToken], Awaitable["web.StreamResponse"]]

ErrorHandler = Callable[["web.Request", OAuthError], Awaitable["web.StreamResponse"]]


class _Failure(enum.Enum):
    MISSING_STATE = "The sign-in answer has no state: it did not come from a sign-in you started."
    STATE_MISMATCH = "The sign-in answer does not belong to a sign-in started in this browser."
    STALE_STATE = "This sign-in link was already used or has expired. Please start again."
    MISSING_CODE = "The sign-in answer has no authorization code."


class OAuthRedirect:
    """The aiohttp.web endpoints of the flow: ``start`` (sends the browser to the consent page)
    and ``callback`` (mounted at the app's ``redirect_uri``).

    ``start`` issues a fresh ``state`` + PKCE verifier, keeps them in ``store`` for
    ``state_ttl`` seconds, binds the state to the browser with an HttpOnly, SameSite=Lax cookie
    and redirects to the consent page. ``callback`` checks ``state`` (present, equal to the
    cookie in constant time, known to the store, unexpired, and consumed: single use), then
    exchanges the code with the stored verifier and calls ``on_token(request, token)``, whose
    response it returns. Anything else — a missing, tampered, replayed or expired state, a
    missing code, an ``error=`` redirect such as ``access_denied``, a failed exchange — gets a
    4xx (or 502) HTML page from ``on_error(request, error)`` (default: a plain page) and no
    exchange. ``bind_to_browser=False`` drops the cookie check (for flows started elsewhere;
    weaker against login CSRF).
    """

    def __init__(
        self,
        app: OAuthApp,
        on_token: TokenHandler,
        *,
        store: StateStore | None = None,
        state_ttl: float = 600.0,
        on_error: ErrorHandler | None = None,
        cookie_name: str = "calcom_oauth_state",
        bind_to_browser: bool = True,
        clock: Clock | None = None,
        start_path: str = "/oauth/connect",
    ) -> None:
        self.app = app
        self.on_token = on_token
        self.store: StateStore = store or MemoryStateStore(clock=clock or app.clock)
        self.state_ttl = state_ttl
        self.on_error = on_error
        self.cookie_name = cookie_name
        self.bind_to_browser = bind_to_browser
        self.start_path = start_path
        self.callback_path = urlsplit(app.redirect_uri).path or "/"

    def __repr__(self) -> str:
        return f"OAuthRedirect(app={self.app!r}, callback_path={self.callback_path!r})"

    def add_routes(self, web_app: web.Application) -> None:
        """Mount ``GET start_path`` → :meth:`start` and ``GET <redirect_uri path>`` →
        :meth:`callback`."""
        web_app.router.add_get(self.start_path, self.start)
        web_app.router.add_get(self.callback_path, self.callback)

    async def start(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import web

        auth = self.app.authorization_url()
        await self.store.put(auth.state, auth.code_verifier, self.state_ttl)
        response = web.Response(status=302, headers={"Location": auth.url})
        response.headers["Cache-Control"] = "no-store"
        response.set_cookie(
            self.cookie_name,
            auth.state,
            max_age=max(1, int(self.state_ttl)),
            path=self.callback_path,
            httponly=True,
            secure=request.secure,
            samesite="Lax",
        )
        return response

    async def callback(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        state = query.get("state")
        if not state:
            return await self._fail(request, _Failure.MISSING_STATE)
        if self.bind_to_browser:
            cookie = request.cookies.get(self.cookie_name)
            if not cookie or not same(cookie, state):
                return await self._fail(request, _Failure.STATE_MISMATCH)
        verifier = await self.store.take(state)
        if verifier is None:
            return await self._fail(request, _Failure.STALE_STATE)
        error = query.get("error")
        if error:
            return await self._fail(request, oauth_error(error, query.get("error_description")))
        code = query.get("code")
        if not code:
            return await self._fail(request, _Failure.MISSING_CODE)
        try:
            token = await self.app.exchange_code(code, code_verifier=verifier)
        except OAuthError as exc:
            return await self._fail(request, exc)
        except (APIStatusError, APIConnectionError, ResponseValidationError) as exc:
            logger.warning("OAuth code exchange failed: %s", type(exc).__name__)
            return await self._fail(request, OAuthServerError("server_error", "no answer"))
        logger.info("OAuth authorization completed for client %s", self.app.client_id)
        from aiohttp import web

        try:
            response = await self.on_token(request, token)
        except web.HTTPException as exc:  # `raise web.HTTPFound(...)` from the handler
            if isinstance(exc, web.StreamResponse):
                self._finish(exc)
            raise
        self._finish(response)
        return response

    def _finish(self, response: web.StreamResponse) -> None:
        response.headers.setdefault("Referrer-Policy", "no-referrer")  # the URL holds the code
        response.headers.setdefault("Cache-Control", "no-store")
        if self.bind_to_browser and not response.prepared:
            response.del_cookie(self.cookie_name, path=self.callback_path)

    async def _fail(
        self, request: web.Request, failure: _Failure | OAuthError
    ) -> web.StreamResponse:
        if isinstance(failure, _Failure):
            error: OAuthError = (
                InvalidRequestError("invalid_request", failure.value)
                if failure is _Failure.MISSING_CODE
                else InvalidStateError("invalid_state", failure.value)
            )
        else:
            error = failure
        logger.warning("OAuth redirect rejected: %s", error.error)
        if self.on_error is not None:
            response = await self.on_error(request, error)
        else:
            response = _error_page(error)
        self._finish(response)
        return response


_TITLES = {
    "access_denied": "Access denied",
    "invalid_state": "Sign-in could not be verified",
}


def _error_status(error: OAuthError) -> int:
    if isinstance(error, AccessDeniedError):
        return 403
    if isinstance(error, OAuthServerError):
        return 502
    return 400


def _error_page(error: OAuthError) -> web.Response:
    from aiohttp import web

    title = _TITLES.get(error.error, "Cal.com sign-in failed")
    if isinstance(error, AccessDeniedError):
        text = "You declined to connect your Cal.com account. Nothing was shared."
    elif isinstance(error, InvalidStateError | InvalidRequestError) and error.status_code is None:
        text = error.error_description or error.error
    else:
        text = f"Cal.com answered: {error.error}" + (
            f" ({error.error_description})" if error.error_description else ""
        )
    body = (
        '<!doctype html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>\n<body><h1>{html.escape(title)}</h1>\n"
        f"<p>{html.escape(text)}</p>\n<p>No account was connected.</p></body></html>\n"
    )
    return web.Response(
        status=_error_status(error),
        text=body,
        content_type="text/html",
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )
