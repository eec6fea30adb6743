"""Teams and their memberships."""

from __future__ import annotations

from typing import Any

from .._records import Ctx
from .._util import ApiError, not_found, slugify
from .core import StateCore

__all__ = ["TeamsState"]


class TeamsState(StateCore):
    """The teams."""

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
