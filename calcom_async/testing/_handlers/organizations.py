"""An organization's users."""

from __future__ import annotations

from typing import Any

from .._pages import ok
from .._records import Ctx
from .._state import FakeState
from .._util import ApiError, bad_request, not_found
from ._registry import Registry
from .me import _update_user
from .schedules import _check_zone

handles = Registry()


# -- organizations' users -----------------------------------------------------------------------


def _own_org(store: FakeState, ctx: Ctx) -> None:
    if ctx.pid("orgId") != store.org_id:
        raise ApiError(403, "ForbiddenException", "You are not a member of this organization")


def _org_user_id(store: FakeState, ctx: Ctx) -> int:
    _own_org(store, ctx)
    user_id = ctx.pid("userId")
    if user_id not in store.users or not store.users[user_id].get("_org"):
        raise not_found(f"User with id={user_id} not found in the organization")
    return int(user_id)


@handles("organizations.users.list")
def org_users_list(store: FakeState, ctx: Ctx) -> Any:
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
def org_users_create(store: FakeState, ctx: Ctx) -> Any:
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
def org_users_update(store: FakeState, ctx: Ctx) -> Any:
    user_id = _org_user_id(store, ctx)
    body = dict(ctx.body or {})
    if "username" in body:
        store.users[user_id]["username"] = body.pop("username")
    _update_user(store, user_id, body)
    return ok(store.org_user(user_id))


@handles("organizations.users.delete")
def org_users_delete(store: FakeState, ctx: Ctx) -> Any:
    user_id = _org_user_id(store, ctx)
    if user_id == store.owner_id:
        raise bad_request("The organization owner cannot be deleted")
    out = store.org_user(user_id)
    del store.users[user_id]
    return ok(out)
