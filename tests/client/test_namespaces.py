"""The namespaces of a client (``cal.bookings``, ``cal.organizations.teams``) and their raw twins
are made once per client and kept: they hold only the session, and a raw twin wraps its
methods when it is made (``to_raw_response_wrapper``), which must not happen on every call."""

from __future__ import annotations

from calcom_async import CalCom
from calcom_async._generated.resources.bookings import Bookings, BookingsWithRawResponse
from calcom_async.testing import FakeCalCom


async def test_a_namespace_and_its_raw_twin_are_made_once_per_client() -> None:
    async with CalCom(api_key="cal_test_namespaces") as cal:
        assert cal.bookings is cal.bookings and isinstance(cal.bookings, Bookings)
        raw = cal.bookings.with_raw_response
        assert raw is cal.bookings.with_raw_response and isinstance(raw, BookingsWithRawResponse)
        wrapped = sorted(vars(raw))  # the plain methods it wraps (to_raw_response_wrapper)
        assert "get_recordings" in wrapped
        assert all(getattr(raw, n) is getattr(cal.bookings.with_raw_response, n) for n in wrapped)
        assert cal.organizations.teams is cal.organizations.teams
        teams_raw = cal.organizations.teams.with_raw_response
        assert teams_raw is cal.organizations.teams.with_raw_response
        copy = cal.with_options(max_retries=0)
        assert copy.bookings is not cal.bookings  # a copy's namespaces send through its session
        assert copy.bookings._session is copy.session and cal.bookings._session is cal.session


async def test_kept_namespaces_send_through_their_own_client() -> None:
    async with FakeCalCom() as fake:
        fake.seed(bookings=2)
        async with fake.client() as cal:
            uid = (await cal.bookings.list())[0].uid
            first = await cal.bookings.with_raw_response.get(uid)
            pinned = cal.with_options(api_versions={"bookings": "2026-02-25"})
            second = await pinned.bookings.with_raw_response.get(uid)
            again = await cal.bookings.with_raw_response.get(uid)
            assert first.status_code == second.status_code == again.status_code == 200
            sent = [r for r in fake.requests if r.path == f"/v2/bookings/{uid}"]
            assert [r.api_version for r in sent] == ["2024-08-13", "2026-02-25", "2024-08-13"]
