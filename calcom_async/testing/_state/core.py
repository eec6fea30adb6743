"""The fake's data (:class:`StateCore`): every table of the state, the ids, and the users with
their schedules (a user is made with a default schedule; the fake starts with one user, the
account owner). The other modules of ``_state/`` are the domains built on it."""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from typing import Any

from .._records import Booking, Ctx, Reservation, Token, Webhook
from .._util import iso, not_found, slugify

__all__ = ["WEEKDAYS", "StateCore", "WebhookSink"]

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_UID_ALPHABET = string.ascii_letters + string.digits
WebhookSink = Callable[[dict[str, Any], str, dict[str, Any], str], None]


class StateCore:
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
