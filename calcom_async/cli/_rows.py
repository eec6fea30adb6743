"""The columns ``calcom`` writes of a booking (CSV, the database): a booking here is the JSON
object the server sent (``cal.bookings.sync().raw()``: every key it had, no model built)."""

from __future__ import annotations

from typing import Any

__all__ = ["COLUMNS", "columns"]

#: the CSV header and the database's typed columns (``data`` holds the whole booking)
COLUMNS = (
    "uid",
    "id",
    "title",
    "status",
    "start",
    "end",
    "duration",
    "event_type_id",
    "attendees",
    "created_at",
    "updated_at",
)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def columns(data: dict[str, Any]) -> tuple[Any, ...]:
    """The :data:`COLUMNS` of one booking (``attendees``: their e-mails, ``;``-separated)."""
    attendees = data.get("attendees")
    emails = (
        ";".join(str(a.get("email")) for a in attendees if isinstance(a, dict) and a.get("email"))
        if isinstance(attendees, list)
        else None
    )
    return (
        _text(data.get("uid")),
        _int(data.get("id")),
        _text(data.get("title")),
        _text(data.get("status")),
        _text(data.get("start")),
        _text(data.get("end")),
        _int(data.get("duration")),
        _int(data.get("eventTypeId")),
        emails,
        _text(data.get("createdAt")),
        _text(data.get("updatedAt")),
    )
