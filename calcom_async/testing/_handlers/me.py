"""``/v2/me``: the caller."""

from __future__ import annotations

from typing import Any

from .._pages import ok
from .._records import Ctx
from .._state import FakeState
from .._util import bad_request
from ._registry import Registry

handles = Registry()


# -- me -----------------------------------------------------------------------------------------


def _me(store: FakeState, user_id: int) -> dict[str, Any]:
    u = store.users[user_id]
    return {
        "id": user_id,
        "username": u["username"],
        "email": u["email"],
        "name": u["name"],
        "avatarUrl": u["avatarUrl"],
        "bio": u["bio"],
        "timeFormat": u["timeFormat"],
        "defaultScheduleId": u["defaultScheduleId"],
        "weekStart": u["weekStart"],
        "timeZone": u["timeZone"],
        "organizationId": store.org_id if u.get("_org") else None,
        "organization": {"isPlatform": False, "id": store.org_id} if u.get("_org") else None,
    }


@handles("me.get")
def me_get(store: FakeState, ctx: Ctx) -> Any:
    return ok(_me(store, ctx.user_id))


_USER_FIELDS = ("email", "name", "timeFormat", "weekStart", "timeZone", "locale", "avatarUrl")


def _update_user(store: FakeState, user_id: int, body: dict[str, Any]) -> None:
    user = store.users[user_id]
    for key in (*_USER_FIELDS, "bio", "metadata"):
        if key in body:
            user[key] = body[key]
    if "defaultScheduleId" in body:
        sid = int(body["defaultScheduleId"])
        if store.schedule_owner.get(sid) != user_id:
            raise bad_request(f"Schedule with id={sid} does not belong to the user")
        store._make_default(user_id, sid)


@handles("me.update")
def me_update(store: FakeState, ctx: Ctx) -> Any:
    _update_user(store, ctx.user_id, ctx.body or {})
    return 200, ok(_me(store, ctx.user_id))
