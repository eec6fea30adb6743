"""The base of every generated resource class: the one boundary to the session.

A generated method turns its typed arguments into path, query and body values and calls
:meth:`BaseResource._request`, which hands them to ``Session.request``. Nothing else in a
generated resource talks to the network.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ._operation import Operation
    from ._options import RequestOptions

__all__ = ["BaseResource", "SessionProtocol"]


class SessionProtocol(Protocol):
    """What a resource needs from the session (``calcom_async._pipeline.Session``)."""

    async def request(
        self,
        op: Operation,
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        options: RequestOptions | None = None,
        raw: bool = False,
    ) -> Any:
        """Send ``op``; return the structured answer (``raw=True``: an ``APIResponse``)."""
        ...

    def route(self, op: Operation, options: RequestOptions | None = None) -> Operation:
        """The row a call of ``op`` uses (a pinned live version may have one of its own)."""
        ...


class BaseResource:
    """A namespace of operations (``cal.bookings``, ``cal.organizations.teams``, …)."""

    __slots__ = ("_session",)
    _raw: bool = False

    def __init__(self, session: SessionProtocol) -> None:
        self._session = session

    async def _request(
        self,
        op: Operation,
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        options: RequestOptions | None = None,
    ) -> Any:
        """Send ``op`` through the session: the structured answer, or for a raw-response
        resource (``_raw``) the ``APIResponse``."""
        return await self._session.request(
            op, path=path, query=query, body=body, options=options, raw=self._raw
        )


def build_body(op: Operation, body: Any, fields: Mapping[str, Any]) -> Any:
    """The request body of a generated method: the body given, or the model its keyword fields
    build (for a union body, the first member that takes them: ``calcom_async._bodies``).

    Giving both is a usage error, as is leaving out a field the model requires.
    """
    from ._bodies import build

    return build(op.name, op.body_type(), body, fields)
