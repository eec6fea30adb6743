"""The fake's state (:class:`FakeState`: users, event types, bookings, webhooks, teams, tokens)
and what a handler is given (:class:`Ctx`). The handlers are in ``_handlers/``, one module per
domain.
"""

from __future__ import annotations

import datetime as dt
import random
import string
from collections.abc import Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from .._operation import AuthMode
from ._pages import paginate
from ._records import Booking, Ctx, Principal, Reservation, Token, Webhook
from ._util import ApiError, bad_request, iso, ms, not_found, slugify

__all__ = ["Ctx", "FakeState", "Principal"]

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
BUSY_STATUSES = frozenset({"accepted", "pending"})
MAX_SLOT_DAYS = 62
_UID_ALPHABET = string.ascii_letters + string.digits
WebhookSink = Callable[[dict[str, Any], str, dict[str, Any], str], None]


class FakeState:
    """All the fake's data, in memory."""

    def __init__(
        self,
        *,
        now: Callable[[], float],
        api_key: str,
        client_id: str,
        client_secret: str,
        access_token_ttl: float,
        refresh_token_ttl: float,
        seed: int = 0,
    ) -> None:
        self.now = now
        self.rng = random.Random(seed)
        self.api_keys = {api_key: 1}
        self.clients: dict[str, dict[str, Any]] = {
            client_id: {"id": client_id, "secret": client_secret, "organizationId": 1}
        }
        self.access_token_ttl = access_token_ttl
        self.refresh_token_ttl = refresh_token_ttl
        self.access_tokens: dict[str, Token] = {}
        self.refresh_tokens: dict[str, Token] = {}
        self.on_event: WebhookSink | None = None
        self.org_id = 1
        self._ids: dict[str, int] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.schedules: dict[int, dict[str, Any]] = {}
        self.schedule_owner: dict[int, int] = {}
        self.event_types: dict[int, dict[str, Any]] = {}
        self.event_type_owner: dict[int, int] = {}
        self.event_type_team: dict[int, int] = {}
        self.bookings: dict[str, Booking] = {}
        self.bookings_version = 0  #: bumped by every change of a booking (list cache key)
        self._list_cache: dict[Any, list[dict[str, Any]]] = {}
        self.reservations: dict[str, Reservation] = {}
        self.webhooks: dict[str, Webhook] = {}
        self.teams: dict[int, dict[str, Any]] = {}
        self.memberships: dict[int, dict[str, Any]] = {}
        self.owner_id = self.add_user(
            "Frankie Owner", "owner@fakecal.example", "Europe/Amsterdam", username="frankie"
        )

    # -- ids, users ----------------------------------------------------------------------------

    def next_id(self, kind: str) -> int:
        self._ids[kind] = self._ids.get(kind, 0) + 1
        return self._ids[kind]

    def uid(self, n: int = 22) -> str:
        return "".join(self.rng.choice(_UID_ALPHABET) for _ in range(n))

    def add_user(
        self,
        name: str,
        email: str,
        tz: str,
        *,
        username: str | None = None,
        managed_by: str | None = None,
        org: bool = True,
        **extra: Any,
    ) -> int:
        user_id = self.next_id("user")
        self.users[user_id] = {
            "id": user_id,
            "email": email,
            "username": username or slugify(name) + f"-{user_id}",
            "name": name,
            "bio": "",
            "timeZone": tz,
            "weekStart": "Monday",
            "createdDate": iso(self.now() - 400 * 86400),
            "timeFormat": 24,
            "defaultScheduleId": None,
            "locale": "en",
            "avatarUrl": None,
            "metadata": {},
            "_managed_by": managed_by,
            "_org": org,
            **extra,
        }
        self.add_schedule(user_id, "Working hours", tz, default=True)
        return user_id

    def event_type_user(self, user_id: int) -> dict[str, Any]:
        """A user as the live API lists it among an event type's ``users``."""
        u = self.users[user_id]
        return {
            "id": user_id,
            "name": u["name"],
            "username": u["username"],
            "avatarUrl": u["avatarUrl"],
            "weekStart": u["weekStart"],
            "brandColor": None,
            "darkBrandColor": None,
            "metadata": u["metadata"],
        }

    def public_user(self, user_id: int) -> dict[str, Any]:
        return {k: v for k, v in self.users[user_id].items() if not k.startswith("_")}

    def user(self, user_id: int) -> dict[str, Any]:
        """A user, or a stand-in for one deleted since (bookings keep their host)."""
        return self.users.get(user_id) or {
            "id": user_id,
            "name": "Deleted user",
            "email": f"deleted-{user_id}@example.com",
            "username": f"deleted-{user_id}",
            "timeZone": "UTC",
            "timeFormat": 24,
        }

    def host(self, user_id: int) -> dict[str, Any]:
        u = self.user(user_id)
        return {
            "id": user_id,
            "name": u["name"],
            "email": u["email"],
            "displayEmail": u["email"],
            "username": u["username"],
            "timeZone": u["timeZone"],
        }

    # -- auth ----------------------------------------------------------------------------------

    def principals(
        self, authorization: str | None, client_id: str | None, secret: str | None
    ) -> tuple[list[Principal], list[ApiError]]:
        found: list[Principal] = []
        errors: list[ApiError] = []
        if authorization:
            scheme, _, token = authorization.partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not token:
                errors.append(ApiError(401, "UnauthorizedException", "Invalid Authorization"))
            elif token in self.api_keys:
                found.append(
                    Principal(AuthMode.API_KEY.value, "key:" + token[-8:], self.api_keys[token])
                )
            elif token in self.access_tokens:
                access = self.access_tokens[token]
                if access.expires <= self.now():
                    errors.append(ApiError(401, "UnauthorizedException", "ACCESS_TOKEN_IS_EXPIRED"))
                else:
                    found.append(
                        Principal(
                            AuthMode.ACCESS_TOKEN.value,
                            f"user:{access.user_id}",
                            access.user_id,
                            access.client_id,
                        )
                    )
            else:
                what = "API Key" if token.startswith("cal_") else "Access Token"
                errors.append(ApiError(401, "UnauthorizedException", f"Invalid {what}"))
        if client_id:
            client = self.clients.get(client_id)
            if client is None:
                errors.append(ApiError(401, "UnauthorizedException", "OAuth client not found"))
            elif secret != client["secret"]:
                errors.append(ApiError(401, "UnauthorizedException", "Invalid OAuth client secret"))
            else:
                found.append(
                    Principal(AuthMode.PLATFORM.value, f"client:{client_id}", None, client_id)
                )
        return found, errors

    def issue_tokens(self, user_id: int, client_id: str) -> dict[str, Any]:
        now = self.now()
        # every secret the fake issues carries SECRET: the tests' leak scan looks for it
        access, refresh = "mat_SECRET_" + self.uid(40), "mrt_SECRET_" + self.uid(40)
        # rotation: every earlier refresh token of this user stops working
        for key in [k for k, t in self.refresh_tokens.items() if t.user_id == user_id]:
            del self.refresh_tokens[key]
        self.access_tokens[access] = Token(user_id, client_id, now + self.access_token_ttl)
        self.refresh_tokens[refresh] = Token(user_id, client_id, now + self.refresh_token_ttl)
        return {
            "accessToken": access,
            "refreshToken": refresh,
            "accessTokenExpiresAt": int((now + self.access_token_ttl) * 1000),
            "refreshTokenExpiresAt": int((now + self.refresh_token_ttl) * 1000),
        }

    # -- schedules -----------------------------------------------------------------------------

    def add_schedule(
        self,
        user_id: int,
        name: str,
        tz: str,
        *,
        default: bool = False,
        availability: list[dict[str, Any]] | None = None,
        overrides: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        schedule_id = self.next_id("schedule")
        schedule = {
            "id": schedule_id,
            "ownerId": user_id,
            "name": name,
            "timeZone": tz,
            "availability": availability
            if availability is not None
            else [{"days": list(WEEKDAYS[:5]), "startTime": "09:00", "endTime": "17:00"}],
            "isDefault": default,
            "overrides": overrides or [],
        }
        self.schedules[schedule_id] = schedule
        self.schedule_owner[schedule_id] = user_id
        if default:
            self._make_default(user_id, schedule_id)
        return schedule

    def _make_default(self, user_id: int, schedule_id: int) -> None:
        for sid, owner in self.schedule_owner.items():
            if owner == user_id:
                self.schedules[sid]["isDefault"] = sid == schedule_id
        self.users[user_id]["defaultScheduleId"] = schedule_id

    def own_schedule(self, ctx: Ctx, schedule_id: int) -> dict[str, Any]:
        if self.schedule_owner.get(schedule_id) != ctx.user_id:
            raise not_found(f"Schedule with id={schedule_id} not found")
        return self.schedules[schedule_id]

    # -- event types ---------------------------------------------------------------------------

    def add_event_type(
        self, owner: int, fields: Mapping[str, Any], *, team_id: int | None = None
    ) -> dict[str, Any]:
        et_id = self.next_id("event_type")
        slug = fields.get("slug") or slugify(str(fields.get("title", f"event-{et_id}")))
        et: dict[str, Any] = {
            "id": et_id,
            "lengthInMinutes": fields.get("lengthInMinutes", 30),
            "title": fields.get("title", slug),
            "slug": slug,
            "description": fields.get("description", ""),
            "locations": [{"type": "integration", "integration": "cal-video"}],
            "bookingFields": [],
            "disableGuests": False,
            "slotInterval": None,
            "minimumBookingNotice": 0,
            "beforeEventBuffer": 0,
            "afterEventBuffer": 0,
            "recurrence": None,
            "metadata": {},
            "price": 0,
            "currency": "usd",
            "lockTimeZoneToggleOnBookingPage": False,
            "seatsPerTimeSlot": None,
            "forwardParamsSuccessRedirect": None,
            "successRedirectUrl": None,
            "isInstantEvent": False,
            "scheduleId": None,
            "hidden": False,
            "bookingRequiresAuthentication": False,
            # sent by the live API, undeclared (or null where the document says otherwise)
            "interfaceLanguage": None,
            "skipAttendeeEmailDeliverabilityCheck": False,
        }
        self._apply_event_type(et, fields)
        if team_id is None:
            et["ownerId"] = owner
            et["users"] = [self.event_type_user(owner)]
            et["bookingUrl"] = f"https://cal.com/{self.users[owner]['username']}/{slug}"
        else:
            team = self.teams[team_id]
            et["teamId"] = team_id
            et["ownerId"] = None
            et["hosts"] = [self.users[owner]["username"]]
            et["schedulingType"] = str(fields.get("schedulingType", "collective")).lower()
            et["team"] = {
                "id": team_id,
                "slug": team.get("slug") or "",
                "name": team["name"],
                **{
                    k: team.get(k) or ""
                    for k in ("bannerUrl", "logoUrl", "weekStart", "brandColor")
                },
                **{k: team.get(k) or "" for k in ("darkBrandColor", "theme")},
            }
            et["isInstantEvent"] = bool(fields.get("isInstantEvent", True))
            et["bookingUrl"] = f"https://cal.com/team/{team.get('slug') or team_id}/{slug}"
            self.event_type_team[et_id] = team_id
        self.event_types[et_id] = et
        self.event_type_owner[et_id] = owner
        return et

    _EVENT_FIELDS = (
        "lengthInMinutes",
        "title",
        "slug",
        "description",
        "disableGuests",
        "slotInterval",
        "minimumBookingNotice",
        "beforeEventBuffer",
        "afterEventBuffer",
        "scheduleId",
        "recurrence",
        "hidden",
        "metadata",
        "lockTimeZoneToggleOnBookingPage",
        "bookingRequiresAuthentication",
        "lengthInMinutesOptions",
    )

    def _apply_event_type(self, et: dict[str, Any], fields: Mapping[str, Any]) -> None:
        for key in self._EVENT_FIELDS:
            if key in fields:
                et[key] = fields[key]
        policy = fields.get("confirmationPolicy")
        if isinstance(policy, dict):
            et["confirmationPolicy"] = policy
        elif "confirmationPolicy" in fields:
            et.pop("confirmationPolicy", None)

    def requires_confirmation(self, et: dict[str, Any]) -> bool:
        policy = et.get("confirmationPolicy")
        return isinstance(policy, dict) and not policy.get("disabled", False)

    def own_event_type(self, ctx: Ctx, et_id: int) -> dict[str, Any]:
        if et_id not in self.event_types or self.event_type_team.get(et_id) is not None:
            raise not_found(f"Event type with id={et_id} not found")
        if self.event_type_owner[et_id] != ctx.user_id:
            raise ApiError(403, "ForbiddenException", "Not the owner of this event type")
        return self.event_types[et_id]

    def schedule_for(self, et_id: int) -> dict[str, Any]:
        et = self.event_types[et_id]
        owner = self.event_type_owner[et_id]
        sid = et.get("scheduleId") or self.users[owner]["defaultScheduleId"]
        return self.schedules[sid]

    # -- availability --------------------------------------------------------------------------

    def busy(
        self, host_id: int, lo: float, hi: float, exclude: str | None
    ) -> list[tuple[float, float]]:
        out = [
            (b.start, b.end)
            for b in self.bookings.values()
            if b.host_id == host_id
            and b.status in BUSY_STATUSES
            and b.uid != exclude
            and b.start < hi
            and b.end > lo
        ]
        now = self.now()
        for r in list(self.reservations.values()):
            if r.until <= now:
                del self.reservations[r.uid]
            elif self.event_type_owner.get(r.event_type_id) == host_id and r.start < hi:
                out.append((r.start, r.end))
        return out

    def free_slots(
        self,
        et_id: int,
        lo: float,
        hi: float,
        *,
        duration: int | None = None,
        exclude: str | None = None,
    ) -> list[tuple[float, float]]:
        """Start/end of every bookable slot starting in [lo, hi]: the schedule's windows minus
        bookings, reservations, buffers and the minimum notice."""
        et = self.event_types[et_id]
        schedule = self.schedule_for(et_id)
        zone = ZoneInfo(schedule["timeZone"])
        length = duration or int(et["lengthInMinutes"])
        step = int(et.get("slotInterval") or length) * 60
        before = int(et.get("beforeEventBuffer") or 0) * 60
        after = int(et.get("afterEventBuffer") or 0) * 60
        earliest = self.now() + int(et.get("minimumBookingNotice") or 0) * 60
        busy = self.busy(self.event_type_owner[et_id], lo - 86400, hi + 86400, exclude)
        overrides: dict[str, list[dict[str, Any]]] = {}
        for item in schedule.get("overrides") or []:
            overrides.setdefault(str(item["date"]), []).append(item)
        first = dt.datetime.fromtimestamp(lo, zone).date() - dt.timedelta(days=1)
        last = dt.datetime.fromtimestamp(hi, zone).date()
        out: list[tuple[float, float]] = []
        day = first
        while day <= last:
            windows = overrides.get(day.isoformat())
            if windows is None:
                name = WEEKDAYS[day.weekday()]
                windows = [w for w in schedule["availability"] if name in w.get("days", [])]
            for window in windows:
                start = _at(day, window["startTime"], zone)
                stop = _at(day, window["endTime"], zone)
                t = start
                while t + length * 60 <= stop:
                    end = t + length * 60
                    if (
                        lo <= t <= hi
                        and t >= earliest
                        and not any(b0 < end + after and b1 > t - before for b0, b1 in busy)
                    ):
                        out.append((t, end))
                    t += step
            day += dt.timedelta(days=1)
        return sorted(set(out))

    def is_free(self, et_id: int, start: float, length: int, exclude: str | None = None) -> bool:
        return (start, start + length * 60) in set(
            self.free_slots(et_id, start, start, duration=length, exclude=exclude)
        )

    # -- bookings ------------------------------------------------------------------------------

    def booking_json(
        self,
        *,
        booking_id: int,
        uid: str,
        et: dict[str, Any],
        host_id: int,
        start: float,
        end: float,
        status: str,
        attendees: list[dict[str, Any]],
        created: float,
        guests: list[str] | None = None,
        location: str | None = None,
        metadata: dict[str, Any] | None = None,
        responses: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        first = attendees[0]
        data: dict[str, Any] = {
            "id": booking_id,
            "uid": uid,
            "title": f"{et['title']} between {self.user(host_id)['name']} and {first['name']}",
            "description": "",
            "hosts": [self.host(host_id)],
            "status": status,
            "start": iso(start),
            "end": iso(end),
            "duration": round((end - start) / 60),
            "eventTypeId": et["id"],
            "eventType": {"id": et["id"], "slug": et["slug"]},
            "location": location or f"https://app.cal.com/video/{uid}",
            "absentHost": False,
            "createdAt": iso(created),
            "updatedAt": iso(created),
            "metadata": metadata or {},
            "icsUid": f"{uid}@Cal.com",
            "attendees": [{"displayEmail": a["email"], **a} for a in attendees],
            "guests": guests or [],
            "bookingFieldsResponses": responses
            or {"name": first["name"], "email": first["email"], "guests": guests or []},
        }
        if data["location"].startswith("https://"):
            data["meetingUrl"] = data["location"]
        # as the live API sends them: nulls the document types otherwise, an undeclared field,
        # and on some bookings no guests key at all and empty cancellation fields
        data["rescheduledByEmail"] = None
        data["rating"] = None
        data["isPlatformManagedUserBooking"] = False
        if booking_id % 2 and not data["guests"]:
            del data["guests"]
        if booking_id % 3 == 0 and status != "cancelled":
            data["cancellationReason"] = ""
            data["cancelledByEmail"] = ""
        return data

    def get_booking(self, uid: str) -> Booking:
        booking = self.bookings.get(uid)
        if booking is None:
            raise not_found(f"Booking with uid={uid} was not found in the database")
        return booking

    def touch(self, booking: Booking) -> None:
        last = booking.created if booking.updated is None else booking.updated
        now = ms(max(self.now(), last + 0.001))
        booking.updated = now
        self.bookings_version += 1
        booking.data["updatedAt"] = iso(now)

    def emit(self, trigger: str, booking: Booking, **extra: Any) -> None:
        if self.on_event is None:
            return
        et_id = booking.event_type_id
        targets = []
        for hook in self.webhooks.values():
            if not hook.data.get("active", True) or trigger not in hook.data.get("triggers", []):
                continue
            if (
                (hook.scope == "user" and hook.owner == booking.host_id)
                or (hook.scope == "event_type" and hook.owner == et_id)
                or (hook.scope == "oauth_client" and hook.owner == booking.client_id)
                or (hook.scope == "org" and self.user(booking.host_id).get("_org"))
            ):
                targets.append(hook)
        if not targets:
            return
        payload = self.webhook_payload(booking, trigger, extra)
        for hook in targets:
            self.on_event(hook.out(), trigger, payload, iso(self.now()))

    def webhook_payload(
        self, booking: Booking, trigger: str, extra: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Cal.com's booking webhook payload (``payload`` of the delivery)."""
        data = booking.data
        et = self.event_types.get(booking.event_type_id, {})
        host = self.user(booking.host_id)

        def person(p: Mapping[str, Any]) -> dict[str, Any]:
            tz = str(p.get("timeZone") or "UTC")
            offset = dt.datetime.fromtimestamp(booking.start, ZoneInfo(tz)).utcoffset()
            return {
                "name": p["name"],
                "email": p["email"],
                "timeZone": tz,
                "language": {"locale": p.get("language") or "en"},
                "utcOffset": int(offset.total_seconds() // 60) if offset else 0,
            }

        organizer = {
            "id": host["id"],
            "username": host["username"],
            "timeFormat": "h:mma" if host.get("timeFormat") == 12 else "HH:mm",
            **person(host),
        }
        attendees = [person(a) for a in data["attendees"]]
        responses: dict[str, Any] = {
            "name": {"label": "your_name", "value": data["attendees"][0]["name"]},
            "email": {"label": "email_address", "value": data["attendees"][0]["email"]},
            "location": {
                "label": "location",
                "value": {"optionValue": "", "value": data["location"]},
            },
        }
        if data.get("guests"):
            responses["guests"] = {"label": "additional_guests", "value": data["guests"]}
        payload: dict[str, Any] = {
            "type": data["eventType"]["slug"],
            "title": data["title"],
            "description": data.get("description", ""),
            "additionalNotes": "",
            "customInputs": {},
            "startTime": data["start"].replace(".000Z", "Z"),
            "endTime": data["end"].replace(".000Z", "Z"),
            "organizer": organizer,
            "responses": responses,
            "userFieldsResponses": {},
            "attendees": attendees,
            "location": data["location"],
            "destinationCalendar": None,
            "hideCalendarNotes": False,
            "requiresConfirmation": self.requires_confirmation(et) if et else False,
            "eventTypeId": booking.event_type_id,
            "seatsShowAttendees": True,
            "seatsPerTimeSlot": None,
            "uid": data["uid"],
            "bookingId": data["id"],
            "eventTitle": et.get("title"),
            "eventDescription": et.get("description", ""),
            "price": 0,
            "currency": "usd",
            "length": data["duration"],
            "iCalUID": data["icsUid"],
            "metadata": {"videoCallUrl": data.get("meetingUrl")} | dict(data.get("metadata", {})),
            "status": data["status"].upper(),
            "triggerEvent": trigger,
        }
        if booking.recurring_uid:
            payload["recurringEventId"] = booking.recurring_uid
        if booking.team_id is not None:
            payload["team"] = {"id": booking.team_id, "name": self.teams[booking.team_id]["name"]}
        payload.update(extra)
        return payload

    def add_booking(
        self,
        et_id: int,
        start: float,
        attendees: list[dict[str, Any]],
        *,
        length: int | None = None,
        status: str = "accepted",
        host_id: int | None = None,
        created: float | None = None,
        recurring_uid: str | None = None,
        client_id: str | None = None,
        **fields: Any,
    ) -> Booking:
        et = self.event_types[et_id]
        host = host_id or self.event_type_owner[et_id]
        minutes = length or int(et["lengthInMinutes"])
        start = ms(start)
        end = start + minutes * 60
        when = ms(self.now() if created is None else created)
        booking_id = self.next_id("booking")
        uid = self.uid()
        data = self.booking_json(
            booking_id=booking_id,
            uid=uid,
            et=et,
            host_id=host,
            start=start,
            end=end,
            status=status,
            attendees=attendees,
            created=when,
            **fields,
        )
        if recurring_uid:
            data["recurringBookingUid"] = recurring_uid
        booking = Booking(
            data,
            start,
            end,
            when,
            when,
            et_id,
            host,
            self.event_type_team.get(et_id),
            recurring_uid,
            client_id,
        )
        self.bookings[uid] = booking
        self.bookings_version += 1
        return booking

    def find_event_type(self, body: Mapping[str, Any]) -> int:
        if body.get("eventTypeId") is not None:
            et_id = body["eventTypeId"]
            if type(et_id) is not int:  # class-validator's wording
                raise bad_request("eventTypeId must be an integer number", ["eventTypeId"])
            if et_id not in self.event_types:
                raise not_found(f"Event type with id={et_id} not found")
            return et_id
        slug = body.get("eventTypeSlug")
        if slug:
            for et_id, et in self.event_types.items():
                if et["slug"] != slug:
                    continue
                team_id = self.event_type_team.get(et_id)
                if body.get("teamSlug") and team_id is not None:
                    if self.teams[team_id].get("slug") == body["teamSlug"]:
                        return et_id
                elif body.get("username") and team_id is None:
                    owner = self.user(self.event_type_owner[et_id])
                    if owner["username"] == body["username"]:
                        return et_id
            raise not_found(f"Event type with slug {slug!r} not found")
        raise bad_request(
            "Either eventTypeId or eventTypeSlug + username or eventTypeSlug + teamSlug "
            "must be provided",
            ["eventTypeId should not be empty"],
        )

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

    # -- seeding -------------------------------------------------------------------------------

    # -- teams, users --------------------------------------------------------------------------

    def add_team(self, name: str, owner: int, **fields: Any) -> dict[str, Any]:
        team_id = 1000 + self.next_id("team")
        team = {
            "id": team_id,
            "name": name,
            "slug": fields.pop("slug", None) or slugify(name),
            "isOrganization": False,
            "parentId": self.org_id,
            "metadata": {},
            "timeZone": "Europe/London",
            "weekStart": "Monday",
            "hideBranding": False,
            "isPrivate": False,
            "hideBookATeamMember": False,
            **fields,
        }
        self.teams[team_id] = team
        self.add_membership(team_id, owner, "OWNER", accepted=True)
        return team

    def add_membership(
        self, team_id: int, user_id: int, role: str, *, accepted: bool
    ) -> dict[str, Any]:
        mid = self.next_id("membership")
        u = self.users[user_id]
        membership = {
            "id": mid,
            "userId": user_id,
            "teamId": team_id,
            "accepted": accepted,
            "role": role,
            "disableImpersonation": False,
            "user": {
                "email": u["email"],
                "username": u["username"],
                "name": u["name"],
                "bio": u.get("bio") or "",
                "metadata": {},
            },
        }
        self.memberships[mid] = membership
        return membership

    def team(self, ctx: Ctx, team_id: int) -> dict[str, Any]:
        team = self.teams.get(team_id)
        if team is None:
            raise not_found(f"Team with id={team_id} not found")
        if not any(
            m["teamId"] == team_id and m["userId"] == ctx.user_id for m in self.memberships.values()
        ):
            raise ApiError(403, "ForbiddenException", "Not a member of this team")
        return team

    def add_managed_user(self, client_id: str, name: str, email: str, tz: str) -> int:
        local, _, domain = email.partition("@")
        return self.add_user(
            name,
            f"{local}+{client_id}@{domain}",
            tz,
            username=f"{slugify(local)}-{client_id}".lower()[:40],
            managed_by=client_id,
            org=False,
        )

    def org_user(self, user_id: int) -> dict[str, Any]:
        u = self.users[user_id]
        return {
            "id": user_id,
            "username": u["username"],
            "name": u["name"],
            "email": u["email"],
            "emailVerified": u["createdDate"],
            "bio": u.get("bio") or None,
            "avatarUrl": u.get("avatarUrl"),
            "timeZone": u["timeZone"],
            "weekStart": u["weekStart"],
            "appTheme": None,
            "theme": None,
            "defaultScheduleId": u["defaultScheduleId"],
            "locale": u.get("locale"),
            "timeFormat": u["timeFormat"],
            "hideBranding": False,
            "brandColor": None,
            "darkBrandColor": None,
            "allowDynamicBooking": True,
            "createdDate": u["createdDate"],
            "verified": True,
            "invitedTo": None,
            "metadata": u.get("metadata") or {},
            "profile": {
                "id": user_id,
                "organizationId": self.org_id,
                "userId": user_id,
                "username": u["username"],
            },
        }


def _at(day: dt.date, hhmm: str, zone: ZoneInfo) -> float:
    hour, minute = (int(x) for x in hhmm.split(":")[:2])
    if hour >= 24:
        nxt = day + dt.timedelta(days=1)
        return dt.datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone).timestamp()
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).timestamp()


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
