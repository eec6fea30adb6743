"""A type checker sees ``CalComSync`` fully typed: mypy (strict, the project's settings) over code
that uses it. ``assert_type`` makes every expectation exact (``Any`` fails it), and the code that
must not type-check has to fail with exactly the errors marked ``# E: <code>``.

One mypy run for both snippets, with the project's mypy cache (``.mypy_cache``, as
``make typecheck``): a second run takes a second or two, a cold one ten or so.
"""

from __future__ import annotations

import pytest

from tests.support.typecheck import Message, errors, marked, run_mypy, snippet

GOOD = """
from __future__ import annotations

import datetime as dt
from typing import Any, assert_type

from calcom_async import APIResponse, BulkResult, Page, SyncCheckpoint, TokenPair, models as m
from calcom_async._generated.blocking_resources import (
    BlockingBookings,
    BlockingBookingsWithRawResponse,
    BlockingOrganizationsTeamsMemberships,
)
from calcom_async.blocking import BlockingBookingSync, CalComSync, SyncPaginator


def use(cal: CalComSync) -> None:
    assert_type(cal.webhooks.get("w1"), m.UserWebhookOutputDto)
    assert_type(cal.me.get(), m.MeOutput)
    hooks = cal.webhooks.list(take=10, prefetch=2, page_size=50)
    assert_type(hooks, SyncPaginator[m.UserWebhookOutputDto])
    for hook in hooks:
        assert_type(hook, m.UserWebhookOutputDto)
    assert_type(hooks.to_list(max_items=5), list[m.UserWebhookOutputDto])
    for page in hooks.pages():
        assert_type(page, Page[m.UserWebhookOutputDto])
        assert_type(page.items, list[m.UserWebhookOutputDto])
    assert_type(hooks.raw(), SyncPaginator[dict[str, Any]])
    assert_type(hooks.page_size, int)
    assert_type(
        cal.webhooks.with_raw_response.get("w1"), APIResponse[m.UserWebhookOutputDto]
    )
    assert_type(
        cal.webhooks.with_raw_response.list(take=5), APIResponse[list[m.UserWebhookOutputDto]]
    )
    assert_type(
        cal.webhooks.get_many(["a", "b"], concurrency=4),
        list[BulkResult[str, m.UserWebhookOutputDto]],
    )
    assert_type(cal.organizations.teams.memberships, BlockingOrganizationsTeamsMemberships)
    members = cal.organizations.teams.memberships.list(1, 2)
    assert_type(members.to_list(), list[m.TeamMembershipOutput])
    bookings: BlockingBookings = cal.bookings
    raw: BlockingBookingsWithRawResponse = bookings.with_raw_response
    assert_type(raw.get("uid").status_code, int)
    cancelled = bookings.cancel(
        "uid", m.CancelBookingInput_2024_08_13(cancellation_reason="Moved")
    )
    assert_type(
        cancelled,
        m.BookingOutput_2024_08_13
        | m.RecurringBookingOutput_2024_08_13
        | list[m.RecurringBookingOutput_2024_08_13]
        | m.GetSeatedBookingOutput_2024_08_13
        | m.GetRecurringSeatedBookingOutput_2024_08_13
        | list[m.GetRecurringSeatedBookingOutput_2024_08_13],
    )
    webhook = cal.webhooks.create(
        subscriber_url="https://example.com/hook", triggers=[m.WebhookTriggerEvent.BOOKING_CREATED]
    )
    assert_type(webhook.id, str)  # a UUID on the live API (openapi/overlay.yaml)
    sync = bookings.sync(checkpoint=None, overlap=dt.timedelta(seconds=5))
    assert_type(
        sync,
        BlockingBookingSync[  # an item of bookings.list (issue 15: was Any)
            m.BookingOutput_2024_08_13
            | m.RecurringBookingOutput_2024_08_13
            | m.GetSeatedBookingOutput_2024_08_13
            | m.GetRecurringSeatedBookingOutput_2024_08_13
        ],
    )
    for booking in sync:
        assert_type(sync.checkpoint, SyncCheckpoint)
    for row in sync.raw():  # the answer's dicts
        assert_type(row, dict[str, Any])
    assert_type(sync.pages, int)
    assert_type(cal.with_options(timeout=5.0, api_versions={"bookings": "2024-08-13"}), CalComSync)
    assert_type(cal.base_url, str)
    assert_type(cal.tokens, TokenPair | None)
    assert_type(cal.is_closed, bool)
    cal.close()


with CalComSync(api_key="cal_live_x", max_retries=3, timeout=10) as client:
    assert_type(client, CalComSync)
    use(client)
"""

BAD = """
from calcom_async import models as m
from calcom_async.blocking import CalComSync


def misuse(cal: CalComSync) -> None:
    cal.webhooks.get(1)  # E: arg-type
    cal.bookings.get()  # E: call-arg
    cal.bookings.gett("uid")  # E: attr-defined
    cal.bookingz  # E: attr-defined
    cal.webhooks.list(take="ten")  # E: arg-type
    cal.webhooks.list().to_list(max_items="5")  # E: arg-type
    cal.webhooks.list().first_page()  # E: attr-defined
    cal.webhooks.with_raw_response.list(page_size=10)  # E: call-arg
    number: int = cal.webhooks.get("w")  # E: assignment
    webhook: m.UserWebhookOutputDto = cal.webhooks.list()  # E: assignment
    cal.bookings.sync(checkpoint=1)  # E: arg-type
    cal.with_options(bogus=True)  # E: call-arg
    CalComSync(api_key=1)  # E: arg-type
    CalComSync(api_kee="x")  # E: call-arg
    for page in cal.webhooks.list().pages():
        page.itemz  # E: attr-defined
"""


@pytest.fixture(scope="module")
def mypy_messages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Message]]:
    """mypy's messages by snippet, from one run over both."""
    snippets = {"good": snippet(GOOD), "bad": snippet(BAD)}
    return run_mypy(snippets, tmp_path_factory.mktemp("mypy"))


def test_typed_use_type_checks_exactly(mypy_messages: dict[str, list[Message]]) -> None:
    assert errors(mypy_messages["good"]) == set()


def test_misuse_is_caught(mypy_messages: dict[str, list[Message]]) -> None:
    expected = set(marked(BAD, "# E: ").items())
    assert len(expected) == 15
    assert errors(mypy_messages["bad"]) == expected
