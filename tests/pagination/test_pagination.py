"""AsyncPaginator over every paginated operation of the table, against a paging stub server."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Mapping
from typing import Any

import orjson
import pytest

from calcom_async._generated.examples import response_example
from calcom_async._generated.operations import OPERATIONS
from calcom_async._operation import Operation, Pagination
from calcom_async._pagination import AsyncPaginator
from calcom_async._serde import structure
from tests.support.fake_api import json_reply

PAGED = [op for op in OPERATIONS if op.pagination is not None]


class _Response:
    """What the paginator reads of an APIResponse: ``json()`` and the typed ``data``."""

    status_code = 200
    request_id = "req_test"

    def __init__(self, op: Operation, body: Any) -> None:
        self._op = op
        self._body = body
        self.content = orjson.dumps(body)

    def json(self) -> Any:
        return orjson.loads(self.content)

    @property
    def data(self) -> Any:
        result = structure(self.json(), self._op.response_type())
        return result.data if self._op.unwrap else result

    def release_json(self) -> None:
        """Nothing kept here: ``json()`` decodes the bytes on every call."""


class PagingServer:
    """Serves ``items`` page by page the way ``op`` pages; records every query it gets."""

    def __init__(self, op: Operation, count: int) -> None:
        self.op = op
        try:
            self.template: Any = response_example(op.operation_id)
        except KeyError:  # the document does not describe the answer: a bare list of objects
            self.template = [{"id": 0}]
        data = self.template.get("data") if isinstance(self.template, dict) else self.template
        self.item = copy.deepcopy(data[0]) if isinstance(data, list) and data else {"id": 0}
        self.items = [self.make(i) for i in range(count)]
        self.queries: list[dict[str, Any]] = []
        self.on_request: Any = None
        self.in_flight = 0
        self.max_in_flight = 0

    def make(self, i: int) -> Any:
        item = copy.deepcopy(self.item)
        if isinstance(item, dict):
            item["id"] = str(i) if isinstance(item.get("id"), str) else i
        return item

    def route(self, op: Operation, options: Any = None) -> Operation:
        return op

    async def request(
        self,
        op: Operation,
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        options: Any = None,
        raw: bool = False,
    ) -> Any:
        assert raw and op is self.op
        q = dict(query or {})
        self.queries.append(q)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0)
            if self.on_request:
                self.on_request(self, q)
            size = q.get("take", q.get("limit"))
            start = q.get("skip", q.get("offset", 0))
            page = self.items[start : start + size]
            if not op.unwrap:
                return _Response(op, page if op.response is None else {"data": page})
            body = copy.deepcopy(self.template)
            body["data"] = page
            if op.pagination is Pagination.TAKE_SKIP:
                total = len(self.items)
                body["pagination"] = {
                    "totalItems": total,
                    "remainingItems": max(0, total - start - len(page)),
                    "returnedItems": len(page),
                    "itemsPerPage": size,
                    "currentPage": start // size + 1,
                    "totalPages": -(-total // size),
                    "hasNextPage": start + len(page) < total,
                    "hasPreviousPage": start > 0,
                }
            return _Response(op, body)
        finally:
            self.in_flight -= 1

    def ids(self, items: list[Any]) -> list[int]:
        raw = [i.get("id") if isinstance(i, dict) else getattr(i, "id", None) for i in items]
        return [int(v) for v in raw]


def paginator(server: PagingServer, **kwargs: Any) -> AsyncPaginator[Any]:
    path = {p.name: 1 for p in server.op.path_params}
    return AsyncPaginator(server, server.op, path=path, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("op", PAGED, ids=lambda op: op.name)
@pytest.mark.parametrize("count", [0, 1, 9, 10, 25])
async def test_every_paginated_operation_walks_every_item_once(op: Operation, count: int) -> None:
    server = PagingServer(op, count)
    items = [item async for item in paginator(server, page_size=5)]
    assert len(items) == count
    if count and isinstance(server.item, dict):
        assert server.ids(items) == list(range(count))
    # an exactly full last page costs one more (empty) request only without meta
    full_pages = count // 5 + 1
    expected = full_pages if op.pagination is not Pagination.TAKE_SKIP or count % 5 else count // 5
    assert len(server.queries) == max(1, expected)


@pytest.mark.parametrize("op", PAGED[:3] + [o for o in PAGED if o.name == "bookings.list"])
async def test_pages_meta_to_list_and_raw(op: Operation) -> None:
    server = PagingServer(op, 23)
    pages = [page async for page in paginator(server, page_size=10).pages()]
    assert [len(p.items) for p in pages] == [10, 10, 3]
    assert [p.offset for p in pages] == [0, 10, 20]
    if op.pagination is Pagination.TAKE_SKIP:
        assert pages[0].total == 23 and pages[-1].meta["hasNextPage"] is False
    assert len(await paginator(server, page_size=10).to_list(max_items=12)) == 12
    raws = [row async for row in paginator(server, page_size=10).raw()]
    assert all(isinstance(r, dict) for r in raws) and len(raws) == 23
    first = await paginator(server, page_size=7)
    assert len(first) == 7


async def test_max_items_stops_fetching() -> None:
    op = next(o for o in PAGED if o.name == "bookings.list")
    server = PagingServer(op, 1000)
    await paginator(server, page_size=100).to_list(max_items=150)
    assert len(server.queries) == 2


async def test_page_size_is_clamped_to_the_operation_maximum() -> None:
    op = next(o for o in PAGED if o.max_page_size == 250)
    server = PagingServer(op, 600)
    p = paginator(server, page_size=10_000)
    assert p.page_size == 250
    assert len([i async for i in p]) == 600
    assert {q["take"] for q in server.queries} == {250}
    with pytest.raises(ValueError, match="page_size"):
        paginator(server, page_size=0)


async def test_total_that_changes_mid_walk() -> None:
    op = next(o for o in PAGED if o.name == "bookings.list")
    server = PagingServer(op, 20)

    def grow(srv: PagingServer, query: dict[str, Any]) -> None:
        if query["skip"] == 10:  # while the walk runs, 5 bookings are added at the end
            srv.items.extend(srv.make(100 + i) for i in range(5))

    server.on_request = grow
    items = [i async for i in paginator(server, page_size=10)]
    assert len(items) == 25


async def test_prefetch_is_concurrent_bounded_and_in_order() -> None:
    op = next(o for o in PAGED if o.name == "bookings.list")
    server = PagingServer(op, 1000)
    items = [i async for i in paginator(server, page_size=10, prefetch=4)]
    assert server.ids(items) == list(range(1000))
    assert 2 <= server.max_in_flight <= 5
    assert len(server.queries) == 100


async def test_prefetch_walk_stopped_early_cancels_what_is_in_flight() -> None:
    op = next(o for o in PAGED if o.name == "bookings.list")
    server = PagingServer(op, 1000)
    walk = paginator(server, page_size=10, prefetch=4).pages()
    seen = 0
    async for _page in walk:
        seen += 1
        if seen == 3:
            break
    await walk.aclose()  # type: ignore[attr-defined]
    await asyncio.sleep(0)
    assert server.in_flight == 0


async def test_a_page_that_is_not_a_list_is_a_typed_error() -> None:
    from calcom_async import ResponseValidationError

    op = next(o for o in PAGED if o.response is None)

    class OneObject:
        def route(self, op: Operation, options: Any = None) -> Operation:
            return op

        async def request(self, op: Operation, **kwargs: Any) -> Any:
            return _Response(op, {"status": "success", "data": {"not": "a list"}})

    with pytest.raises(ResponseValidationError, match="not a list"):
        await AsyncPaginator(OneObject(), op, path={"orgId": 1, "userId": 1}).to_list()  # type: ignore[arg-type]


async def test_max_items_with_prefetch_fetches_no_page_beyond_it() -> None:
    op = next(o for o in PAGED if o.name == "bookings.list")
    server = PagingServer(op, 1000)
    items = await paginator(server, page_size=10, prefetch=8).to_list(max_items=15)
    assert len(items) == 15
    assert len(server.queries) == 2


@pytest.mark.parametrize("op", [o for o in PAGED if o.pagination is not Pagination.LIMIT][:6])
async def test_prefetch_with_a_total_that_grows_mid_walk(op: Operation) -> None:
    server = PagingServer(op, 40)

    def grow(srv: PagingServer, query: dict[str, Any]) -> None:
        if query.get("skip") == 20:  # bookings added while the walk runs
            srv.items.extend(srv.make(1000 + i) for i in range(7))

    server.on_request = grow
    items = [i async for i in paginator(server, page_size=10, prefetch=3)]
    assert len(items) == 47
    assert len(set(server.ids(items))) == 47


async def test_a_typed_page_lets_go_of_its_dicts_but_can_still_show_them(
    make_client: Any, api: Any
) -> None:
    body = response_example("BookingsController_2024_08_13_getBookings")
    body["pagination"] = {**body["pagination"], "hasNextPage": False}
    api.queue(json_reply(body))
    cal = make_client()
    pages = [page async for page in cal.bookings.list(page_size=10).pages()]
    assert len(pages) == 1
    page = pages[0]
    assert [b.uid for b in page.items] == [b["uid"] for b in body["data"]]
    assert page.response.data is page.items  # the models are kept
    assert page.meta == body["pagination"]
    assert page.response.json() == orjson.loads(orjson.dumps(body))  # decoded again on request
    assert page.response.json() is page.response.json()  # and kept from then on
