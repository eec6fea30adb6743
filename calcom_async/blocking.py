"""A blocking facade for scripts and notebooks: the same resources and names, no ``await``.

::

    from calcom_async.blocking import CalComSync

    with CalComSync(api_key="cal_live_…") as cal:
        booking = cal.bookings.get("uid")                   # typed as the async get
        raw = cal.bookings.with_raw_response.get("uid")     # APIResponse[…]
        for booking in cal.bookings.list(status=["upcoming"]):    # a SyncPaginator
            ...

The async client runs on an event loop in a daemon thread behind an anyio ``BlockingPortal``
(``calcom_async._portal``); each call is handed to that loop and its result (or exception) handed
back. Paginated lists come back as a :class:`SyncPaginator` (``for``, ``to_list()``,
``pages()``, ``raw()``), other async iterables (``cal.bookings.sync()``) as plain iterables.

How it is typed
---------------
At run time one small generic proxy serves every resource: each public attribute of the async
resource is looked up and wrapped (a coroutine method becomes a blocking call, a sub-resource a
proxy, a paginator a :class:`SyncPaginator`). The types are generated from the same operation
descriptions as the async resources (``codegen/``):

- ``calcom_async/_generated/blocking_resources.py``: one ``Protocol`` per resource class
  (``BlockingBookings``, ``BlockingBookingsWithRawResponse``, …) with the async class's methods
  as plain ``def``s: the same names and parameters (rendered by the same template macro), the
  same return types, ``SyncPaginator[T]`` where the async method returns ``AsyncPaginator[T]``.
  A hand-written mixin has a hand-written twin here (:class:`BlockingBookingsSyncMixin`).
- ``calcom_async/_generated/blocking_client.py``: ``BlockingNamespaces``, the typed top-level
  properties ``CalComSync`` inherits.

Protocols over a generic proxy rather than generated wrapper classes: wrappers would repeat some
500 identical method bodies (every method and its raw twin) at run time, plus a run-time twin of
every hand-written mixin, for no change in behaviour. The protocols are read by type checkers
and IDEs only, never imported at run time, so ``import calcom_async.blocking`` costs about what
it did before (one small generated module more). That the types tell the truth is tested: every
protocol against its async class (parameters, return types) and against what the proxy hands
back at run time (``tests/blocking/test_blocking_types.py``), and mypy over code using
``CalComSync`` (``tests/blocking/test_blocking_mypy.py``). What the choice gives up: a proxy
``cal.bookings``, not a ``BlockingBookings`` (annotate with the protocols; no ``isinstance``).
"""

from __future__ import annotations

import datetime as dt
import functools
import weakref
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import (
    TYPE_CHECKING,
    Any,
    Concatenate,
    Literal,
    ParamSpec,
    Protocol,
    Self,
    TypeVar,
    overload,
)

from ._client import CalCom
from ._generated.blocking_client import BlockingNamespaces
from ._oneoff import AS_SENT
from ._portal import Loop, Proxy, SyncPaginator, finalize

if TYPE_CHECKING:
    from anyio.from_thread import BlockingPortal

    from ._auth import TokenPair
    from ._oneoff import AuthChoice, HTTPMethod, PageStyle
    from ._options import RequestOptions
    from ._progress import Progress
    from ._response import APIResponse
    from ._sync import SyncCheckpoint, SyncedBooking

__all__ = [
    "BlockingBookingSync",
    "BlockingRequestWithRawResponse",
    "BlockingBookingsSyncMixin",
    "CalComSync",
    "SyncPaginator",
]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
P = ParamSpec("P")
R = TypeVar("R")


