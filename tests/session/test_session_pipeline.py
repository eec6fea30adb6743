"""The request pipeline: URLs, query, headers, body, versions, raw access, lifecycle, logging."""

from __future__ import annotations

import datetime as dt
import enum
import gc
import logging
import re
import warnings
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from calcom_async import (
    API_VERSION_2024_06_14,
    API_VERSION_2024_08_13,
    APIResponse,
    APITimeoutError,
    CalCom,
    CalComUsageError,
    RequestOptions,
    UnknownAPIVersionError,
)
from calcom_async._operation import Param
from calcom_async._session import render_path
from calcom_async._types import UNSET, Unset
from tests.session._synthetic import Thing, make_op
from tests.support.fake_api import BASE, THING, FakeAPI, json_reply
from tests.support.leaks import API_KEY, find_leaks


async def test_get_unwraps_the_envelope_into_the_model(make_client: Any, api: FakeAPI) -> None:
    api.queue(json_reply({"status": "success", "data": THING}))
    cal = make_client()
    thing = await cal.session.request(make_op(), path={"thingId": "abc"})
    assert thing == Thing(id=1, uid="abc", title="Hello")
    (call,) = api.calls
    assert call.method == "GET"
    assert str(call.url) == f"{BASE}/v2/things/abc"


@pytest.mark.parametrize(
    ("value", "segment"),
    [
        ("../me", "..%2Fme"),
        ("a/b c?d#e", "a%2Fb%20c%3Fd%23e"),
        ("ü", "%C3%BC"),
        (42, "42"),
        (7.0, "7"),
    ],
)
async def test_path_values_are_one_encoded_segment(
    make_client: Any, api: FakeAPI, value: Any, segment: str
) -> None:
    cal = make_client()
    op = make_op(
        params=(
            Param(
                "thingId",
                python_name="thing_id",
                location="path",
                required=True,
                type=str | int | float,
            ),
        )
    )
    await cal.session.request(op, path={"thingId": value})
    assert api.calls[0].path == f"/v2/things/{segment}"


@pytest.mark.parametrize("value", [None, UNSET, "", ".", ".."])
async def test_bad_path_values_fail_before_sending(
    make_client: Any, api: FakeAPI, value: Any
) -> None:
    cal = make_client()
    with pytest.raises(CalComUsageError, match="thing_id"):
        await cal.session.request(make_op(), path={"thingId": value})
    with pytest.raises(CalComUsageError, match="thing_id"):
        await cal.session.request(make_op(), path={})
    assert api.calls == []


class Color(enum.Enum):
    RED = "red"


async def test_query_values_are_encoded_and_unset_ones_dropped(
    make_client: Any, api: FakeAPI
) -> None:
    op = make_op(
        params=(
            Param("thingId", python_name="thing_id", location="path", required=True),
            Param("status", location="query", type=Sequence[str] | Unset, explode=False),
            Param("ids", location="query", type=list[int] | Unset),
            Param("after", location="query", type=dt.datetime | Unset),
            Param("day", location="query", type=dt.date | Unset),
            Param("flag", location="query", type=bool | Unset),
            Param("color", location="query", type=Color | Unset),
            Param("skip", location="query", type=int | Unset),
            Param("gone", location="query", type=str | None),
        )
    )
    cal = make_client()
    berlin = dt.timezone(dt.timedelta(hours=2))
    await cal.session.request(
        op,
        path={"thingId": "x"},
        query={
            "status": ["upcoming", "past"],
            "ids": (1, 2),
            "after": dt.datetime(2026, 5, 1, 11, 0, tzinfo=berlin),
            "day": dt.date(2026, 5, 1),
            "flag": False,
            "color": Color.RED,
            "skip": UNSET,
            "gone": None,
        },
    )
    assert api.calls[0].params == [
        ("status", "upcoming,past"),
        ("ids", "1"),
        ("ids", "2"),
        ("after", "2026-05-01T09:00:00Z"),
        ("day", "2026-05-01"),
        ("flag", "false"),
        ("color", "red"),
    ]


