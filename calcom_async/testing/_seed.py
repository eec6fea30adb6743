"""The fake's generated data: people, teams, event types and bookings of every kind
(``FakeCalCom.seed``), reproducible from the state's random seed."""

from __future__ import annotations

import math
from typing import Any

from ._records import Booking
from ._state import FakeState
from ._util import iso, ms, slugify

__all__ = ["seed"]

_STAMPED_SINCE = 450 * 86400  # seeded bookings older than this may have updatedAt null

_FIRST = [
    "Ava",
    "Liam",
    "Noah",
    "Emma",
    "Olivia",
    "Mateo",
    "Sofia",
    "Yuki",
    "Hiro",
    "Priya",
    "Arjun",
    "Fatima",
    "Omar",
    "Chloe",
    "Lucas",
    "Mia",
    "Leon",
    "Hannah",
    "Ingrid",
    "Lars",
    "Chen",
    "Wei",
    "Amara",
    "Kwame",
    "Zoe",
    "Diego",
    "Elena",
    "Ivan",
    "Aisha",
    "Tomás",
    "Nora",
    "Felix",
]

_LAST = [
    "Smith",
    "Müller",
    "García",
    "Rossi",
    "Tanaka",
    "Kim",
    "Patel",
    "Okafor",
    "Johansson",
    "Nowak",
    "Silva",
    "Dubois",
    "O'Brien",
    "Nguyen",
    "Kowalski",
    "Haddad",
    "Cohen",
    "Fischer",
    "Moreau",
    "Costa",
    "Yamamoto",
    "Singh",
    "Andersen",
    "Novak",
    "Ibrahim",
]

_ZONES = [
    "America/New_York",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Rome",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Australia/Sydney",
    "Africa/Lagos",
    "Asia/Singapore",
    "UTC",
]

_LANGS = ("en", "de", "es", "fr", "it", "ja", "pt", "nl")

_EVENT_TITLES = (
    ("30 Min Meeting", 30),
    ("Intro Call", 15),
    ("Product Demo", 45),
    ("Customer Onboarding", 60),
    ("Quarterly Review", 90),
    ("Coffee Chat", 30),
    ("Technical Deep Dive", 60),
    ("Support Session", 30),
)


def person(state: FakeState) -> dict[str, Any]:
    rng = state.rng
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    local = f"{first}.{last}".lower().replace("'", "").replace("á", "a").replace("ü", "u")
    attendee: dict[str, Any] = {
        "name": f"{first} {last}",
        "email": f"{local}{rng.randint(1, 999)}@{rng.choice(['example.com', 'example.org'])}",
        "timeZone": rng.choice(_ZONES),
        "language": rng.choice(_LANGS),
        "absent": False,
    }
    if rng.random() < 0.3:
        attendee["phoneNumber"] = f"+1{rng.randint(2000000000, 9999999999)}"
    return attendee


def seed(
    state: FakeState,
    *,
    bookings: int,
    event_types: int,
    attendees_per_booking: tuple[int, int],
    teams: int,
    managed_users: int,
    org_users: int,
) -> None:
    rng = state.rng
    now = state.now()
    hosts = [state.owner_id]
    for _ in range(max(org_users, 5 if bookings else 0)):
        p = person(state)
        hosts.append(state.add_user(p["name"], "team-" + p["email"], p["timeZone"]))
    for i in range(teams):
        team = state.add_team(f"Team {_LAST[i % len(_LAST)]}", state.owner_id)
        for member in hosts[1:4]:
            state.add_membership(team["id"], member, "MEMBER", accepted=True)
        state.add_event_type(
            state.owner_id,
            {"title": "Team standup", "slug": "standup", "lengthInMinutes": 15},
            team_id=team["id"],
        )
    for _ in range(managed_users):
        p = person(state)
        state.add_managed_user(next(iter(state.clients)), p["name"], p["email"], p["timeZone"])
    mine = [et for et, o in state.event_type_owner.items() if o == state.owner_id]
    for i in range(max(0, event_types - len(mine))):
        title, length = _EVENT_TITLES[i % len(_EVENT_TITLES)]
        fields: dict[str, Any] = {
            "title": title,
            "slug": slugify(title) + (f"-{i}" if i >= len(_EVENT_TITLES) else ""),
            "lengthInMinutes": length,
            "description": f"{title} with the team.",
        }
        if i % 4 == 3:
            fields["confirmationPolicy"] = {"type": "always", "disabled": False}
        state.add_event_type(state.owner_id, fields)
    et_ids = sorted(state.event_types)
    if not et_ids:
        return
    locations = (
        None,
        "https://zoom.us/j/{n}",
        "https://meet.google.com/abc-{n}",
        "+1 555 010 {n}",
        "Main office, 3rd floor",
    )
    lo, hi = attendees_per_booking
    made = 0
    while made < bookings:
        et_id = rng.choice(et_ids)
        et = state.event_types[et_id]
        day = rng.randint(-540, 180)
        minute = rng.randrange(7 * 60, 19 * 60, 15)
        base = math.floor(now / 86400) * 86400
        first = base + day * 86400 + minute * 60
        # about one booking in 25 belongs to a weekly series of four
        series = min(4, bookings - made) if rng.random() < 0.01 else 1
        series_uid = state.uid() if series > 1 else None
        attendees = [person(state) for _ in range(rng.randint(lo, hi))]
        host = rng.choice(hosts)
        template = rng.choice(locations)
        location = template.format(n=rng.randint(1000, 9999)) if template else None
        created = first - rng.uniform(0.5, 60) * 86400
        if created > now - 60:  # an upcoming booking, made some time in the last month
            created = now - rng.uniform(60, 30 * 86400)
        for week in range(series):
            start = first + week * 7 * 86400
            past = start < now
            roll = rng.random()
            if roll < 0.1:
                status = "cancelled"
            elif roll < 0.13:
                status = "rejected"
            elif roll < 0.2 and not past:
                status = "pending"
            else:
                status = "accepted"
            booking = state.add_booking(
                et_id,
                start,
                [dict(a) for a in attendees],
                length=int(et["lengthInMinutes"]),
                status=status,
                host_id=host,
                created=created,
                recurring_uid=series_uid,
                guests=[f"guest{rng.randint(1, 99)}@example.net"] if rng.random() < 0.15 else None,
                location=location,
                metadata={"source": rng.choice(["web", "api", "embed", "crm"])},
            )
            made += 1
            if status == "cancelled":
                booking.data["cancellationReason"] = rng.choice(
                    ["Schedule conflict", "No longer needed", "Sick", "Rescheduling later"]
                )
            if past and status == "accepted" and rng.random() < 0.05:
                booking.data["attendees"][0]["absent"] = True
            _age(state, booking, created, now)


def _age(state: FakeState, booking: Booking, created: float, now: float) -> None:
    """Stamp ``updatedAt`` as the live API has it: within a second of ``createdAt``, later
    for a booking changed since (cancelled, rejected, confirmed, or about one in five), and
    ``null`` for most bookings made before Cal.com stamped it (older than _STAMPED_SINCE)."""
    rng = state.rng
    changed = booking.status != "accepted" or rng.random() < 0.2
    state.bookings_version += 1
    if created < now - _STAMPED_SINCE and not changed and rng.random() < 0.8:
        booking.updated = None
        booking.data["updatedAt"] = None
        return
    updated = created + rng.uniform(0.001, 1)
    if changed:
        updated += rng.uniform(0, min(5 * 86400, now - 2 - updated))
    booking.updated = ms(updated)
    booking.data["updatedAt"] = iso(booking.updated)
