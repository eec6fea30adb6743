"""Teams and their memberships."""

from __future__ import annotations

from typing import Any

from .._pages import ok
from .._records import Ctx
from .._state import FakeState
from .._util import ApiError, not_found
from ._registry import Registry

handles = Registry()


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
def teams_create(store: FakeState, ctx: Ctx) -> Any:
    body = ctx.body
    slug = body.get("slug")
    if slug and any(t.get("slug") == slug for t in store.teams.values()):
        raise ApiError(409, "ConflictException", f"Team with slug {slug!r} already exists")
    fields = {k: body[k] for k in _TEAM_FIELDS if k in body and k != "name"}
    return ok(store.add_team(body["name"], ctx.user_id, **fields))


@handles("teams.list")
def teams_list(store: FakeState, ctx: Ctx) -> Any:
    mine = {m["teamId"] for m in store.memberships.values() if m["userId"] == ctx.user_id}
    return ok([t for tid, t in store.teams.items() if tid in mine])


@handles("teams.get")
def teams_get(store: FakeState, ctx: Ctx) -> Any:
    return ok(store.team(ctx, ctx.pid("teamId")))


@handles("teams.update")
def teams_update(store: FakeState, ctx: Ctx) -> Any:
    team = store.team(ctx, ctx.pid("teamId"))
    body = ctx.body or {}
    team.update({k: body[k] for k in _TEAM_FIELDS if k in body})
    return ok(team)


@handles("teams.delete")
def teams_delete(store: FakeState, ctx: Ctx) -> Any:
    team = store.team(ctx, ctx.pid("teamId"))
    del store.teams[team["id"]]
    for mid in [m for m, v in store.memberships.items() if v["teamId"] == team["id"]]:
        del store.memberships[mid]
    return ok(team)


def _membership(store: FakeState, ctx: Ctx) -> dict[str, Any]:
    store.team(ctx, ctx.pid("teamId"))
    m = store.memberships.get(ctx.pid("membershipId"))
    if m is None or m["teamId"] != ctx.pid("teamId"):
        raise not_found(f"Membership with id={ctx.path['membershipId']} not found")
    return m


@handles("teams.memberships.create")
def memberships_create(store: FakeState, ctx: Ctx) -> Any:
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
def memberships_list(store: FakeState, ctx: Ctx) -> Any:
    team_id = ctx.pid("teamId")
    store.team(ctx, team_id)
    items = [m for m in store.memberships.values() if m["teamId"] == team_id]
    take, skip = ctx.q_int("take", 250), ctx.q_int("skip", 0)
    return ok(items[skip : skip + take])


@handles("teams.memberships.get")
def memberships_get(store: FakeState, ctx: Ctx) -> Any:
    return ok(_membership(store, ctx))


@handles("teams.memberships.update")
def memberships_update(store: FakeState, ctx: Ctx) -> Any:
    m = _membership(store, ctx)
    body = ctx.body or {}
    for key in ("accepted", "role", "disableImpersonation"):
        if key in body:
            m[key] = body[key]
    return ok(m)


@handles("teams.memberships.delete")
def memberships_delete(store: FakeState, ctx: Ctx) -> Any:
    m = _membership(store, ctx)
    del store.memberships[m["id"]]
    return ok(m)