@pytest.mark.parametrize(
    ("annotation", "value"),
    [(int | Unset, "3"), (int | Unset, True), (str, 3), (list[int] | Unset, ["a"])],
)
async def test_wrong_argument_types_are_refused_before_sending(
    make_client: Any, api: FakeAPI, annotation: Any, value: Any
) -> None:
    op = make_op(
        params=(
            Param("thingId", python_name="thing_id", location="path", required=True),
            Param("take", location="query", type=annotation),
        )
    )
    cal = make_client()
    with pytest.raises(CalComUsageError, match=r"'take' must be"):
        await cal.session.request(op, path={"thingId": "x"}, query={"take": value})
    with pytest.raises(CalComUsageError, match="cannot be sent"):
        await cal.session.request(op, path={"thingId": "x"}, query={"other": object()})
    assert api.calls == []


async def test_json_body_drops_unset_and_keeps_null(make_client: Any, api: FakeAPI) -> None:
    op = make_op(method="POST", body="Thing", body_required=True, body_cls=Thing)
    cal = make_client()
    await cal.session.request(op, path={"thingId": "a"}, body=Thing(id=1, uid="u"))
    body = {"id": 2, "uid": "v", "name": None, "n": 2}  # keys the model lacks are sent too
    await cal.session.request(op, path={"thingId": "a"}, body=body)
    first, second = api.calls
    assert first.headers["Content-Type"] == "application/json"
    assert first.json() == {"id": 1, "uid": "u"}
    assert second.json() == body


async def test_body_problems_are_usage_errors(make_client: Any, api: FakeAPI) -> None:
    op = make_op(method="POST", body="Thing", body_required=True, body_cls=Thing)
    cal = make_client()
    with pytest.raises(CalComUsageError, match="body"):
        await cal.session.request(op, path={"thingId": "a"})
    with pytest.raises(CalComUsageError, match="must be Thing"):
        await cal.session.request(op, path={"thingId": "a"}, body=["not", "a", "thing"])
    with pytest.raises(CalComUsageError, match="cannot be encoded"):
        await cal.session.request(
            op, path={"thingId": "a"}, body={"id": 1, "uid": "u", "x": object()}
        )
    with pytest.raises(CalComUsageError, match="missing required keys 'id', 'uid'"):
        await cal.session.request(op, path={"thingId": "a"}, body={"x": 1})
    assert api.calls == []


# -- versions ---------------------------------------------------------------------------------

BOOKING_OP = dict(name="bookings.get", api_version=API_VERSION_2024_08_13)


async def test_operation_version_is_sent(make_client: Any, api: FakeAPI) -> None:
    cal = make_client()
    await cal.session.request(make_op(**BOOKING_OP), path={"thingId": "a"})
    assert api.calls[0].headers["cal-api-version"] == "2024-08-13"


@pytest.mark.parametrize(
    ("pins", "expected"),
    [
        ({"bookings": "2024-04-15"}, "2024-04-15"),
        ({"bookings.get": "2024-06-11"}, "2024-06-11"),
        ({"bookings": "2024-04-15", "bookings.get": "2024-06-11"}, "2024-06-11"),
        ({"BookingsController_2024_08_13_getBooking": "2024-06-14"}, "2024-06-14"),
        ({"event_types": "2024-04-15"}, "2024-08-13"),
    ],
)
async def test_client_pins_by_operation_or_family(
    make_client: Any, api: FakeAPI, pins: dict[str, str], expected: str
) -> None:
    cal = make_client(api_versions=pins)
    op = make_op(operation_id="BookingsController_2024_08_13_getBooking", **BOOKING_OP)
    await cal.session.request(op, path={"thingId": "a"})
    assert api.calls[0].headers["cal-api-version"] == expected


async def test_per_call_version_wins_and_with_options_pins(make_client: Any, api: FakeAPI) -> None:
    cal = make_client(api_versions={"bookings": "2024-04-15"})
    op = make_op(**BOOKING_OP)
    opts = RequestOptions(api_version=API_VERSION_2024_06_14)
    await cal.session.request(op, path={"thingId": "a"}, options=opts)
    pinned = cal.with_options(api_versions={"bookings.get": "2024-09-04"})
    await pinned.session.request(op, path={"thingId": "a"})
    await cal.session.request(op, path={"thingId": "a"})
    sent = [c.headers["cal-api-version"] for c in api.calls]
    assert sent == ["2024-06-14", "2024-09-04", "2024-04-15"]


