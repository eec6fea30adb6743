"""The fake's handlers by operation name: each domain module fills its own :class:`Registry`;
``_handlers/__init__`` joins them into ``HANDLERS``, explicitly (importing a module registers
nothing anywhere else)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._records import Ctx
from .._state import FakeState

__all__ = ["Handler", "Registry", "joined"]

#: a handler gets the fake's state and the call, and returns the JSON body (status: 201 for
#: POST, else 200) or ``(status, body)``
Handler = Callable[[FakeState, Ctx], Any]


class Registry:
    """The handlers of one domain, by operation name (``@handles("bookings.create")``)."""

    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {}

    def __call__(self, *names: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            for name in names:
                if name in self.handlers:
                    raise ValueError(f"two handlers for {name}")
                self.handlers[name] = fn
            return fn

        return register


def joined(*registries: Registry) -> dict[str, Handler]:
    """Every registry's handlers in one table; an operation handled twice is an error."""
    table: dict[str, Handler] = {}
    for registry in registries:
        for name, fn in registry.handlers.items():
            if name in table:
                raise ValueError(f"two handlers for {name}")
            table[name] = fn
    return table
