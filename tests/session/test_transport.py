"""The transport seam: ``CalCom(transport=…)`` and ``calcom_async.testing.MockTransport``.

What a transport is given (a ``Request``: the URL, query, every header, the body, this attempt's
timeouts) and what the session does with its ``Response`` or ``TransportError`` — auth, the
401 refresh, retries, the rate limiter, deadlines — whatever transport sends it. aiohttp's own
behaviour (timeouts, connection errors, the pool) is tested with aioresponses in
``test_session_pipeline.py``.
"""

from __future__ import annotations

import platform
import re
import uuid
from typing import Any

import aiohttp
import pytest

from calcom_async import (
    AiohttpTransport,
    APIConnectionError,
    APITimeoutError,
    CalCom,
    CalComUsageError,
    DeadlineExceededError,
    NotFoundError,
    Request,
    RequestOptions,
    Response,
    TokenPair,
    Transport,
    TransportError,
    __version__,
)
from calcom_async._request import new_request_id
from calcom_async._retry import Failure
from calcom_async.testing import MockTransport, json_response
from tests.session._synthetic import Thing, make_op
from tests.support.clock import FakeClock
from tests.support.fake_api import THING, error_body
from tests.support.leaks import (
    ACCESS_TOKEN,
    API_KEY,
    CLIENT_ID,
    CLIENT_SECRET,
    NEW_ACCESS_TOKEN,
    NEW_REFRESH_TOKEN,
    REFRESH_TOKEN,
)

OK = {"status": "success", "data": THING}


def mock_client(clock: FakeClock, handler: Any, **kwargs: Any) -> tuple[CalCom, MockTransport]:
    transport = MockTransport(handler)
    kwargs.setdefault("api_key", API_KEY)
    return CalCom(clock=clock, transport=transport, **kwargs), transport


async def test_the_transport_gets_the_whole_request(clock: FakeClock) -> None:
    cal, transport = mock_client(clock, lambda request: json_response(OK), timeout=30)
    async with cal:
        thing = await cal.session.request(make_op(), path={"thingId": "a b"}, query={"take": 5})
    assert thing == Thing(id=1, uid="abc", title="Hello")
    (request,) = transport.requests
    assert (request.method, request.url) == ("GET", "https://api.cal.com/v2/things/a%20b")
    assert list(request.params) == [("take", "5")]
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.content is None
    assert (request.timeout, request.connect_timeout) == (30.0, 10.0)
    assert transport.closed  # a transport given to the client is closed with it


async def test_headers_on_every_request(clock: FakeClock) -> None:
    cal, transport = mock_client(
        clock,
        lambda request: json_response(OK),
        default_headers={"X-Trace": "t1", "Authorization": "Bearer nope"},
    )
    await cal.session.request(
        make_op(),
        path={"thingId": "a"},
        options=RequestOptions(extra_headers={"X-Call": "c1", "cal-api-version": "nope"}),
    )
    headers = transport.requests[0].headers
    assert headers["Authorization"] == f"Bearer {API_KEY}"
    assert headers["Accept"] == "application/json"
    assert headers["X-Trace"] == "t1" and headers["X-Call"] == "c1"
    assert "cal-api-version" not in headers  # the operation has none, extra headers cannot add it
    assert re.fullmatch(r"req_[0-9a-f]{32}", headers["X-Request-Id"])
    assert headers["User-Agent"] == (
        f"calcom-async/{__version__} python/{platform.python_version()} "
        f"aiohttp/{aiohttp.__version__}"
    )
    assert "Content-Type" not in headers


async def test_each_logical_request_has_its_own_request_id(clock: FakeClock) -> None:
    cal, transport = mock_client(clock, lambda request: json_response(OK))
    for _ in range(3):
        await cal.session.request(make_op(), path={"thingId": "a"})
    assert len({r.headers["X-Request-Id"] for r in transport.requests}) == 3
    await cal.session.request(
        make_op(),
        path={"thingId": "a"},
        options=RequestOptions(extra_headers={"x-request-id": "mine-1"}),
    )
    assert transport.requests[-1].headers["X-Request-Id"] == "mine-1"