async def test_malformed_versions_raise_before_sending(make_client: Any, api: FakeAPI) -> None:
    for bad in ("2024/08/13", "v2", "2024-8-13", "latest"):
        with pytest.raises(UnknownAPIVersionError, match="malformed cal-api-version"):
            make_client(api_versions={"bookings": bad})
    with pytest.raises(CalComUsageError, match="neither an operation"):
        make_client(api_versions={"booking": "2024-08-13"})
    cal = make_client()
    with pytest.raises(UnknownAPIVersionError, match="known: 2024-04-15"):
        await cal.session.request(
            make_op(**BOOKING_OP),
            path={"thingId": "a"},
            options=RequestOptions(api_version="2024-13-45"),
        )
    assert api.calls == []


def test_version_constants_are_exported() -> None:
    import calcom_async

    assert calcom_async.API_VERSION_2024_08_13 == "2024-08-13"
    assert calcom_async.API_VERSION_2024_09_04 == "2024-09-04"
    assert "2024-04-15" in calcom_async.KNOWN_API_VERSIONS


# -- raw access -------------------------------------------------------------------------------


async def test_raw_response_has_status_headers_ids_and_limits(
    make_client: Any, api: FakeAPI
) -> None:
    headers = {
        "X-RateLimit-Limit-Default": "120",
        "X-RateLimit-Remaining-Default": "119",
        "X-RateLimit-Reset-Default": "60",
        "X-Request-Id": "srv-echo",
    }
    body = {"status": "success", "data": [THING], "pagination": {"totalItems": 1}}
    api.queue(json_reply(body, headers=headers))
    cal = make_client()
    op = make_op(response="Things", response_cls=None, unwrap=False)
    response = await cal.session.request(op, path={"thingId": "a"}, raw=True)
    assert isinstance(response, APIResponse)
    assert response.status_code == 200
    assert response.headers["X-RateLimit-Limit-Default"] == "120"
    assert response.request_id == "srv-echo"
    assert response.retries == 0 and response.elapsed >= 0
    assert response.json() == body
    assert response.pagination == {"totalItems": 1}
    limit = response.rate_limits["default"]
    assert (limit.limit, limit.remaining, limit.reset) == (120, 119, 60.0)
    assert response.rate_limit == limit
    assert "srv-echo" in repr(response)


async def test_raw_response_parses_data_lazily(make_client: Any, api: FakeAPI) -> None:
    api.queue(json_reply({"status": "success", "data": THING}))
    cal = make_client()
    response = await cal.session.request(make_op(), path={"thingId": "a"}, raw=True)
    assert response.data == Thing(id=1, uid="abc", title="Hello")
    assert response.parse() is response.data


async def test_no_content_returns_none(make_client: Any, api: FakeAPI) -> None:
    from aioresponses import CallbackResult

    api.queue(CallbackResult(status=204, body=b""))
    cal = make_client()
    assert await cal.session.request(make_op(method="DELETE"), path={"thingId": "a"}) is None


async def test_generated_methods_have_a_raw_twin(make_client: Any, api: FakeAPI) -> None:
    cal = make_client()
    raw = cal.bookings.with_raw_response
    assert getattr(raw, "_raw", False) is True
    assert getattr(cal.bookings, "_raw", True) is False


# -- base URLs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://api.cal.com", "https://api.cal.com/v2/things/a"),
        ("https://api.cal.com/v2", "https://api.cal.com/v2/things/a"),
        ("https://api.cal.com/v2/", "https://api.cal.com/v2/things/a"),
        ("https://api.cal.eu", "https://api.cal.eu/v2/things/a"),
        ("https://cal.example.org/api/v2", "https://cal.example.org/api/v2/things/a"),
        ("http://localhost:3003", "http://localhost:3003/v2/things/a"),
        ("http://127.0.0.1:8080/v2", "http://127.0.0.1:8080/v2/things/a"),
        ("http://[::1]:8080", "http://[::1]:8080/v2/things/a"),
    ],
)
async def test_base_urls(make_client: Any, api: FakeAPI, base_url: str, expected: str) -> None:
    cal = make_client(base_url=base_url)
    await cal.session.request(make_op(), path={"thingId": "a"})
    assert str(api.calls[0].url) == expected


