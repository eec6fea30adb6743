"""The scopes a third-party OAuth app asks for (the consent page lists them; tokens carry them).

Kept light: ``_errors`` reads scope lists out of 403 messages with it.
"""

from __future__ import annotations

from collections.abc import Iterable

from ._types import OpenStrEnum

__all__ = ["Scope", "parse_scopes", "satisfies"]


class Scope(OpenStrEnum):
    """An OAuth scope. Unknown strings from the server are kept (``Scope("NEW_X").is_known`` is
    False), not rejected. An ``ORG_*`` scope satisfies the matching ``TEAM_*`` one (see
    :func:`satisfies`)."""

    PROFILE_READ = "PROFILE_READ"
    PROFILE_WRITE = "PROFILE_WRITE"
    EVENT_TYPE_READ = "EVENT_TYPE_READ"
    EVENT_TYPE_WRITE = "EVENT_TYPE_WRITE"
    BOOKING_READ = "BOOKING_READ"
    BOOKING_WRITE = "BOOKING_WRITE"
    SCHEDULE_READ = "SCHEDULE_READ"
    SCHEDULE_WRITE = "SCHEDULE_WRITE"
    APPS_READ = "APPS_READ"
    APPS_WRITE = "APPS_WRITE"
    TEAM_EVENT_TYPE_READ = "TEAM_EVENT_TYPE_READ"
    TEAM_EVENT_TYPE_WRITE = "TEAM_EVENT_TYPE_WRITE"
    TEAM_BOOKING_READ = "TEAM_BOOKING_READ"
    TEAM_BOOKING_WRITE = "TEAM_BOOKING_WRITE"
    TEAM_SCHEDULE_READ = "TEAM_SCHEDULE_READ"
    TEAM_SCHEDULE_WRITE = "TEAM_SCHEDULE_WRITE"
    TEAM_PROFILE_READ = "TEAM_PROFILE_READ"
    TEAM_PROFILE_WRITE = "TEAM_PROFILE_WRITE"
    TEAM_MEMBERSHIP_READ = "TEAM_MEMBERSHIP_READ"
    TEAM_MEMBERSHIP_WRITE = "TEAM_MEMBERSHIP_WRITE"
    ORG_EVENT_TYPE_READ = "ORG_EVENT_TYPE_READ"
    ORG_EVENT_TYPE_WRITE = "ORG_EVENT_TYPE_WRITE"
    ORG_BOOKING_READ = "ORG_BOOKING_READ"
    ORG_BOOKING_WRITE = "ORG_BOOKING_WRITE"
    ORG_SCHEDULE_READ = "ORG_SCHEDULE_READ"
    ORG_SCHEDULE_WRITE = "ORG_SCHEDULE_WRITE"
    ORG_PROFILE_READ = "ORG_PROFILE_READ"
    ORG_PROFILE_WRITE = "ORG_PROFILE_WRITE"
    ORG_MEMBERSHIP_READ = "ORG_MEMBERSHIP_READ"
    ORG_MEMBERSHIP_WRITE = "ORG_MEMBERSHIP_WRITE"
    #: legacy scopes of older clients
    READ_BOOKING = "READ_BOOKING"
    READ_PROFILE = "READ_PROFILE"


def parse_scopes(value: str | Iterable[str] | None) -> tuple[Scope, ...]:
    """Scopes from a space- or comma-separated string (or a list), order kept, duplicates
    dropped."""
    if value is None:
        return ()
    text = value if isinstance(value, str) else " ".join(str(item) for item in value)
    seen: dict[Scope, None] = {}
    for item in text.replace(",", " ").split():
        seen.setdefault(Scope(item), None)
    return tuple(seen)


def satisfies(held: Iterable[str], required: str) -> bool:
    """Whether scopes ``held`` cover ``required`` (``ORG_X`` covers ``TEAM_X``, not the reverse)."""
    have = {str(s) for s in held}
    if required in have:
        return True
    return required.startswith("TEAM_") and "ORG_" + required.removeprefix("TEAM_") in have
