"""Every answer of every operation the fake models validates against the document's response
schema (openapi-schema-validator, OpenAPI 3.0 rules); example answers of the rest too."""

from __future__ import annotations

import datetime as dt
from typing import Any

import aiohttp

from calcom_async._generated.operations import OPERATIONS
from calcom_async.testing import FakeCalCom
from calcom_async.testing._handlers import HANDLERS
from tests.fake._fake_helpers import Raw, schema_errors, success_codes


def _day(days: int) -> str:
    return (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=days)).isoformat()


async def _scenario(raw: Raw, fake: FakeCalCom) -> None:
    """Calls every modelled operation at least once, through its main paths."""
    await raw("me.get")
    await raw("me.update", body={"bio": "Hello", "timeFormat": 12})
    sched = (
        await raw(
            "schedules.create",
            body={
                "name": "Evenings",
                "timeZone": "Europe/Rome",
                "isDefault": False,
                "availability": [
                    {
                        "days": [
                            "Monday",
                            "Tuesday",
                            "Wednesday",
                            "Thursday",
                            "Friday",
                            "Saturday",
                            "Sunday",
                        ],
                        "startTime": "08:00",
                        "endTime": "20:00",
                    }
                ],
                "overrides": [{"date": _day(30), "startTime": "10:00", "endTime": "12:00"}],
            },
        )
    )["data"]
    await raw("schedules.list")
    await raw("schedules.get_default")
    await raw("schedules.get", path={"scheduleId": sched["id"]})
    await raw("schedules.update", path={"scheduleId": sched["id"]}, body={"name": "Every day"})
    et = (
        await raw(
            "event_types.create",
            body={
                "title": "Design review",
                "slug": "design-review",
                "lengthInMinutes": 30,
                "scheduleId": sched["id"],
            },
        )
    )["data"]
    rec = (
        await raw(
            "event_types.create",
            body={
                "title": "Weekly 1:1",
                "slug": "weekly",
                "lengthInMinutes": 30,
                "scheduleId": sched["id"],
                "recurrence": {"interval": 1, "occurrences": 3, "frequency": "weekly"},
            },
        )
    )["data"]
    conf = (
        await raw(
            "event_types.create",
            body={
                "title": "Needs approval",
                "slug": "approval",
                "lengthInMinutes": 60,
                "scheduleId": sched["id"],
                "confirmationPolicy": {"type": "always", "disabled": False},
            },
        )
    )["data"]
    await raw("event_types.list")
    await raw("event_types.get", path={"eventTypeId": et["id"]})
    await raw("event_types.update", path={"eventTypeId": et["id"]}, body={"title": "Review"})
    team = (await raw("teams.create", body={"name": "Design", "slug": "design"}))["data"]
    await raw("teams.list")
    await raw("teams.get", path={"teamId": team["id"]})
    await raw("teams.update", path={"teamId": team["id"]}, body={"bio": "We design"})
    org_user = (
        await raw(
            "organizations.users.create",
            path={"orgId": 1},
            body={"email": "new.person@example.com", "username": "newp"},
        )
    )["data"]
    await raw("organizations.users.list", path={"orgId": 1})
    await raw(
        "organizations.users.update",
        path={"orgId": 1, "userId": org_user["id"]},
        body={"bio": "updated"},
    )
    m = (
        await raw(
            "teams.memberships.create",
            path={"teamId": team["id"]},
            body={"userId": org_user["id"], "role": "MEMBER"},
        )
    )["data"]
    await raw("teams.memberships.list", path={"teamId": team["id"]})
    await raw("teams.memberships.get", path={"teamId": team["id"], "membershipId": m["id"]})
    await raw(
        "teams.memberships.update",
        path={"teamId": team["id"], "membershipId": m["id"]},
        body={"role": "ADMIN"},
    )
    tet = (
        await raw(
            "teams.event_types.create",
            path={"teamId": team["id"]},
            body={
                "title": "Team sync",
                "slug": "team-sync",
                "lengthInMinutes": 30,
                "schedulingType": "COLLECTIVE",
                "assignAllTeamMembers": True,
            },
        )
    )["data"]
    await raw("teams.event_types.list", path={"teamId": team["id"]})
    await raw("teams.event_types.get", path={"teamId": team["id"], "eventTypeId": tet["id"]})
    await raw(
        "teams.event_types.update",
        path={"teamId": team["id"], "eventTypeId": tet["id"]},
        body={"title": "Team sync v2"},
    )
    # webhooks at every level
    for level, path in (
        ("webhooks", {}),
        ("event_types.webhooks", {"eventTypeId": et["id"]}),
        ("oauth_clients.webhooks", {"clientId": fake.client_id}),
        ("organizations.webhooks", {"orgId": 1}),
    ):
        hook = (
            await raw(
                f"{level}.create",
                path=path,
                body={
                    "subscriberUrl": f"http://127.0.0.1:9/{level}",
                    "triggers": ["BOOKING_CREATED"],
                    "active": False,
                    "secret": "whsec",
                },
            )
        )["data"]
        await raw(f"{level}.list", path=path)
        await raw(f"{level}.get", path={**path, "webhookId": hook["id"]})
        await raw(f"{level}.update", path={**path, "webhookId": hook["id"]}, body={"active": False})
        await raw(f"{level}.delete", path={**path, "webhookId": hook["id"]})
        if level in ("event_types.webhooks", "oauth_clients.webhooks"):
            await raw(f"{level}.delete_all", path=path)
    # slots and reservations
    q = {"eventTypeId": et["id"], "start": _day(1), "end": _day(7), "timeZone": "Asia/Tokyo"}
    slots = (await raw("slots.get_available", query=q))["data"]
    starts = [s["start"] for day in slots.values() for s in day]
    assert len(starts) > 20
    await raw("slots.get_available", query={**q, "format": "range"})
    res = (await raw("slots.reserve", body={"eventTypeId": et["id"], "slotStart": starts[0]}))[
        "data"
    ]
    await raw("slots.get_reserved", path={"uid": res["reservationUid"]})
    await raw(
        "slots.update_reserved",
        path={"uid": res["reservationUid"]},
        body={"eventTypeId": et["id"], "slotStart": starts[1]},
    )
    await raw("slots.delete_reserved", path={"uid": res["reservationUid"]})
    # bookings
    attendee = {"name": "Ada Lovelace", "email": "ada@example.com", "timeZone": "Europe/London"}
    b = (
        await raw(
            "bookings.create",
            body={"eventTypeId": et["id"], "start": starts[2], "attendee": attendee},
        )
    )["data"]
    series = await raw(
        "bookings.create",
        body={
            "eventTypeId": rec["id"],
            "start": starts[3],
            "attendee": attendee,
            "recurrenceCount": 3,
        },
    )
    assert len(series["data"]) == 3
    conf_slots = (
        await raw(
            "slots.get_available",
            query={"eventTypeId": conf["id"], "start": _day(1), "end": _day(7)},
        )
    )["data"]
    conf_start = [s["start"] for day in conf_slots.values() for s in day][-1]
    pending = (
        await raw(
            "bookings.create",
            body={"eventTypeId": conf["id"], "start": conf_start, "attendee": attendee},
        )
    )["data"]
    assert pending["status"] == "pending"
    await raw("bookings.confirm", path={"bookingUid": pending["uid"]})
    conf_start2 = [s["start"] for day in conf_slots.values() for s in day][-3]
    pending2 = await raw(
        "bookings.create",
        body={"eventTypeId": conf["id"], "start": conf_start2, "attendee": attendee},
    )
    await raw(
        "bookings.decline", path={"bookingUid": pending2["data"]["uid"]}, body={"reason": "busy"}
    )
    await raw(
        "bookings.create",
        body={"eventTypeId": tet["id"], "start": starts[5], "attendee": attendee, "instant": True},
    )
    await raw(
        "bookings.list", query={"take": 5, "status": "upcoming,unconfirmed", "sortStart": "desc"}
    )
    await raw("bookings.get", path={"bookingUid": b["uid"]})
    await raw("bookings.get", path={"bookingUid": series["data"][0]["recurringBookingUid"]})
    moved = (
        await raw(
            "bookings.reschedule",
            path={"bookingUid": b["uid"]},
            body={"start": starts[6], "reschedulingReason": "clash"},
        )
    )["data"]
    await raw(
        "bookings.cancel",
        path={"bookingUid": moved["uid"]},
        body={"cancellationReason": "no longer needed"},
    )
    await raw(
        "bookings.cancel", path={"bookingUid": series["data"][0]["recurringBookingUid"]}, body={}
    )
    past = next(
        x for x in fake.store.bookings.values() if x.end < fake.now() and x.status == "accepted"
    )
    await raw(
        "bookings.mark_absent",
        path={"bookingUid": past.uid},
        body={
            "host": False,
            "attendees": [{"email": past.data["attendees"][0]["email"], "absent": True}],
        },
    )
    # managed users and tokens
    cid = fake.client_id
    mu = await raw(
        "managed_users.create",
        path={"clientId": cid},
        auth="platform",
        body={"email": "bob@example.com", "name": "Bob", "timeZone": "Asia/Tokyo"},
    )
    uid = mu["data"]["user"]["id"]
    await raw("managed_users.list", path={"clientId": cid}, auth="platform")
    await raw("managed_users.get", path={"clientId": cid, "userId": uid}, auth="platform")
    await raw(
        "managed_users.update",
        path={"clientId": cid, "userId": uid},
        auth="platform",
        body={"name": "Robert"},
    )
    await raw("managed_users.force_refresh", path={"clientId": cid, "userId": uid}, auth="platform")
    fresh = await raw(
        "managed_users.force_refresh", path={"clientId": cid, "userId": uid}, auth="platform"
    )
    await raw(
        "managed_users.refresh_tokens",
        path={"clientId": cid},
        auth="platform",
        body={"refreshToken": fresh["data"]["refreshToken"]},
    )
    await raw("managed_users.delete", path={"clientId": cid, "userId": uid}, auth="platform")
    # clean-up operations
    await raw("teams.event_types.delete", path={"teamId": team["id"], "eventTypeId": tet["id"]})
    await raw("teams.memberships.delete", path={"teamId": team["id"], "membershipId": m["id"]})
    await raw("teams.delete", path={"teamId": team["id"]})
    await raw("organizations.users.delete", path={"orgId": 1, "userId": org_user["id"]})
    await raw("event_types.delete", path={"eventTypeId": rec["id"]})
    spare = (
        await raw("schedules.create", body={"name": "x", "timeZone": "UTC", "isDefault": False})
    )["data"]
    await raw("schedules.delete", path={"scheduleId": spare["id"]})