@pytest.mark.parametrize(
    "base_url", ["http://api.cal.com", "http://10.0.0.5", "ftp://x", "https://", "api.cal.com"]
)
def test_insecure_or_bad_base_urls_are_refused(base_url: str) -> None:
    with pytest.raises(CalComUsageError):
        CalCom(api_key=API_KEY, base_url=base_url)


def test_api_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALCOM_API_KEY", API_KEY)
    cal = CalCom()
    assert cal.session.auth.secrets() == (API_KEY,)
    assert API_KEY not in repr(cal)


# -- timeouts ---------------------------------------------------------------------------------


async def test_timeouts_per_client_and_per_call(make_client: Any, api: FakeAPI) -> None:
    cal = make_client(timeout=30.0, connect_timeout=3.0)
    await cal.session.request(make_op(), path={"thingId": "a"})
    await cal.session.request(
        make_op(), path={"thingId": "a"}, options=RequestOptions(timeout=5.0, connect_timeout=1.0)
    )
    await cal.with_options(timeout=7.0).session.request(make_op(), path={"thingId": "a"})
    timeouts = [(c.timeout.total, c.timeout.connect) for c in api.calls]
    assert timeouts == [(30.0, 3.0), (5.0, 1.0), (7.0, 3.0)]


async def test_timeout_raises_api_timeout_error(make_client: Any, api: FakeAPI) -> None:
    api.queue(TimeoutError(), aiohttp.ConnectionTimeoutError())
    cal = make_client(max_retries=0)
    with pytest.raises(APITimeoutError, match="timed out"):
        await cal.session.request(make_op(), path={"thingId": "a"})
    with pytest.raises(APITimeoutError, match="connecting"):
        await cal.session.request(make_op(), path={"thingId": "a"})


# -- lifecycle --------------------------------------------------------------------------------


async def test_context_manager_creates_one_session_lazily_and_closes_it(api: FakeAPI) -> None:
    async with CalCom(api_key=API_KEY, max_concurrency=7) as cal:
        transport = cal.session.transport
        assert transport._session is None  # nothing opened before the first request
        await cal.session.request(make_op(), path={"thingId": "a"})
        http = transport._session
        assert http is not None and http.connector is not None
        assert http.connector.limit == 7
        await cal.session.request(make_op(), path={"thingId": "a"})
        assert transport._session is http
    assert http.closed and cal.is_closed
    with pytest.raises(CalComUsageError, match="closed"):
        await cal.session.request(make_op(), path={"thingId": "a"})


async def test_user_session_is_left_open(api: FakeAPI) -> None:
    async with aiohttp.ClientSession() as http:
        async with CalCom(api_key=API_KEY, http_session=http) as cal:
            await cal.session.request(make_op(), path={"thingId": "a"})
        assert not http.closed
        copy = cal.with_options(max_retries=0)
        assert copy.session.transport is cal.session.transport
    async with CalCom(api_key=API_KEY, http_session=http) as cal:
        with pytest.raises(CalComUsageError, match="http_session is closed"):
            await cal.session.request(make_op(), path={"thingId": "a"})


async def test_header_injection_is_refused(make_client: Any, api: FakeAPI) -> None:
    cal = make_client()
    bad = RequestOptions(extra_headers={"X-Note": "a\r\nInjected: 1"})
    with pytest.raises(CalComUsageError, match="one-line"):
        await cal.session.request(make_op(), path={"thingId": "a"}, options=bad)
    assert api.calls == []


async def test_unclosed_client_warns_once_and_does_not_crash(
    api: FakeAPI, leak_scan: list[Any]
) -> None:
    cal = CalCom(api_key=API_KEY)
    await cal.session.request(make_op(), path={"thingId": "a"})
    assert find_leaks(leak_scan, []) == []
    leak_scan.clear()  # the scan's references would keep the client alive
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del cal
        gc.collect()
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1, messages
    assert "CalCom client was not closed" in messages[0]
    assert caught[0].category is ResourceWarning


def test_client_never_used_needs_no_close() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cal = CalCom(api_key=API_KEY)
        del cal
        gc.collect()


# -- logging ----------------------------------------------------------------------------------


