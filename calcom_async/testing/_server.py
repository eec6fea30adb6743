"""``FakeCalCom``: the aiohttp.web application, its middleware and its lifecycle: routing, who
is calling, the rate limit, then the handler (or the document's example). The checks of a call
are in ``_validation.py``, the error and fault answers in ``_answers.py``."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import orjson
from aiohttp import web

from .._limiters import PROCESS_LIMITERS
from .._operation import AuthMode, Operation
from ._answers import error_response, fault_response
from ._faults import Faults, Limit, ServerRateLimiter
from ._handlers import HANDLERS
from ._oauth import FakeOAuth
from ._oauth.records import OAuthClient
from ._records import Ctx, Principal
from ._requests import RequestRecord
from ._seed import seed
from ._state import FakeState
from ._util import ApiError
from ._validation import check_version, read_call
from ._webhooks import Deliveries

if TYPE_CHECKING:
    from .._client import CalCom

__all__ = ["FakeCalCom", "RequestRecord"]

logger = logging.getLogger("calcom_async.testing")

DEFAULT_API_KEY = "cal_test_SECRET_fakecalcom_0123456789"
DEFAULT_CLIENT_ID = "clfakeclient0001"
DEFAULT_CLIENT_SECRET = "fake_client_SECRET_0123456789"


class FakeCalCom:
    """An in-process, stateful fake of the Cal.com API v2 (see the package docstring).

    ``async with FakeCalCom() as fake: async with fake.client() as cal: ...``
    """

    def __init__(
        self,
        *,
        api_key: str = DEFAULT_API_KEY,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        rate_limit: int | Sequence[Limit] | None = None,
        platform_rate_limit: int | Sequence[Limit] | None = None,
        access_token_ttl: float = 3600.0,
        refresh_token_ttl: float = 365 * 86400.0,
        faults: Faults | None = None,
        seed: int = 0,
        webhook_retries: int = 3,
        webhook_backoff: float = 0.05,
        host: str = "127.0.0.1",
        port: int = 0,
        record_bodies: bool = False,
    ) -> None:
        self.api_key = api_key
        self.client_id = client_id
        self.client_secret = client_secret
        self.host = host
        self.port = port
        self.faults = faults or Faults(seed=seed)
        self._offset = 0.0
        self.store = FakeState(
            now=self.now,
            api_key=api_key,
            client_id=client_id,
            client_secret=client_secret,
            access_token_ttl=access_token_ttl,
            refresh_token_ttl=refresh_token_ttl,
            seed=seed,
        )
        self.deliveries = Deliveries(retries=webhook_retries, backoff=webhook_backoff)
        self.store.on_event = self.deliveries.publish
        self._key_limits = _limits(rate_limit, 120)
        self._platform_limits = _limits(platform_rate_limit, 500)
        self.rate_limiter = ServerRateLimiter(self._limits_for)
        self.requests: list[RequestRecord] = []
        self.operations: Counter[str] = Counter()
        #: with ``record_bodies=True``: (operation name, status, JSON body) of every answer
        self.bodies: list[tuple[str, int, Any]] | None = [] if record_bodies else None
        #: third-party OAuth: clients, consent page, token endpoint, scope checks (_oauth.py)
        self.oauth = FakeOAuth(self)
        self.app = self._build_app()
        self._runner: web.AppRunner | None = None
        self._site_port: int | None = None
        self._clients: list[CalCom] = []

    # -- time -------------------------------------------------------------------------------

    def now(self) -> float:
        """The fake's wall clock (Unix seconds): real time plus :meth:`advance`."""
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the fake's clock forward (tokens expire, rate-limit windows end)."""
        self._offset += seconds

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> Self:
        if self._runner is not None:
            return self
        runner = web.AppRunner(
            self.app, access_log=None, handle_signals=False, shutdown_timeout=0.5
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        self._site_port = sockets[0].getsockname()[1] if sockets else self.port
        self._runner = runner
        PROCESS_LIMITERS.forget(self.base_url)  # a new server here: no budget left from an old one
        return self

    async def close(self) -> None:
        for client in self._clients:
            await client.aclose()
        self._clients.clear()
        await self.deliveries.aclose()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        if self._site_port is None:
            raise RuntimeError("FakeCalCom is not started: use `async with FakeCalCom() as fake`")
        return f"http://{self.host}:{self._site_port}"

    def client(self, **kwargs: Any) -> CalCom:
        """A :class:`CalCom` pointed at this fake with its API key (override anything). Closed
        with the fake."""
        from .._client import CalCom

        kwargs.setdefault("base_url", self.base_url)
        if not any(k in kwargs for k in ("client_id", "access_token")):
            kwargs.setdefault("api_key", self.api_key)
        client = CalCom(**kwargs)
        self._clients.append(client)
        return client

    def platform_client(self, **kwargs: Any) -> CalCom:
        """A client with this fake's OAuth client id and secret (and its API key)."""
        kwargs.setdefault("client_id", self.client_id)
        kwargs.setdefault("client_secret", self.client_secret)
        kwargs.setdefault("api_key", self.api_key)
        return self.client(**kwargs)

    # -- data -------------------------------------------------------------------------------

    def seed(
        self,
        *,
        bookings: int = 0,
        event_types: int = 5,
        attendees_per_booking: tuple[int, int] = (1, 3),
        teams: int = 0,
        managed_users: int = 0,
        org_users: int = 0,
    ) -> None:
        """Fill the fake with realistic, varied data (deterministic for a given ``seed``)."""
        seed(
            self.store,
            bookings=bookings,
            event_types=event_types,
            attendees_per_booking=attendees_per_booking,
            teams=teams,
            managed_users=managed_users,
            org_users=org_users,
        )

    def register_oauth_client(self, **kwargs: Any) -> OAuthClient:
        """Register a third-party OAuth client (see :meth:`FakeOAuth.register_client`):
        ``redirect_uris=[…]``, ``scopes=[…]``, ``secret=`` or ``public=True``, ``client_id=``."""
        return self.oauth.register_client(**kwargs)

    def reset_stats(self) -> None:
        self.requests.clear()
        self.operations.clear()
        self.rate_limiter.throttled = 0

    @property
    def stats(self) -> dict[str, int]:
        """Requests seen, of them retries (a repeated ``X-Request-Id``), 429s sent, faults."""
        ids = Counter(r.request_id for r in self.requests if r.request_id)
        return {
            "requests": len(self.requests),
            "retries": sum(n - 1 for n in ids.values()),
            "throttled": self.rate_limiter.throttled,
            "faults": sum(self.faults.injected.values()),
        }

    # -- the application ----------------------------------------------------------------------

    def _limits_for(self, kind: str) -> Sequence[Limit]:
        return self._key_limits if kind == AuthMode.API_KEY.value else self._platform_limits

    def _build_app(self) -> web.Application:
        from .._generated.operations import OPERATIONS

        app = web.Application(middlewares=[self._not_found_middleware], client_max_size=2**22)
        self.oauth.add_routes(app)
        by_path: dict[str, list[Operation]] = {}
        for op in OPERATIONS:
            by_path.setdefault(op.path, []).append(op)

        def specificity(path: str) -> list[bool]:
            return [part.startswith("{") for part in path.split("/")]

        for path in sorted(by_path, key=specificity):
            resource = app.router.add_resource(path)
            for op in by_path[path]:
                resource.add_route(op.method, functools.partial(self._dispatch, op))
        return app

    @web.middleware
    async def _not_found_middleware(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status not in (404, 405):
                raise
            # as the live API words it: "Cannot GET /api/v2/…" (its internal prefix shows)
            code = "NotFoundException" if exc.status == 404 else "MethodNotAllowedException"
            path = "/api" + request.path if request.path.startswith("/v2/") else request.path
            error = ApiError(exc.status, code, f"Cannot {request.method} {path}")
            request_id = request.headers.get("X-Request-Id")
            echo = {"X-Request-Id": request_id} if request_id else {}
            return error_response(request, error, echo, now=self.now())

    async def _dispatch(self, op: Operation, request: web.Request) -> web.StreamResponse:
        request_id = request.headers.get("X-Request-Id")
        headers: dict[str, str] = {}
        if request_id:
            headers["X-Request-Id"] = request_id
        self.operations[op.name] += 1
        record = RequestRecord(
            request.method,
            request.path,
            op.name,
            0,
            request_id,
            request.headers.get("cal-api-version"),
            dict(request.query),
        )
        self.requests.append(record)
        fault = self.faults.pick(op.name, request.method, request.path)
        if self.faults.latency:
            await asyncio.sleep(self.faults.latency)
        if fault is not None and fault.kind == "latency":
            await asyncio.sleep(fault.seconds)
            fault = None
        if fault is not None and not fault.after:
            early = await fault_response(request, fault, headers, b"", now=self.now())
            if early is not None:
                record.status = early.status
                return early
        try:
            principal = self._authenticate(op, request)
            limit_headers, refused = self.rate_limiter.check(
                principal.rate_key, principal.kind, self.now()
            )
            headers.update(limit_headers)
            if refused is not None:
                raise ApiError(
                    429,
                    "ThrottlerException",
                    "ThrottlerException: Too Many Requests",
                    headers={"Retry-After": str(max(1, int(refused + 0.999)))},
                )
            op = check_version(op, request)
            ctx = await read_call(op, request, principal)
            status, payload = await self._handle(op, ctx)
        except ApiError as error:
            response = error_response(request, error, headers, now=self.now())
            record.status = response.status
            return response
        except Exception as exc:  # a bug of the fake: answer as the API would, and say so
            logger.exception("FakeCalCom: %s failed", op.name)
            bug = ApiError(500, "InternalServerErrorException", f"{type(exc).__name__}: {exc}")
            response = error_response(request, bug, headers, now=self.now())
            record.status = response.status
            return response
        content = orjson.dumps(payload)
        if fault is not None:
            late = await fault_response(request, fault, headers, content, now=self.now())
            if late is not None:
                record.status = late.status
                return late
        record.status = status
        if self.bodies is not None:
            self.bodies.append((op.name, status, payload))
        return web.Response(
            status=status, body=content, content_type="application/json", headers=headers
        )

    def _authenticate(self, op: Operation, request: web.Request) -> Principal:
        """The caller's identity among the credentials sent that this operation accepts."""
        oauth = self.oauth.principal(op, request.headers.get("Authorization"))
        if oauth is not None:  # a third-party OAuth token: the user, after the scope check
            return oauth
        found, errors = self.store.principals(
            request.headers.get("Authorization"),
            request.headers.get("x-cal-client-id"),
            request.headers.get("x-cal-secret-key"),
        )
        if not op.auth:
            return found[0] if found else Principal("anonymous", f"ip:{request.remote}")
        accepted = [p for p in found if AuthMode(p.kind) in op.auth]
        if accepted:
            return accepted[0]
        if errors:
            raise errors[0]
        if found:
            needed = " or ".join(sorted(_AUTH_LABEL[m] for m in op.auth))
            raise ApiError(401, "UnauthorizedException", f"{op.method} {op.path} needs {needed}")
        raise ApiError(401, "UnauthorizedException", "No credentials provided")

    async def _handle(self, op: Operation, ctx: Ctx) -> tuple[int, Any]:
        # the document's success code when the table carries it; else Cal.com's usual one
        status = getattr(op, "success_status", None) or (201 if op.method == "POST" else 200)
        handler = HANDLERS.get(op.name)
        if handler is not None:
            result = handler(self.store, ctx)
            if isinstance(result, tuple):
                return result
            return status, result
        from .._generated.examples import response_example

        try:
            example = response_example(op.operation_id)
        except KeyError:
            example = None
        if example is None:
            example = {"status": "success", "data": {}} if op.response else {"status": "success"}
        return status, example


_AUTH_LABEL = {
    AuthMode.API_KEY: "an API key (Authorization: Bearer cal_…)",
    AuthMode.ACCESS_TOKEN: "a managed-user access token (Authorization: Bearer …)",
    AuthMode.PLATFORM: "the OAuth client headers (x-cal-client-id, x-cal-secret-key)",
}


def _limits(value: int | Sequence[Limit] | None, default: int) -> tuple[Limit, ...]:
    if value is None:
        return (Limit(limit=default),)
    if isinstance(value, int):
        return (Limit(limit=value),)
    return tuple(value)
