"""The OAuth scopes: every scope a client may hold, the one each operation needs from a
third-party token, whether a token's scopes cover it, and the words the consent page uses."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

__all__ = ["ALL_SCOPES", "OPERATION_SCOPES", "SCOPE_NAME", "describe_scope", "satisfies"]

_KINDS = ("EVENT_TYPE", "BOOKING", "SCHEDULE", "PROFILE", "MEMBERSHIP")
_RW = ("READ", "WRITE")
#: every scope of the facts file except the legacy ``READ_BOOKING`` and ``READ_PROFILE``
ALL_SCOPES: tuple[str, ...] = (
    *(f"{k}_{rw}" for k in ("PROFILE", "EVENT_TYPE", "BOOKING", "SCHEDULE", "APPS") for rw in _RW),
    *(f"TEAM_{k}_{rw}" for k in _KINDS for rw in _RW),
    *(f"ORG_{k}_{rw}" for k in _KINDS for rw in _RW),
)
_LEGACY = {"READ_BOOKING": "BOOKING_READ", "READ_PROFILE": "PROFILE_READ"}
SCOPE_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


def _scopes_for(table: Mapping[str, Sequence[str]]) -> dict[str, str]:
    return {name: scope for scope, names in table.items() for name in names}


#: The scope each operation the fake models needs from a third-party OAuth token. An operation
#: not listed here that needs credentials answers 403 "not available for third-party OAuth
#: tokens"; one that needs none (slots) is open to them.
OPERATION_SCOPES: dict[str, str] = _scopes_for(
    {
        "PROFILE_READ": ["me.get"],
        "PROFILE_WRITE": ["me.update"],
        "BOOKING_READ": [
            "bookings.list",
            "bookings.get",
            "bookings.get_calendar_links",
            "bookings.get_references",
            "bookings.get_recordings",
            "bookings.get_transcripts",
        ],
        "BOOKING_WRITE": [
            "bookings.create",
            "bookings.cancel",
            "bookings.reschedule",
            "bookings.confirm",
            "bookings.decline",
            "bookings.mark_absent",
            "bookings.reassign",
            "bookings.reassign_to_user",
        ],
        "EVENT_TYPE_READ": ["event_types.list", "event_types.get"],
        "EVENT_TYPE_WRITE": ["event_types.create", "event_types.update", "event_types.delete"],
        "SCHEDULE_READ": ["schedules.list", "schedules.get", "schedules.get_default"],
        "SCHEDULE_WRITE": ["schedules.create", "schedules.update", "schedules.delete"],
        "TEAM_PROFILE_READ": ["teams.list", "teams.get"],
        "TEAM_PROFILE_WRITE": ["teams.create", "teams.update", "teams.delete"],
        "TEAM_EVENT_TYPE_READ": ["teams.event_types.list", "teams.event_types.get"],
        "TEAM_EVENT_TYPE_WRITE": [
            "teams.event_types.create",
            "teams.event_types.update",
            "teams.event_types.delete",
        ],
        "TEAM_SCHEDULE_READ": ["teams.schedules.list"],
        "TEAM_MEMBERSHIP_READ": ["teams.memberships.list", "teams.memberships.get"],
        "TEAM_MEMBERSHIP_WRITE": [
            "teams.memberships.create",
            "teams.memberships.update",
            "teams.memberships.delete",
        ],
    }
)

_SCOPE_TEXT = {
    "PROFILE": "your profile",
    "EVENT_TYPE": "your event types",
    "BOOKING": "your bookings",
    "SCHEDULE": "your availability schedules",
    "APPS": "your installed apps",
    "MEMBERSHIP": "memberships",
}


def satisfies(held: Iterable[str], required: str) -> bool:
    """Whether ``held`` covers ``required``: the scope itself, its ``ORG_*`` twin for a
    ``TEAM_*`` one, or a legacy scope (``READ_BOOKING``, ``READ_PROFILE``) for its read twin."""
    have = {_LEGACY.get(s, s) for s in held}
    if required in have:
        return True
    return required.startswith("TEAM_") and "ORG_" + required.removeprefix("TEAM_") in have


def describe_scope(scope: str) -> str:
    rest, whose = _LEGACY.get(scope, scope), ""
    for prefix, owner in (("TEAM_", "your teams' "), ("ORG_", "your organization's ")):
        if scope.startswith(prefix):
            rest, whose = scope.removeprefix(prefix), owner
            break
    kind, _, access = rest.rpartition("_")
    what = _SCOPE_TEXT.get(kind, kind.lower().replace("_", " "))
    if whose:
        what = whose + what.removeprefix("your ")
    verb = "Read" if access == "READ" else "Create, change and delete"
    return f"{verb} {what}"