def test_a_request_id_is_the_hex_of_a_version_4_uuid() -> None:
    for _ in range(200):  # the random bits vary; the version and the variant never do
        request_id = new_request_id()
        assert re.fullmatch(r"req_[0-9a-f]{32}", request_id)
        value = uuid.UUID(request_id.removeprefix("req_"))
        assert value.version == 4 and value.variant == uuid.RFC_4122


async def test_a_status_answer_is_a_typed_error_and_headers_ignore_case(clock: FakeClock) -> None:
    def handler(request: Request) -> Response:
        body = error_body(404, "NotFoundException", "no such thing")
        return json_response(body, status=404, headers={"x-request-id": "srv-1"})

    cal, _ = mock_client(clock, handler)
    with pytest.raises(NotFoundError, match="no such thing") as info:
        await cal.session.request(make_op(), path={"thingId": "a"})
    assert info.value.status_code == 404


async def test_no_answer_is_retried_then_a_typed_connection_error(clock: FakeClock) -> None:
    causes = [OSError("reset"), OSError("reset again"), OSError("and again")]

    def handler(request: Request) -> Response:
        cause = causes.pop(0)
        raise TransportError(f"connection error ({cause})", Failure.CONNECTION) from cause

    cal, transport = mock_client(clock, handler, max_retries=2)
    with pytest.raises(APIConnectionError, match="and again") as info:
        await cal.session.request(make_op(), path={"thingId": "a"})
    assert len(transport.requests) == 3  # a GET is retried twice
    assert isinstance(info.value.__cause__, OSError)
    assert info.value.request_id == transport.requests[0].headers["X-Request-Id"]
    assert len({r.headers["X-Request-Id"] for r in transport.requests}) == 1

    def timed_out(request: Request) -> Response:
        raise TransportError("request timed out", Failure.TIMEOUT, timed_out=True)

    post, sent = mock_client(clock, timed_out)
    with pytest.raises(APITimeoutError, match="timed out"):
        await post.session.request(make_op(method="POST"), path={"thingId": "a"})
    assert len(sent.requests) == 1  # a POST that may have been processed is not re-sent


async def test_a_429_waits_what_the_server_says_and_paces_the_next_call(
    clock: FakeClock,
) -> None:
    answers = [
        json_response(
            error_body(429, "ThrottlerException", "slow down"), 429, {"Retry-After": "3"}
        ),
        json_response(OK, headers={"X-RateLimit-Remaining-Default": "9"}),
    ]
    cal, transport = mock_client(clock, lambda request: answers.pop(0))
    response = await cal.session.request(make_op(), path={"thingId": "a"}, raw=True)
    assert response.retries == 1 and 3.0 in clock.sleeps
    assert response.rate_limits["default"].remaining == 9  # the gate read the answer's limits
    assert len(transport.requests) == 2


async def test_the_deadline_bounds_each_attempt_and_the_backoff(clock: FakeClock) -> None:
    def handler(request: Request) -> Response:
        clock.advance(4.0)  # the attempt takes 4 s of the call's 10
        return json_response(
            error_body(503, "ServiceUnavailable", "busy"), 503, {"Retry-After": "5"}
        )

    cal, transport = mock_client(clock, handler, timeout=10)
    with pytest.raises(DeadlineExceededError, match="retry backoff"):
        await cal.session.request(make_op(), path={"thingId": "a"})
    first, second = transport.requests
    assert first.timeout == 10.0 and second.timeout == 1.0  # what was left of the deadline


