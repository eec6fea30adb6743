"""Retries: which failures, how long to wait (on a fake clock: no real sleeps)."""

from __future__ import annotations

import email.utils
from typing import Any

import aiohttp
import pytest
from aioresponses import CallbackResult

from calcom_async import (
    APIConnectionError,
    APITimeoutError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    RequestOptions,
)
from calcom_async._retry import Failure, RetryPolicy
from tests.session._synthetic import make_op
from tests.support.clock import FakeClock
from tests.support.fake_api import FakeAPI, error_body, json_reply

GET = make_op()
POST = make_op(method="POST")
PATCH = make_op(method="PATCH")
PUT = make_op(method="PUT")
DELETE = make_op(method="DELETE")


def status(code: int, headers: dict[str, str] | None = None) -> CallbackResult:
    return json_reply(error_body(code, "E", f"status {code}"), status=code, headers=headers)


def refused() -> aiohttp.ClientConnectorError:
    key = aiohttp.client_reqrep.ConnectionKey("api.cal.com", 443, True, True, None, None, None)
    return aiohttp.ClientConnectorError(key, OSError(111, "Connection refused"))


def fixed_policy(**kwargs: Any) -> RetryPolicy:
    return RetryPolicy(random=lambda: 1.0, **kwargs)


# -- the policy -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failure", "code", "idempotent", "unsafe", "expected"),
    [
        (Failure.STATUS, 429, False, False, True),
        (Failure.STATUS, 429, True, False, True),
        (Failure.STATUS, 502, True, False, True),
        (Failure.STATUS, 503, True, False, True),
        (Failure.STATUS, 504, True, False, True),
        (Failure.STATUS, 500, True, False, False),
        (Failure.STATUS, 500, False, True, False),
        (Failure.STATUS, 404, True, False, False),
        (Failure.STATUS, 502, False, False, False),
        (Failure.STATUS, 503, False, True, True),
        (Failure.NOT_SENT, None, False, False, True),
        (Failure.CONNECTION, None, True, False, True),
        (Failure.CONNECTION, None, False, False, False),
        (Failure.CONNECTION, None, False, True, True),
        (Failure.TIMEOUT, None, True, False, True),
        (Failure.TIMEOUT, None, False, False, False),
    ],
)
def test_what_is_retried(
    failure: Failure, code: int | None, idempotent: bool, unsafe: bool, expected: bool
) -> None:
    policy = RetryPolicy()
    verdict = policy.should_retry(
        0, failure, idempotent=idempotent, status=code, retry_unsafe=unsafe
    )
    assert verdict is expected


def test_attempts_are_limited() -> None:
    policy = RetryPolicy(max_retries=2)
    assert policy.should_retry(1, Failure.NOT_SENT, idempotent=True)
    assert not policy.should_retry(2, Failure.NOT_SENT, idempotent=True)
    assert not policy.should_retry(0, Failure.NOT_SENT, idempotent=True, max_retries=0)


def test_backoff_is_exponential_with_full_jitter_and_a_cap() -> None:
    top = RetryPolicy(backoff_base=0.5, backoff_cap=8.0, random=lambda: 1.0)
    assert [top.delay(n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    bottom = RetryPolicy(random=lambda: 0.0)
    assert bottom.delay(3) == 0.0
    half = RetryPolicy(random=lambda: 0.5)
    assert half.delay(2) == 1.0


def test_server_wait_wins_unless_too_long() -> None:
    policy = RetryPolicy(max_wait=120.0)
    assert policy.delay(0, retry_after=30.0) == 30.0
    assert policy.delay(0, retry_after=121.0) is None


# -- on the wire, on a fake clock -------------------------------------------------------------


async def test_get_retries_503_with_backoff_and_keeps_the_request_id(
    make_client: Any, api: FakeAPI, clock: FakeClock
) -> None:
    api.queue(status(503), status(502), json_reply({"status": "success", "data": None}))
    cal = make_client(retry_policy=fixed_policy(), rate_limit=False)
    response = await cal.session.request(make_op(response=None), path={"thingId": "a"}, raw=True)
    assert response.retries == 2
    assert clock.sleeps == [0.5, 1.0]
    assert len({c.headers["X-Request-Id"] for c in api.calls}) == 1
    assert response.request_id == api.calls[0].headers["X-Request-Id"]


@pytest.mark.parametrize("op", [GET, PUT, DELETE])
@pytest.mark.parametrize(
    "failure",
    [
        status(502),
        status(503),
        status(504),
        status(429),
        refused(),
        TimeoutError(),
        aiohttp.ServerDisconnectedError(),
    ],
)
async def test_idempotent_methods_are_retried(
    make_client: Any, api: FakeAPI, op: Any, failure: Any
) -> None:
    api.queue(failure)
    cal = make_client(rate_limit=False)
    await cal.session.request(op, path={"thingId": "a"})
    assert len(api.calls) == 2


@pytest.mark.parametrize("op", [POST, PATCH])
@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (status(500), InternalServerError),
        (status(502), InternalServerError),
        (status(503), InternalServerError),
        (status(504), InternalServerError),
        (TimeoutError(), APITimeoutError),
        (aiohttp.ServerDisconnectedError(), APIConnectionError),
    ],
)
async def test_unsafe_methods_are_not_resent_when_the_server_may_have_acted(
    make_client: Any, api: FakeAPI, op: Any, failure: Any, error: type[Exception]
) -> None:
    api.queue(failure)
    cal = make_client(rate_limit=False)
    with pytest.raises(error):
        await cal.session.request(op, path={"thingId": "a"})
    assert len(api.calls) == 1


