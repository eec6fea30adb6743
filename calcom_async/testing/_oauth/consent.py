"""The consent page, ``/auth/oauth2/authorize``: the request checked (an unknown client or
redirect URI is shown, never redirected; any other problem goes back to the app as ``error=``),
the page with Allow and Deny, and the decision (a single-use code, or ``access_denied``)."""

from __future__ import annotations

import html
import secrets
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

from aiohttp import web
from multidict import MultiMapping

from .base import OAuthBase
from .records import UNRESERVED, Code, Consent, OAuthClient, new_secret
from .scopes import describe_scope

__all__ = ["CONSENT_TTL", "ConsentPage"]

CONSENT_TTL = 600.0  #: how long a shown consent page can be answered
_AUTHORIZE_PARAMS = (
    "client_id",
    "redirect_uri",
    "state",
    "scope",
    "code_challenge",
    "code_challenge_method",
)


class _Redirect(Exception):
    """An authorization request error that goes back to the app (``error=`` on the redirect)."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


class ConsentPage(OAuthBase):
    """The consent page's two routes."""

    async def authorize_page(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        client = self.clients.get(query.get("client_id", ""))
        if client is None:
            self._record(request, "oauth2.authorize", 400)
            return _html(400, "Unknown application", "<p>No OAuth client has this client_id.</p>")
        redirect_uri = query.get("redirect_uri", "")
        if redirect_uri not in client.redirect_uris:
            self._record(request, "oauth2.authorize", 400)
            text = (
                f"<p>The redirect URI is not registered for {html.escape(client.name)}. "
                "You were not sent back to the application.</p>"
            )
            return _html(400, "Invalid redirect URI", text)
        state = query.get("state")
        try:
            scopes, challenge = self._check_request(client, query)
        except _Redirect as exc:
            self._record(request, "oauth2.authorize", 302)
            return _redirect(
                redirect_uri, error=exc.error, error_description=exc.description, state=state
            )
        ticket = secrets.token_urlsafe(24)
        now = self.now()
        self._consents = {k: c for k, c in self._consents.items() if c.expires > now}
        expires = now + CONSENT_TTL
        self._consents[ticket] = Consent(
            client.client_id, redirect_uri, state, scopes, challenge, self.user_id, expires
        )
        self._record(request, "oauth2.authorize", 200)
        return _consent_page(client, scopes, self._fake.store.user(self.user_id), ticket)

    def _check_request(
        self, client: OAuthClient, query: MultiMapping[str]
    ) -> tuple[tuple[str, ...], str | None]:
        if not client.approved:
            raise _Redirect("unauthorized_client", "the client is not approved")
        for name in _AUTHORIZE_PARAMS:
            if len(query.getall(name, [])) > 1:
                raise _Redirect("invalid_request", f"{name} is repeated")
        text = query.get("scope", "")
        asked = tuple(dict.fromkeys(text.replace(",", " ").split()))
        if not asked:
            if not client.legacy:
                raise _Redirect("invalid_request", "scope is required")
            asked = client.scopes
        unknown = [s for s in asked if s not in client.scopes]
        if unknown:
            raise _Redirect(
                "invalid_request", f"scope not registered for this client: {' '.join(unknown)}"
            )
        challenge = query.get("code_challenge")
        method = query.get("code_challenge_method")
        if challenge is None and method is not None:
            raise _Redirect("invalid_request", "code_challenge_method without code_challenge")
        if challenge is not None:
            if method != "S256":
                raise _Redirect("invalid_request", "code_challenge_method must be S256")
            if len(challenge) != 43 or not UNRESERVED.match(challenge):
                raise _Redirect("invalid_request", "code_challenge is not an S256 challenge")
        elif not client.secrets:
            raise _Redirect("invalid_request", "code_challenge is required for public clients")
        return asked, challenge

    async def authorize_decision(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        ticket = form.get("consent")
        consent = self._consents.pop(ticket, None) if isinstance(ticket, str) else None
        if consent is None or consent.expires <= self.now():
            self._record(request, "oauth2.authorize.decide", 400)
            text = "<p>This consent request has expired or was already answered.</p>"
            return _html(400, "Request expired", text)
        decision = form.get("decision")
        self._record(request, "oauth2.authorize.decide", 302)
        if decision == "allow":
            code = new_secret("oac")
            self._codes[code] = Code(
                consent.client_id,
                consent.user_id,
                consent.redirect_uri,
                consent.scopes,
                consent.challenge,
                self.now() + self.code_ttl,
            )
            return _redirect(consent.redirect_uri, code=code, state=consent.state)
        return _redirect(
            consent.redirect_uri,
            error="access_denied",
            error_description="The user denied the request",
            state=consent.state,
        )


def _redirect(uri: str, **params: str | None) -> web.Response:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    location = f"{uri}{'&' if urlsplit(uri).query else '?'}{query}"
    return web.Response(
        status=302,
        headers={
            "Location": location,
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
        },
    )


_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;"
    "color:#111}h1{font-size:1.4rem}ul{padding-left:1.2rem}.who{color:#555}"
    "button{font-size:1rem;padding:.5rem 1.4rem;margin-right:.6rem;border-radius:6px;"
    "border:1px solid #111;cursor:pointer}button.allow{background:#111;color:#fff}"
    "button.deny{background:#fff;color:#111}"
)


def _html(status: int, title: str, body: str) -> web.Response:
    text = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)} · Cal.com (fake)</title><style>{_STYLE}</style></head>\n"
        f"<body>\n<h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n"
    )
    return web.Response(
        status=status,
        text=text,
        content_type="text/html",
        headers={
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Frame-Options": "DENY",
            "Content-Security-Policy": "frame-ancestors 'none'",
        },
    )


def _consent_page(
    client: OAuthClient, scopes: Sequence[str], user: Mapping[str, Any], ticket: str
) -> web.Response:
    name = html.escape(client.name)
    items = "\n".join(
        f"<li>{html.escape(describe_scope(s))} <code>{html.escape(s)}</code></li>" for s in scopes
    )
    body = (
        f'<p class="who">Signed in as {html.escape(str(user.get("name")))} '
        f"({html.escape(str(user.get('email')))})</p>\n"
        f"<p><strong>{name}</strong> wants to access your Cal.com account. It will be able to:</p>"
        f"\n<ul>\n{items}\n</ul>\n"
        '<form method="post" action="/auth/oauth2/authorize">\n'
        f'<input type="hidden" name="consent" value="{html.escape(ticket)}">\n'
        '<button class="allow" type="submit" name="decision" value="allow">Allow</button>\n'
        '<button class="deny" type="submit" name="decision" value="deny">Deny</button>\n'
        "</form>"
    )
    return _html(200, f"Authorize {client.name}", body)
