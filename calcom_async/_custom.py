"""``cal.request(...)``: calling what the OpenAPI document does not describe.

::

    location = await cal.request(
        "PATCH", "/v2/bookings/{bookingUid}/location",
        path={"bookingUid": uid}, json={"location": {"type": "address", "address": "Main St 1"}},
        api_version="2024-08-13", cast_to=models.BookingOutput_2024_08_13 | None,
    )
    response = await cal.with_raw_response.request("GET", "/v2/me")     # APIResponse
    async for item in cal.paginate("GET", "/v2/things", cast_to=Thing, style="cursor"): ...

Each call becomes a one-off :class:`~calcom_async._operation.Operation` (``_oneoff.py``: the
method, the path template with its placeholders as path parameters, no declared body or response
model, the given ``cal-api-version``, the auth modes the client holds) and goes through the same
``Session.request`` as every generated method: auth, version header, ``X-Request-Id``, the rate
limiter, retries with the same idempotency rules, typed errors. Only the reading of the answer
is this module's: the ``{"status", "data"}`` envelope is unwrapped when the answer is one, and
the data is structured into ``cast_to`` by the library's converter (``_serde.structure``).

What is checked before anything is sent (``CalComUsageError`` / ``UnknownAPIVersionError``):
the path is a path on the client's own host (an absolute URL to another host would carry the
credentials there), every placeholder has a value and every value a placeholder, query values
are scalars or sequences of them (a datetime must be aware), the version is ``YYYY-MM-DD``.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from ._errors import CalComUsageError
from ._oneoff import (
    AS_SENT,
    STYLES,
    AuthChoice,
    Caller,
    HTTPMethod,
    PageStyle,
    structure,
)
from ._options import RequestOptions
from ._pagination import AsyncPaginator, Page

if TYPE_CHECKING:
    from ._progress import Progress
    from ._response import APIResponse

__all__ = ["AuthChoice", "CustomRequests", "CustomRequestsWithRawResponse", "HTTPMethod"]

T = TypeVar("T")


class CastPaginator(AsyncPaginator[T]):
    """The paginator of ``cal.paginate``: the walk is ``AsyncPaginator``'s (the one-off row
    says how it pages); each page's items are structured into ``cast_to``."""

    _cast_to: Any
    _strict: bool = False

    def raw(self) -> AsyncPaginator[dict[str, Any]]:
        clone: CastPaginator[dict[str, Any]] = CastPaginator.__new__(CastPaginator)
        clone.__dict__.update(self.__dict__)
        clone._decode = False
        return clone

    async def _fetch(self, offset: int, *, cursor: str | None) -> tuple[Page[T], str | None]:
        page, next_cursor = await super()._fetch(offset, cursor=cursor)
        if self._decode and self._cast_to is not AS_SENT:
            items_type = types.GenericAlias(list, (self._cast_to,))
            page.items = structure(
                self._op.name, page.items, items_type, page.response, self._strict
            )
            page.response.release_json()
        return page, next_cursor


# -- the public face ----------------------------------------------------------------------------


