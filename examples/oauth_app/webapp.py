"""A small web app that connects a user's Cal.com account with OAuth and shows their bookings.

    .venv/bin/python examples/oauth_app --fake   # against an in-process FakeCalCom
    .venv/bin/python examples/oauth_app          # against Cal.com: CAL_OAUTH_CLIENT_ID,
                                                 # CAL_OAUTH_CLIENT_SECRET, CAL_OAUTH_REDIRECT_URI

Open http://127.0.0.1:8000/, press "Connect Cal.com", then Allow (or Deny) on the consent page.

The pieces, all from ``calcom_async.oauth``: an ``OAuthApp`` (the registered client), an
``OAuthRedirect`` mounted at ``/oauth/connect`` and at the redirect URI's path (it checks
``state``, exchanges the code with the PKCE verifier and hands us the ``OAuthToken``), and
``CalCom(oauth=…, oauth_app=…, on_token_refresh=…)`` to call the API as the user. The tokens are
kept in memory, keyed by a random session cookie; a real app keeps them in its database (they
rotate on every refresh: persist each new pair).

With ``--fake`` it starts a FakeCalCom on a free loopback port, seeds it with bookings and
registers an OAuth client whose redirect URI is this app's ``/oauth/callback``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import logging
import os
import secrets
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from calcom_async import CalCom, CalComError
from calcom_async.oauth import (
    AccessDeniedError,
    InvalidGrantError,
    OAuthApp,
    OAuthError,
    OAuthRedirect,
    OAuthToken,
    Scope,
)

SESSION_COOKIE = "example_session"
SCOPES = [Scope.PROFILE_READ, Scope.BOOKING_READ]

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}"
    "a.button,button{display:inline-block;font-size:1rem;padding:.6rem 1.4rem;border-radius:6px;"
    "background:#111;color:#fff;text-decoration:none;border:0;cursor:pointer}"
    "li{margin:.4rem 0}.muted{color:#666}"
)


@dataclass
class Sessions:
    """The connected users' tokens, by session id (in memory: a real app uses its database)."""

    tokens: dict[str, OAuthToken] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Sessions({len(self.tokens)} connected)"


SESSIONS = web.AppKey("sessions", Sessions)


def page(title: str, body: str, *, status: int = 200) -> web.Response:
    text = (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>\n"
        f"<body>\n<h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n"
    )
    return web.Response(
        status=status,
        text=text,
        content_type="text/html",
        headers={"Cache-Control": "no-store"},
    )


def build_app(oauth_app: OAuthApp, *, api_base_url: str | None = None) -> web.Application:
    """The web app: ``/`` (connect button, or the user's name and upcoming bookings),
    ``/oauth/connect`` and the OAuth callback, ``/disconnect``."""
    sessions = Sessions()
    web_app = web.Application()

    def session_id(request: web.Request) -> str | None:
        sid = request.cookies.get(SESSION_COOKIE)
        return sid if sid in sessions.tokens else None

    async def connected(request: web.Request, token: OAuthToken) -> web.StreamResponse:
        sid = secrets.token_urlsafe(32)
        sessions.tokens[sid] = token
        response = web.HTTPFound("/")
        response.set_cookie(
            SESSION_COOKIE, sid, httponly=True, samesite="Lax", secure=request.secure
        )
        raise response

    async def failed(request: web.Request, error: OAuthError) -> web.StreamResponse:
        if isinstance(error, AccessDeniedError):
            return page(
                "Access denied",
                "<p>You declined to connect your Cal.com account, so nothing was shared.</p>\n"
                '<p><a class="button" href="/">Back</a></p>',
                status=403,
            )
        return page(
            "Could not connect",
            f"<p>Cal.com sign-in failed: {html.escape(error.error)}.</p>\n"
            '<p><a class="button" href="/">Try again</a></p>',
            status=400,
        )

    async def index(request: web.Request) -> web.StreamResponse:
        sid = session_id(request)
        if sid is None:
            return page(
                "Example CRM",
                "<p>Connect your Cal.com account to see your upcoming bookings here.</p>\n"
                '<p><a class="button" id="connect" href="/oauth/connect">Connect Cal.com</a></p>',
            )

        def save(token: OAuthToken) -> None:  # every rotated pair replaces the old one
            sessions.tokens[sid] = token

        try:
            async with CalCom(
                base_url=api_base_url or oauth_app.base_url,
                oauth=sessions.tokens[sid],
                oauth_app=oauth_app,
                on_token_refresh=save,
            ) as cal:
                me = (await cal.me.with_raw_response.get()).json()["data"]
                bookings = await cal.bookings.list(status=["upcoming"], sort_start="asc", take=10)
        except InvalidGrantError:  # the refresh token is gone: connect again
            sessions.tokens.pop(sid, None)
            raise web.HTTPFound("/") from None
        except CalComError as exc:
            return page("Cal.com error", f"<p>{html.escape(str(exc))}</p>", status=502)
        items = "\n".join(_booking_item(b) for b in bookings) or "<li>No upcoming bookings.</li>"
        name = html.escape(str(me.get("name") or me.get("username")))
        return page(
            "Example CRM",
            f'<p id="user">Connected as <strong>{name}</strong> '
            f'<span class="muted">({html.escape(str(me.get("email")))})</span></p>\n'
            f'<h2>Upcoming bookings</h2>\n<ul id="bookings">\n{items}\n</ul>\n'
            '<form method="post" action="/disconnect"><button>Disconnect</button></form>',
        )

    async def disconnect(request: web.Request) -> web.StreamResponse:
        sid = session_id(request)
        if sid is not None:
            sessions.tokens.pop(sid, None)
        response = web.HTTPFound("/")
        response.del_cookie(SESSION_COOKIE)
        raise response

    OAuthRedirect(oauth_app, connected, on_error=failed).add_routes(web_app)
    web_app.router.add_get("/", index)
    web_app.router.add_post("/disconnect", disconnect)
    web_app[SESSIONS] = sessions
    return web_app


