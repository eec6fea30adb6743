"""``cal.request(...)``: calling what the OpenAPI document does not describe.

::

    location = await cal.request(
        "PATCH", "/v2/bookings/{bookingUid}/location",
        path={"bookingUid": uid}, json={"location": {"type": "address", "address": "Main St 1"}},
        api_version="2024-08-13", cast_to=models.BookingOutput_2024_08_13 | None,
    )
    response = await cal.with_raw_response.request("GET", "/v2/me")     # APIResponse
    async for item in cal.paginate("GET", "/v2/things", cast_to=Thing, style="cursor"): ...

Each call becomes a one-off :class:`~calcom_async._operation.Operation` (the method, the path
template with its placeholders as path parameters, no declared body or response model, the
given ``cal-api-version``, the auth modes the client holds) and goes through the same
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

import datetime as dt
import enum
import functools
import re
import types
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast, overload
from urllib.parse import unquote, urlsplit

import attrs

from ._errors import CalComUsageError, ResponseValidationError
from ._operation import AuthMode, Operation, Pagination
from ._options import RequestOptions
from ._pagination import AsyncPaginator, Page

if TYPE_CHECKING:
    from ._pipeline import Session
    from ._progress import Progress
    from ._response import APIResponse

__all__ = ["AuthChoice", "CustomRequests", "CustomRequestsWithRawResponse", "HTTPMethod"]

T = TypeVar("T")

HTTPMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
PageStyle = Literal["take_skip", "bare_list", "limit", "cursor"]
#: ``None``: a bearer credential (access token, else API key) if the client holds one, else the
#: platform pair; ``"bearer"`` / ``"platform"``: that one (a usage error if the client lacks it)
AuthChoice = Literal["bearer", "platform"]


class _AsSent(enum.Enum):
    AS_SENT = "AS_SENT"

    def __repr__(self) -> str:
        return "<the JSON as sent>"


#: the default ``cast_to``: the decoded JSON (after unwrapping), no model built
AS_SENT = _AsSent.AS_SENT

_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
_STYLES = {p.value: p for p in Pagination}
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
#: what a literal part of a path template may hold: RFC 3986 ``pchar`` and ``/``
_LITERAL = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*")
_BEARER = frozenset({AuthMode.ACCESS_TOKEN, AuthMode.API_KEY})
_PLATFORM = frozenset({AuthMode.PLATFORM})
_SCALARS = (str, int, float, dt.date, enum.Enum)
_SEQUENCES = (list, tuple, set, frozenset)


# -- checks ---------------------------------------------------------------------------------


def check_version(value: object, where: str) -> str | None:
    """A well-formed ``YYYY-MM-DD`` is sent as given (the server decides); None sends none."""
    from ._session import check_api_version

    return None if value is None else check_api_version(value, where)


def resolve_template(method: str, template: object, base_url: str) -> tuple[HTTPMethod, str]:
    """The upper-case method and a path template on the client's host (an absolute URL is
    accepted only under the client's ``base_url``: the credentials go nowhere else)."""
    if not isinstance(method, str) or method.upper() not in _METHODS:
        raise CalComUsageError(
            f"method must be one of {', '.join(sorted(_METHODS))}, not {method!r}"
        )
    method = method.upper()
    if not isinstance(template, str) or not template:
        raise CalComUsageError(
            f"the path must be a non-empty str such as '/v2/me', not {template!r}"
        )
    if not template.startswith("/") or template.startswith("//"):
        parts = urlsplit(template)
        if not (parts.scheme or template.startswith("//")):
            raise CalComUsageError(f"the path must start with '/' (such as '/v2/me'): {template!r}")
        base = urlsplit(base_url)
        same_host = (
            parts.scheme.lower() == base.scheme.lower()
            and parts.netloc.lower() == base.netloc.lower()
        )
        prefix = base.path.rstrip("/")
        if not same_host or not (parts.path == prefix or parts.path.startswith(prefix + "/")):
            raise CalComUsageError(
                f"refusing a request to {parts.scheme or 'https'}://{parts.netloc}: the client "
                f"sends its credentials to {base_url} only; pass the path (such as '/v2/me')"
            )
        if parts.query or parts.fragment:
            raise CalComUsageError("the path may not carry a query or fragment: pass query=")
        template = parts.path[len(prefix) :] or "/"
    pieces = _PLACEHOLDER.split(template)
    for literal in pieces[::2]:
        if "?" in literal or "#" in literal:
            raise CalComUsageError(
                f"the path may not carry a query or fragment ({template!r}): pass query="
            )
        if not _LITERAL.fullmatch(literal):
            raise CalComUsageError(
                f"the path {template!r} has characters that must be percent-encoded (or a "
                "stray brace); pass such values as path={...} placeholders"
            )
        if any(unquote(s) in (".", "..") for s in literal.split("/")):
            raise CalComUsageError(f"the path may not have '.' or '..' segments: {template!r}")
    for name in pieces[1::2]:
        if not _NAME.fullmatch(name):
            raise CalComUsageError(f"the path placeholder {{{name}}} is not a name")
    return cast("HTTPMethod", method), template


