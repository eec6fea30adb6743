"""Realistic bookings: the document's example booking, varied per booking, rendered once."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import orjson

from calcom_async._generated.examples import response_example

LIST_OPERATION = "BookingsController_2024_08_13_getBookings"
PAGE_SIZE = 100
#: distinct bookings the server holds; longer walks reuse them with their own pagination meta
DISTINCT = 20_000

_STATUSES = ("accepted", "accepted", "accepted", "cancelled", "pending", "rejected")
_LANGS = ("en", "de", "fr", "es", "pt", "nl")
_ZONES = ("America/New_York", "Europe/Berlin", "Asia/Tokyo", "Europe/London", "UTC")
_T0 = dt.datetime(2024, 8, 13, 9, 0, tzinfo=dt.UTC)


def _iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def example_envelope() -> dict[str, Any]:
    envelope: dict[str, Any] = response_example(LIST_OPERATION)
    return envelope


def booking(i: int) -> dict[str, Any]:
    """Booking number ``i``: the example shape with its own uid, id, times, people and status."""
    b: dict[str, Any] = copy.deepcopy(example_envelope()["data"][0])
    start = _T0 + dt.timedelta(minutes=30 * i)
    duration = (15, 30, 45, 60)[i % 4]
    status = _STATUSES[i % len(_STATUSES)]
    b["id"] = 100_000 + i
    b["uid"] = f"bk_{i:08d}_{(i * 2654435761) % 2**32:08x}"
    b["title"] = f"Consultation #{i}"
    b["status"] = status
    b["start"] = _iso(start)
    b["end"] = _iso(start + dt.timedelta(minutes=duration))
    b["duration"] = duration
    b["eventTypeId"] = 50 + i % 7
    b["eventType"] = {"id": 50 + i % 7, "slug": f"event-{i % 7}"}
    b["createdAt"] = _iso(start - dt.timedelta(days=3, seconds=i % 977))
    b["updatedAt"] = _iso(start - dt.timedelta(days=1, seconds=i % 613))
    b["rating"] = i % 5 + 1
    b["icsUid"] = f"ics_{i:08d}@cal.com"
    b["absentHost"] = i % 11 == 0
    b["hosts"][0]["id"] = 1 + i % 40
    b["hosts"][0]["email"] = b["hosts"][0]["displayEmail"] = f"host{i % 40}@example.com"
    b["attendees"] = [
        {
            "name": f"Attendee {i}-{k}",
            "email": f"attendee{i}.{k}@example.com",
            "displayEmail": f"attendee{i}.{k}@example.com",
            "timeZone": _ZONES[(i + k) % len(_ZONES)],
            "language": _LANGS[(i + k) % len(_LANGS)],
            "absent": (i + k) % 13 == 0,
            "phoneNumber": f"+1555{i:07d}",
        }
        for k in range(1 + i % 3)
    ]
    b["guests"] = [f"guest{i}@example.com"] if i % 2 else []
    if status != "cancelled":
        for key in ("cancellationReason", "cancelledByEmail"):
            b.pop(key, None)
    if i % 5:
        for key in (
            "reschedulingReason",
            "rescheduledByEmail",
            "rescheduledFromUid",
            "rescheduledToUid",
        ):
            b.pop(key, None)
    b["metadata"] = {"crm_id": f"crm-{i}", "source": ("web", "api", "embed")[i % 3]}
    b["bookingFieldsResponses"] = {"name": f"Attendee {i}-0", "notes": "See you then"}
    return b


def page_meta(skip: int, count: int, total: int, take: int = PAGE_SIZE) -> dict[str, Any]:
    returned = max(0, min(take, total - skip)) if skip < total else 0
    returned = min(returned, count)
    total_pages = (total + take - 1) // take
    return {
        "totalItems": total,
        "remainingItems": max(0, total - skip - returned),
        "returnedItems": returned,
        "itemsPerPage": take,
        "currentPage": skip // take + 1,
        "totalPages": total_pages,
        "hasNextPage": skip + returned < total,
        "hasPreviousPage": skip > 0,
    }


def page_body(bookings: list[dict[str, Any]], skip: int, total: int) -> bytes:
    """One page exactly as the server sends it."""
    return orjson.dumps(
        {
            "status": "success",
            "data": bookings,
            "pagination": page_meta(skip, len(bookings), total),
            "error": {},
        }
    )


def single_body(b: dict[str, Any]) -> bytes:
    return orjson.dumps({"status": "success", "data": b, "error": {}})


def uid(i: int) -> str:
    return f"bk_{i:08d}_{(i * 2654435761) % 2**32:08x}"