async def test_logs_method_path_status_duration_request_id_retries(
    make_client: Any, api: FakeAPI, caplog: pytest.LogCaptureFixture
) -> None:
    from aioresponses import CallbackResult

    api.queue(
        CallbackResult(status=503, body=b""), json_reply({"status": "success", "data": THING})
    )
    cal = make_client()
    await cal.session.request(make_op(), path={"thingId": "a"})
    lines = [r.getMessage() for r in caplog.records if r.name == "calcom_async"]
    request_id = api.calls[0].headers["X-Request-Id"]
    assert any(
        re.fullmatch(
            rf"GET /v2/things/a -> 503 in \d+\.\d{{3}}s \(request id {request_id}, retry 0\)", m
        )
        for m in lines
    ), lines
    assert any(f"request id {request_id}, retry 1)" in m and "-> 200" in m for m in lines)
    assert any(m.startswith("retrying GET /v2/things/a") for m in lines)


@given(st.text(min_size=1).filter(lambda s: s not in (".", "..")))
def test_any_path_value_stays_one_segment_and_decodes_back(value: str) -> None:
    op = make_op(path="/v2/things/{thingId}/cancel")
    path = render_path(op, {"thingId": value})
    segments = path.split("/")
    assert len(segments) == 5 and segments[-1] == "cancel"
    assert unquote(segments[3]) == value
    assert segments[3] not in (".", "..")


@pytest.mark.parametrize("bad", ["10", -1, 0, True])
def test_bad_timeouts_and_retries_are_usage_errors(bad: Any) -> None:
    from calcom_async import CalCom, CalComUsageError, RequestOptions

    with pytest.raises(CalComUsageError, match="timeout"):
        RequestOptions(timeout=bad)
    with pytest.raises(CalComUsageError, match="timeout"):
        CalCom(api_key=API_KEY, timeout=bad)
    if bad != 0:
        with pytest.raises(CalComUsageError, match="max_retries"):
            RequestOptions(max_retries=bad if bad != "10" else "10")


async def test_body_fields_of_the_wrong_type_are_refused_before_sending(
    make_client: Any, api: FakeAPI
) -> None:
    from calcom_async import CalComUsageError, models

    cal = make_client()
    with pytest.raises(CalComUsageError, match="cancellation_reason must be str"):
        await cal.bookings.cancel(
            "u",
            models.CancelBookingInput_2024_08_13(cancellation_reason=123),  # type: ignore[arg-type]
        )
    with pytest.raises(CalComUsageError, match="active must be bool"):
        await cal.webhooks.update("w1", active=5)  # type: ignore[arg-type]
    with pytest.raises(CalComUsageError, match="host must be bool"):
        await cal.bookings.mark_absent("uid", host="yes")  # type: ignore[arg-type]
    assert api.calls == []


async def test_log_records_carry_the_facts_as_fields(
    make_client: Any, api: FakeAPI, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    api.default = json_reply({"status": "success", "data": THING})
    cal = make_client()
    with caplog.at_level(logging.DEBUG, logger="calcom_async"):
        await cal.session.request(make_op(), path={"thingId": "a"})
    record = next(r for r in caplog.records if hasattr(r, "calcom_request_id"))
    assert record.calcom_method == "GET" and record.calcom_outcome == "200"
    assert record.calcom_retry == 0 and record.calcom_duration >= 0
    assert record.calcom_path.endswith("/things/a")


async def test_a_well_formed_version_the_table_lacks_is_sent_with_one_warning(
    make_client: Any, api: FakeAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """The live API moves faster than its document: a date it may know is the server's to
    judge; the client says once per process per operation that it does not know it."""
    from calcom_async import _request

    _request._WARNED_VERSIONS.clear()
    cal = make_client(api_versions={"bookings": "2099-01-01"})
    op = make_op(**BOOKING_OP)
    with caplog.at_level(logging.WARNING, logger="calcom_async"):
        for _ in range(3):
            await cal.session.request(op, path={"thingId": "a"})
    assert [c.headers["cal-api-version"] for c in api.calls] == ["2099-01-01"] * 3
    warned = [r.getMessage() for r in caplog.records if "2099-01-01" in r.getMessage()]
    assert len(warned) == 1 and "sent as asked" in warned[0] and op.name in warned[0]
