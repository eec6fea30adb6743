"""The fake's records: who calls (:class:`Principal`), the call a handler is given
(:class:`Ctx`), and the rows of its state (tokens, bookings, reservations, webhooks)."""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._operation import Operation
from .._types import Unset
from ._util import ApiError, bad_request, parse_time

__all__ = [
    "Booking",
    "Ctx",
    "Principal",
    "Reservation",
    "Token",
    "Webhook",
    "integer",
    "number_problems",
]


def integer(text: str) -> int | None:
    """A query value as the live API reads a whole number (``@Type(() => Number) @IsInt()``:
    ``"12"``, ``"12.0"``), or None for anything else (``"one"``, ``"1.5"``, ``"inf"``, ``""``)."""
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if math.isfinite(number) and number.is_integer() else None


def _finite(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def number_problems(name: str, tp: Any, values: Sequence[str]) -> list[str]:
    """What the live API's validation (class-validator) answers for a numeric query parameter
    given something else, in its words; empty when every value is a number of the right kind.
    ``int | str`` (``eventTypeIds``) and ``Sequence[int]`` hold comma-separated ids."""
    kinds = set(typing.get_args(tp)) if isinstance(tp, types.UnionType) else {tp}
    kinds.discard(Unset)
    if kinds == {int} and any(integer(v) is None for v in values):
        return [f"{name} must be an integer number"]
    if kinds == {float} and not all(_finite(v) for v in values):
        return [f"{name} must be a number conforming to the specified constraints"]
    ids = kinds == {int, str} or (
        len(kinds) == 1 and typing.get_origin(tp) is Sequence and typing.get_args(tp) == (int,)
    )
    if ids:
        items = [part.strip() for v in values for part in v.split(",") if part.strip()]
        if any(integer(item) is None for item in items):
            return [f"each value in {name} must be an integer number"]
    return []


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
        if value is None:
            return default
        number = integer(value)
        if number is None:
            raise bad_request(f"{name} must be an integer number", [name])
        return number

    def q_ints(self, name: str) -> list[int]:
        """A query value of comma-separated ids (``eventTypeIds=1,2``), as numbers."""
        numbers = [integer(v) for v in self.q_list(name)]
        if None in numbers:
            raise bad_request(f"each value in {name} must be an integer number", [name])
        return [n for n in numbers if n is not None]

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
