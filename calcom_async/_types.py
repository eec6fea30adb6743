"""Small runtime types shared by the generated models and the hand-written core.

Kept free of heavy imports: the generated model modules import this file.
"""

from __future__ import annotations

import enum
from typing import Any, Final, Literal

__all__ = ["UNSET", "OpenStrEnum", "Unset", "masked"]


class Unset(enum.Enum):
    """The type of :data:`UNSET`: a field the caller (or the server) left out.

    ``UNSET`` is distinct from ``None``: ``None`` is sent as JSON ``null``; an ``UNSET`` field is
    not sent at all, which is what lets a PATCH carry only what changed.
    """

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> Literal[False]:
        return False


UNSET: Final = Unset.UNSET


_UNKNOWN_CACHE_SIZE = 256


class OpenStrEnum(enum.StrEnum):
    """A string enum that keeps values it does not know instead of failing.

    Cal.com adds enum values over time. ``Status("NEW_VALUE")`` returns a pseudo-member whose
    value (and ``str``) is ``"NEW_VALUE"``; it compares equal to that string and is an instance of
    the enum, so a sync of 100,000 bookings does not break on one new status.
    """

    @classmethod
    def _missing_(cls, value: Any) -> OpenStrEnum | None:
        if not isinstance(value, str):
            return None
        cache: dict[str, OpenStrEnum] = cls.__dict__.get("_unknown_members_", None) or {}
        if not cache:
            type.__setattr__(cls, "_unknown_members_", cache)
        member = cache.get(value)
        if member is None:
            member = str.__new__(cls, value)
            member._name_ = value
            member._value_ = value
            if len(cache) < _UNKNOWN_CACHE_SIZE:  # bounded: a flood of new values costs no memory
                cache[value] = member
        return member

    @property
    def is_known(self) -> bool:
        """False for a value the document did not list (kept from the server's answer)."""
        return type(self)._value2member_map_.get(self._value_) is self


def masked(value: object) -> str:
    """The ``repr`` of a secret field of a model (tokens, keys, secrets): never its value."""
    if value is None or value is UNSET:
        return repr(value)
    return "'***'"
