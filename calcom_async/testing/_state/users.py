"""Users as the API shows them (an event type's ``users``, a booking's host, an organization's
users) and the managed users of an OAuth client."""

from __future__ import annotations

from typing import Any

from .._util import slugify
from .core import StateCore

__all__ = ["UsersState"]


class UsersState(StateCore):
    """The views of a user, and managed users."""

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
