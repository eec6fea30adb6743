"""The blocking facade: same resources and names, on a portal thread."""

from __future__ import annotations

import gc
import threading
import warnings
from typing import Any

import pytest

from calcom_async import APIResponse, NotFoundError, RequestOptions
from calcom_async.blocking import CalComSync
from tests.support.fake_api import FakeAPI, error_body, json_reply
from tests.support.leaks import API_KEY

BOOKING = {"status": "success", "data": {"uid": "b1"}}


def portal_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "calcom-async-portal"]


def test_same_resources_and_names_without_await(api: FakeAPI) -> None:
    api.queue(json_reply(BOOKING, headers={"X-Request-Id": "r-1"}))
    with CalComSync(api_key=API_KEY) as cal:
        response = cal.bookings.with_raw_response.get(
            "b1", request_options=RequestOptions(timeout=3.0)
        )
        assert isinstance(response, APIResponse)
        assert response.status_code == 200 and response.request_id == "r-1"
        assert response.json() == BOOKING
        assert "get" in dir(cal.bookings) and "bookings" in dir(cal)
        assert "SECRET" not in repr(cal)
    (call,) = api.calls
    assert call.path == "/v2/bookings/b1"
    assert call.headers["cal-api-version"] == "2024-08-13"
    assert call.headers["Authorization"] == f"Bearer {API_KEY}"
    assert call.timeout.total == 3.0


def test_errors_come_back_typed_and_with_options_works(api: FakeAPI) -> None:
    api.default = json_reply(error_body(404, "NotFoundException", "no such booking"), 404)
    with CalComSync(api_key=API_KEY) as cal:
        with pytest.raises(NotFoundError, match="no such booking"):
            cal.bookings.get("missing")
        pinned = cal.with_options(api_versions={"bookings": "2024-04-15"})
        with pytest.raises(NotFoundError):
            pinned.bookings.get("missing")
    assert [c.headers["cal-api-version"] for c in api.calls] == ["2024-08-13", "2024-04-15"]


def test_close_stops_the_thread_and_closes_the_client(api: FakeAPI) -> None:
    before = len(portal_threads())
    cal = CalComSync(api_key=API_KEY)
    assert len(portal_threads()) == before + 1
    cal.bookings.with_raw_response.get("b1")
    client = cal._client
    cal.close()
    cal.close()  # idempotent
    assert client.is_closed
    assert len(portal_threads()) == before


def test_forgotten_client_warns_and_cleans_up(api: FakeAPI, leak_scan: list[Any]) -> None:
    before = len(portal_threads())
    cal = CalComSync(api_key=API_KEY)
    cal.bookings.with_raw_response.get("b1")
    leak_scan.clear()  # the scan's references would keep the client alive
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del cal
        gc.collect()
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == [
        "CalComSync was not closed: use `with CalComSync(...)` or call `.close()`"
    ]
    assert len(portal_threads()) == before


def test_bad_arguments_raise_in_the_caller_and_leave_no_thread() -> None:
    before = len(portal_threads())
    with pytest.raises(ValueError, match="http"):
        CalComSync(api_key=API_KEY, base_url="http://api.cal.com")
    assert len(portal_threads()) == before


def test_paginators_become_plain_iterables(api: FakeAPI) -> None:
    page = {"status": "success", "data": [{"id": 1}, {"id": 2}], "pagination": {"totalItems": 2}}
    api.default = json_reply(page)
    with CalComSync(api_key=API_KEY) as cal:
        items = list(cal.webhooks.list().raw())
        assert [item["id"] for item in items] == [1, 2]
        assert cal.webhooks.list().raw().to_list() == items
    assert all(call.path == "/v2/webhooks" for call in api.calls)
