"""The base of every generated resource class: the one boundary to the session.

A generated method turns its typed arguments into path, query and body values and calls
:meth:`BaseResource._request`, which hands them to ``Session.request``. Nothing else in a
generated resource talks to the network.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ._operation import Operation
    from ._options import RequestOptions

__all__ = ["BaseResource", "SessionProtocol"]


class SessionProtocol(Protocol):
    """What a resource needs from the session (implemented by ``calcom_async._session.Session``)."""

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

    def _request(
        self,
        op: Operation,
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        options: RequestOptions | None = None,
    ) -> Awaitable[Any]:
        # the session's coroutine itself, not one wrapping it: one frame less on every resume
        return self._session.request(
            op, path=path, query=query, body=body, options=options, raw=self._raw
        )


def build_body(model: Any, body: Any, fields: Mapping[str, Any]) -> Any:
    """The request body of a generated method: the model given, or one built from keyword fields.

    Giving both is a usage error, as is leaving out a field the model requires.
    """
    from ._types import UNSET

    given = {name: value for name, value in fields.items() if value is not UNSET}
    if body is not None:
        if given:
            raise _usage_error(
                f"pass the body as a {model.__name__} or as keyword fields, not both "
                f"(got body and {', '.join(sorted(given))})"
            )
        return body
    try:
        return model(**given)
    except TypeError as exc:
        raise _usage_error(
            f"cannot build {model.__name__} from the keyword fields: {exc}"
        ) from None


def _usage_error(message: str) -> Exception:
    try:
        from ._errors import CalComUsageError
    except ImportError:  # pragma: no cover - the error tree is the session layer's
        return TypeError(message)
    return CalComUsageError(message)
