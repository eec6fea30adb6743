"""Webhook subscriptions of a user, an event type or an OAuth client."""

from __future__ import annotations

import uuid
from typing import Any

from .._pages import ok
from .._records import Ctx, Webhook
from .._state import FakeState
from .._util import ApiError, not_found
from ._registry import Registry
from .managed_users import _own_client
from .organizations import _own_org

handles = Registry()


# -- webhooks -----------------------------------------------------------------------------------


def _scope(store: FakeState, ctx: Ctx) -> tuple[str, Any]:
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


def _hooks(store: FakeState, scope: tuple[str, Any]) -> list[Webhook]:
    return [w for w in store.webhooks.values() if (w.scope, w.owner) == scope]


def _hook(store: FakeState, ctx: Ctx, scope: tuple[str, Any]) -> Webhook:
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
def webhooks_create(store: FakeState, ctx: Ctx) -> Any:
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
def webhooks_list(store: FakeState, ctx: Ctx) -> Any:
    hooks = [w.out() for w in _hooks(store, _scope(store, ctx))]
    take, skip = ctx.q_int("take", 250), ctx.q_int("skip", 0)
    return ok(hooks[skip : skip + take])


@handles(
    "webhooks.get",
    "event_types.webhooks.get",
    "oauth_clients.webhooks.get",
    "organizations.webhooks.get",
)
def webhooks_get(store: FakeState, ctx: Ctx) -> Any:
    return ok(_hook(store, ctx, _scope(store, ctx)).out())


@handles(
    "webhooks.update",
    "event_types.webhooks.update",
    "oauth_clients.webhooks.update",
    "organizations.webhooks.update",
)
def webhooks_update(store: FakeState, ctx: Ctx) -> Any:
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
def webhooks_delete(store: FakeState, ctx: Ctx) -> Any:
    hook = _hook(store, ctx, _scope(store, ctx))
    del store.webhooks[hook.data["id"]]
    return ok(hook.out())


@handles("event_types.webhooks.delete_all", "oauth_clients.webhooks.delete_all")
def webhooks_delete_all(store: FakeState, ctx: Ctx) -> Any:
    hooks = _hooks(store, _scope(store, ctx))
    for hook in hooks:
        del store.webhooks[hook.data["id"]]
    return ok(f"{len(hooks)} webhooks deleted")
