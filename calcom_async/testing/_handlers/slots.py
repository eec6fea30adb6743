"""Available slots and slot reservations."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .._pages import ok
from .._records import Ctx, Reservation
from .._state import FakeState
from .._state.availability import MAX_SLOT_DAYS
from .._util import ApiError, bad_request, iso, not_found, parse_time
from ._registry import Registry

handles = Registry()


# -- slots --------------------------------------------------------------------------------------


def _slot_event_type(store: FakeState, ctx: Ctx) -> int:
    if ctx.q("eventTypeId"):
        return store.find_event_type({"eventTypeId": ctx.q_int("eventTypeId", 0)})
    if ctx.q("eventTypeSlug"):
        return store.find_event_type(
            {
                "eventTypeSlug": ctx.q("eventTypeSlug"),
                "username": ctx.q("username"),
                "teamSlug": ctx.q("teamSlug"),
            }
        )
    raise bad_request(
        "Provide eventTypeId, or eventTypeSlug with username or teamSlug "
        "(dynamic events by usernames are not modelled by FakeCalCom)",
        ["eventTypeId should not be empty"],
    )


def _zone(ctx: Ctx) -> ZoneInfo:
    name = ctx.q("timeZone") or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise bad_request(f"Invalid time zone {name!r}", ["timeZone"]) from None


def _local(ts: float, zone: ZoneInfo) -> str:
    text = dt.datetime.fromtimestamp(ts, zone).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z") if str(zone) == "UTC" else text


@handles("slots.get_available")
def slots_get(store: FakeState, ctx: Ctx) -> Any:
    et_id = _slot_event_type(store, ctx)
    try:
        lo = parse_time(str(ctx.q("start")))
        hi = parse_time(str(ctx.q("end")), end_of_day=True)
    except ValueError:
        raise bad_request("start and end must be ISO 8601 date strings", ["start", "end"]) from None
    if hi < lo:
        raise bad_request("end must be after start", ["end"])
    if hi - lo > MAX_SLOT_DAYS * 86400:
        raise bad_request(f"The range between start and end may not exceed {MAX_SLOT_DAYS} days")
    zone = _zone(ctx)
    duration = ctx.q_int("duration", 0) or None
    ranged = ctx.q("format") == "range"
    out: dict[str, list[dict[str, str]]] = {}
    slots = store.free_slots(
        et_id, lo, hi, duration=duration, exclude=ctx.q("bookingUidToReschedule")
    )
    for start, end in slots:
        day = dt.datetime.fromtimestamp(start, zone).date().isoformat()
        item = {"start": _local(start, zone)}
        if ranged:
            item["end"] = _local(end, zone)
        out.setdefault(day, []).append(item)
    return ok(out)


def _reservation_out(r: Reservation) -> dict[str, Any]:
    return {
        "eventTypeId": r.event_type_id,
        "slotStart": iso(r.start),
        "slotEnd": iso(r.end),
        "slotDuration": r.duration,
        "reservationUid": r.uid,
        "reservationDuration": r.reservation_minutes,
        "reservationUntil": iso(r.until),
    }


def _reserve(store: FakeState, body: dict[str, Any], existing: Reservation | None) -> Reservation:
    et_id = store.find_event_type({"eventTypeId": body["eventTypeId"]})
    try:
        start = parse_time(str(body["slotStart"]))
    except ValueError:
        raise bad_request("slotStart must be an ISO 8601 date string", ["slotStart"]) from None
    length = int(body.get("slotDuration") or store.event_types[et_id]["lengthInMinutes"])
    minutes = int(body.get("reservationDuration") or 5)
    if existing is not None:
        store.reservations.pop(existing.uid, None)
    if not store.is_free(et_id, start, length):
        if existing is not None:
            store.reservations[existing.uid] = existing
        # the live API answers this one without its envelope: {"error": {"message": …}}
        raise ApiError(
            422,
            "UnprocessableEntityException",
            "Can't reserve a slot if the event is already booked or reserved",
            bare=True,
        )
    r = Reservation(
        existing.uid if existing else store.uid(36),
        et_id,
        start,
        start + length * 60,
        length,
        store.now() + minutes * 60,
        minutes,
    )
    store.reservations[r.uid] = r
    return r


def _get_reservation(store: FakeState, uid: str) -> Reservation:
    r = store.reservations.get(uid)
    if r is None or r.until <= store.now():
        store.reservations.pop(uid, None)
        raise not_found(f"Reserved slot with uid={uid} not found")
    return r


@handles("slots.reserve")
def slots_reserve(store: FakeState, ctx: Ctx) -> Any:
    return ok(_reservation_out(_reserve(store, ctx.body, None)))


@handles("slots.get_reserved")
def slots_get_reserved(store: FakeState, ctx: Ctx) -> Any:
    return ok(_reservation_out(_get_reservation(store, ctx.path["uid"])))


@handles("slots.update_reserved")
def slots_update_reserved(store: FakeState, ctx: Ctx) -> Any:
    existing = _get_reservation(store, ctx.path["uid"])
    return 200, ok(_reservation_out(_reserve(store, ctx.body, existing)))


@handles("slots.delete_reserved")
def slots_delete_reserved(store: FakeState, ctx: Ctx) -> Any:
    _get_reservation(store, ctx.path["uid"])
    del store.reservations[ctx.path["uid"]]
    return {"status": "success"}