class BlockingBookingSync(Protocol[T_co]):
    """What ``cal.bookings.sync()`` of ``CalComSync`` returns: ``for booking in sync: …``, with
    ``sync.checkpoint`` moving with each booking (see ``calcom_async._sync``); ``sync.raw()``
    yields the answer's dicts instead."""

    @property
    def checkpoint(self) -> SyncCheckpoint:
        """Where the walk stands: persist ``checkpoint.to_json()`` with each booking."""

    @property
    def checkpoint_key(self) -> str | None:
        """The store key the checkpoint is kept under, if any."""

    @property
    def pages(self) -> int:
        """Requests made so far."""

    @property
    def progress(self) -> Progress:
        """The walk so far (``items``, ``total`` estimate, ``requests``, ``rate_limit_wait``)."""

    def __iter__(self) -> Iterator[T_co]:
        """Every booking change since the checkpoint, once."""

    def raw(self) -> BlockingBookingSync[dict[str, Any]]:
        """The same walk yielding each booking as the JSON object the server sent."""


class BlockingBookingsSyncMixin(Protocol):
    """The blocking twin of ``calcom_async._sync.BookingsSyncMixin`` (``cal.bookings.sync``);
    the generated ``BlockingBookings`` inherits it (``codegen/render.py`` BLOCKING_MIXINS)."""

    def sync(
        self,
        *,
        checkpoint: SyncCheckpoint | str | None = None,
        page_size: int | None = None,
        overlap: dt.timedelta = dt.timedelta(0),
        status: list[str] | None = None,
        event_type_ids: str | None = None,
        team_id: str | None = None,
        checkpoint_key: str | None = None,
        on_page: Callable[[Progress], object] | None = None,
    ) -> BlockingBookingSync[SyncedBooking]:
        """Walk every booking change since ``checkpoint`` once; see :mod:`calcom_async._sync`."""


def _parameters_of(
    source: Callable[Concatenate[Any, P], Any],
) -> Callable[[Callable[..., R]], Callable[Concatenate[Any, P], R]]:
    """Give a method ``source``'s parameters: for type checkers, and for ``inspect.signature``
    (``help()``, notebooks) through ``__wrapped__``."""

    def decorate(method: Callable[..., R]) -> Callable[Concatenate[Any, P], R]:
        method.__wrapped__ = source  # type: ignore[attr-defined]
        return method

    return decorate