async def test_401_refreshes_once_through_the_same_transport(clock: FakeClock) -> None:
    pairs: list[TokenPair] = []

    def handler(request: Request) -> Response:
        if request.url.endswith("/refresh"):
            data = {"accessToken": NEW_ACCESS_TOKEN, "refreshToken": NEW_REFRESH_TOKEN}
            return json_response({"status": "success", "data": data})
        if request.headers["Authorization"] == f"Bearer {NEW_ACCESS_TOKEN}":
            return json_response(OK)
        return json_response(error_body(401, "UnauthorizedException", "expired"), 401)

    cal, transport = mock_client(
        clock,
        handler,
        api_key=None,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        access_token=ACCESS_TOKEN,
        refresh_token=REFRESH_TOKEN,
        on_token_refresh=pairs.append,
    )
    response = await cal.session.request(make_op(), path={"thingId": "a"}, raw=True)
    assert response.retries == 0
    first, refresh, again = transport.requests
    assert refresh.url == f"https://api.cal.com/v2/oauth/{CLIENT_ID}/refresh"
    assert refresh.headers["x-cal-secret-key"] == CLIENT_SECRET
    assert "Authorization" not in refresh.headers
    assert again.headers["X-Request-Id"] == first.headers["X-Request-Id"]
    assert pairs == [TokenPair(NEW_ACCESS_TOKEN, NEW_REFRESH_TOKEN)]


async def test_a_closed_client_sends_nothing(clock: FakeClock) -> None:
    cal, transport = mock_client(clock, lambda request: json_response(OK))
    copy = cal.with_options(timeout=5)
    await copy.aclose()
    assert cal.is_closed and transport.closed
    with pytest.raises(CalComUsageError, match="closed"):
        await cal.session.request(make_op(), path={"thingId": "a"})
    assert transport.requests == []


class _Answers:
    """A transport of a caller's that answers ``answer`` (whatever it is), or raises it."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.sent = 0

    async def send(self, request: Request) -> Response:
        self.sent += 1
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        pass


async def test_a_transport_that_answers_no_response_gets_a_usage_error(clock: FakeClock) -> None:
    """Not a bare AttributeError from deep inside: the error names the transport and what it
    returned; the gate's place is given back (the next call is sent)."""
    transport = _Answers({"status": 200})
    async with CalCom(api_key=API_KEY, clock=clock, transport=transport, max_concurrency=1) as cal:
        for _ in range(2):
            with pytest.raises(CalComUsageError, match=r"_Answers.send returned dict, not a "):
                await cal.session.request(make_op(), path={"thingId": "a"})
    assert transport.sent == 2


async def test_what_else_a_transport_raises_reaches_the_caller_as_it_is(clock: FakeClock) -> None:
    """Only a TransportError is a connection failure (typed, retried per policy); anything else
    is the transport's own bug or decision and is neither retried nor renamed."""
    transport = _Answers(ConnectionResetError("peer went away"))
    async with CalCom(api_key=API_KEY, clock=clock, transport=transport, max_concurrency=1) as cal:
        for _ in range(2):
            with pytest.raises(ConnectionResetError, match="peer went away"):
                await cal.session.request(make_op(), path={"thingId": "a"})
    assert transport.sent == 2  # not retried; and the place under the cap was given back


def test_a_transport_is_checked(clock: FakeClock) -> None:
    assert isinstance(MockTransport(json_response), Transport)
    assert isinstance(AiohttpTransport(), Transport)
    with pytest.raises(CalComUsageError, match="transport= must have async send"):
        CalCom(api_key=API_KEY, transport=object())  # type: ignore[arg-type]
    with pytest.raises(CalComUsageError, match="max_connections must be an integer"):
        AiohttpTransport(max_connections=0)
    with pytest.raises(CalComUsageError, match="not both"):
        CalCom(api_key=API_KEY, transport=AiohttpTransport(), http_session=object())  # type: ignore[arg-type]


def test_requests_and_responses_show_no_secrets() -> None:
    request = Request(
        method="POST",
        url="https://api.cal.com/v2/oauth/x/refresh",
        headers={"Authorization": f"Bearer {API_KEY}"},
        content=b'{"refreshToken": "SECRET"}',
    )
    response = Response(200, {"Set-Cookie": "SECRET"}, b'{"accessToken": "SECRET"}')
    for text in (repr(request), repr(response)):
        assert "SECRET" not in text
    assert "Authorization" in repr(request) and "26 bytes" in repr(request)
    assert response.headers["set-cookie"] == "SECRET"  # looked up without regard to case