async def test_every_modelled_answer_fits_the_document() -> None:
    async with FakeCalCom(record_bodies=True) as fake, aiohttp.ClientSession() as session:
        fake.seed(bookings=300)
        await _scenario(Raw(fake, session), fake)
        assert fake.bodies is not None
        seen = {name for name, _, _ in fake.bodies}
        errors = [e for name, _, body in fake.bodies for e in schema_errors(name, body)]
        codes = sorted(
            {(name, status) for name, status, _ in fake.bodies if status not in success_codes(name)}
        )
    assert not sorted(set(HANDLERS) - seen), "modelled operations the scenario did not call"
    assert not codes, f"status codes the document does not declare: {codes}"
    assert not errors, "\n".join(errors[:30])


async def test_seeded_bookings_fit_the_document() -> None:
    async with FakeCalCom(record_bodies=True) as fake, aiohttp.ClientSession() as session:
        fake.seed(bookings=2000, teams=1)
        raw = Raw(fake, session)
        for skip in range(0, 2000, 250):
            await raw("bookings.list", query={"take": 250, "skip": skip})
        assert fake.bodies is not None
        errors = [e for name, _, body in fake.bodies for e in schema_errors(name, body)]
    assert not errors, "\n".join(errors[:30])


#: Example answers (composed by codegen/examples.py) that a standard validator rejects because of
#: the document: a oneOf without discriminator whose branches all accept the example, or a
#: discriminator mapping to a schema that does not exist. Reported for openapi/overlay.yaml.
KNOWN_EXAMPLE_DEFECTS = {
    "organizations.memberships": "attributes oneOf: every *Attribute branch accepts the example",
    "organizations.routing_forms.create_response": "slots oneOf: Range/SlotsOutput both accept {}",
    "organizations.teams.routing_forms.responses.create": "slots oneOf: both branches accept {}",
    "routing_forms.calculate_slots": "slots oneOf: both branches accept {}",
    "organizations.teams.event_types": "bookingFields/bookingWindow oneOf: several branches match",
    "unified_calendars": "locations discriminator maps to #/components/schemas/video (missing)",
}


def test_example_answers_fit_the_document() -> None:
    """Operations the fake does not model answer with these examples."""
    from calcom_async._generated.examples import response_example

    errors: list[str] = []
    for op in OPERATIONS:
        if op.name in HANDLERS:
            continue
        try:
            body: Any = response_example(op.operation_id)
        except KeyError:
            continue
        if any(op.name.startswith(prefix) for prefix in KNOWN_EXAMPLE_DEFECTS):
            continue
        errors.extend(schema_errors(op.name, body))
    assert not errors, f"{len(errors)} errors:\n" + "\n".join(errors[:30])