def placeholders(template: str) -> tuple[str, ...]:
    return tuple(_PLACEHOLDER.findall(template))


def check_path_values(where: str, names: tuple[str, ...], values: object) -> dict[str, Any]:
    """Every placeholder has a value, every value a placeholder; scalar values only."""
    if values is None:
        values = {}
    if not isinstance(values, Mapping):
        raise CalComUsageError(f"{where}: path= must be a mapping of placeholder to value")
    missing = [n for n in names if n not in values or values[n] is None]
    if missing:
        raise CalComUsageError(
            f"{where}: missing path value {', '.join(map(repr, missing))} (pass path={{...}})"
        )
    extra = [k for k in values if k not in names]
    if extra:
        raise CalComUsageError(
            f"{where}: path value {', '.join(map(repr, extra))} has no {{placeholder}} in the path"
        )
    for name in names:
        value = values[name]
        _check_scalar(where, "path value", name, value)
        if isinstance(value, str) and value in ("", ".", ".."):
            raise CalComUsageError(f"{where}: path value {name!r} may not be {value!r}")
    return dict(values)


def check_query(where: str, values: object) -> dict[str, Any]:
    """Scalars (str, int, float, bool, aware datetime, date, enum) or sequences of them;
    ``None`` leaves the key out."""
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise CalComUsageError(f"{where}: query= must be a mapping of name to value")
    for key, value in values.items():
        if not isinstance(key, str) or not key:
            raise CalComUsageError(f"{where}: query names must be non-empty str, not {key!r}")
        if isinstance(value, _SEQUENCES):
            for item in value:
                if item is not None:
                    _check_scalar(where, "query value", key, item)
        elif value is not None:
            _check_scalar(where, "query value", key, value)
    return dict(values)


def _check_scalar(where: str, what: str, key: str, value: Any) -> None:
    if not isinstance(value, _SCALARS):  # bool is an int
        raise CalComUsageError(
            f"{where}: {what} {key!r} cannot be sent as {type(value).__name__} "
            "(str, int, float, bool, datetime, date or a sequence of them)"
        )
    if isinstance(value, dt.datetime) and value.utcoffset() is None:
        raise CalComUsageError(
            f"{where}: {what} {key!r} is a naive datetime: give it a time zone "
            "(such as datetime.now(UTC)) so the server reads the instant you mean"
        )


# -- the one-off operation --------------------------------------------------------------------


def auth_modes(choice: object, held: frozenset[AuthMode]) -> tuple[frozenset[AuthMode], bool]:
    """The modes the call accepts and whether it needs one: ``None`` takes what the client
    holds (bearer first, else the platform pair)."""
    if choice is None:
        if held & _BEARER:
            return _BEARER, True
        if AuthMode.PLATFORM in held:
            return _PLATFORM, True
        return frozenset(), False  # no credentials at all: send none
    if choice == "bearer":
        if not held & _BEARER:
            raise CalComUsageError(
                "auth='bearer' needs api_key= (or CALCOM_API_KEY) or access_token= on the client"
            )
        return _BEARER, True
    if choice == "platform":
        if AuthMode.PLATFORM not in held:
            raise CalComUsageError(
                "auth='platform' needs client_id= and client_secret= on the client"
            )
        return _PLATFORM, True
    raise CalComUsageError(f"auth must be None, 'bearer' or 'platform', not {choice!r}")


@functools.lru_cache(maxsize=256)  # the same call again reuses its row (and the header caches)
def one_off_operation(
    method: HTTPMethod,
    template: str,
    api_version: str | None,
    auth: frozenset[AuthMode],
    auth_required: bool,
    pagination: Pagination | None,
) -> Operation:
    return Operation(
        operation_id="request",
        name=f"{method} {template}",
        method=method,
        path=template,
        params=(),
        body=None,
        body_required=False,
        response=None,
        unwrap=False,
        api_version=api_version,
        auth=auth,
        auth_required=auth_required,
        pagination=pagination,
        summary="cal.request",
    )


def _options(
    where: str, api_version: str | None, options: RequestOptions | None
) -> tuple[str | None, RequestOptions | None]:
    """The version to send and the options without it (``request_options.api_version`` is
    taken as the call's own, with the same format check)."""
    if options is not None and not isinstance(options, RequestOptions):
        raise CalComUsageError(f"{where}: request_options must be a RequestOptions")
    if options is not None and options.api_version is not None:
        if api_version is not None and api_version != options.api_version:
            raise CalComUsageError(
                f"{where}: api_version={api_version!r} and request_options.api_version="
                f"{options.api_version!r} disagree: pass one"
            )
        api_version = options.api_version
        options = attrs.evolve(options, api_version=None)
    return check_version(api_version, where), options


