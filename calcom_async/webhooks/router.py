"""Verified deliveries dispatched to your async handlers, in an aiohttp.web app
(:class:`Router`; aiohttp is imported on first use)."""

from __future__ import annotations

import asyncio
import collections
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from .._errors import CalComError, CalComUsageError
from .._generated.models.webhook_trigger_event import WebhookTriggerEvent
from .errors import WebhookPayloadError, WebhookSignatureError
from .events import WebhookEvent, parse_event
from .signature import SIGNATURE_HEADER, _secret_keys, _verify

if TYPE_CHECKING:
    from aiohttp import web

    from .._clock import Clock
    from ..stores import Store

__all__ = ["DEFAULT_MAX_BODY_SIZE", "Handler", "Router"]

logger = logging.getLogger("calcom_async.webhooks")


#: Bodies larger than this are refused with 413 by :class:`Router` (1 MiB; bookings are ~5 KiB).
DEFAULT_MAX_BODY_SIZE = 1024 * 1024

Handler = Callable[[WebhookEvent], Awaitable[Any]]

H = TypeVar("H", bound=Handler)


class _ReplayGuard:
    """Delivery ids seen in the last ``window`` seconds; at most ``max_entries`` (oldest go)."""

    def __init__(self, window: float, max_entries: int, monotonic: Callable[[], float]) -> None:
        self.window = window
        self.max_entries = max_entries
        self._monotonic = monotonic
        self._seen: collections.OrderedDict[str, float] = collections.OrderedDict()

    def _prune(self) -> None:
        now = self._monotonic()
        while self._seen:  # entries are in expiry order: stops at the first live one
            key, expires = next(iter(self._seen.items()))
            if expires > now:
                break
            del self._seen[key]

    def seen(self, key: str) -> bool:
        self._prune()
        return key in self._seen

    def remember(self, key: str) -> None:
        self._seen.pop(key, None)
        self._seen[key] = self._monotonic() + self.window
        while len(self._seen) > self.max_entries:
            self._seen.popitem(last=False)

    def __len__(self) -> int:
        return len(self._seen)


def _describe(event: WebhookEvent) -> str:
    """``BOOKING_CREATED delivery <sha256> (uid <booking uid>)``: what logs name a delivery by."""
    trigger = event.trigger_event if event.trigger_event is not None else "(templated)"
    text = f"{trigger} delivery {event.delivery_id}"
    uid = getattr(event.payload, "uid", None)
    return f"{text} (uid {uid})" if isinstance(uid, str) else text


def _is_async_callable(fn: Any) -> bool:
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - an object with an async __call__
    )


def _name(fn: Any) -> str:
    return getattr(fn, "__qualname__", None) or type(fn).__qualname__


