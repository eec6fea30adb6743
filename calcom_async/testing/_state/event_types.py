"""Event types (a user's or a team's), their fields, and the schedule each one books from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._records import Ctx
from .._util import ApiError, not_found, slugify
from .users import UsersState

__all__ = ["EventTypesState"]


class EventTypesState(UsersState):
    """The event types."""

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
