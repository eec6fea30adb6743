"""Managed users of a platform client and their tokens."""

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


# -- managed users and their tokens -------------------------------------------------------------


def _own_client(ctx: Ctx) -> None:
    if ctx.principal.client_id != ctx.path["clientId"]:
        raise ApiError(
            403, "ForbiddenException", "These credentials do not belong to this OAuth client"
        )


def _managed_user(store: FakeState, ctx: Ctx) -> int:
    _own_client(ctx)
    user_id = ctx.pid("userId")
    user = store.users.get(user_id)
    if user is None or user.get("_managed_by") != ctx.path["clientId"]:
        raise not_found(f"User with id={user_id} not found")
    return int(user_id)


@handles("managed_users.list")
def managed_users_list(store: FakeState, ctx: Ctx) -> Any:
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
def managed_users_create(store: FakeState, ctx: Ctx) -> Any:
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
def managed_users_get(store: FakeState, ctx: Ctx) -> Any:
    return ok(store.public_user(_managed_user(store, ctx)))


@handles("managed_users.update")
def managed_users_update(store: FakeState, ctx: Ctx) -> Any:
    user_id = _managed_user(store, ctx)
    _update_user(store, user_id, ctx.body or {})
    return ok(store.public_user(user_id))


@handles("managed_users.delete")
def managed_users_delete(store: FakeState, ctx: Ctx) -> Any:
    user_id = _managed_user(store, ctx)
    out = store.public_user(user_id)
    del store.users[user_id]
    for table in (store.access_tokens, store.refresh_tokens):
        for key in [k for k, t in table.items() if t.user_id == user_id]:
            del table[key]
    return ok(out)


@handles("managed_users.force_refresh")
def managed_users_force_refresh(store: FakeState, ctx: Ctx) -> Any:
    user_id = _managed_user(store, ctx)
    return 200, ok(store.issue_tokens(user_id, ctx.path["clientId"]))


@handles("managed_users.refresh_tokens")
def managed_users_refresh(store: FakeState, ctx: Ctx) -> Any:
    _own_client(ctx)
    token = store.refresh_tokens.get(str(ctx.body["refreshToken"]))
    if token is None or token.client_id != ctx.path["clientId"]:
        raise ApiError(401, "UnauthorizedException", "Invalid Refresh Token")
    if token.expires <= store.now():
        raise ApiError(401, "UnauthorizedException", "REFRESH_TOKEN_IS_EXPIRED")
    return 200, ok(store.issue_tokens(token.user_id, token.client_id))
