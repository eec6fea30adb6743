"""Schedules (availability)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .._pages import ok
from .._records import Ctx
from .._state import FakeState
from .._util import bad_request
from ._registry import Registry

handles = Registry()


# -- schedules ----------------------------------------------------------------------------------


def _check_zone(tz: Any) -> str:
    try:
        ZoneInfo(str(tz))
    except (ZoneInfoNotFoundError, ValueError):
        raise bad_request(
            f"Invalid time zone {tz!r}", ["timeZone must be a valid IANA time zone"]
        ) from None
    return str(tz)


@handles("schedules.create")
def schedules_create(store: FakeState, ctx: Ctx) -> Any:
    body = ctx.body
    schedule = store.add_schedule(
        ctx.user_id,
        body["name"],
        _check_zone(body["timeZone"]),
        default=bool(body.get("isDefault")),
        availability=body.get("availability"),
        overrides=body.get("overrides"),
    )
    return ok(schedule)


@handles("schedules.list")
def schedules_list(store: FakeState, ctx: Ctx) -> Any:
    mine = [s for sid, s in store.schedules.items() if store.schedule_owner[sid] == ctx.user_id]
    return ok(mine)


@handles("schedules.get_default")
def schedules_default(store: FakeState, ctx: Ctx) -> Any:
    sid = store.users[ctx.user_id]["defaultScheduleId"]
    return ok(store.schedules.get(sid) if sid else None)


@handles("schedules.get")
def schedules_get(store: FakeState, ctx: Ctx) -> Any:
    return ok(store.own_schedule(ctx, ctx.pid("scheduleId")))


@handles("schedules.update")
def schedules_update(store: FakeState, ctx: Ctx) -> Any:
    schedule = store.own_schedule(ctx, ctx.pid("scheduleId"))
    body = ctx.body or {}
    if "timeZone" in body:
        body["timeZone"] = _check_zone(body["timeZone"])
    for key in ("name", "timeZone", "availability", "overrides"):
        if key in body:
            schedule[key] = body[key]
    if body.get("isDefault"):
        store._make_default(ctx.user_id, schedule["id"])
    return ok(schedule)


@handles("schedules.delete")
def schedules_delete(store: FakeState, ctx: Ctx) -> Any:
    schedule = store.own_schedule(ctx, ctx.pid("scheduleId"))
    del store.schedules[schedule["id"]]
    del store.schedule_owner[schedule["id"]]
    user = store.users[ctx.user_id]
    if user["defaultScheduleId"] == schedule["id"]:
        user["defaultScheduleId"] = None
    return {"status": "success"}
