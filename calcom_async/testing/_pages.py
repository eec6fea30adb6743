"""Cal.com's answer envelopes: ``{"status": "success", "data": …}`` and its pages (offset
pages with ``pagination`` meta, or cursor pages)."""

from __future__ import annotations

import base64
import math
from typing import Any

from .._operation import Pagination
from ._records import Ctx
from ._util import bad_request

__all__ = ["MAX_TAKE", "ok", "paginate"]

MAX_TAKE = 250


def paginate(ctx: Ctx, items: list[Any], *, default_take: int) -> dict[str, Any]:
    """Slice by ``take``/``skip`` and add Cal.com's ``pagination`` meta; or, for an operation
    that pages with a cursor (``bookings.list`` at 2026-05-01), by ``limit``/``cursor`` with
    ``{"nextCursor", "hasMore"}`` (default page 10, as the live API's)."""
    if ctx.op.pagination is Pagination.CURSOR:
        return _cursor_page(ctx, items)
    take = ctx.q_int("take", default_take)
    skip = ctx.q_int("skip", 0)
    if take < 1 or take > MAX_TAKE:
        raise bad_request(f"take must be between 1 and {MAX_TAKE}", ["take"])
    if skip < 0:
        raise bad_request("skip must not be less than 0", ["skip"])
    total = len(items)
    page = items[skip : skip + take]
    return {
        "status": "success",
        "data": page,
        "pagination": {
            "totalItems": total,
            "remainingItems": max(0, total - skip - len(page)),
            "returnedItems": len(page),
            "itemsPerPage": take,
            "currentPage": skip // take + 1,
            "totalPages": math.ceil(total / take) if total else 0,
            "hasNextPage": skip + len(page) < total,
            "hasPreviousPage": skip > 0,
        },
    }


def _cursor_page(ctx: Ctx, items: list[Any]) -> dict[str, Any]:
    limit = ctx.q_int("limit", 10)
    if limit < 1 or limit > MAX_TAKE:
        raise bad_request(f"limit must be between 1 and {MAX_TAKE}", ["limit"])
    start = 0
    cursor = ctx.q("cursor")
    if cursor is not None:  # opaque to clients: the offset of the next item, encoded
        try:
            start = int(base64.urlsafe_b64decode(cursor.encode()).decode().removeprefix("o:"))
        except ValueError:
            raise bad_request("cursor is not valid", ["cursor"]) from None
    page = items[start : start + limit]
    more = start + len(page) < len(items)
    following = base64.urlsafe_b64encode(f"o:{start + len(page)}".encode()).decode()
    return {
        "status": "success",
        "data": page,
        "pagination": {"nextCursor": following if more else None, "hasMore": more},
    }


def ok(data: Any) -> dict[str, Any]:
    return {"status": "success", "data": data}