class CustomRequests(Caller):
    """Mixed into ``CalCom``: ``request``, ``paginate`` and ``with_raw_response.request``."""

    @overload
    async def request(
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
    async def request(
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

    async def request(
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
    ) -> Any:
        """Call an endpoint the document lacks, through the same pipeline as every method.

        Args:
            method: ``GET``, ``POST``, ``PUT``, ``PATCH`` or ``DELETE``.
            path_template: the path, such as ``/v2/bookings/{bookingUid}/location``; each
                ``{placeholder}`` takes its value from ``path`` (percent-encoded as one
                segment). An absolute URL is accepted only under the client's ``base_url``.
            path: a value for every placeholder.
            query: query values: str, int, float, bool, an aware datetime, a date, or a list of
                them (sent as ``key=a&key=b``); ``None`` leaves the key out.
            json: the body, sent as JSON as given (dicts, lists, or a model of
                ``calcom_async.models``); ``None``: no body.
            api_version: the ``cal-api-version`` to send (``YYYY-MM-DD``, sent as given);
                ``None``: no version header (the server then takes its oldest, ``2024-04-15``).
            cast_to: what to build from the answer's data: a model of ``calcom_async.models``,
                ``list[Model]``, a union, ``Model | None``, ``dict[str, Any]``; ``None``: return
                ``None``; left out: the decoded JSON as sent.
            auth: ``None`` sends the client's bearer credential (else its platform pair);
                ``"platform"`` / ``"bearer"`` pick one.
            unwrap: return the ``data`` of a ``{"status", "data"}`` envelope (when the answer is
                one); ``False`` keeps the envelope.
            request_options: timeout, retries, ``retry_unsafe``, extra headers for this call.

        Raises:
            calcom_async.CalComUsageError: bad input (nothing was sent).
            calcom_async.UnknownAPIVersionError: a malformed ``api_version`` (nothing was sent).
            calcom_async.APIStatusError: the server answered with an error status.
            calcom_async.APIConnectionError: the request did not reach the server.
            calcom_async.ResponseValidationError: the answer does not fit ``cast_to``.
        """
        return await self._call(
            method,
            path_template,
            path=path,
            query=query,
            json=json,
            api_version=api_version,
            cast_to=cast_to,
            auth=auth,
            unwrap=unwrap,
            request_options=request_options,
            raw=False,
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
    ) -> AsyncPaginator[T]: ...

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
    ) -> AsyncPaginator[Any]: ...

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
    ) -> AsyncPaginator[Any]:
        """Walk a list the document lacks (or pages differently): the library's paginator
        (``async for``, ``.pages()``, ``.to_list(max_items=…)``, ``.raw()``).

        ``cast_to`` is the type of one item. ``style``: ``"take_skip"`` (``take``/``skip``,
        ends by ``pagination.hasNextPage`` or a short page), ``"bare_list"`` (the same query, a
        bare list: a short page is the last), ``"limit"`` (``limit``/``offset``), ``"cursor"``
        (``limit``/``cursor``; the next cursor from ``pagination.nextCursor`` — none or
        ``hasMore: false`` ends — or from ``data.nextCursor`` with the items in
        ``data.items``). ``page_size`` (items per request) defaults to 100; ``max_items`` is how
        many you want; ``on_page`` gets a :class:`calcom_async.Progress` after each page. A
        ``take``/``limit`` in ``query`` is one request's size: ``await`` sends it, a walk given it
        raises ``CalComUsageError`` (as on every list method).
        The other arguments are ``request``'s. Nothing is sent until it is iterated.
        """
        if style not in STYLES:
            raise CalComUsageError(
                f"style must be one of {', '.join(sorted(STYLES))}, not {style!r}"
            )
        if not isinstance(method, str) or method.upper() != "GET":
            raise CalComUsageError(f"paginate sends GET requests only, not {method!r}")
        op, values, params, options = self._prepare(
            method,
            path_template,
            path=path,
            query=query,
            api_version=api_version,
            auth=auth,
            request_options=request_options,
            pagination=STYLES[style],
        )
        paginator: CastPaginator[Any] = CastPaginator(
            self._session,
            op,
            path=values,
            query=params,
            options=options,
            page_size=page_size,
            prefetch=prefetch,
            max_items=max_items,
            on_page=on_page,
        )
        paginator._cast_to = cast_to
        paginator._strict = self._strict_for(options)
        return paginator

    @property
    def with_raw_response(self) -> CustomRequestsWithRawResponse:
        """``await cal.with_raw_response.request(...)``: the :class:`APIResponse` (status,
        headers, request id, rate limits; ``.data`` is what ``request`` would return)."""
        raw = CustomRequestsWithRawResponse.__new__(CustomRequestsWithRawResponse)
        raw._session = self._session
        return raw


class CustomRequestsWithRawResponse(Caller):
    """``cal.with_raw_response``: ``request`` returning the :class:`APIResponse`."""

    @overload
    async def request(
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
    async def request(
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

    async def request(
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
    ) -> APIResponse[Any]:
        """``CalCom.request``, returning the :class:`APIResponse` (``.data``: the result)."""
        response: APIResponse[Any] = await self._call(
            method,
            path_template,
            path=path,
            query=query,
            json=json,
            api_version=api_version,
            cast_to=cast_to,
            auth=auth,
            unwrap=unwrap,
            request_options=request_options,
            raw=True,
        )
        return response
