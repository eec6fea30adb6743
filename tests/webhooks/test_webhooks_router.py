"""``webhooks.Router`` in aiohttp.web, driven by aiohttp's test client on loopback."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from calcom_async import CalComUsageError
from calcom_async.webhooks import (
    SIGNATURE_HEADER,
    BookingPayload,
    Router,
    WebhookEvent,
    WebhookTriggerEvent,
    sign,
)
from tests.support.clock import FakeClock
from tests.support.webhook_samples import body_for

KEY = "whsec_SECRET_router_a1b2"
OLD_KEY = "whsec_SECRET_router_old_c3d4"
WRONG_KEY = "whsec_SECRET_router_wrong"
LOGGER = "calcom_async.webhooks"

Serve = Callable[[web.Application], Awaitable[TestClient[web.Request, web.Application]]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    clients: list[TestClient[web.Request, web.Application]] = []

    async def start(app: web.Application) -> TestClient[web.Request, web.Application]:
        client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()


def signed(body: bytes, key: str = KEY) -> dict[str, str]:
    return {SIGNATURE_HEADER: sign(body, key), "Content-Type": "application/json"}


class Recorder:
    """Handlers that record what they received."""

    def __init__(self) -> None:
        self.events: list[tuple[str, WebhookEvent]] = []
        self.received = asyncio.Event()

    def handler(self, label: str) -> Callable[[WebhookEvent], Awaitable[None]]:
        async def handle(event: WebhookEvent) -> None:
            self.events.append((label, event))
            self.received.set()

        handle.__qualname__ = f"record_{label}"
        return handle

    async def wait(self, n: int) -> None:
        async with asyncio.timeout(5):
            while len(self.events) < n:
                self.received.clear()
                await self.received.wait()


async def test_dispatch_to_the_trigger_handler_then_on_any(serve: Serve) -> None:
    router = Router(KEY)
    seen = Recorder()
    router.on("BOOKING_CREATED", "BOOKING_RESCHEDULED")(seen.handler("booked"))
    router.on("BOOKING_CANCELLED")(seen.handler("cancelled"))
    router.on_any(seen.handler("any"))
    router.fallback(seen.handler("fallback"))
    client = await serve(router.app())

    body = body_for("BOOKING_CREATED")
    response = await client.post("/", data=body, headers=signed(body))
    assert response.status == 200
    answer = await response.json()
    assert answer["status"] == "accepted"
    await seen.wait(2)
    assert [label for label, _ in seen.events] == ["booked", "any"]
    event = seen.events[0][1]
    assert event.trigger_event is WebhookTriggerEvent.BOOKING_CREATED
    assert isinstance(event.payload, BookingPayload)
    assert event.body == body and answer["delivery"] == event.delivery_id

    body = body_for("BOOKING_CANCELLED")
    assert (await client.post("/", data=body, headers=signed(body))).status == 200
    await seen.wait(4)
    assert [label for label, _ in seen.events[2:]] == ["cancelled", "any"]

    body = body_for("OOO_CREATED")  # nobody registered: fallback, then on_any
    assert (await client.post("/", data=body, headers=signed(body))).status == 200
    await seen.wait(6)
    assert [label for label, _ in seen.events[4:]] == ["fallback", "any"]


async def test_unknown_trigger_and_template_go_to_fallback(serve: Serve) -> None:
    router = Router(KEY)
    seen = Recorder()
    router.on("WRONG_ASSIGNMENT_REPORT")(seen.handler("newer"))
    router.fallback(seen.handler("fallback"))
    client = await serve(router.app())

    newer = body_for("WRONG_ASSIGNMENT_REPORT", {"report": {"reason": "x"}})
    assert (await client.post("/", data=newer, headers=signed(newer))).status == 200
    template = b"booking=abc&event=created"
    assert (await client.post("/", data=template, headers=signed(template))).status == 200
    await seen.wait(2)
    labels = sorted((label, str(event.trigger_event)) for label, event in seen.events)
    assert labels == [("fallback", "None"), ("newer", "WRONG_ASSIGNMENT_REPORT")]
    templated = next(event for label, event in seen.events if label == "fallback")
    assert templated.templated and templated.payload == template.decode()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {SIGNATURE_HEADER: ""},
        {SIGNATURE_HEADER: "not-hex"},
        {SIGNATURE_HEADER: "0" * 64},
        {SIGNATURE_HEADER: "no-secret-provided"},
        "wrong-key",
        "tampered",
    ],
    ids=["missing", "empty", "malformed", "zeros", "no-secret", "wrong-key", "tampered"],
)
async def test_bad_signature_is_401_and_nothing_is_dispatched(
    serve: Serve, headers: Any, caplog: pytest.LogCaptureFixture
) -> None:
    router = Router(KEY)
    seen = Recorder()
    router.on_any(seen.handler("any"))
    client = await serve(router.app())
    body = body_for("BOOKING_CREATED")
    sent = body
    if headers == "wrong-key":
        headers = signed(body, WRONG_KEY)
    elif headers == "tampered":
        headers = signed(body)
        sent = body.replace(b"Ann Attendee", b"Eve Attendee")
    response = await client.post("/", data=sent, headers=headers)
    assert response.status == 401
    assert await response.json() == {"error": "invalid signature"}
    await asyncio.sleep(0.01)
    assert seen.events == [] and router.in_flight == 0
    warnings = [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]
    assert warnings and "signature" in warnings[0].getMessage()


async def test_secret_rotation_accepts_both(serve: Serve) -> None:
    router = Router([KEY, OLD_KEY])
    seen = Recorder()
    router.on_any(seen.handler("any"))
    client = await serve(router.app())
    for key in (OLD_KEY, KEY):
        body = body_for("BOOKING_CREATED", created_at=f"2026-03-02T09:15:3{len(key) % 10}Z")
        assert (await client.post("/", data=body, headers=signed(body, key))).status == 200
    body = body_for("BOOKING_PAID")
    assert (await client.post("/", data=body, headers=signed(body, WRONG_KEY))).status == 401
    await seen.wait(2)
    assert len(seen.events) == 2


async def test_sha256_prefix_accepted(serve: Serve) -> None:
    router = Router(KEY)
    client = await serve(router.app())
    body = body_for("BOOKING_CREATED")
    headers = {SIGNATURE_HEADER: "sha256=" + sign(body, KEY)}
    assert (await client.post("/", data=body, headers=headers)).status == 200


async def test_body_size_limit_is_413(serve: Serve) -> None:
    router = Router(KEY, max_body_size=2000)
    seen = Recorder()
    router.on_any(seen.handler("any"))
    client = await serve(router.app())
    big = body_for("BOOKING_CREATED", {"blob": "x" * 3000})
    assert len(big) > 2000
    response = await client.post("/", data=big, headers=signed(big))
    assert response.status == 413  # refused on Content-Length

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 500):
            yield big[start : start + 500]

    response = await client.post("/", data=chunks(), headers=signed(big))  # chunked, no length
    assert response.status == 413

    small = body_for("RECORDING_READY")
    assert len(small) <= 2000
    assert (await client.post("/", data=small, headers=signed(small))).status == 200
    await seen.wait(1)
    assert [e.trigger_event for _, e in seen.events] == [WebhookTriggerEvent.RECORDING_READY]


async def test_non_utf8_verified_body_is_400(serve: Serve) -> None:
    router = Router(KEY)
    client = await serve(router.app())
    body = b'{"triggerEvent":"BOOKING_CREATED","x":"\xff"}'
    response = await client.post("/", data=body, headers=signed(body))
    assert response.status == 400
    assert "not UTF-8" in (await response.json())["error"]


async def test_only_post(serve: Serve) -> None:
    client = await serve(Router(KEY).app())
    assert (await client.get("/")).status == 405


async def test_answers_before_a_slow_handler_finishes(serve: Serve) -> None:
    router = Router(KEY)
    started = asyncio.Event()
    release = asyncio.Event()
    finished: list[str] = []

    @router.on("BOOKING_CREATED")
    async def slow(event: WebhookEvent) -> None:
        started.set()
        await release.wait()
        finished.append(event.delivery_id)

    client = await serve(router.app())
    body = body_for("BOOKING_CREATED")
    async with asyncio.timeout(5):  # would hang if the answer waited for the handler
        response = await client.post("/", data=body, headers=signed(body))
    assert response.status == 200
    async with asyncio.timeout(5):
        await started.wait()
    assert finished == [] and router.in_flight == 1
    release.set()
    assert await router.drain(5) is True
    assert len(finished) == 1 and router.in_flight == 0


async def test_failing_handler_is_logged_and_others_still_run(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    router = Router(KEY)
    seen = Recorder()

    @router.on("BOOKING_CREATED")
    async def broken(event: WebhookEvent) -> None:
        raise RuntimeError("chat service down")

    router.on("BOOKING_CREATED")(seen.handler("second"))
    router.on_any(seen.handler("any"))
    client = await serve(router.app())
    body = body_for("BOOKING_CREATED")
    response = await client.post("/", data=body, headers=signed(body))
    assert response.status == 200  # the delivery was received: Cal.com must not retry it
    await seen.wait(2)
    await router.drain(5)
    assert [label for label, _ in seen.events] == ["second", "any"]
    (record,) = [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.ERROR]
    message = record.getMessage()
    assert "broken" in message and "BOOKING_CREATED" in message
    assert seen.events[0][1].delivery_id in message
    assert record.exc_info is not None and isinstance(record.exc_info[1], RuntimeError)


async def test_replay_protection(serve: Serve, clock: FakeClock) -> None:
    router = Router(KEY, replay_window=300, clock=clock)
    seen = Recorder()
    router.on_any(seen.handler("any"))
    client = await serve(router.app())
    body = body_for("BOOKING_CREATED")

    first = await client.post("/", data=body, headers=signed(body))
    assert (await first.json())["status"] == "accepted"
    await seen.wait(1)
    clock.advance(299)
    again = await client.post("/", data=body, headers=signed(body))
    assert again.status == 200 and (await again.json())["status"] == "duplicate"
    other = body_for("BOOKING_CREATED", created_at="2026-03-02T09:16:00.000Z")
    assert (await (await client.post("/", data=other, headers=signed(other))).json())[
        "status"
    ] == "accepted"
    await seen.wait(2)
    await asyncio.sleep(0.01)
    assert len(seen.events) == 2

    clock.advance(2)  # the first delivery's window is over: dispatched again
    late = await client.post("/", data=body, headers=signed(body))
    assert (await late.json())["status"] == "accepted"
    await seen.wait(3)

    # a forged copy is refused before the replay check, and does not poison it
    forged = body_for("BOOKING_PAID")
    bad = await client.post("/", data=forged, headers=signed(forged, WRONG_KEY))
    assert bad.status == 401
    good = await client.post("/", data=forged, headers=signed(forged))
    assert (await good.json())["status"] == "accepted"
    await seen.wait(4)


async def test_replay_memory_is_bounded(clock: FakeClock) -> None:
    from calcom_async.webhooks.router import _ReplayGuard

    guard = _ReplayGuard(60, 3, clock.monotonic)
    for key in "abcd":
        guard.remember(key)
    assert len(guard) == 3 and not guard.seen("a") and guard.seen("d")
    clock.advance(61)
    assert not guard.seen("d") and len(guard) == 0


async def test_busy_router_answers_503_and_does_not_remember(serve: Serve) -> None:
    router = Router(KEY, max_in_flight=1, replay_window=60)
    release = asyncio.Event()

    @router.on_any
    async def stuck(event: WebhookEvent) -> None:
        await release.wait()

    client = await serve(router.app())
    first = body_for("BOOKING_CREATED")
    second = body_for("BOOKING_CANCELLED")
    assert (await client.post("/", data=first, headers=signed(first))).status == 200
    busy = await client.post("/", data=second, headers=signed(second))
    assert busy.status == 503 and busy.headers["Retry-After"]
    release.set()
    await asyncio.wait_for(asyncio.gather(*router._tasks), 5)  # drain() would close the door
    assert router.in_flight == 0
    retry = await client.post("/", data=second, headers=signed(second))
    assert (await retry.json())["status"] == "accepted"  # not taken for a replay


async def test_cleanup_waits_for_handlers(serve: Serve) -> None:
    router = Router(KEY)
    done: list[str] = []
    release = asyncio.Event()

    @router.on_any
    async def slowish(event: WebhookEvent) -> None:
        await release.wait()
        await asyncio.sleep(0.02)
        done.append(str(event.trigger_event))

    app = web.Application()
    router.mount(app, "/hooks/cal")
    client = await serve(app)
    body = body_for("MEETING_ENDED")
    assert (await client.post("/hooks/cal", data=body, headers=signed(body))).status == 200
    release.set()
    assert done == []
    await client.close()  # runs on_cleanup
    assert done == ["MEETING_ENDED"]


async def test_drain_timeout_cancels_and_logs(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    router = Router(KEY)
    cancelled = asyncio.Event()

    @router.on_any
    async def forever(event: WebhookEvent) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    client = await serve(router.app())
    body = body_for("BOOKING_CREATED")
    assert (await client.post("/", data=body, headers=signed(body))).status == 200
    await asyncio.sleep(0.01)
    assert await router.drain(0.05) is False
    assert cancelled.is_set() and router.in_flight == 0
    errors = [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.ERROR]
    assert errors and "cancelled" in errors[0].getMessage()
    after = body_for("BOOKING_PAID")
    assert (await client.post("/", data=after, headers=signed(after))).status == 503


async def test_dispatch_directly() -> None:
    from calcom_async.webhooks import parse_event

    router = Router(KEY)
    seen = Recorder()
    router.on("FORM_SUBMITTED")(seen.handler("form"))
    await router.dispatch(parse_event(body_for("FORM_SUBMITTED")))
    assert [label for label, _ in seen.events] == ["form"]


def test_registration_errors(caplog: pytest.LogCaptureFixture) -> None:
    router = Router(KEY)

    def not_async(event: WebhookEvent) -> None: ...

    with pytest.raises(CalComUsageError, match="async"):
        router.on("BOOKING_CREATED")(not_async)  # type: ignore[arg-type]
    with pytest.raises(CalComUsageError, match="async"):
        router.on_any(not_async)  # type: ignore[arg-type]
    with pytest.raises(CalComUsageError, match="at least one trigger"):
        router.on()
    with pytest.raises(CalComUsageError, match="non-empty"):
        router.on("")

    class Callable:
        async def __call__(self, event: WebhookEvent) -> None: ...

    router.on("BOOKING_CREATD")(Callable())  # a typo is allowed (newer triggers) but flagged
    assert any("BOOKING_CREATD" in r.getMessage() for r in caplog.records if r.name == LOGGER)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_body_size": 0},
        {"replay_window": 0},
        {"max_in_flight": 0},
        {"replay_window": 60, "replay_max_entries": 0},
    ],
)
def test_bad_options(kwargs: dict[str, Any]) -> None:
    with pytest.raises(CalComUsageError):
        Router(KEY, **kwargs)


def test_repr_has_no_secret() -> None:
    router = Router([KEY, OLD_KEY])
    router.on("BOOKING_CREATED")(Recorder().handler("x"))
    assert "SECRET" not in repr(router) and "secrets=2" in repr(router)
    assert "BOOKING_CREATED" in repr(router)


async def test_handlers_finish_before_cleanup_ctx_closes_their_resources(serve: Serve) -> None:
    router = Router(KEY)
    log: list[str] = []
    chat = {"open": False}

    async def chat_client(app: web.Application) -> AsyncIterator[None]:
        chat["open"] = True
        yield
        chat["open"] = False
        log.append("chat closed")

    app = web.Application()
    app.cleanup_ctx.append(chat_client)

    @router.on_any
    async def post_to_chat(event: WebhookEvent) -> None:
        await asyncio.sleep(0.05)
        log.append(f"posted, chat open: {chat['open']}")

    router.mount(app, "/cal")
    client = await serve(app)
    body = body_for("BOOKING_CREATED")
    assert (await client.post("/cal", data=body, headers=signed(body))).status == 200
    await client.close()
    assert log == ["posted, chat open: True", "chat closed"]


async def test_body_already_read_by_a_middleware(serve: Serve) -> None:
    router = Router(KEY, max_body_size=5000)
    seen = Recorder()
    router.on_any(seen.handler("any"))
    sizes: list[int] = []

    @web.middleware
    async def log_body(request: web.Request, handler: Any) -> web.StreamResponse:
        sizes.append(len(await request.read()))
        return await handler(request)  # type: ignore[no-any-return]

    app = web.Application(middlewares=[log_body])
    router.mount(app, "/cal")
    client = await serve(app)
    body = body_for("BOOKING_CREATED")
    assert (await client.post("/cal", data=body, headers=signed(body))).status == 200
    await seen.wait(1)
    assert sizes == [len(body)] and seen.events[0][1].body == body

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the size is checked after
        yield body_for("BOOKING_CREATED", {"blob": "x" * 6000})

    big = body_for("BOOKING_CREATED", {"blob": "x" * 6000})
    assert (await client.post("/cal", data=chunks(), headers=signed(big))).status == 413
