"""``cal.request`` / ``cal.paginate`` / ``cal.with_raw_response.request``: what the document lacks,
through the same pipeline as every generated method.

Documented endpoints against FakeCalCom; the undocumented ``PATCH …/location`` and other shapes
against a scripted aiohttp server on 127.0.0.1 (the real transport, no mocks).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import attrs
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from calcom_async import (
    APIResponse,
    AsyncPaginator,
    CalCom,
    CalComUsageError,
    InternalServerError,
    NotFoundError,
    RequestOptions,
    ResponseValidationError,
    UnknownAPIVersionError,
    models,
)
from calcom_async.blocking import CalComSync, SyncPaginator
from calcom_async.testing import FakeCalCom
from tests.support.clock import FakeClock
from tests.support.fake_api import FakeAPI, json_reply
from tests.support.leaks import API_KEY, CLIENT_ID, CLIENT_SECRET
from tests.support.typecheck import errors, marked, run_mypy, snippet

LOCATION = "/v2/bookings/{bookingUid}/location"


@attrs.define(kw_only=True)
class LocationChange:
    uid: str
    location: dict[str, Any]


@attrs.define(kw_only=True)
class Item:
    id: int
    name: str


# -- a scripted loopback server -------------------------------------------------------------------


class Seen:
    def __init__(self, request: web.Request, body: bytes) -> None:
        self.method = request.method
        self.raw_path = request.raw_path
        self.path = request.path
        self.query = list(request.query.items())
        self.headers = request.headers.copy()  # case-insensitive
        self.body = body


Reply = Callable[[Seen], web.Response]


class Loopback:
    def __init__(self, server: TestServer) -> None:
        self.server = server
        self.seen: list[Seen] = []
        self.replies: list[Reply] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def client(self, **kwargs: Any) -> CalCom:
        kwargs.setdefault("clock", FakeClock())
        if not {"api_key", "client_id", "access_token"} & kwargs.keys():
            kwargs["api_key"] = API_KEY
        return CalCom(base_url=self.base_url, **kwargs)


def envelope_reply(data: Any, headers: dict[str, str] | None = None) -> Reply:
    def reply(seen: Seen) -> web.Response:
        return web.json_response({"status": "success", "data": data}, headers=headers)

    return reply


def status_reply(status: int, body: Any = None) -> Reply:
    def reply(seen: Seen) -> web.Response:
        if body is None:
            return web.Response(status=status, text="<html>bad gateway</html>")
        return web.json_response(body, status=status)

    return reply


@pytest.fixture
async def loop_server() -> AsyncIterator[Loopback]:
    holder: list[Loopback] = []

    async def handler(request: web.Request) -> web.Response:
        loopback = holder[0]
        seen = Seen(request, await request.read())
        loopback.seen.append(seen)
        if loopback.replies:
            return loopback.replies.pop(0)(seen)
        if request.path.endswith("/location"):  # the undocumented endpoint, as the live API
            uid = unquote(request.raw_path.split("/")[3])
            change = orjson.loads(seen.body)
            return web.json_response(
                {"status": "success", "data": {"uid": uid, "location": change["location"]}},
                headers={"X-Request-Id": request.headers.get("X-Request-Id", "")},
            )
        return web.json_response({"status": "success", "data": {"path": request.path}})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    async with TestServer(app, host="127.0.0.1") as server:
        holder.append(Loopback(server))
        yield holder[0]


# -- a documented endpoint, against the fake ------------------------------------------------------


async def test_documented_endpoints_through_request_match_the_generated_methods() -> None:
    async with FakeCalCom() as fake:
        fake.seed(bookings=12)
        async with fake.client() as cal:
            me = await cal.request("GET", "/v2/me", cast_to=models.MeOutput)
            assert isinstance(me, models.MeOutput)
            assert me == await cal.me.get()
            as_sent = await cal.request("GET", "/v2/me")  # default: the JSON, envelope unwrapped
            assert as_sent["email"] == me.email and "status" not in as_sent
            kept = await cal.request("GET", "/v2/me", unwrap=False)
            assert kept["status"] == "success" and kept["data"] == as_sent
            envelope = await cal.request("GET", "/v2/me", cast_to=models.GetMeOutput, unwrap=False)
            assert envelope.data == me
            assert await cal.request("GET", "/v2/me", cast_to=None) is None
            assert (await cal.request("GET", "/v2/me", cast_to=models.MeOutput | None)) == me
            assert (await cal.request("GET", "/v2/me", cast_to=dict[str, Any])) == as_sent
            assert (await cal.request("GET", "/v2/me", cast_to=Any)) == as_sent
            # an absolute URL under the client's own base_url is a path
            again = await cal.request("GET", f"{fake.base_url}/v2/me", cast_to=models.MeOutput)
            assert again == me

            raw = await cal.with_raw_response.request("GET", "/v2/me", cast_to=models.MeOutput)
            assert isinstance(raw, APIResponse)
            assert raw.status_code == 200 and raw.method == "GET" and raw.path == "/v2/me"
            assert raw.request_id.startswith("req_") and raw.retries == 0
            assert raw.rate_limits["default"].limit == 120
            assert raw.headers["Content-Type"].startswith("application/json")
            assert raw.data == me and raw.json()["data"]["email"] == me.email

            uid = (await cal.bookings.list(take=1))[0].uid
            booking = await cal.request(
                "GET",
                "/v2/bookings/{bookingUid}",
                path={"bookingUid": uid},
                api_version="2024-08-13",
                cast_to=models.BookingOutput_2024_08_13,
            )
            assert booking == await cal.bookings.get(uid)

            # PATCH …/location, which the newest document has: the same answer as its method
            where = models.UpdateInputAddressLocation_2024_08_13(type="address", address="Main 1")
            answer_type = (
                models.BookingOutput_2024_08_13
                | models.RecurringBookingOutput_2024_08_13
                | list[models.RecurringBookingOutput_2024_08_13]
                | models.GetSeatedBookingOutput_2024_08_13
                | models.GetRecurringSeatedBookingOutput_2024_08_13
                | list[models.GetRecurringSeatedBookingOutput_2024_08_13]
            )
            fake.reset_stats()
            for body in ({"location": {"type": "address", "address": "Main 1"}}, where):
                moved = await cal.request(
                    "PATCH",
                    LOCATION,
                    path={"bookingUid": uid},
                    json=body if isinstance(body, dict) else {"location": body},
                    api_version="2024-08-13",
                    cast_to=answer_type,
                )
                assert moved == await cal.bookings.update_location(uid, location=where)
            assert fake.stats["requests"] == 4 and fake.stats["throttled"] == 0


async def test_a_booking_list_pages_with_take_and_skip() -> None:
    async with FakeCalCom() as fake:
        fake.seed(bookings=12)
        async with fake.client() as cal:
            listed = cal.paginate(
                "GET",
                "/v2/bookings",
                cast_to=models.BookingOutput_2024_08_13,
                query={"sortCreated": "asc"},
                api_version="2024-08-13",
                page_size=5,
            )
            assert isinstance(listed, AsyncPaginator) and listed.page_size == 5
            fake.reset_stats()
            items = [b async for b in listed]
            assert [type(b) for b in items] == [models.BookingOutput_2024_08_13] * 12
            expected = await cal.bookings.list(sort_created="asc").to_list()
            assert [b.uid for b in items] == [b.uid for b in expected]
            pages = [page async for page in listed.pages()]
            assert [len(p.items) for p in pages] == [5, 5, 2]
            assert [p.offset for p in pages] == [0, 5, 10] and pages[0].total == 12
            assert await listed.to_list(max_items=6) == items[:6]
            rows = await listed.raw().to_list(max_items=3)
            assert [r["uid"] for r in rows] == [b.uid for b in items[:3]]
            assert await listed == items[:5]  # one page
            dicts = await cal.paginate(
                "GET", "/v2/bookings", api_version="2024-08-13", page_size=50
            ).to_list()
            assert len(dicts) == 12 and isinstance(dicts[0], dict)


# -- the undocumented endpoint, on the loopback server --------------------------------------------


async def test_the_undocumented_location_patch_sends_what_a_method_sends(
    loop_server: Loopback,
) -> None:
    change = {"location": {"type": "address", "address": "Main St 1"}}
    async with loop_server.client() as cal:
        moved = await cal.request(
            "PATCH",
            LOCATION,
            path={"bookingUid": "b/1 x"},
            json=change,
            api_version="2024-08-13",
            cast_to=LocationChange | None,
        )
        assert moved == LocationChange(uid="b/1 x", location=change["location"])
    (seen,) = loop_server.seen
    assert seen.method == "PATCH"
    assert seen.raw_path == "/v2/bookings/b%2F1%20x/location"  # one segment, encoded
    assert seen.headers["Authorization"] == f"Bearer {API_KEY}"
    assert seen.headers["cal-api-version"] == "2024-08-13"
    assert re.fullmatch(r"req_[0-9a-f]{32}", seen.headers["X-Request-Id"])
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["Accept"] == "application/json"
    assert seen.headers["User-Agent"].startswith("calcom-async/")
    assert orjson.loads(seen.body) == change


async def test_raw_twin_version_header_auth_and_query(loop_server: Loopback) -> None:
    when = dt.datetime(2026, 5, 1, 9, 30, tzinfo=dt.UTC)
    loop_server.replies.append(envelope_reply({"id": 1, "name": "a"}, {"X-Request-Id": "srv-1"}))
    pair = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    async with loop_server.client(api_key=API_KEY, **pair) as cal:
        raw = await cal.with_raw_response.request(
            "GET",
            "/v2/things",
            query={"afterStart": when, "take": 5, "on": True, "ids": [1, 2], "skip": None},
            cast_to=Item,
        )
        assert isinstance(raw, APIResponse) and raw.data == Item(id=1, name="a")
        assert raw.request_id == "srv-1"
        await cal.request("GET", "/health", auth="platform")  # a path outside /v2/
        unversioned = await cal.request("GET", "/v2/x")
        assert unversioned == {"path": "/v2/x"}
    first, health, plain = loop_server.seen
    assert first.query == [
        ("afterStart", "2026-05-01T09:30:00Z"),
        ("take", "5"),
        ("on", "true"),
        ("ids", "1"),
        ("ids", "2"),
    ]
    assert "cal-api-version" not in first.headers and "x-cal-client-id" not in first.headers
    assert first.headers["Authorization"] == f"Bearer {API_KEY}"  # bearer first
    assert health.path == "/health"
    assert health.headers["x-cal-client-id"] == CLIENT_ID
    assert health.headers["x-cal-secret-key"] == CLIENT_SECRET
    assert "Authorization" not in health.headers
    assert plain.headers["Authorization"] == f"Bearer {API_KEY}"


async def test_a_platform_only_client_sends_its_pair(loop_server: Loopback) -> None:
    async with loop_server.client(client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as cal:
        await cal.request("GET", "/v2/oauth-clients/{clientId}/users", path={"clientId": "c1"})
        with pytest.raises(CalComUsageError, match="auth='bearer' needs api_key"):
            await cal.request("GET", "/v2/me", auth="bearer")
    (seen,) = loop_server.seen
    assert seen.headers["x-cal-client-id"] == CLIENT_ID and "Authorization" not in seen.headers


# -- retries and errors ---------------------------------------------------------------------------


async def test_a_503_on_get_is_retried_with_the_same_request_id(loop_server: Loopback) -> None:
    loop_server.replies += [status_reply(503), envelope_reply({"id": 2, "name": "b"})]
    async with loop_server.client() as cal:
        raw = await cal.with_raw_response.request("GET", "/v2/things/2", cast_to=Item)
    assert raw.retries == 1 and raw.data == Item(id=2, name="b")
    first, second = loop_server.seen
    assert first.headers["X-Request-Id"] == second.headers["X-Request-Id"] == raw.request_id


async def test_post_and_patch_are_not_resent_after_a_502_unless_retry_unsafe(
    loop_server: Loopback,
) -> None:
    async with loop_server.client() as cal:
        for method in ("POST", "PATCH"):
            loop_server.replies.append(status_reply(502))
            with pytest.raises(InternalServerError) as caught:
                await cal.request(method, "/v2/things", json={"a": 1})
            assert caught.value.status_code == 502
        assert len(loop_server.seen) == 2
        loop_server.replies += [status_reply(502), envelope_reply({"id": 3, "name": "c"})]
        made = await cal.request(
            "POST",
            "/v2/things",
            json={"a": 1},
            cast_to=Item,
            request_options=RequestOptions(retry_unsafe=True),
        )
        assert made == Item(id=3, name="c")
    retried = loop_server.seen[2:]
    assert (
        len(retried) == 2
        and retried[0].headers["X-Request-Id"] == retried[1].headers["X-Request-Id"]
    )
    assert all(orjson.loads(s.body) == {"a": 1} for s in retried)


async def test_errors_are_typed_and_answers_that_do_not_fit_say_so(loop_server: Loopback) -> None:
    error = {
        "status": "error",
        "timestamp": "2026-01-01T00:00:00.000Z",
        "path": "/v2/bookings/nope/location",
        "error": {"code": "NotFoundException", "message": "Booking not found", "details": {}},
    }
    loop_server.replies += [status_reply(404, error), envelope_reply({"id": "x"})]
    async with loop_server.client() as cal:
        with pytest.raises(NotFoundError) as caught:
            await cal.request("PATCH", LOCATION, path={"bookingUid": "nope"}, json={"location": {}})
        exc = caught.value
        assert exc.status_code == 404 and exc.code == "NotFoundException"
        assert exc.message == "Booking not found"
        assert exc.request_id == loop_server.seen[0].headers["X-Request-Id"]
        with pytest.raises(ResponseValidationError, match="does not fit"):
            await cal.request(
                "GET", "/v2/things/x", cast_to=Item, request_options=RequestOptions(strict=True)
            )
        tolerant = await cal.request("GET", "/v2/things/x", cast_to=Item)  # kept as sent
        assert isinstance(tolerant, Item)

        class NotAModel:
            pass

        with pytest.raises(CalComUsageError, match="cast_to"):
            await cal.request("GET", "/v2/things/x", cast_to=NotAModel)


# -- other page shapes ----------------------------------------------------------------------------


async def test_cursor_pages_from_the_pagination_member(loop_server: Loopback) -> None:
    pages = {
        None: ([{"id": 1, "name": "a"}, {"id": 2, "name": "b"}], "c2", True),
        "c2": ([{"id": 3, "name": "c"}, {"id": 4, "name": "d"}], "c3", True),
        "c3": ([{"id": 5, "name": "e"}], None, False),
    }

    def cursor_page(seen: Seen) -> web.Response:
        data, next_cursor, more = pages[dict(seen.query).get("cursor")]
        return web.json_response(
            {
                "status": "success",
                "data": data,
                "pagination": {"nextCursor": next_cursor, "hasMore": more},
            }
        )

    async with loop_server.client() as cal:
        listed = cal.paginate(
            "GET",
            "/v2/bookings",
            cast_to=Item,
            query={"status": "upcoming"},
            page_size=2,  # a walk's page size (a limit in query is one request's: issue 15)
            style="cursor",
            api_version="2026-05-01",
        )
        loop_server.replies += [cursor_page] * 3
        items = await listed.to_list()
        assert [i.id for i in items] == [1, 2, 3, 4, 5] and isinstance(items[0], Item)
        loop_server.replies += [cursor_page] * 3
        metas = [p.meta async for p in listed.pages()]
        assert metas[-1] == {"nextCursor": None, "hasMore": False}
        loop_server.replies += [cursor_page] * 2
        rows = await listed.raw().to_list(max_items=3)
        assert rows[2] == {"id": 3, "name": "c"}
        # hasMore false ends the walk even with a cursor
        pages[None] = (pages[None][0], "c2", False)
        loop_server.replies.append(cursor_page)
        assert len(await listed.to_list()) == 2
    queries = [dict(s.query) for s in loop_server.seen]
    assert queries[:3] == [
        {"status": "upcoming", "limit": "2"},
        {"status": "upcoming", "limit": "2", "cursor": "c2"},
        {"status": "upcoming", "limit": "2", "cursor": "c3"},
    ]
    assert {s.headers["cal-api-version"] for s in loop_server.seen} == {"2026-05-01"}


async def test_bare_lists_end_at_a_short_page(loop_server: Loopback) -> None:
    def bare(seen: Seen) -> web.Response:
        skip = int(dict(seen.query)["skip"])
        return web.json_response([{"id": i, "name": str(i)} for i in range(skip, min(skip + 3, 7))])

    loop_server.replies += [bare] * 3
    async with loop_server.client() as cal:
        items = await cal.paginate(
            "GET", "/v2/teams", cast_to=Item, style="bare_list", page_size=3
        ).to_list()
    assert [i.id for i in items] == list(range(7))
    assert [dict(s.query)["skip"] for s in loop_server.seen] == ["0", "3", "6"]


# -- a newcomer's mistakes: a clear error, nothing sent -------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"method": "GET", "template": "https://evil.example/v2/me"}, CalComUsageError, "evil"),
        ({"method": "GET", "template": "//evil.example/v2/me"}, CalComUsageError, "refusing"),
        ({"method": "GET", "template": "https://api.cal.com/v2/me"}, CalComUsageError, "refusing"),
        ({"method": "GET", "template": "v2/me"}, CalComUsageError, "start with '/'"),
        ({"method": "GET", "template": "/v2/me?x=1"}, CalComUsageError, "query="),
        ({"method": "GET", "template": "/v2/../admin"}, CalComUsageError, r"'\.\.'"),
        ({"method": "GET", "template": "/v2/a b"}, CalComUsageError, "percent-encoded"),
        ({"method": "FETCH", "template": "/v2/me"}, CalComUsageError, "method must be"),
        ({"template": LOCATION}, CalComUsageError, "missing path value 'bookingUid'"),
        (
            {"template": LOCATION, "path": {"bookingUid": "b1", "bookingId": 3}},
            CalComUsageError,
            "'bookingId' has no {placeholder}",
        ),
        (
            {"template": LOCATION, "path": {"bookingUid": ".."}},
            CalComUsageError,
            "may not be '..'",
        ),
        (
            {"template": "/v2/x", "query": {"afterStart": dt.datetime(2026, 5, 1, 9)}},
            CalComUsageError,
            "'afterStart' is a naive datetime",
        ),
        (
            {"template": "/v2/x", "query": {"filter": {"a": 1}}},
            CalComUsageError,
            "'filter' cannot be sent as dict",
        ),
        ({"template": "/v2/x", "api_version": "2024-8-13"}, UnknownAPIVersionError, "malformed"),
        ({"template": "/v2/x", "api_version": "2024-13-01"}, UnknownAPIVersionError, "YYYY|date"),
        ({"template": "/v2/x", "auth": "platform"}, CalComUsageError, "client_id"),
        ({"template": "/v2/x", "json": {"when": object()}}, CalComUsageError, "JSON"),
        (
            {
                "template": "/v2/x",
                "api_version": "2024-08-13",
                "request_options": RequestOptions(api_version="2024-06-14"),
            },
            CalComUsageError,
            "disagree",
        ),
    ],
)
async def test_mistakes_are_clear_and_send_nothing(
    loop_server: Loopback, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    method = kwargs.pop("method", "PATCH")
    template = kwargs.pop("template")
    async with loop_server.client() as cal:
        with pytest.raises(error, match=message):
            await cal.request(method, template, **kwargs)
        with pytest.raises(error, match=message):
            await cal.with_raw_response.request(method, template, **kwargs)
        if method == "PATCH" and "json" not in kwargs:
            paginate_kwargs = {k: v for k, v in kwargs.items() if k != "json"}
            with pytest.raises(error, match=message):
                cal.paginate("GET", template, **paginate_kwargs)
    assert loop_server.seen == []


async def test_paginate_refuses_what_it_cannot_walk(loop_server: Loopback) -> None:
    async with loop_server.client() as cal:
        with pytest.raises(CalComUsageError, match="GET requests only"):
            cal.paginate("POST", "/v2/x")
        with pytest.raises(CalComUsageError, match="style must be"):
            cal.paginate("GET", "/v2/x", style="pages")
    assert loop_server.seen == []


async def test_a_well_formed_version_the_library_does_not_know_is_sent_as_given(
    loop_server: Loopback,
) -> None:
    async with loop_server.client() as cal:
        await cal.request(
            "GET", "/v2/bookings", request_options=RequestOptions(api_version="2026-02-25")
        )
    assert loop_server.seen[0].headers["cal-api-version"] == "2026-02-25"


# -- the blocking facade --------------------------------------------------------------------------


def test_calcomsync_request_paginate_and_raw(api: FakeAPI) -> None:
    api.queue(
        json_reply({"status": "success", "data": {"uid": "b1", "location": {"type": "link"}}}),
        json_reply(
            {"status": "success", "data": {"id": 1, "name": "a"}}, headers={"X-Request-Id": "r-9"}
        ),
        json_reply({"status": "success", "data": [{"id": 1, "name": "a"}]}),
    )
    with CalComSync(api_key=API_KEY) as cal:
        moved = cal.request(
            "PATCH",
            LOCATION,
            path={"bookingUid": "b1"},
            json={"location": {"type": "link"}},
            api_version="2024-08-13",
            cast_to=LocationChange,
        )
        assert moved == LocationChange(uid="b1", location={"type": "link"})
        raw = cal.with_raw_response.request("GET", "/v2/things/1", cast_to=Item)
        assert isinstance(raw, APIResponse) and raw.request_id == "r-9" and raw.data.id == 1
        listed = cal.paginate("GET", "/v2/things", cast_to=Item, style="bare_list")
        assert isinstance(listed, SyncPaginator)
        assert list(listed) == [Item(id=1, name="a")]
        with pytest.raises(CalComUsageError, match="missing path value"):
            cal.request("PATCH", LOCATION)
    patch, get, page = api.calls
    assert patch.method == "PATCH" and patch.path == "/v2/bookings/b1/location"
    assert patch.headers["cal-api-version"] == "2024-08-13"
    assert patch.json() == {"location": {"type": "link"}}
    assert get.path == "/v2/things/1" and page.params == [("take", "100"), ("skip", "0")]


# -- the types a checker sees ---------------------------------------------------------------------

SNIPPET = """
from __future__ import annotations

