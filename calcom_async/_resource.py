"""The base of every generated resource class: the one boundary to the session.

A generated method turns its typed arguments into path, query and body values and calls
:meth:`BaseResource._request` with its operation's row, an ``Operation[T]``; it returns the
``T`` the row names (no cast). Nothing else in a generated resource talks to the network.

The raw twin (``cal.me.with_raw_response``) is a resource made with ``raw=True`` whose methods
are the plain ones wrapped by :func:`to_raw_response_wrapper` (openai-python's shape): the same
parameters, typed as returning ``APIResponse[T]``. A paginated list (its twin fetches one page)
and a union answer (its ``expect=`` type variable does not survive the wrapper's typing) have a
method of their own in the twin, calling :meth:`BaseResource._request_raw` /
:meth:`BaseResource._request_as_raw`.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar

from ._narrow import check_expect, narrow, narrow_response
from ._response import APIResponse

if TYPE_CHECKING:
    from ._operation import Operation
    from ._options import RequestOptions

__all__ = ["BaseResource", "SessionProtocol", "namespace", "to_raw_response_wrapper"]

T = TypeVar("T")
E = TypeVar("E")
P = ParamSpec("P")
R = TypeVar("R", bound="BaseResource")


class SessionProtocol(Protocol):
    """What a resource needs from the session (``calcom_async._pipeline.Session``)."""

    def request(
        self,
        op: Operation[Any],
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        options: RequestOptions | None = None,
        raw: bool = False,
    ) -> Awaitable[Any]:
        """Send ``op``; the structured answer (``raw=True``: an ``APIResponse``)."""
        ...

    def route(self, op: Operation[Any], options: RequestOptions | None = None) -> Operation[Any]:
        """The row a call of ``op`` uses (a pinned live version may have one of its own)."""
        ...


class BaseResource:
    """A namespace of operations (``cal.bookings``, ``cal.organizations.teams``, …)."""

    __slots__ = ("_namespaces", "_raw", "_session")

    def __init__(self, session: SessionProtocol, *, raw: bool = False) -> None:
        self._session = session
        #: answer the ``APIResponse`` (the raw twin's resource; see :func:`to_raw_response_wrapper`)
        self._raw = raw
        #: the resources below this one and its raw twin, made on first use (:func:`namespace`)
        self._namespaces: dict[str, BaseResource] = {}

    async def _request(
        self,
        op: Operation[T],
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        options: RequestOptions | None = None,
    ) -> T:
        """Send ``op``: its answer (a resource made with ``raw=True``: the ``APIResponse``)."""
        answer: T = await self._session.request(
            op, path=path, query=query, body=body, options=options, raw=self._raw
        )
        return answer

    async def _request_raw(
        self,
        op: Operation[T],
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        options: RequestOptions | None = None,
    ) -> APIResponse[T]:
        """Send ``op``: the ``APIResponse`` (a raw twin's own methods)."""
        response: APIResponse[T] = await self._session.request(
            op, path=path, query=query, body=body, options=options, raw=True
        )
        return response

    async def _request_as(
        self,
        op: Operation[Any],
        expect: type[E] | None,
        members: Sequence[Any],
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        options: RequestOptions | None = None,
    ) -> E:
        """A union answer (``members``), of the one type ``expect`` names if given
        (``calcom_async._narrow``): an ``expect`` outside ``members`` is refused before sending,
        an answer of another type after."""
        if expect is not None:
            check_expect(op.name, expect, members)
        answer = await self._session.request(op, path=path, query=query, body=body, options=options)
        value: E = narrow(op.name, expect, answer)
        return value

    async def _request_as_raw(
        self,
        op: Operation[Any],
        expect: type[E] | None,
        members: Sequence[Any],
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        options: RequestOptions | None = None,
    ) -> APIResponse[E]:
        """:meth:`_request_as`, answering the ``APIResponse`` (its ``data`` narrowed)."""
        if expect is not None:
            check_expect(op.name, expect, members)
        response = await self._session.request(
            op, path=path, query=query, body=body, options=options, raw=True
        )
        checked: APIResponse[E] = narrow_response(op.name, expect, response)
        return checked


def namespace(
    cache: dict[str, BaseResource], name: str, cls: type[R], session: SessionProtocol
) -> R:
    """The resource ``cls`` kept in ``cache`` under ``name`` (``cal.bookings``,
    ``cal.organizations.teams``, a raw twin), made on first use. A resource holds only the
    session, so one per client does for every call; and a raw twin wraps its methods once, not
    on every ``with_raw_response``."""
    found = cache.get(name)
    if not isinstance(found, cls):
        found = cache[name] = cls(session)
    return found


def to_raw_response_wrapper(
    method: Callable[P, Awaitable[T]],
) -> Callable[P, Awaitable[APIResponse[T]]]:
    """``method`` of a resource made with ``raw=True`` (which answers the ``APIResponse``),
    typed as what it returns: the same parameters, ``APIResponse[T]`` for ``T``."""

    @functools.wraps(method)
    async def wrapped(*args: P.args, **kwargs: P.kwargs) -> APIResponse[T]:
        response = await method(*args, **kwargs)
        if not isinstance(response, APIResponse):
            raise TypeError(f"{method.__qualname__} is not a raw resource's method")
        return response

    return wrapped


def build_body(op: Operation[Any], body: Any, fields: Mapping[str, Any]) -> Any:
    """The request body of a generated method: the body given, or the model its keyword fields
    build (for a union body, the first member that takes them: ``calcom_async._bodies``).

    Giving both is a usage error, as is leaving out a field the model requires.
    """
    from ._bodies import build

    return build(op.name, op.body_type(), body, fields)