@pytest.mark.parametrize("failure", [status(429), refused()])
async def test_unsafe_methods_are_retried_when_nothing_was_processed(
    make_client: Any, api: FakeAPI, failure: Any
) -> None:
    api.queue(failure)
    cal = make_client(rate_limit=False)
    await cal.session.request(POST, path={"thingId": "a"})
    assert len(api.calls) == 2


async def test_retry_unsafe_opt_in_per_client_and_per_call(make_client: Any, api: FakeAPI) -> None:
    api.queue(status(503))
    cal = make_client(rate_limit=False, retry_unsafe=True)
    await cal.session.request(POST, path={"thingId": "a"})
    assert len(api.calls) == 2
    api.queue(aiohttp.ServerDisconnectedError())
    plain = make_client(rate_limit=False)
    await plain.session.request(
        POST, path={"thingId": "a"}, options=RequestOptions(retry_unsafe=True)
    )
    assert len(api.calls) == 4


async def test_500_and_404_are_not_retried(make_client: Any, api: FakeAPI) -> None:
    api.queue(status(500), status(404))
    cal = make_client(rate_limit=False)
    with pytest.raises(InternalServerError):
        await cal.session.request(GET, path={"thingId": "a"})
    with pytest.raises(NotFoundError):
        await cal.session.request(GET, path={"thingId": "a"})
    assert len(api.calls) == 2


async def test_max_retries_per_client_and_per_call(
    make_client: Any, api: FakeAPI, clock: FakeClock
) -> None:
    api.default = status(503)
    cal = make_client(rate_limit=False)
    with pytest.raises(InternalServerError):
        await cal.session.request(GET, path={"thingId": "a"})
    assert len(api.calls) == 3  # default: 2 retries
    with pytest.raises(InternalServerError):
        await cal.session.request(GET, path={"thingId": "a"}, options=RequestOptions(max_retries=0))
    assert len(api.calls) == 4
    with pytest.raises(InternalServerError):
        await cal.with_options(max_retries=4).session.request(GET, path={"thingId": "a"})
    assert len(api.calls) == 9


def _wall(clock: FakeClock, seconds: float) -> str:
    return email.utils.formatdate(clock.time() + seconds, usegmt=True)


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"Retry-After": "2.5"}, 2.5),
        ("http-date", 12.0),
        ({"X-RateLimit-Remaining-Default": "0", "X-RateLimit-Reset-Default": "5"}, 5.0),
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "9"}, 9.0),
        ("unix-reset", 11.0),
        (
            {
                "X-RateLimit-Remaining-Short": "4",
                "X-RateLimit-Reset-Short": "1",
                "X-RateLimit-Remaining-Long": "0",
                "X-RateLimit-Reset-Long": "40",
            },
            40.0,
        ),
    ],
)
async def test_429_waits_as_the_server_says(
    make_client: Any, api: FakeAPI, clock: FakeClock, headers: Any, wait: float
) -> None:
    if headers == "http-date":
        headers = {"Retry-After": _wall(clock, 12)}
    elif headers == "unix-reset":
        headers = {
            "X-RateLimit-Remaining-Default": "0",
            "X-RateLimit-Reset-Default": str(int(clock.time()) + 11),
        }
    api.queue(status(429, headers))
    cal = make_client(rate_limit=False)
    response = await cal.session.request(POST, path={"thingId": "a"}, raw=True)
    assert clock.sleeps == [wait]
    assert response.retries == 1


async def test_reset_headers_on_a_502_do_not_delay_the_retry(
    make_client: Any, api: FakeAPI, clock: FakeClock
) -> None:
    headers = {"X-RateLimit-Remaining-Default": "100", "X-RateLimit-Reset-Default": "60"}
    api.queue(status(502, headers))
    cal = make_client(rate_limit=False, retry_policy=fixed_policy())
    await cal.session.request(GET, path={"thingId": "a"})
    assert clock.sleeps == [0.5]


async def test_a_wait_longer_than_allowed_raises_at_once(
    make_client: Any, api: FakeAPI, clock: FakeClock
) -> None:
    api.queue(status(429, {"Retry-After": "3600"}))
    cal = make_client(rate_limit=False)
    with pytest.raises(RateLimitError) as info:
        await cal.session.request(GET, path={"thingId": "a"})
    assert info.value.retry_after == 3600.0
    assert clock.sleeps == [] and len(api.calls) == 1


async def test_with_the_limiter_a_429_waits_once(
    make_client: Any, api: FakeAPI, clock: FakeClock
) -> None:
    api.queue(status(429, {"Retry-After": "7"}))
    cal = make_client()
    await cal.session.request(GET, path={"thingId": "a"})
    assert 7.0 <= clock.now <= 7.5  # the retry's wait and the limiter's block overlap


async def test_a_long_block_raises_for_later_calls_instead_of_hanging(
    make_client: Any, api: FakeAPI, clock: FakeClock
) -> None:
    api.queue(status(429, {"Retry-After": "3600"}))
    cal = make_client()
    with pytest.raises(RateLimitError):
        await cal.session.request(GET, path={"thingId": "a"})
    with pytest.raises(RateLimitError, match="wait 3600s") as info:
        await cal.session.request(GET, path={"thingId": "a"})
    assert info.value.retry_after == pytest.approx(3600.25)
    assert len(api.calls) == 1 and clock.now == 0.0