class CalComSync(BlockingNamespaces):
    """The blocking client: takes the same arguments as :class:`~calcom_async.CalCom`."""

    @_parameters_of(CalCom.__init__)
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        loop = Loop()
        try:
            client = loop.portal.call(functools.partial(_make, args, kwargs))
        except BaseException:
            loop.portal.call(loop.portal.stop)
            loop.thread.join(timeout=10)
            raise
        self._init(loop, client, owner=True)

    def _init(self, loop: Loop, client: CalCom, *, owner: bool) -> None:
        self._loop = loop
        self._client = client
        self._proxy = Proxy(loop.portal, client)
        self._finalizer = weakref.finalize(self, finalize, loop, client) if owner else None

    if not TYPE_CHECKING:  # type checkers see the declared attributes only, never ``Any``

        def __getattr__(self, name: str) -> Any:
            if name.startswith("_"):
                raise AttributeError(name)
            return getattr(self._proxy, name)

    def __dir__(self) -> list[str]:
        own = {n for n in dir(type(self)) if not n.startswith("_")}
        return sorted(set(dir(self._proxy)) | own)

    @property
    def base_url(self) -> str:
        return self._client.base_url

    @property
    def api_versions(self) -> Mapping[str, str]:
        """The versions pinned on this client (by operation or family)."""
        return self._client.api_versions

    @property
    def tokens(self) -> TokenPair | None:
        """The managed user's current tokens (after any refresh), or None."""
        return self._client.tokens

    @property
    def is_closed(self) -> bool:
        return self._client.is_closed

    # -- calling what the document lacks (``CalCom.request``, ``calcom_async._custom``) --------

    @overload
    def request(
        self,
        method: HTTPMethod,
        path_template: str,
        /,
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        json: Any = None,
        api_version: str | None = None,
        cast_to: type[T],
        auth: AuthChoice | None = None,
        unwrap: bool = True,
        request_options: RequestOptions | None = None,
    ) -> T: ...

    @overload
    def request(
        self,
        method: HTTPMethod,
        path_template: str,
        /,
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        json: Any = None,
        api_version: str | None = None,
        cast_to: Any = AS_SENT,
        auth: AuthChoice | None = None,
        unwrap: bool = True,
        request_options: RequestOptions | None = None,
    ) -> Any: ...

    def request(self, method: HTTPMethod, path_template: str, /, **kwargs: Any) -> Any:
        """``CalCom.request`` without ``await``: an endpoint the document lacks, through the
        same pipeline (the same parameters; see ``docs/client.md``)."""
        return self._loop.portal.call(
            functools.partial(self._client.request, method, path_template, **kwargs)
        )

    @overload
    def paginate(
        self,
        method: Literal["GET"],
        path_template: str,
        /,
        *,
        cast_to: type[T],
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        style: PageStyle = "take_skip",
        page_size: int | None = None,
        max_items: int | None = None,
        prefetch: int = 0,
        on_page: Callable[[Progress], object] | None = None,
        api_version: str | None = None,
        auth: AuthChoice | None = None,
        request_options: RequestOptions | None = None,
    ) -> SyncPaginator[T]: ...

    @overload
    def paginate(
        self,
        method: Literal["GET"],
        path_template: str,
        /,
        *,
        cast_to: Any = AS_SENT,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        style: PageStyle = "take_skip",
        page_size: int | None = None,
        max_items: int | None = None,
        prefetch: int = 0,
        on_page: Callable[[Progress], object] | None = None,
        api_version: str | None = None,
        auth: AuthChoice | None = None,
        request_options: RequestOptions | None = None,
    ) -> SyncPaginator[Any]: ...

    def paginate(
        self, method: Literal["GET"], path_template: str, /, **kwargs: Any
    ) -> SyncPaginator[Any]:
        """``CalCom.paginate`` as a :class:`SyncPaginator` (nothing is sent before it is
        iterated)."""
        paginator = self._client.paginate(method, path_template, **kwargs)
        return SyncPaginator(self._loop.portal, paginator)

    @property
    def with_raw_response(self) -> BlockingRequestWithRawResponse:
        """``cal.with_raw_response.request(...)``: the :class:`APIResponse`."""
        return BlockingRequestWithRawResponse(self._loop.portal, self._client)

    @_parameters_of(CalCom.with_options)
    def with_options(self, **options: Any) -> CalComSync:
        """A copy with other settings (see ``CalCom.with_options``), on the same thread."""
        copy = object.__new__(CalComSync)
        copy._init(self._loop, self._client.with_options(**options), owner=False)
        return copy

    def close(self) -> None:
        """Close the client and stop its thread."""
        if self._finalizer is not None and self._finalizer.detach() is not None:
            self._loop.stop(self._client)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"CalComSync({self._client!r})"


class BlockingRequestWithRawResponse:
    """``CalComSync.with_raw_response``: ``request`` returning the :class:`APIResponse`."""

    __slots__ = ("_client", "_portal")

    def __init__(self, portal: BlockingPortal, client: CalCom) -> None:
        self._portal = portal
        self._client = client

    @overload
    def request(
        self,
        method: HTTPMethod,
        path_template: str,
        /,
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        json: Any = None,
        api_version: str | None = None,
        cast_to: type[T],
        auth: AuthChoice | None = None,
        unwrap: bool = True,
        request_options: RequestOptions | None = None,
    ) -> APIResponse[T]: ...

    @overload
    def request(
        self,
        method: HTTPMethod,
        path_template: str,
        /,
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        json: Any = None,
        api_version: str | None = None,
        cast_to: Any = AS_SENT,
        auth: AuthChoice | None = None,
        unwrap: bool = True,
        request_options: RequestOptions | None = None,
    ) -> APIResponse[Any]: ...

    def request(self, method: HTTPMethod, path_template: str, /, **kwargs: Any) -> Any:
        """``CalCom.with_raw_response.request`` without ``await``."""
        call = self._client.with_raw_response.request
        return self._portal.call(functools.partial(call, method, path_template, **kwargs))


async def _make(args: tuple[Any, ...], kwargs: dict[str, Any]) -> CalCom:
    return CalCom(*args, **kwargs)
