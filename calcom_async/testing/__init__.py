"""``FakeCalCom``: an embedded, stateful fake of the Cal.com API v2 for demos and tests.

In process::

    async with FakeCalCom() as fake:
        fake.seed(bookings=10_000)
        async with fake.client() as cal:
            page = await cal.bookings.list(take=100)

Standalone: ``python -m calcom_async.testing --port 8787 --bookings 1000`` (prints the API key).
Pytest: ``pytest_plugins = ["calcom_async.testing.pytest_plugin"]`` gives the fixtures
``fake_calcom`` (a started fake) and ``fake_calcom_client`` (a client of it).

Every one of the document's operations is routed (from the generated operation table). The core
flows are stateful: ``me``; event types (CRUD, user and team); schedules; slots (availability from
the schedule minus bookings, reservations, buffers and minimum notice) and slot reservations;
bookings (regular, recurring and instant; get; list with every filter and sort key; cancel;
reschedule; confirm/decline; mark absent); webhooks at user, event-type, OAuth-client and
organization level, with signed delivery; teams and memberships; organizations' users; managed
users and their tokens. Every other operation answers with the document's example.

What it enforces, as Cal.com does:

- **Auth**: ``Authorization: Bearer <API key>`` (``fake.api_key``), a managed user's access
  token, or ``x-cal-client-id`` + ``x-cal-secret-key`` (``fake.client_id`` /
  ``fake.client_secret``), as the operation accepts; otherwise 401 ``UnauthorizedException``.
  Access tokens expire after ``access_token_ttl`` seconds (401 ``ACCESS_TOKEN_IS_EXPIRED``);
  ``POST /v2/oauth/{clientId}/refresh`` rotates: the old refresh token stops working.
- **Versions**: an operation that requires a ``cal-api-version`` gets **400
  BadRequestException** when the header is missing or has another value; the message names the
  required version (the real API would silently answer with version 2024-04-15's shapes — the
  fake makes that bug visible instead).
- **Validation**: bodies are checked against the operation's request model, required query
  parameters and numeric query and path values too; failures are 400 in the error envelope
  ``{"status": "error", "timestamp", "path", "error": {"code", "message", "details"}}``.
- **Pagination**: ``take``/``skip`` with the ``pagination`` meta (at most 250 per page).
- **Rate limits**: per credential, 120/60 s for API keys and 500/60 s otherwise by default
  (``rate_limit=`` / ``platform_rate_limit=`` take a number or several named :class:`Limit`);
  headers ``X-RateLimit-Limit-Default`` / ``-Remaining-`` / ``-Reset-`` (seconds) on every
  answer; over the limit: 429 ``ThrottlerException`` with ``Retry-After``, blocked for the
  limit's ``block`` seconds.
- ``X-Request-Id`` is echoed.
- **Third-party OAuth** (``fake.oauth``, :class:`FakeOAuth`): registered clients
  (``fake.register_oauth_client``), the consent page ``/auth/oauth2/authorize`` (Allow / Deny),
  ``POST /v2/auth/oauth2/token`` (single-use codes, PKCE S256, rotation, bare RFC 6749 bodies),
  and its access tokens on the API routes with the real ``insufficient_scope`` 403s.

Fault injection: ``fake.faults`` (:class:`Faults`) — latency, 5xx JSON errors, HTML error pages,
empty bodies, dropped connections, truncated and malformed bodies, at a rate or on chosen
requests (``fake.faults.inject("drop", match="POST /v2/bookings", after=True)``).

Webhook deliveries: ``fake.deliveries`` lists every signed POST (``X-Cal-Signature-256``,
HMAC-SHA256 hex of the raw body) with its attempts; ``await fake.deliveries.wait(n)``.

Without a server: ``CalCom(transport=MockTransport(handler))`` (:class:`MockTransport`) sends
each request to a function of yours, which answers with a ``Response`` (``json_response``).

``fake.stats`` counts requests, retries (a repeated ``X-Request-Id``), 429s and faults;
``fake.advance(seconds)`` moves the fake's clock (token expiry).
"""

from __future__ import annotations

from ._faults import Faults, Limit
from ._mock import MockTransport, json_response
from ._oauth import FakeOAuth
from ._oauth.records import OAuthClient
from ._server import DEFAULT_API_KEY, DEFAULT_CLIENT_ID, FakeCalCom, RequestRecord
from ._webhooks import Deliveries, Delivery, DeliveryAttempt, sign

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_CLIENT_ID",
    "Deliveries",
    "Delivery",
    "DeliveryAttempt",
    "FakeCalCom",
    "FakeOAuth",
    "Faults",
    "Limit",
    "MockTransport",
    "OAuthClient",
    "RequestRecord",
    "json_response",
    "sign",
]
