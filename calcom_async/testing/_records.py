"""The fake's records: who calls (:class:`Principal`), the call a handler is given
(:class:`Ctx`), and the rows of its state (tokens, bookings, reservations, webhooks)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._operation import Operation
from ._util import ApiError, bad_request, parse_time

__all__ = ["Booking", "Ctx", "Principal", "Reservation", "Token", "Webhook"]


@dataclass
class Principal:
    """Who is calling: ``kind`` is an :class:`AuthMode` value or ``"anonymous"``."""

    kind: str
    rate_key: str
    user_id: int | None = None
    client_id: str | None = None


@dataclass
class Ctx:
    op: Operation
    path: dict[str, Any]
    query: Mapping[str, str]
    body: Any
    principal: Principal

    def pid(self, name: str) -> int:
        """A numeric path parameter."""
        try:
            return int(str(self.path[name]).split(".")[0])
        except ValueError:
            raise bad_request(f"{name} must be a number", [name]) from None

    def q(self, name: str) -> str | None:
        value = self.query.get(name)
        return value if value not in (None, "") else None

    def q_list(self, name: str) -> list[str]:
        getall = getattr(self.query, "getall", None)
        values = getall(name, []) if getall else [self.query.get(name, "")]
        return [v.strip() for value in values for v in str(value).split(",") if v.strip()]

    def q_int(self, name: str, default: int) -> int:
        value = self.q(name)
        return default if value is None else int(float(value))

    def q_time(self, name: str) -> float | None:
        value = self.q(name)
        if value is None:
            return None
        try:
            return parse_time(value)
        except ValueError:
            raise bad_request(f"{name} must be an ISO 8601 date string", [name]) from None

    @property
    def user_id(self) -> int:
        if self.principal.user_id is None:
            raise ApiError(401, "UnauthorizedException", "This call needs a user's credentials")
        return self.principal.user_id


@dataclass
class Token:
    user_id: int
    client_id: str
    expires: float


@dataclass
class Booking:
    """A booking's JSON (as the 2024-08-13 API answers it) and what the fake filters by."""

    data: dict[str, Any]
    start: float
    end: float
    created: float
    updated: float | None  #: None: ``updatedAt: null``, an old booking never stamped
    event_type_id: int
    host_id: int
    team_id: int | None = None
    recurring_uid: str | None = None
    client_id: str | None = None

    @property
    def uid(self) -> str:
        return str(self.data["uid"])

    @property
    def status(self) -> str:
        return str(self.data["status"])


@dataclass
class Reservation:
    uid: str
    event_type_id: int
    start: float
    end: float
    duration: int
    until: float
    reservation_minutes: int


@dataclass
class Webhook:
    data: dict[str, Any]  #: without the scope key
    scope: str  #: "user", "event_type", "oauth_client", "org"
    owner: Any  #: user id, event type id, client id or org id

    def out(self) -> dict[str, Any]:
        key = {
            "user": "userId",
            "event_type": "eventTypeId",
            "oauth_client": "oAuthClientId",
            "org": "teamId",
        }[self.scope]
        return {**self.data, key: self.owner}
