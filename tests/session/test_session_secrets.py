"""Secrets never reach logs, reprs or exception text; the scan that checks it really scans."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import pytest

from calcom_async import (
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    CalCom,
    CalComError,
    InternalServerError,
)
from calcom_async._operation import AuthMode
from tests.session._synthetic import make_op
from tests.support.fake_api import FakeAPI, error_body, json_reply
from tests.support.leaks import (
    ACCESS_TOKEN,
    API_KEY,
    CLIENT_ID,
    CLIENT_SECRET,
    REFRESH_TOKEN,
    find_leaks,
)


@pytest.mark.leaks_expected
def test_the_scan_finds_secrets_in_logs_reprs_and_tracebacks() -> None:
    record = logging.LogRecord("calcom_async", logging.INFO, "x", 1, "key %s", (API_KEY,), None)
    assert find_leaks([], [record])

    class Leaky:
        def __repr__(self) -> str:
            return f"Leaky({CLIENT_SECRET})"

    assert find_leaks([Leaky()], [])
    try:
        try:
            raise ValueError(ACCESS_TOKEN)
        except ValueError as inner:
            raise CalComError("harmless") from inner
    except CalComError as outer:
        assert find_leaks([outer], [])  # found in the chained cause
    assert not find_leaks([CalComError("harmless")], [])


async def test_the_scan_tracks_our_objects(
    make_client: Any, api: FakeAPI, leak_scan: list[Any]
) -> None:
    api.queue(json_reply(error_body(401, "UnauthorizedException", "no"), 401))
    cal = make_client(max_retries=0)
    with pytest.raises(AuthenticationError):
        await cal.session.request(make_op(), path={"thingId": "a"})
    kinds = {type(obj).__name__ for obj in leak_scan}
    expected = {"CalCom", "Session", "Auth", "AuthenticationError", "AiohttpTransport", "Gate"}
    assert expected | {"Request", "Response"} <= kinds  # what went to the transport and back


async def test_failures_with_every_credential_leak_nothing(
    api: FakeAPI, leak_scan: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    api.queue(
        json_reply(error_body(401, "UnauthorizedException", "expired"), 401),
        json_reply(error_body(400, "BadRequestException", "refresh token invalid"), 400),
        aiohttp.ServerDisconnectedError(),
        json_reply(error_body(500, "InternalServerErrorException", "boom"), 500),
    )
    async with CalCom(
        api_key=API_KEY,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        access_token=ACCESS_TOKEN,
        refresh_token=REFRESH_TOKEN,
        max_retries=0,
    ) as cal:
        errors: list[BaseException] = []
        op = make_op(auth=frozenset(AuthMode))
        for _ in range(3):
            try:
                await cal.session.request(op, path={"thingId": "a"})
            except CalComError as exc:
                errors.append(exc)
        assert [type(e) for e in errors] == [
            BadRequestError,  # the refresh after the 401 was refused
            APIConnectionError,
            InternalServerError,
        ]
        texts = [repr(cal), str(cal), repr(cal.session.auth), repr(cal.tokens)]
    assert all("SECRET" not in t for t in texts)
    assert caplog.records  # there was logging to scan
    assert find_leaks([*leak_scan, *errors], caplog.records) == []