class Router:
    """Verified webhook deliveries -> your async handlers, in an aiohttp.web app.

    ``secret``: the webhook's secret, or several while rotating (a delivery signed with any of
    them is accepted). ``max_body_size``: larger bodies get 413. ``replay_window``: seconds to
    remember a delivery (by the sha256 of its body) and answer a repeat 200 without dispatching it
    again; None (default) turns this off. ``max_in_flight``: deliveries whose handlers are still
    running; past it the router answers 503 so that Cal.com retries later. ``store``: a shared
    store (:class:`~calcom_async.stores.RedisStore`) keeps the replay memory, so that receivers
    in several processes dispatch a delivery once between them (a store that does not answer:
    503, and Cal.com retries). ``shutdown_timeout``:
    how long :meth:`drain` (run on the app's cleanup) waits for running handlers before cancelling
    them.

    A delivery is answered as soon as it is verified and parsed; its handlers run afterwards in
    a background task, one after the other: those registered with :meth:`on` for its trigger
    (or, if there are none, the :meth:`fallback` handlers), then the :meth:`on_any` handlers. An
    exception in a handler is logged (logger ``calcom_async.webhooks``, with the trigger and the
    delivery id) and does not stop the others.

    Answers: 200 accepted (or a repeat), 401 bad signature (nothing dispatched), 400 unreadable
    body, 413 too large, 503 too busy or shutting down.
    """

    def __init__(
        self,
        secret: str | Sequence[str],
        *,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        replay_window: float | None = None,
        replay_max_entries: int = 100_000,
        max_in_flight: int = 1000,
        shutdown_timeout: float = 30.0,
        clock: Clock | None = None,
        store: Store | None = None,
    ) -> None:
        self._keys = _secret_keys(secret)
        if not isinstance(max_body_size, int) or max_body_size <= 0:
            raise CalComUsageError("max_body_size must be a positive number of bytes")
        if replay_window is not None and replay_window <= 0:
            raise CalComUsageError("replay_window must be a positive number of seconds, or None")
        if max_in_flight < 1:
            raise CalComUsageError("max_in_flight must be at least 1")
        if replay_max_entries < 1:
            raise CalComUsageError("replay_max_entries must be at least 1")
        self.max_body_size = max_body_size
        self.max_in_flight = max_in_flight
        self.shutdown_timeout = shutdown_timeout
        monotonic = clock.monotonic if clock is not None else time.monotonic
        if store is not None and replay_window is None:
            raise CalComUsageError("store= keeps the replay memory: give a replay_window too")
        self._replay = (
            _ReplayGuard(replay_window, replay_max_entries, monotonic)
            if replay_window is not None and (store is None or not store.distributed)
            else None
        )
        #: a shared store (RedisStore): receivers in several processes share the replay memory
        self._shared_replay = (
            (store, replay_window)
            if store is not None and store.distributed and replay_window is not None
            else None
        )
        self._handlers: dict[str, list[Handler]] = {}
        self._any: list[Handler] = []
        self._fallback: list[Handler] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False

    def __repr__(self) -> str:
        triggers = ", ".join(sorted(self._handlers)) or "-"
        return (
            f"<Router secrets={len(self._keys)} triggers=[{triggers}] in_flight={len(self._tasks)}>"
        )

    # -- registration ------------------------------------------------------------------------------

    def on(self, *triggers: str) -> Callable[[H], H]:
        """Decorator: run the async function for deliveries of these triggers.

        ``@router.on("BOOKING_CREATED", "BOOKING_RESCHEDULED")``. A trigger the pinned document
        does not list is accepted (Cal.com adds triggers) and logged as a warning.
        """
        if not triggers:
            raise CalComUsageError("router.on() needs at least one trigger")
        for trigger in triggers:
            if not isinstance(trigger, str) or not trigger:
                raise CalComUsageError(f"a trigger is a non-empty string, got {trigger!r}")

        def register(fn: H) -> H:
            self._check_handler(fn)
            for trigger in triggers:
                value = WebhookTriggerEvent(trigger)
                if not value.is_known:
                    logger.warning(
                        "handler %s registered for %r, a trigger the API document does not list",
                        _name(fn),
                        trigger,
                    )
                self._handlers.setdefault(str(value), []).append(fn)
            return fn

        return register

    def on_any(self, fn: H) -> H:
        """Decorator: run the async function for every delivery (after the trigger's handlers)."""
        self._check_handler(fn)
        self._any.append(fn)
        return fn

    def fallback(self, fn: H) -> H:
        """Decorator: run the async function for deliveries no :meth:`on` handler takes
        (unregistered or unknown triggers, templated bodies without a trigger)."""
        self._check_handler(fn)
        self._fallback.append(fn)
        return fn

    @staticmethod
    def _check_handler(fn: Any) -> None:
        if not _is_async_callable(fn):
            raise CalComUsageError(
                f"webhook handlers must be async functions (`async def`), got {_name(fn)}"
            )

    def handlers_for(self, event: WebhookEvent) -> list[Handler]:
        """The handlers a delivery runs, in order."""
        specific = (
            self._handlers.get(str(event.trigger_event), [])
            if event.trigger_event is not None
            else []
        )
        return [*(specific or self._fallback), *self._any]

    # -- dispatch ----------------------------------------------------------------------------------

    async def dispatch(self, event: WebhookEvent) -> None:
        """Run the event's handlers now, in order, logging (not raising) their errors."""
        for handler in self.handlers_for(event):
            try:
                await handler(event)
            except Exception:
                logger.exception(
                    "webhook handler %s failed for %s", _name(handler), _describe(event)
                )

    @property
    def in_flight(self) -> int:
        """Deliveries whose handlers are still running."""
        return len(self._tasks)

    def _start(self, event: WebhookEvent) -> None:
        task = asyncio.get_running_loop().create_task(
            self.dispatch(event), name=f"calcom-webhook-{event.delivery_id[:12]}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109 - cancels after
        """Wait for running handlers (at most ``timeout`` seconds, then cancel the rest).

        New deliveries are refused with 503 from the moment it is called. True if every handler
        finished in time.
        """
        self._closing = True
        pending = set(self._tasks)
        if not pending:
            return True
        _done, late = await asyncio.wait(pending, timeout=timeout)
        for task in late:
            logger.error(
                "webhook handlers still running at shutdown, cancelled: %s", task.get_name()
            )
            task.cancel()
        if late:
            await asyncio.wait(late)
        return not late

    async def _on_cleanup(self, app: web.Application) -> None:
        await self.drain(self.shutdown_timeout)

    # -- aiohttp.web -------------------------------------------------------------------------------

    async def _read_body(self, request: web.Request) -> bytes | None:
        """The body, or None when it is larger than ``max_body_size``."""
        length = request.content_length
        if length is not None and length > self.max_body_size:
            return None
        if request.body_exists and not request.can_read_body:
            # a middleware read it already: aiohttp keeps what `read()` returned
            body = await request.read()
            return body if len(body) <= self.max_body_size else None
        chunks: list[bytes] = []
        size = 0
        while True:  # ends at EOF, or as soon as the limit is passed
            chunk = await request.content.read(64 * 1024)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > self.max_body_size:
                return None
            chunks.append(chunk)

    async def handler(self, request: web.Request) -> web.Response:
        """The aiohttp.web request handler: ``app.router.add_post("/webhooks/cal", r.handler)``.

        When mounting it on your own app, also add ``app.on_cleanup.insert(0, r.on_cleanup)``
        (or use :meth:`mount`) so that shutdown waits for running handlers.
        """
        from aiohttp import web

        body = await self._read_body(request)
        if body is None:
            logger.warning("webhook refused: body larger than %d bytes", self.max_body_size)
            return web.json_response(
                {"error": f"body larger than {self.max_body_size} bytes"}, status=413
            )
        try:
            _verify(body, request.headers.get(SIGNATURE_HEADER), self._keys)
        except WebhookSignatureError as exc:
            logger.warning(
                "webhook refused (%s signature) from %s: %s", exc.reason, request.remote, exc
            )
            return web.json_response({"error": "invalid signature"}, status=401)
        try:
            event = parse_event(body)
        except WebhookPayloadError as exc:
            logger.warning("webhook refused: %s", exc)
            return web.json_response({"error": str(exc)}, status=400)
        if self._replay is not None and self._replay.seen(event.delivery_id):
            logger.info("webhook %s seen before: acknowledged, not dispatched", _describe(event))
            return web.json_response({"status": "duplicate", "delivery": event.delivery_id})
        if self._closing or len(self._tasks) >= self.max_in_flight:
            logger.warning(
                "webhook %s refused with 503: %s",
                _describe(event),
                "shutting down" if self._closing else f"{len(self._tasks)} deliveries in flight",
            )
            return web.json_response(
                {"error": "busy, retry later"}, status=503, headers={"Retry-After": "5"}
            )
        if self._replay is not None:
            self._replay.remember(event.delivery_id)
        elif self._shared_replay is not None:
            store, window = self._shared_replay
            try:
                first = await store.claim(f"webhook-{event.delivery_id}", window)
            except CalComError as exc:  # not remembered: Cal.com's retry gets through later
                logger.warning("webhook %s refused with 503: %s", _describe(event), exc)
                return web.json_response(
                    {"error": "busy, retry later"}, status=503, headers={"Retry-After": "5"}
                )
            if not first:
                logger.info(
                    "webhook %s seen before: acknowledged, not dispatched", _describe(event)
                )
                return web.json_response({"status": "duplicate", "delivery": event.delivery_id})
        logger.debug("webhook %s accepted", _describe(event))
        self._start(event)
        return web.json_response({"status": "accepted", "delivery": event.delivery_id})

    @property
    def on_cleanup(self) -> Callable[[web.Application], Awaitable[None]]:
        """For ``app.on_cleanup.insert(0, ...)``: wait for running handlers when the app stops.

        First in the list, so that it runs before the app's ``cleanup_ctx`` closes what the
        handlers may still use (a database pool, a chat client).
        """
        return self._on_cleanup

    def mount(self, app: web.Application, path: str = "/webhooks/cal") -> None:
        """Add the POST route and the shutdown wait (first of the app's cleanups) to an
        existing aiohttp.web app."""
        app.router.add_post(path, self.handler)
        app.on_cleanup.insert(0, self._on_cleanup)

    def app(self, path: str = "/") -> web.Application:
        """A ready aiohttp.web app that receives deliveries on ``POST path``."""
        from aiohttp import web

        application = web.Application()
        self.mount(application, path)
        return application
