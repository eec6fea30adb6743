"""Handlers of the operations the fake models, one module per domain, by operation name
(``bookings.create``). An operation without one answers from the document's example (see
``_server.py``)."""

from __future__ import annotations

from . import (
    bookings,
    event_types,
    managed_users,
    me,
    organizations,
    schedules,
    slots,
    teams,
    webhooks,
)
from ._registry import Handler, Registry, joined

__all__ = ["HANDLERS", "Handler", "Registry"]

HANDLERS: dict[str, Handler] = joined(
    me.handles,
    schedules.handles,
    event_types.handles,
    slots.handles,
    bookings.handles,
    webhooks.handles,
    teams.handles,
    organizations.handles,
    managed_users.handles,
)
