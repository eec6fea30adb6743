"""The one-off row of a ``cal.request(...)`` / ``cal.paginate(...)`` call (``_custom``): the checks
of its method, path template, path and query values, version and auth choice, made before
anything is sent; the row itself (:func:`one_off_operation`); and the reading of its answer into
``cast_to`` (:func:`answer_parser`, :func:`structure`); :class:`Caller`, what the public
classes share, puts them together and sends the row through the client's session.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import re
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast
from urllib.parse import unquote, urlsplit

import attrs

from ._errors import CalComUsageError, ResponseValidationError
from ._operation import AuthMode, Operation, Pagination
from ._options import RequestOptions

if TYPE_CHECKING:
    from ._pipeline import Session
    from ._response import APIResponse

__all__ = [
    "AS_SENT",
    "AuthChoice",
    "Caller",
    "HTTPMethod",
    "PageStyle",
    "STYLES",
    "answer_parser",
    "auth_modes",
    "check_path_values",
    "check_query",
    "check_version",
    "one_off_operation",
    "placeholders",
    "check_options",
    "resolve_template",
    "structure",
]

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
STYLES = {p.value: p for p in Pagination}
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


def check_options(
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


def structure(where: str, data: Any, cast_to: Any, response: APIResponse[Any], strict: bool) -> Any:
    """``data`` as ``cast_to``: read tolerantly (deviations kept as sent and reported on
    ``calcom_async.drift``) unless ``strict``, as generated methods read their answers."""
    if cast_to is AS_SENT or cast_to is Any or cast_to is object:
        return data
    from . import _drift, _serde

    try:
        value, found = _serde.structure_reporting(data, cast_to, strict=strict)
        _drift.report_deviations(found, data, where=f"{where} ")
        return value
    except Exception as exc:
        import cattrs

        if isinstance(exc, cattrs.StructureHandlerNotFoundError):
            raise CalComUsageError(
                f"{where}: cast_to={cast_to!r} is not a type the client can build (an attrs "
                "model of calcom_async.models, a list of one, a union, X | None, dict, Any)"
            ) from None
        from ._parse import describe_error

        raise ResponseValidationError(
            f"{where}: the answer does not fit {getattr(cast_to, '__name__', cast_to)!s} "
            f"({describe_error(exc)})",
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
        return structure(where, data, cast_to, response, strict)

    return parse


class Caller:
    """What ``cal.request`` and its raw twin share: the checks and the one-off operation."""

    _session: Session

    def _strict_for(self, options: RequestOptions | None) -> bool:
        """The call's ``strict``: its request options', else the client's."""
        if options is not None and options.strict is not None:
            return options.strict
        return self._session.config.strict

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
        session = self._session
        verb, template = resolve_template(method, template, session.config.base_url)
        where = f"{verb} {template}"
        values = check_path_values(where, placeholders(template), path)
        params = check_query(where, query)
        version, options = check_options(where, api_version, request_options)
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
        coro: Coroutine[Any, Any, Any] = self._session.request(
            op,
            path=values,
            query=params,
            body=json,
            options=options,
            raw=raw,
            parse=answer_parser(op.name, cast_to, unwrap, self._strict_for(options)),
        )
        return await coro
