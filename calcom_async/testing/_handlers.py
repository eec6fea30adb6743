"""Handlers of the operations the fake models, registered by operation name."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ._state import (
    MAX_SLOT_DAYS,
    Ctx,
    Reservation,
    Store,
    Webhook,
    handles,
    ok,
)
from ._util import ApiError, bad_request, iso, not_found, parse_time

_UNAVAILABLE = "User either already has booking at this time or is not available"

# -- me -----------------------------------------------------------------------------------------


def _me(store: Store, user_id: int) -> dict[str, Any]:
    u = store.users[user_id]
    return {
        "id": user_id,
        "username": u["username"],
        "email": u["email"],
        "name": u["name"],
        "avatarUrl": u["avatarUrl"],
        "bio": u["bio"],
        "timeFormat": u["timeFormat"],
        "defaultScheduleId": u["defaultScheduleId"],
        "weekStart": u["weekStart"],
        "timeZone": u["timeZone"],
        "organizationId": store.org_id if u.get("_org") else None,
        "organization": {"isPlatform": False, "id": store.org_id} if u.get("_org") else None,
    }


@handles("me.get")
def me_get(store: Store, ctx: Ctx) -> Any:
    return ok(_me(store, ctx.user_id))


_USER_FIELDS = ("email", "name", "timeFormat", "weekStart", "timeZone", "locale", "avatarUrl")


def _update_user(store: Store, user_id: int, body: dict[str, Any]) -> None:
    user = store.users[user_id]
    for key in (*_USER_FIELDS, "bio", "metadata"):
        if key in body:
            user[key] = body[key]
    if "defaultScheduleId" in body:
        sid = int(body["defaultScheduleId"])
        if store.schedule_owner.get(sid) != user_id:
            raise bad_request(f"Schedule with id={sid} does not belong to the user")
        store._make_default(user_id, sid)


@handles("me.update")
def me_update(store: Store, ctx: Ctx) -> Any:
    _update_user(store, ctx.user_id, ctx.body or {})
    return 200, ok(_me(store, ctx.user_id))


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
def schedules_create(store: Store, ctx: Ctx) -> Any:
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
def schedules_list(store: Store, ctx: Ctx) -> Any:
    mine = [s for sid, s in store.schedules.items() if store.schedule_owner[sid] == ctx.user_id]
    return ok(mine)


@handles("schedules.get_default")
def schedules_default(store: Store, ctx: Ctx) -> Any:
    sid = store.users[ctx.user_id]["defaultScheduleId"]
    return ok(store.schedules.get(sid) if sid else None)


@handles("schedules.get")
def schedules_get(store: Store, ctx: Ctx) -> Any:
    return ok(store.own_schedule(ctx, ctx.pid("scheduleId")))


@handles("schedules.update")
def schedules_update(store: Store, ctx: Ctx) -> Any:
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
def schedules_delete(store: Store, ctx: Ctx) -> Any:
    schedule = store.own_schedule(ctx, ctx.pid("scheduleId"))
    del store.schedules[schedule["id"]]
    del store.schedule_owner[schedule["id"]]
    user = store.users[ctx.user_id]
    if user["defaultScheduleId"] == schedule["id"]:
        user["defaultScheduleId"] = None
    return {"status": "success"}


# -- event types --------------------------------------------------------------------------------


def _check_slug(store: Store, owner: int, slug: str, except_id: int | None = None) -> None:
    for et_id, et in store.event_types.items():
        if (
            et_id != except_id
            and store.event_type_owner[et_id] == owner
            and et_id not in store.event_type_team
            and et["slug"] == slug
        ):
            raise bad_request(f"User already has an event type with slug {slug!r}")


def _check_schedule(store: Store, owner: int, body: dict[str, Any]) -> None:
    sid = body.get("scheduleId")
    if sid is not None and store.schedule_owner.get(int(sid)) != owner:
        raise bad_request(f"Schedule with id={sid} does not belong to the user")


@handles("event_types.create")
def event_types_create(store: Store, ctx: Ctx) -> Any:
    body = ctx.body
    _check_slug(store, ctx.user_id, body["slug"])
    _check_schedule(store, ctx.user_id, body)
    return ok(store.add_event_type(ctx.user_id, body))


@handles("event_types.list")
def event_types_list(store: Store, ctx: Ctx) -> Any:
    username, slug = ctx.q("username"), ctx.q("eventSlug")
    usernames = set(ctx.q_list("usernames"))
    if username:
        usernames.add(username)
    out = []
    for et_id, et in store.event_types.items():
        if et_id in store.event_type_team:
            continue
        owner = store.users[store.event_type_owner[et_id]]
        if usernames:
            if owner["username"] not in usernames:
                continue
        elif ctx.principal.user_id is None or owner["id"] != ctx.principal.user_id:
            continue
        if slug and et["slug"] != slug:
            continue
        out.append(et)
    return ok(out)


@handles("event_types.get")
def event_types_get(store: Store, ctx: Ctx) -> Any:
    return ok(store.own_event_type(ctx, ctx.pid("eventTypeId")))


@handles("event_types.update")
def event_types_update(store: Store, ctx: Ctx) -> Any:
    et = store.own_event_type(ctx, ctx.pid("eventTypeId"))
    body = ctx.body or {}
    if "slug" in body:
        _check_slug(store, ctx.user_id, body["slug"], except_id=et["id"])
    _check_schedule(store, ctx.user_id, body)
    store._apply_event_type(et, body)
    return ok(et)


@handles("event_types.delete")
def event_types_delete(store: Store, ctx: Ctx) -> Any:
    et = store.own_event_type(ctx, ctx.pid("eventTypeId"))
    del store.event_types[et["id"]]
    del store.event_type_owner[et["id"]]
    for hook_id in [
        h for h, w in store.webhooks.items() if w.scope == "event_type" and w.owner == et["id"]
    ]:
        del store.webhooks[hook_id]
    return ok({k: et[k] for k in ("id", "lengthInMinutes", "title", "slug")})


# -- team event types ---------------------------------------------------------------------------


def _team_event_type(store: Store, ctx: Ctx) -> dict[str, Any]:
    store.team(ctx, ctx.pid("teamId"))
    et_id = ctx.pid("eventTypeId")
    if store.event_type_team.get(et_id) != ctx.pid("teamId"):
        raise not_found(f"Event type with id={et_id} not found")
    return store.event_types[et_id]


@handles("teams.event_types.create")
def team_event_types_create(store: Store, ctx: Ctx) -> Any:
    store.team(ctx, ctx.pid("teamId"))
    return ok(store.add_event_type(ctx.user_id, ctx.body, team_id=ctx.pid("teamId")))


@handles("teams.event_types.list")
def team_event_types_list(store: Store, ctx: Ctx) -> Any:
    team_id = ctx.pid("teamId")
    if team_id not in store.teams:
        raise not_found(f"Team with id={team_id} not found")
    slug = ctx.q("eventSlug")
    return ok(
        [
            store.event_types[et_id]
            for et_id, t in store.event_type_team.items()
            if t == team_id and (not slug or store.event_types[et_id]["slug"] == slug)
        ]
    )


@handles("teams.event_types.get")
def team_event_types_get(store: Store, ctx: Ctx) -> Any:
    return ok(_team_event_type(store, ctx))


@handles("teams.event_types.update")
def team_event_types_update(store: Store, ctx: Ctx) -> Any:
    et = _team_event_type(store, ctx)
    store._apply_event_type(et, ctx.body or {})
    return ok(et)


@handles("teams.event_types.delete")
def team_event_types_delete(store: Store, ctx: Ctx) -> Any:
    et = _team_event_type(store, ctx)
    del store.event_types[et["id"]]
    del store.event_type_owner[et["id"]]
    del store.event_type_team[et["id"]]
    return ok({"id": et["id"], "title": et["title"]})


# -- slots --------------------------------------------------------------------------------------


def _slot_event_type(store: Store, ctx: Ctx) -> int:
    if ctx.q("eventTypeId"):
        try:
            return store.find_event_type({"eventTypeId": int(str(ctx.q("eventTypeId")))})
        except ValueError:
            raise bad_request("eventTypeId must be a number", ["eventTypeId"]) from None
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
def slots_get(store: Store, ctx: Ctx) -> Any:
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


def _reserve(store: Store, body: dict[str, Any], existing: Reservation | None) -> Reservation:
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


def _get_reservation(store: Store, uid: str) -> Reservation:
    r = store.reservations.get(uid)
    if r is None or r.until <= store.now():
        store.reservations.pop(uid, None)
        raise not_found(f"Reserved slot with uid={uid} not found")
    return r


@handles("slots.reserve")
def slots_reserve(store: Store, ctx: Ctx) -> Any:
    return ok(_reservation_out(_reserve(store, ctx.body, None)))


@handles("slots.get_reserved")
def slots_get_reserved(store: Store, ctx: Ctx) -> Any:
    return ok(_reservation_out(_get_reservation(store, ctx.path["uid"])))


@handles("slots.update_reserved")
def slots_update_reserved(store: Store, ctx: Ctx) -> Any:
    existing = _get_reservation(store, ctx.path["uid"])
    return 200, ok(_reservation_out(_reserve(store, ctx.body, existing)))


@handles("slots.delete_reserved")
def slots_delete_reserved(store: Store, ctx: Ctx) -> Any:
    _get_reservation(store, ctx.path["uid"])
    del store.reservations[ctx.path["uid"]]
    return {"status": "success"}


# -- bookings -----------------------------------------------------------------------------------


def _parse_start(value: Any) -> float:
    try:
        return parse_time(str(value))
    except ValueError:
        raise bad_request("start must be a valid ISO 8601 date string in UTC", ["start"]) from None


@handles("bookings.create")
def bookings_create(store: Store, ctx: Ctx) -> Any:
    body = ctx.body
    et_id = store.find_event_type(body)
    et = store.event_types[et_id]
    start = _parse_start(body["start"])
    length = int(body.get("lengthInMinutes") or et["lengthInMinutes"])
    a = body["attendee"]
    if not a.get("timeZone"):
        raise bad_request("attendee.timeZone should not be empty", ["attendee.timeZone"])
    attendee = {
        "name": a.get("name") or a.get("email", "Guest"),
        "email": a.get("email") or f"{a.get('phoneNumber', 'guest')}@sms.cal.com",
        "timeZone": a["timeZone"],
        "language": a.get("language") or "en",
        "absent": False,
    }
    if a.get("phoneNumber"):
        attendee["phoneNumber"] = a["phoneNumber"]
    guests = [str(g) for g in body.get("guests") or []]
    fields: dict[str, Any] = {
        "guests": guests,
        "metadata": dict(body.get("metadata") or {}),
        "location": _location(body.get("location")),
        "responses": {"name": attendee["name"], "email": attendee["email"], "guests": guests}
        | dict(body.get("bookingFieldsResponses") or {}),
    }
    client_id = ctx.principal.client_id
    if body.get("instant"):
        if et_id not in store.event_type_team or not et.get("isInstantEvent"):
            raise bad_request(
                "Instant bookings are only possible for team event types that allow them"
            )
        booking = store.add_booking(
            et_id, start, [attendee], length=length, client_id=client_id, **fields
        )
        store.emit("INSTANT_MEETING", booking)
        store.emit("BOOKING_CREATED", booking)
        return ok(booking.data)
    if start < store.now():
        raise bad_request("Attempting to book a meeting in the past.")
    recurrence = et.get("recurrence")
    starts = [start]
    if recurrence:
        count = int(body.get("recurrenceCount") or recurrence["occurrences"])
        count = max(1, min(count, int(recurrence["occurrences"])))
        starts = _recurring_starts(start, recurrence, count)
    for when in starts:
        if not store.is_free(et_id, when, length):
            raise bad_request(_UNAVAILABLE)
    pending = store.requires_confirmation(et)
    status = "pending" if pending else "accepted"
    trigger = "BOOKING_REQUESTED" if pending else "BOOKING_CREATED"
    if not recurrence:
        booking = store.add_booking(
            et_id, start, [attendee], length=length, status=status, client_id=client_id, **fields
        )
        store.emit(trigger, booking)
        return ok(booking.data)
    series = store.uid()
    rows = [
        store.add_booking(
            et_id,
            when,
            [dict(attendee)],
            length=length,
            status=status,
            recurring_uid=series,
            client_id=client_id,
            **fields,
        )
        for when in starts
    ]
    store.emit(trigger, rows[0])
    return ok([b.data for b in rows])


def _location(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ("address", "link", "phone", "integration", "type"):
            if value.get(key):
                return str(value[key])
    return None


def _recurring_starts(start: float, recurrence: dict[str, Any], count: int) -> list[float]:
    interval = int(recurrence.get("interval") or 1)
    frequency = recurrence.get("frequency", "weekly")
    first = dt.datetime.fromtimestamp(start, dt.UTC)
    out = []
    for i in range(count):
        if frequency == "weekly":
            when = first + dt.timedelta(weeks=interval * i)
        else:
            months = interval * i * (12 if frequency == "yearly" else 1)
            year, month = divmod(first.month - 1 + months, 12)
            when = first.replace(year=first.year + year, month=month + 1, day=min(first.day, 28))
        out.append(when.timestamp())
    return out


@handles("bookings.list")
def bookings_list(store: Store, ctx: Ctx) -> Any:
    return store.list_bookings(ctx)


@handles("bookings.get")
def bookings_get(store: Store, ctx: Ctx) -> Any:
    uid = ctx.path["bookingUid"]
    series = [b.data for b in store.bookings.values() if b.recurring_uid == uid]
    if series and uid not in store.bookings:
        return ok(sorted(series, key=lambda d: d["start"]))
    return ok(store.get_booking(uid).data)


@handles("bookings.cancel")
def bookings_cancel(store: Store, ctx: Ctx) -> Any:
    uid = ctx.path["bookingUid"]
    body = ctx.body or {}
    series = sorted(
        (b for b in store.bookings.values() if b.recurring_uid == uid), key=lambda b: b.start
    )
    if series and uid not in store.bookings:
        targets = [b for b in series if b.status in ("accepted", "pending")]
    else:
        booking = store.get_booking(uid)
        if booking.status in ("cancelled", "rejected"):
            raise bad_request("This booking has already been cancelled.")
        targets = [booking]
        if body.get("cancelSubsequentBookings") and booking.recurring_uid:
            targets += [
                b
                for b in store.bookings.values()
                if b.recurring_uid == booking.recurring_uid
                and b.start > booking.start
                and b.status in ("accepted", "pending")
            ]
    for b in targets:
        b.data["status"] = "cancelled"
        if body.get("cancellationReason"):
            b.data["cancellationReason"] = body["cancellationReason"]
        b.data["cancelledByEmail"] = store.users[store.owner_id]["email"]
        store.touch(b)
    if targets:
        store.emit(
            "BOOKING_CANCELLED",
            targets[0],
            cancellationReason=body.get("cancellationReason", ""),
            cancelledBy=targets[0].data["cancelledByEmail"],
        )
    if series and uid not in store.bookings:
        return 200, ok([b.data for b in series])
    return 200, ok(targets[0].data)


@handles("bookings.reschedule")
def bookings_reschedule(store: Store, ctx: Ctx) -> Any:
    old = store.get_booking(ctx.path["bookingUid"])
    if old.status in ("cancelled", "rejected"):
        raise bad_request("Can't reschedule a booking that has been cancelled or rejected.")
    body = ctx.body
    start = _parse_start(body["start"])
    length = old.data["duration"]
    if start < store.now():
        raise bad_request("Attempting to book a meeting in the past.")
    if not store.is_free(old.event_type_id, start, length, exclude=old.uid):
        raise bad_request(_UNAVAILABLE)
    new = store.add_booking(
        old.event_type_id,
        start,
        [dict(a) for a in old.data["attendees"]],
        length=length,
        status=old.status,
        host_id=old.host_id,
        recurring_uid=old.recurring_uid,
        client_id=old.client_id,
        guests=list(old.data.get("guests", [])),
        location=old.data["location"],
        metadata=dict(old.data.get("metadata", {})),
        responses=dict(old.data["bookingFieldsResponses"]),
    )
    new.data["rescheduledFromUid"] = old.uid
    if body.get("reschedulingReason"):
        new.data["reschedulingReason"] = body["reschedulingReason"]
    if body.get("rescheduledBy"):
        new.data["rescheduledByEmail"] = body["rescheduledBy"]
    old.data["status"] = "cancelled"
    old.data["rescheduledToUid"] = new.uid
    if body.get("reschedulingReason"):
        old.data["reschedulingReason"] = body["reschedulingReason"]
    if body.get("rescheduledBy"):
        old.data["rescheduledByEmail"] = body["rescheduledBy"]
    store.touch(old)
    store.emit(
        "BOOKING_RESCHEDULED",
        new,
        rescheduleUid=old.uid,
        rescheduleId=old.data["id"],
        rescheduleStartTime=old.data["start"],
        rescheduleEndTime=old.data["end"],
        rescheduledBy=body.get("rescheduledBy"),
    )
    return ok(new.data)


def _pending(store: Store, uid: str) -> Any:
    booking = store.get_booking(uid)
    if booking.status != "pending":
        raise bad_request(f"Booking with uid={uid} is not pending (status: {booking.status})")
    return booking


@handles("bookings.confirm")
def bookings_confirm(store: Store, ctx: Ctx) -> Any:
    booking = _pending(store, ctx.path["bookingUid"])
    booking.data["status"] = "accepted"
    store.touch(booking)
    store.emit("BOOKING_CREATED", booking)
    return 200, ok(booking.data)


@handles("bookings.decline")
def bookings_decline(store: Store, ctx: Ctx) -> Any:
    booking = _pending(store, ctx.path["bookingUid"])
    reason = (ctx.body or {}).get("reason")
    booking.data["status"] = "rejected"
    if reason:
        booking.data["cancellationReason"] = reason
    store.touch(booking)
    store.emit("BOOKING_REJECTED", booking, rejectionReason=reason)
    return 200, ok(booking.data)


@handles("bookings.mark_absent")
def bookings_mark_absent(store: Store, ctx: Ctx) -> Any:
    booking = store.get_booking(ctx.path["bookingUid"])
    body = ctx.body or {}
    if booking.start > store.now():
        raise bad_request("Can't mark absent a booking that has not started yet.")
    if "host" in body:
        booking.data["absentHost"] = bool(body["host"])
    emails = {a["email"]: a for a in booking.data["attendees"]}
    for item in body.get("attendees") or []:
        attendee = emails.get(item.get("email"))
        if attendee is None:
            raise bad_request(f"Attendee with email {item.get('email')!r} is not in this booking")
        attendee["absent"] = bool(item.get("absent"))
    store.touch(booking)
    store.emit("BOOKING_NO_SHOW_UPDATED", booking)
    return 200, ok(booking.data)


# -- webhooks -----------------------------------------------------------------------------------


def _scope(store: Store, ctx: Ctx) -> tuple[str, Any]:
    op = ctx.op.name
    if op.startswith("event_types.webhooks"):
        store.own_event_type(ctx, ctx.pid("eventTypeId"))
        return "event_type", ctx.pid("eventTypeId")
    if op.startswith("oauth_clients.webhooks"):
        _own_client(ctx)
        return "oauth_client", ctx.path["clientId"]
    if op.startswith("organizations.webhooks"):
        _own_org(store, ctx)
        return "org", ctx.pid("orgId")
    return "user", ctx.user_id


def _hooks(store: Store, scope: tuple[str, Any]) -> list[Webhook]:
    return [w for w in store.webhooks.values() if (w.scope, w.owner) == scope]


def _hook(store: Store, ctx: Ctx, scope: tuple[str, Any]) -> Webhook:
    hook_id = str(ctx.path["webhookId"])
    hook = store.webhooks.get(hook_id)
    if hook is None or (hook.scope, hook.owner) != scope:
        raise not_found(f"Webhook with id={hook_id} not found")
    return hook


_WEBHOOK_FIELDS = ("payloadTemplate", "active", "subscriberUrl", "triggers", "secret")


@handles(
    "webhooks.create",
    "event_types.webhooks.create",
    "oauth_clients.webhooks.create",
    "organizations.webhooks.create",
)
def webhooks_create(store: Store, ctx: Ctx) -> Any:
    scope = _scope(store, ctx)
    body = ctx.body
    if any(w.data["subscriberUrl"] == body["subscriberUrl"] for w in _hooks(store, scope)):
        raise ApiError(409, "ConflictException", "Webhook with this subscriber url already exists")
    # as the live API: a UUID id, null for what was not set, time/timeUnit/version undeclared
    data: dict[str, Any] = {
        "id": str(uuid.UUID(int=store.rng.getrandbits(128), version=4)),
        "payloadTemplate": None,
        "secret": None,
        "time": None,
        "timeUnit": None,
        "version": "2021-10-20",
    }
    data.update({k: body[k] for k in _WEBHOOK_FIELDS if k in body and body[k] is not None})
    hook = Webhook(data, *scope)
    store.webhooks[data["id"]] = hook
    return ok(hook.out())


@handles(
    "webhooks.list",
    "event_types.webhooks.list",
    "oauth_clients.webhooks.list",
    "organizations.webhooks.list",
)
def webhooks_list(store: Store, ctx: Ctx) -> Any:
    hooks = [w.out() for w in _hooks(store, _scope(store, ctx))]
    take, skip = ctx.q_int("take", 250), ctx.q_int("skip", 0)
    return ok(hooks[skip : skip + take])


@handles(
    "webhooks.get",
    "event_types.webhooks.get",
    "oauth_clients.webhooks.get",
    "organizations.webhooks.get",
)
def webhooks_get(store: Store, ctx: Ctx) -> Any:
    return ok(_hook(store, ctx, _scope(store, ctx)).out())


@handles(
    "webhooks.update",
    "event_types.webhooks.update",
    "oauth_clients.webhooks.update",
    "organizations.webhooks.update",
)
def webhooks_update(store: Store, ctx: Ctx) -> Any:
    hook = _hook(store, ctx, _scope(store, ctx))
    body = ctx.body or {}
    hook.data.update({k: body[k] for k in _WEBHOOK_FIELDS if k in body and body[k] is not None})
    return ok(hook.out())


@handles(
    "webhooks.delete",
    "event_types.webhooks.delete",
    "oauth_clients.webhooks.delete",
    "organizations.webhooks.delete",
)
def webhooks_delete(store: Store, ctx: Ctx) -> Any:
    hook = _hook(store, ctx, _scope(store, ctx))
    del store.webhooks[hook.data["id"]]
    return ok(hook.out())


@handles("event_types.webhooks.delete_all", "oauth_clients.webhooks.delete_all")
def webhooks_delete_all(store: Store, ctx: Ctx) -> Any:
    hooks = _hooks(store, _scope(store, ctx))
    for hook in hooks:
        del store.webhooks[hook.data["id"]]
    return ok(f"{len(hooks)} webhooks deleted")


# -- teams and memberships ----------------------------------------------------------------------

_TEAM_FIELDS = (
    "name",
    "slug",
    "logoUrl",
    "calVideoLogo",
    "appLogo",
    "appIconLogo",
    "bio",
    "hideBranding",
    "isPrivate",
    "hideBookATeamMember",
    "metadata",
    "theme",
    "brandColor",
    "darkBrandColor",
    "bannerUrl",
    "timeFormat",
    "timeZone",
    "weekStart",
)


@handles("teams.create")
def teams_create(store: Store, ctx: Ctx) -> Any:
    body = ctx.body
    slug = body.get("slug")
    if slug and any(t.get("slug") == slug for t in store.teams.values()):
        raise ApiError(409, "ConflictException", f"Team with slug {slug!r} already exists")
    fields = {k: body[k] for k in _TEAM_FIELDS if k in body and k != "name"}
    return ok(store.add_team(body["name"], ctx.user_id, **fields))


@handles("teams.list")
def teams_list(store: Store, ctx: Ctx) -> Any:
    mine = {m["teamId"] for m in store.memberships.values() if m["userId"] == ctx.user_id}
    return ok([t for tid, t in store.teams.items() if tid in mine])


@handles("teams.get")
def teams_get(store: Store, ctx: Ctx) -> Any:
    return ok(store.team(ctx, ctx.pid("teamId")))


@handles("teams.update")
def teams_update(store: Store, ctx: Ctx) -> Any:
    team = store.team(ctx, ctx.pid("teamId"))
    body = ctx.body or {}
    team.update({k: body[k] for k in _TEAM_FIELDS if k in body})
    return ok(team)


@handles("teams.delete")
def teams_delete(store: Store, ctx: Ctx) -> Any:
    team = store.team(ctx, ctx.pid("teamId"))
    del store.teams[team["id"]]
    for mid in [m for m, v in store.memberships.items() if v["teamId"] == team["id"]]:
        del store.memberships[mid]
    return ok(team)


def _membership(store: Store, ctx: Ctx) -> dict[str, Any]:
    store.team(ctx, ctx.pid("teamId"))
    m = store.memberships.get(ctx.pid("membershipId"))
    if m is None or m["teamId"] != ctx.pid("teamId"):
        raise not_found(f"Membership with id={ctx.path['membershipId']} not found")
    return m


@handles("teams.memberships.create")
def memberships_create(store: Store, ctx: Ctx) -> Any:
    team_id = ctx.pid("teamId")
    store.team(ctx, team_id)
    body = ctx.body
    user_id = int(body["userId"])
    if user_id not in store.users:
        raise not_found(f"User with id={user_id} not found")
    if any(m["teamId"] == team_id and m["userId"] == user_id for m in store.memberships.values()):
        raise ApiError(409, "ConflictException", "User is already a member of this team")
    m = store.add_membership(
        team_id, user_id, body.get("role", "MEMBER"), accepted=bool(body.get("accepted", False))
    )
    m["disableImpersonation"] = bool(body.get("disableImpersonation", False))
    return ok(m)


@handles("teams.memberships.list")
def memberships_list(store: Store, ctx: Ctx) -> Any:
    team_id = ctx.pid("teamId")
    store.team(ctx, team_id)
    items = [m for m in store.memberships.values() if m["teamId"] == team_id]
    take, skip = ctx.q_int("take", 250), ctx.q_int("skip", 0)
    return ok(items[skip : skip + take])


@handles("teams.memberships.get")
def memberships_get(store: Store, ctx: Ctx) -> Any:
    return ok(_membership(store, ctx))


@handles("teams.memberships.update")
def memberships_update(store: Store, ctx: Ctx) -> Any:
    m = _membership(store, ctx)
    body = ctx.body or {}
    for key in ("accepted", "role", "disableImpersonation"):
        if key in body:
            m[key] = body[key]
    return ok(m)


@handles("teams.memberships.delete")
def memberships_delete(store: Store, ctx: Ctx) -> Any:
    m = _membership(store, ctx)
    del store.memberships[m["id"]]
    return ok(m)


# -- organizations' users -----------------------------------------------------------------------


def _own_org(store: Store, ctx: Ctx) -> None:
    if ctx.pid("orgId") != store.org_id:
        raise ApiError(403, "ForbiddenException", "You are not a member of this organization")


def _org_user_id(store: Store, ctx: Ctx) -> int:
    _own_org(store, ctx)
    user_id = ctx.pid("userId")
    if user_id not in store.users or not store.users[user_id].get("_org"):
        raise not_found(f"User with id={user_id} not found in the organization")
    return int(user_id)


@handles("organizations.users.list")
def org_users_list(store: Store, ctx: Ctx) -> Any:
    _own_org(store, ctx)
    emails = {e.lower() for e in ctx.q_list("emails")}
    users = [
        store.org_user(uid)
        for uid, u in store.users.items()
        if u.get("_org") and (not emails or u["email"].lower() in emails)
    ]
    take, skip = ctx.q_int("take", 250), ctx.q_int("skip", 0)
    return ok(users[skip : skip + take])


@handles("organizations.users.create")
def org_users_create(store: Store, ctx: Ctx) -> Any:
    _own_org(store, ctx)
    body = ctx.body
    email = str(body["email"])
    if any(u["email"].lower() == email.lower() for u in store.users.values()):
        raise ApiError(409, "ConflictException", f"User with email {email} already exists")
    name = body.get("name") or email.split("@")[0]
    user_id = store.add_user(
        name, email, _check_zone(body.get("timeZone") or "UTC"), username=body.get("username")
    )
    _update_user(
        store, user_id, {k: v for k, v in body.items() if k in ("bio", "metadata", "locale")}
    )
    return ok(store.org_user(user_id))


@handles("organizations.users.update")
def org_users_update(store: Store, ctx: Ctx) -> Any:
    user_id = _org_user_id(store, ctx)
    body = dict(ctx.body or {})
    if "username" in body:
        store.users[user_id]["username"] = body.pop("username")
    _update_user(store, user_id, body)
    return ok(store.org_user(user_id))


@handles("organizations.users.delete")
def org_users_delete(store: Store, ctx: Ctx) -> Any:
    user_id = _org_user_id(store, ctx)
    if user_id == store.owner_id:
        raise bad_request("The organization owner cannot be deleted")
    out = store.org_user(user_id)
    del store.users[user_id]
    return ok(out)


# -- managed users and their tokens -------------------------------------------------------------


def _own_client(ctx: Ctx) -> None:
    if ctx.principal.client_id != ctx.path["clientId"]:
        raise ApiError(
            403, "ForbiddenException", "These credentials do not belong to this OAuth client"
        )


def _managed_user(store: Store, ctx: Ctx) -> int:
    _own_client(ctx)
    user_id = ctx.pid("userId")
    user = store.users.get(user_id)
    if user is None or user.get("_managed_by") != ctx.path["clientId"]:
        raise not_found(f"User with id={user_id} not found")
    return int(user_id)


@handles("managed_users.list")
def managed_users_list(store: Store, ctx: Ctx) -> Any:
    _own_client(ctx)
    emails = {e.lower() for e in ctx.q_list("emails")}
    users = [
        store.public_user(uid)
        for uid, u in store.users.items()
        if u.get("_managed_by") == ctx.path["clientId"]
        and (not emails or u["email"].lower() in emails)
    ]
    limit, offset = ctx.q_int("limit", 250), ctx.q_int("offset", 0)
    return ok(users[offset : offset + limit])


@handles("managed_users.create")
def managed_users_create(store: Store, ctx: Ctx) -> Any:
    _own_client(ctx)
    body = ctx.body
    client_id = ctx.path["clientId"]
    local, _, domain = str(body["email"]).partition("@")
    if not domain:
        raise bad_request("email must be an email", ["email must be an email"])
    full = f"{local}+{client_id}@{domain}"
    if any(u["email"] == full for u in store.users.values()):
        raise ApiError(409, "ConflictException", f"User with email {body['email']} already exists")
    user_id = store.add_managed_user(
        client_id, body["name"], body["email"], _check_zone(body.get("timeZone") or "UTC")
    )
    _update_user(store, user_id, {k: v for k, v in body.items() if k not in ("email", "name")})
    return ok({"user": store.public_user(user_id), **store.issue_tokens(user_id, client_id)})


@handles("managed_users.get")
def managed_users_get(store: Store, ctx: Ctx) -> Any:
    return ok(store.public_user(_managed_user(store, ctx)))


@handles("managed_users.update")
def managed_users_update(store: Store, ctx: Ctx) -> Any:
    user_id = _managed_user(store, ctx)
    _update_user(store, user_id, ctx.body or {})
    return ok(store.public_user(user_id))


@handles("managed_users.delete")
def managed_users_delete(store: Store, ctx: Ctx) -> Any:
    user_id = _managed_user(store, ctx)
    out = store.public_user(user_id)
    del store.users[user_id]
    for table in (store.access_tokens, store.refresh_tokens):
        for key in [k for k, t in table.items() if t.user_id == user_id]:
            del table[key]
    return ok(out)


@handles("managed_users.force_refresh")
def managed_users_force_refresh(store: Store, ctx: Ctx) -> Any:
    user_id = _managed_user(store, ctx)
    return 200, ok(store.issue_tokens(user_id, ctx.path["clientId"]))


@handles("managed_users.refresh_tokens")
def managed_users_refresh(store: Store, ctx: Ctx) -> Any:
    _own_client(ctx)
    token = store.refresh_tokens.get(str(ctx.body["refreshToken"]))
    if token is None or token.client_id != ctx.path["clientId"]:
        raise ApiError(401, "UnauthorizedException", "Invalid Refresh Token")
    if token.expires <= store.now():
        raise ApiError(401, "UnauthorizedException", "REFRESH_TOKEN_IS_EXPIRED")
    return 200, ok(store.issue_tokens(token.user_id, token.client_id))
