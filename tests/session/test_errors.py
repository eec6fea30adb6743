"""Every failure is a typed CalComError, whatever the server or the network sent."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from calcom_async import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    CalComError,
    CalComUsageError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseValidationError,
    UnprocessableEntityError,
)
from calcom_async._errors import make_status_error
from tests.session._synthetic import make_op
from tests.support.fake_api import FakeAPI, error_body, json_reply, text_reply


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (502, InternalServerError),
        (503, InternalServerError),
        (504, InternalServerError),
        (418, APIStatusError),
    ],
)
async def test_each_status_gives_its_class(
    make_client: Any, api: FakeAPI, status: int, cls: type[APIStatusError]
) -> None:
    details = ["title must be a string"]
    api.default = json_reply(
        error_body(status, "SomeException", "it went wrong", details),
        status=status,
        headers={"Retry-After": "0"},
    )
    cal = make_client(max_retries=0)
    with pytest.raises(cls) as info:
        await cal.session.request(make_op(), path={"thingId": "a"})
    error = info.value
    assert type(error) is cls
    assert isinstance(error, APIStatusError) and isinstance(error, CalComError)
    assert error.status_code == status == error.status
    assert error.code == "SomeException"
    assert error.message == "it went wrong"
    assert error.details == details
    assert error.request_id == api.calls[0].headers["X-Request-Id"]
    assert error.headers["Retry-After"] == "0"
    assert str(error) == f"{status} SomeException: it went wrong (request id {error.request_id})"
    if cls is RateLimitError:
        assert isinstance(error, RateLimitError) and error.retry_after == 0.0


async def test_html_502_from_a_proxy(make_client: Any, api: FakeAPI) -> None:
    html = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    api.default = text_reply(html, 502)
    cal = make_client(max_retries=0)
    with pytest.raises(InternalServerError) as info:
        await cal.session.request(make_op(), path={"thingId": "a"})
    assert info.value.status_code == 502
    assert "502 Bad Gateway" in info.value.message
    assert info.value.body == html
    assert info.value.code is None


@pytest.mark.parametrize(
    ("content", "status", "cls", "message"),
    [
        (b"", 503, InternalServerError, "HTTP 503 Service Unavailable (empty body)"),
        (b"", 404, NotFoundError, "HTTP 404 Not Found (empty body)"),
        (b'{"status": "error", "error": {"code": "X"', 500, InternalServerError, '{"status"'),
        (b"{not json at all", 400, BadRequestError, "{not json at all"),
        (b'"just a string"', 409, ConflictError, "just a string"),
        (b'{"message": "Unauthorized", "statusCode": 401}', 401, AuthenticationError, "Unauth"),
        (
            b'{"error": "invalid_grant", "error_description": "expired"}',
            400,
            BadRequestError,
            "exp",
        ),
    ],
)
async def test_empty_truncated_and_malformed_error_bodies(
    make_client: Any, api: FakeAPI, content: bytes, status: int, cls: type, message: str
) -> None:
    api.default = text_reply(content, status, content_type="application/json")
    cal = make_client(max_retries=0)
    with pytest.raises(cls) as info:
        await cal.session.request(make_op(), path={"thingId": "a"})
    assert info.value.message.startswith(message)


def test_long_text_bodies_are_shortened() -> None:
    error = make_status_error(500, b"x" * 10_000)
    assert len(error.message) < 600


@pytest.mark.parametrize("content", [b"<html>ok</html>", b'{"status": "success", "data": {"id"'])
async def test_success_that_is_not_json_is_typed(
    make_client: Any, api: FakeAPI, content: bytes
) -> None:
    api.default = text_reply(content, 200)
    cal = make_client()
    with pytest.raises(ResponseValidationError, match="not JSON") as info:
        await cal.session.request(make_op(), path={"thingId": "a"})
    assert info.value.raw == content.decode()


async def test_body_that_does_not_fit_the_model_keeps_the_raw_data(
    make_client: Any, api: FakeAPI
) -> None:
    body = {"status": "success", "data": {"id": "not-an-int-or-anything", "nouid": 1}}
    api.default = json_reply(body)
    cal = make_client(strict=True)
    with pytest.raises(ResponseValidationError, match="does not fit ThingEnvelope") as info:
        await cal.session.request(make_op(), path={"thingId": "a"})
    assert info.value.raw == body
    assert info.value.request_id == api.calls[0].headers["X-Request-Id"]
    # read tolerantly (the default): typed, the misfit field as it came
    thing = await make_client().session.request(make_op(), path={"thingId": "a"})
    assert thing.id == "not-an-int-or-anything"


@pytest.mark.parametrize(
    "exc",
    [
        aiohttp.ClientConnectorError(
            aiohttp.client_reqrep.ConnectionKey("api.cal.com", 443, True, True, None, None, None),
            OSError(111, "refused"),
        ),
        aiohttp.ServerDisconnectedError(),
        aiohttp.ClientPayloadError("Response payload is not completed"),
        aiohttp.ClientOSError(104, "Connection reset by peer"),
        ConnectionResetError("reset"),
        aiohttp.InvalidURL("bad"),
    ],
)
async def test_network_failures_are_api_connection_errors(
    make_client: Any, api: FakeAPI, exc: BaseException
) -> None:
    api.default = exc
    cal = make_client(max_retries=0)
    with pytest.raises(APIConnectionError) as info:
        await cal.session.request(make_op(), path={"thingId": "a"})
    assert info.value.request_id == api.calls[0].headers["X-Request-Id"]
    assert info.value.__cause__ is exc


def test_usage_error_is_also_a_value_error() -> None:
    assert issubclass(CalComUsageError, ValueError)
    assert issubclass(CalComUsageError, CalComError)