# -- reading the answer -------------------------------------------------------------------------


def _is_envelope(body: Any) -> bool:
    return isinstance(body, dict) and "status" in body and "data" in body


def _structure(
    where: str, data: Any, cast_to: Any, response: APIResponse[Any], strict: bool
) -> Any:
    """``data`` as ``cast_to``: read tolerantly (deviations kept as sent and reported on
    ``calcom_async.drift``) unless ``strict``, as generated methods read their answers."""
    if cast_to is AS_SENT or cast_to is Any or cast_to is object:
        return data
    from . import _serde

    try:
        value, found = _serde.structure_reporting(data, cast_to, strict=strict)
        _serde.report_deviations(found, data, where=f"{where} ")
        return value
    except Exception as exc:
        import cattrs

        if isinstance(exc, cattrs.StructureHandlerNotFoundError):
            raise CalComUsageError(
                f"{where}: cast_to={cast_to!r} is not a type the client can build (an attrs "
                "model of calcom_async.models, a list of one, a union, X | None, dict, Any)"
            ) from None
        from ._session import _describe

        raise ResponseValidationError(
            f"{where}: the answer does not fit {getattr(cast_to, '__name__', cast_to)!s} "
            f"({_describe(exc)})",
            raw=data,
            status_code=response.status_code,
            request_id=response.request_id,
        ) from exc


def answer_parser(
    where: str, cast_to: Any, unwrap: bool, strict: bool = False
) -> Callable[[APIResponse[Any]], Any]:
    """``APIResponse.parse`` for a custom call: unwrap the envelope (if the answer is one and
    ``unwrap``), then structure into ``cast_to`` (``None``: no value)."""

    def parse(response: APIResponse[Any]) -> Any:
        if cast_to is None or cast_to is type(None) or response.status_code == 204:
            return None
        body = response.json()
        data = body["data"] if unwrap and _is_envelope(body) else body
        return _structure(where, data, cast_to, response, strict)

    return parse


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
            page.items = _structure(
                self._op.name, page.items, items_type, page.response, self._strict
            )
            page.response.release_json()
        return page, next_cursor


# -- the public face ----------------------------------------------------------------------------


class _Caller:
    """What ``cal.request`` and its raw twin share: the checks and the one-off operation."""

    _core: Session

    def _strict_for(self, options: RequestOptions | None) -> bool:
        """The call's ``strict``: its request options', else the client's."""
        if options is not None and options.strict is not None:
            return options.strict
        return self._core.config.strict

    def _prepare(
        self,
        method: str,
        template: str,
        *,
        path: Mapping[str, Any] | None,
        query: Mapping[str, Any] | None,
        api_version: str | None,
        auth: AuthChoice | None,
        request_options: RequestOptions | None,
        pagination: Pagination | None = None,
    ) -> tuple[Operation, dict[str, Any], dict[str, Any], RequestOptions | None]:
        session = self._core
        verb, template = resolve_template(method, template, session.config.base_url)
        where = f"{verb} {template}"
        values = check_path_values(where, placeholders(template), path)
        params = check_query(where, query)
        version, options = _options(where, api_version, request_options)
        modes, required = auth_modes(auth, session.auth.modes)
        op = one_off_operation(verb, template, version, modes, required, pagination)
        return op, values, params, options

    async def _call(
        self,
        method: str,
        template: str,
        *,
        path: Mapping[str, Any] | None,
        query: Mapping[str, Any] | None,
        json: Any,
        api_version: str | None,
        cast_to: Any,
        auth: AuthChoice | None,
        unwrap: bool,
        request_options: RequestOptions | None,
        raw: bool,
    ) -> Any:
        op, values, params, options = self._prepare(
            method,
            template,
            path=path,
            query=query,
            api_version=api_version,
            auth=auth,
            request_options=request_options,
        )
        coro: Coroutine[Any, Any, Any] = self._core.request(
            op,
            path=values,
            query=params,
            body=json,
            options=options,
            raw=raw,
            parse=answer_parser(op.name, cast_to, unwrap, self._strict_for(options)),
        )
        return await coro


class CustomRequests(_Caller):
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
        if style not in _STYLES:
            raise CalComUsageError(
                f"style must be one of {', '.join(sorted(_STYLES))}, not {style!r}"
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
            pagination=_STYLES[style],
        )
        paginator: CastPaginator[Any] = CastPaginator(
            self._core,
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
        raw._core = self._core
        return raw


class CustomRequestsWithRawResponse(_Caller):
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
