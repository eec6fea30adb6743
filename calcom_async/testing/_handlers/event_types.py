"""Event types, a user's and a team's."""

from __future__ import annotations

from typing import Any

from .._pages import ok
from .._records import Ctx
from .._state import FakeState
from .._util import bad_request, not_found
from ._registry import Registry

handles = Registry()


# -- event types --------------------------------------------------------------------------------


def _check_slug(store: FakeState, owner: int, slug: str, except_id: int | None = None) -> None:
    for et_id, et in store.event_types.items():
        if (
            et_id != except_id
            and store.event_type_owner[et_id] == owner
            and et_id not in store.event_type_team
            and et["slug"] == slug
        ):
            raise bad_request(f"User already has an event type with slug {slug!r}")


def _check_schedule(store: FakeState, owner: int, body: dict[str, Any]) -> None:
    sid = body.get("scheduleId")
    if sid is not None and store.schedule_owner.get(int(sid)) != owner:
        raise bad_request(f"Schedule with id={sid} does not belong to the user")


@handles("event_types.create")
def event_types_create(store: FakeState, ctx: Ctx) -> Any:
    body = ctx.body
    _check_slug(store, ctx.user_id, body["slug"])
    _check_schedule(store, ctx.user_id, body)
    return ok(store.add_event_type(ctx.user_id, body))


@handles("event_types.list")
def event_types_list(store: FakeState, ctx: Ctx) -> Any:
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
def event_types_get(store: FakeState, ctx: Ctx) -> Any:
    return ok(store.own_event_type(ctx, ctx.pid("eventTypeId")))


@handles("event_types.update")
def event_types_update(store: FakeState, ctx: Ctx) -> Any:
    et = store.own_event_type(ctx, ctx.pid("eventTypeId"))
    body = ctx.body or {}
    if "slug" in body:
        _check_slug(store, ctx.user_id, body["slug"], except_id=et["id"])
    _check_schedule(store, ctx.user_id, body)
    store._apply_event_type(et, body)
    return ok(et)


@handles("event_types.delete")
def event_types_delete(store: FakeState, ctx: Ctx) -> Any:
    et = store.own_event_type(ctx, ctx.pid("eventTypeId"))
    del store.event_types[et["id"]]
    del store.event_type_owner[et["id"]]
    for hook_id in [
        h for h, w in store.webhooks.items() if w.scope == "event_type" and w.owner == et["id"]
    ]:
        del store.webhooks[hook_id]
    return ok({k: et[k] for k in ("id", "lengthInMinutes", "title", "slug")})


# -- team event types ---------------------------------------------------------------------------


def _team_event_type(store: FakeState, ctx: Ctx) -> dict[str, Any]:
    store.team(ctx, ctx.pid("teamId"))
    et_id = ctx.pid("eventTypeId")
    if store.event_type_team.get(et_id) != ctx.pid("teamId"):
        raise not_found(f"Event type with id={et_id} not found")
    return store.event_types[et_id]


@handles("teams.event_types.create")
def team_event_types_create(store: FakeState, ctx: Ctx) -> Any:
    store.team(ctx, ctx.pid("teamId"))
    return ok(store.add_event_type(ctx.user_id, ctx.body, team_id=ctx.pid("teamId")))


@handles("teams.event_types.list")
def team_event_types_list(store: FakeState, ctx: Ctx) -> Any:
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
def team_event_types_get(store: FakeState, ctx: Ctx) -> Any:
    return ok(_team_event_type(store, ctx))


@handles("teams.event_types.update")
def team_event_types_update(store: FakeState, ctx: Ctx) -> Any:
    et = _team_event_type(store, ctx)
    store._apply_event_type(et, ctx.body or {})
    return ok(et)


@handles("teams.event_types.delete")
def team_event_types_delete(store: FakeState, ctx: Ctx) -> Any:
    et = _team_event_type(store, ctx)
    del store.event_types[et["id"]]
    del store.event_type_owner[et["id"]]
    del store.event_type_team[et["id"]]
    return ok({"id": et["id"], "title": et["title"]})