def _booking_item(booking: Any) -> str:
    start = booking.start.strftime("%a %d %b %Y, %H:%M UTC")
    who = ", ".join(a.name for a in booking.attendees) or "no attendees"
    return (
        f'<li class="booking"><strong>{html.escape(booking.title)}</strong> · '
        f'{html.escape(start)} <span class="muted">with {html.escape(who)}</span></li>'
    )


# -- running it ---------------------------------------------------------------------------------


@dataclass
class Running:
    """A started example: ``url`` to open; ``close()`` when done."""

    url: str
    runner: web.AppRunner
    oauth_app: OAuthApp
    fake: Any = None  #: the FakeCalCom, with --fake

    @property
    def sessions(self) -> Sessions:
        return self.runner.app[SESSIONS]

    async def close(self) -> None:
        await self.runner.cleanup()
        await self.oauth_app.aclose()
        if self.fake is not None:
            await self.fake.close()


async def start(
    *, host: str = "127.0.0.1", port: int = 8000, fake: bool = True, bookings: int = 60
) -> Running:
    """Start the app on ``host:port`` (0: a free port); with ``fake``, a FakeCalCom too."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    url = f"http://{host}:{sock.getsockname()[1]}"
    server = None
    if fake:
        from calcom_async.testing import FakeCalCom

        server = await FakeCalCom().start()
        server.seed(bookings=bookings, event_types=4)
        client = server.register_oauth_client(
            client_id="example-crm",
            name="Example CRM",
            redirect_uris=[f"{url}/oauth/callback"],
            scopes=[str(s) for s in SCOPES],
        )
        oauth_app = server.oauth.app(client)
    else:
        oauth_app = OAuthApp(
            os.environ["CAL_OAUTH_CLIENT_ID"],
            os.environ.get("CAL_OAUTH_CLIENT_SECRET") or None,
            redirect_uri=os.environ.get("CAL_OAUTH_REDIRECT_URI", f"{url}/oauth/callback"),
            scopes=SCOPES,
        )
    runner = web.AppRunner(build_app(oauth_app), access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    return Running(url, runner, oauth_app, server)


async def serve(host: str, port: int, fake: bool) -> None:
    running = await start(host=host, port=port, fake=fake)
    where = "FakeCalCom at " + running.fake.base_url if running.fake else "Cal.com"
    print(f"Example CRM on {running.url}/ (OAuth against {where}); Ctrl-C stops it", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await running.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fake", action="store_true", help="run against an in-process fake")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    if not args.fake and "CAL_OAUTH_CLIENT_ID" not in os.environ:
        parser.error("set CAL_OAUTH_CLIENT_ID (and CAL_OAUTH_CLIENT_SECRET) or pass --fake")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port, args.fake))
    return 0


if __name__ == "__main__":
    sys.exit(main())