from typing import Any, assert_type

from calcom_async import APIResponse, AsyncPaginator, CalCom, models as m
from calcom_async.blocking import CalComSync, SyncPaginator


async def use(cal: CalCom) -> None:
    assert_type(await cal.request("GET", "/v2/me", cast_to=m.MeOutput), m.MeOutput)
    assert_type(await cal.request("GET", "/v2/me", cast_to=list[m.MeOutput]), list[m.MeOutput])
    assert_type(await cal.request("GET", "/v2/me"), Any)
    assert_type(await cal.request("GET", "/v2/me", cast_to=m.MeOutput | None), Any)
    raw = await cal.with_raw_response.request("GET", "/v2/me", cast_to=m.MeOutput)
    assert_type(raw, APIResponse[m.MeOutput])
    assert_type(raw.data, m.MeOutput)
    assert_type(cal.paginate("GET", "/v2/x", cast_to=m.MeOutput), AsyncPaginator[m.MeOutput])
    assert_type(cal.paginate("GET", "/v2/x"), AsyncPaginator[Any])


def use_sync(cal: CalComSync) -> None:
    assert_type(cal.request("GET", "/v2/me", cast_to=m.MeOutput), m.MeOutput)
    raw = cal.with_raw_response.request("GET", "/v2/me", cast_to=m.MeOutput)
    assert_type(raw, APIResponse[m.MeOutput])
    assert_type(cal.paginate("GET", "/v2/x", cast_to=m.MeOutput), SyncPaginator[m.MeOutput])
    cal.request("GET", "/v2/me", pth={})  # E: call-overload
    cal.request("FETCH", "/v2/me")  # E: call-overload
"""


def test_cast_to_types_the_result_for_mypy(tmp_path: Path) -> None:
    found = run_mypy({"snippet": snippet(SNIPPET)}, tmp_path)["snippet"]
    assert errors(found) == set(marked(SNIPPET, "# E: ").items()), found
