"""The fake's state (:class:`FakeState`: users, event types, bookings, webhooks, teams, tokens).
The handlers are in ``_handlers/``, one module per domain; what a handler is given
(:class:`~calcom_async.testing._records.Ctx`) is in ``_records.py``.

One class over one set of data (:class:`~.core.StateCore`: the tables, the ids, the users and
their schedules), its methods in a module per domain, each a class on the ones it builds on:
``users``, then ``event_types``, then ``availability``, ``bookings`` and ``booking_events``;
``booking_list``, ``teams`` and ``auth`` on the data alone. :class:`FakeState` is all of them.
"""

from __future__ import annotations

from .auth import AuthState
from .availability import AvailabilityState
from .booking_events import BookingEventsState
from .booking_list import BookingListState
from .bookings import BookingsState
from .teams import TeamsState

__all__ = ["FakeState"]


class FakeState(
    BookingsState, BookingEventsState, BookingListState, AvailabilityState, TeamsState, AuthState
):
    """All the fake's data, in memory, and what the handlers do with it."""
