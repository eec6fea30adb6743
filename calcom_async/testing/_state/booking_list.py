"""The bookings list: its filters, sort keys and pages (the filtered, sorted list is kept while a
walk over many pages goes on)."""

from __future__ import annotations

from typing import Any

from ..._operation import AuthMode
from .._pages import paginate
from .._records import Booking, Ctx
from .._util import bad_request
from .core import StateCore

__all__ = ["BookingListState"]


class BookingListState(StateCore):
    """``bookings.list``."""

    def list_bookings(self, ctx: Ctx) -> dict[str, Any]:
        """Filter, sort, page. A walk over many pages reuses the filtered, sorted list (cached
        until a booking changes; with a status filter, for at most a second)."""
        query = tuple(
            sorted(
                (k, v) for k, v in ctx.query.items() if k not in ("take", "skip", "limit", "cursor")
            )
        )
        now = self.now()
        bucket = int(now) if ctx.q("status") else 0
        # a managed user's access token lists that user's bookings only (as Cal.com does)
        managed = self._managed_caller(ctx)
        key = (query, self.bookings_version, bucket, managed)
        items = self._list_cache.get(key)
        if items is None:
            items = self._filter_sort(ctx, now)
            if len(self._list_cache) >= 8:
                self._list_cache.clear()
            self._list_cache[key] = items
        return paginate(ctx, items, default_take=100)

    def _managed_caller(self, ctx: Ctx) -> int | None:
        """The managed user calling with an access token (None for any other caller)."""
        who = ctx.principal
        if who.kind != AuthMode.ACCESS_TOKEN.value or who.user_id is None:
            return None
        return who.user_id if self.users.get(who.user_id, {}).get("_managed_by") else None

    def _filter_sort(self, ctx: Ctx, now: float) -> list[dict[str, Any]]:
        items = list(self.bookings.values())
        managed = self._managed_caller(ctx)
        if managed is not None:
            items = [b for b in items if b.host_id == managed]
        statuses = set(ctx.q_list("status"))
        if statuses:
            items = [b for b in items if _status_matches(b, statuses, now)]
        if ctx.q("attendeeEmail"):
            email = str(ctx.q("attendeeEmail")).lower()
            items = [
                b for b in items if any(a["email"].lower() == email for a in b.data["attendees"])
            ]
        if ctx.q("attendeeName"):
            name = str(ctx.q("attendeeName")).lower()
            items = [
                b for b in items if any(name in a["name"].lower() for a in b.data["attendees"])
            ]
        if ctx.q("bookingUid"):
            items = [b for b in items if b.uid == ctx.q("bookingUid")]
        et_ids = {*ctx.q_ints("eventTypeIds"), *ctx.q_ints("eventTypeId")}
        if et_ids:
            items = [b for b in items if b.event_type_id in et_ids]
        team_ids = {*ctx.q_ints("teamsIds"), *ctx.q_ints("teamId")}
        if team_ids:
            items = [b for b in items if b.team_id in team_ids]
        for name, attr, op in (
            ("afterStart", "start", "ge"),
            ("beforeEnd", "end", "le"),
            ("afterCreatedAt", "created", "ge"),
            ("beforeCreatedAt", "created", "le"),
            ("afterUpdatedAt", "updated", "ge"),
            ("beforeUpdatedAt", "updated", "le"),
        ):
            bound = ctx.q_time(name)
            if bound is not None:  # compared in whole milliseconds, the API's precision
                edge = round(bound * 1000)
                # a null updatedAt matches no bound (SQL: NULL >= x is not true)
                items = [b for b in items if _within(getattr(b, attr), edge, op)]
        key_attr, reverse = "start", False
        for name, attr in (
            ("sortStart", "start"),
            ("sortEnd", "end"),
            ("sortCreated", "created"),
            ("sortUpdatedAt", "updated"),
        ):
            direction = ctx.q(name)
            if direction is not None:
                if direction not in ("asc", "desc"):
                    raise bad_request(f"{name} must be one of: asc, desc", [name])
                key_attr, reverse = attr, direction == "desc"
                break
        # ties in id order; a null updatedAt sorts as the largest value (PostgreSQL's default:
        # NULLS LAST ascending, NULLS FIRST descending), see ``_by``
        items.sort(key=lambda b: _by(getattr(b, key_attr), b.data["id"]), reverse=reverse)
        return [b.data for b in items]


def _status_matches(b: Booking, wanted: set[str], now: float) -> bool:
    status = b.status
    cancelled = status in ("cancelled", "rejected")
    for want in wanted:
        if want == "cancelled" and cancelled:
            return True
        if want == "upcoming" and not cancelled and b.end >= now and status == "accepted":
            return True
        if want == "unconfirmed" and status == "pending" and b.end >= now:
            return True
        if want == "past" and not cancelled and b.end < now:
            return True
        if want == "recurring" and b.recurring_uid and not cancelled and b.end >= now:
            return True
    return False


def _within(value: float | None, edge: int, op: str) -> bool:
    if value is None:
        return False
    millis = round(value * 1000)
    return millis >= edge if op == "ge" else millis <= edge


def _by(value: float | None, tie: int) -> tuple[bool, float, int]:
    """A sort key that puts None after every value (before every value in reverse)."""
    return (value is None, value or 0.0, tie)
