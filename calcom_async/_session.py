"""The one request pipeline. Every call — generated methods, paginator pages, token refreshes —
goes through :meth:`Session.request`:

1. check and encode the input (path values as single segments, query values, JSON body);
   bad input raises :class:`CalComUsageError` before anything is sent;
2. headers: auth chosen from the operation row, ``cal-api-version`` (pinned or the operation's
   own), ``X-Request-Id`` (one per logical request, kept across retries), ``User-Agent``;
3. send under the concurrency cap and the rate limiter; retry per :class:`RetryPolicy`;
   refresh a managed-user token once after a 401;
4. status >= 300 -> typed :class:`APIStatusError`; otherwise an :class:`APIResponse` whose
   ``parse()`` decodes JSON, structures it with the converter and unwraps the envelope.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import importlib
import logging
import os
import platform
import re
import types
import typing
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import attrs
import orjson

from ._auth import Auth
from ._bodies import check as check_body
from ._bodies import check_query_text, fits, naive_datetime, type_name
from ._clock import Clock
from ._deadline import CURRENT, Deadline
from ._errors import (
    CalComError,
    CalComUsageError,
    ResponseValidationError,
    UnknownAPIVersionError,
    make_status_error,
)
from ._http import AttemptError, RawAnswer, Transport
from ._operation import Operation, Param
from ._options import RequestOptions
from ._progress import record_wait
from ._ratelimit import parse_rate_limits, retry_after_seconds
from ._response import APIResponse
from ._retry import Failure, RetryPolicy
from ._types import Unset
from ._version import __version__

__all__ = ["Session", "SessionConfig", "known_api_versions", "user_agent"]

logger = logging.getLogger("calcom_async")

_NO_OPTIONS = RequestOptions()
_COLLECTIONS = (list, tuple, set, frozenset)
_FIXED_SIZE = 1024  #: operations whose fixed headers are kept (the table has a few hundred)
#: Headers a caller's extra headers may not replace.
_PROTECTED = frozenset({"authorization", "x-cal-client-id", "x-cal-secret-key", "cal-api-version"})
_VERSION = re.compile(r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])")
#: (operation, version) pairs already warned about: one warning per process each
_WARNED_VERSIONS: set[tuple[str, str]] = set()


def known_api_versions() -> frozenset[str]:
    """Every ``cal-api-version`` value the library knows (from the generated table, the API's
    oldest version included)."""
    versions = importlib.import_module("calcom_async._generated.versions")
    known: frozenset[str] = frozenset(versions.KNOWN_API_VERSIONS)
    return known


def check_api_version(value: object, where: str) -> str:
    """A well-formed ``cal-api-version`` (``YYYY-MM-DD``), else :class:`UnknownAPIVersionError`.

    A well-formed value the table does not know for an operation is sent as asked (the live API
    moves faster than Cal.com publishes its document): :meth:`Session.route` warns once."""
    if not isinstance(value, str) or not _VERSION.fullmatch(value):
        known = ", ".join(sorted(known_api_versions()))
        raise UnknownAPIVersionError(
            f"malformed cal-api-version {value!r} ({where}): a date like 2024-08-13; known: {known}"
        )
    return value


def user_agent() -> str:
    import aiohttp

    return (
        f"calcom-async/{__version__} python/{platform.python_version()} "
        f"aiohttp/{aiohttp.__version__}"
    )


@attrs.frozen(kw_only=True)
class SessionConfig:
    """A client's settings (a ``with_options`` copy gets its own)."""

    base_url: str  #: scheme://host[:port][/prefix], without a trailing ``/v2``
    timeout: float | None = 120.0
    connect_timeout: float | None = 10.0
    retry: RetryPolicy = attrs.field(factory=RetryPolicy)
    retry_unsafe: bool = False
    #: raise ResponseValidationError on an answer that deviates from its model (else tolerate)
    strict: bool = False
    api_versions: Mapping[str, str] = attrs.field(factory=dict)  #: op name / family -> version
    default_headers: Mapping[str, str] = attrs.field(factory=dict)


class Session:
    """Implements ``SessionProtocol`` for the generated resources."""

    def __init__(self, config: SessionConfig, auth: Auth, transport: Transport) -> None:
        self.config = config
        self.auth = auth
        self.transport = transport
        self._user_agent: str | None = None
        #: (id(op), has_body) -> (op, the headers every such call sends but X-Request-Id), for
        #: the config in ``_fixed_for`` (see ``_headers``)
        self._fixed: dict[tuple[int, bool], tuple[Operation, dict[str, str]]] = {}
        self._fixed_for: SessionConfig | None = None

    def __repr__(self) -> str:
        return f"Session(base_url={self.config.base_url!r}, auth={self.auth!r})"

    # -- the boundary -----------------------------------------------------------------------

    def request(
        self,
        op: Operation,
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        options: RequestOptions | None = None,
        raw: bool = False,
        parse: Callable[[APIResponse[Any]], Any] | None = None,
    ) -> Coroutine[Any, Any, Any]:
        """Check and encode the call, then return the coroutine that sends it (``await`` it):
        the answer structured, or with ``raw`` the :class:`APIResponse`. Bad input raises
        :class:`CalComUsageError` here, before anything is sent.

        ``parse`` reads a 2xx answer in place of the operation's own model (``cal.request``'s
        ``cast_to``, see ``_custom.py``); it becomes the answer's ``APIResponse.parse``."""
        opts = options or _NO_OPTIONS
        op = self.route(op, opts)
        url = self.config.base_url + render_path(op, path or {})
        params = encode_query(op, query or {})
        content = encode_body(op, body)
        headers = self._headers(op, opts, has_body=content is not None)
        return self._send(op, url, params, headers, content, opts, raw, parse)

    # -- steps ------------------------------------------------------------------------------

    def api_version(self, op: Operation, options: RequestOptions = _NO_OPTIONS) -> str | None:
        """The ``cal-api-version`` a call of ``op`` sends: per call, pinned, or the operation's."""
        if options.api_version is not None:
            return check_api_version(options.api_version, f"request_options for {op.name}")
        pins = self.config.api_versions
        if pins:
            parts = op.name.split(".")
            keys = [op.name, op.operation_id] + [
                ".".join(parts[:n]) for n in range(len(parts) - 1, 0, -1)
            ]
            for key in keys:
                if key in pins:
                    return pins[key]
        return op.api_version

    def route(self, op: Operation, options: RequestOptions | None = None) -> Operation:
        """The row a call of ``op`` uses: its own, or the row of the live version pinned for it
        (``VARIANTS``: its own parameters, answer and paging). A well-formed version the table
        does not know for ``op`` is sent as asked, with one warning per process."""
        version = self.api_version(op, options or _NO_OPTIONS)
        if version is None or version == op.api_version:
            return op
        from ._generated.operations import VARIANTS

        if version not in op.known_versions and (op.name, version) not in _WARNED_VERSIONS:
            _WARNED_VERSIONS.add((op.name, version))
            known = ", ".join(sorted(op.known_versions)) or "none"
            logger.warning(
                "cal-api-version %s is not one the client knows for %s (known: %s): sent as "
                "asked, the server decides; answers are read with the %s models",
                version,
                op.name,
                known,
                op.api_version or "document's",
            )
        return VARIANTS.get((op.operation_id, version), op)

    def _headers(self, op: Operation, opts: RequestOptions, *, has_body: bool) -> dict[str, str]:
        config = self.config
        if not config.default_headers and not opts.extra_headers:  # the usual case, short
            if opts.api_version is not None:
                headers = self._fixed_headers(op, opts, has_body=has_body)
            else:  # what depends on the operation and the config only is built once
                if self._fixed_for is not config or len(self._fixed) >= _FIXED_SIZE:
                    self._fixed, self._fixed_for = {}, config
                hit = self._fixed.get((id(op), has_body))
                if hit is None or hit[0] is not op:
                    hit = self._fixed[id(op), has_body] = (
                        op,
                        self._fixed_headers(op, opts, has_body=has_body),
                    )
                headers = hit[1].copy()
            headers["X-Request-Id"] = new_request_id()
            return headers
        if self._user_agent is None:
            self._user_agent = user_agent()
        headers = {"Accept": "application/json", "User-Agent": self._user_agent}
        for extra in (self.config.default_headers, opts.extra_headers or {}):
            for key, value in extra.items():
                if not isinstance(value, str) or "\r" in value or "\n" in value:
                    raise CalComUsageError(f"header {key!r}: the value must be a one-line str")
                if key.lower() not in _PROTECTED:
                    headers[key] = value
        if has_body:
            headers["Content-Type"] = "application/json"
        version = self.api_version(op, opts)
        if version is not None:
            headers["cal-api-version"] = version
        request_id = next((v for k, v in headers.items() if k.lower() == "x-request-id"), None)
        headers = {k: v for k, v in headers.items() if k.lower() != "x-request-id"}
        headers["X-Request-Id"] = request_id or new_request_id()
        return headers

    def _fixed_headers(
        self, op: Operation, opts: RequestOptions, *, has_body: bool
    ) -> dict[str, str]:
        """The usual headers but the request id (no default or extra headers)."""
        if self._user_agent is None:
            self._user_agent = user_agent()
        headers = {"Accept": "application/json", "User-Agent": self._user_agent}
        if has_body:
            headers["Content-Type"] = "application/json"
        version = self.api_version(op, opts)
        if version is not None:
            headers["cal-api-version"] = version
        return headers

    async def _send(
        self,
        op: Operation,
        url: str,
        params: list[tuple[str, str]],
        headers: dict[str, str],
        content: bytes | None,
        opts: RequestOptions,
        raw: bool,
        parse: Callable[[APIResponse[Any]], Any] | None = None,
    ) -> Any:
        config, clock = self.config, self.transport.clock
        request_id = headers["X-Request-Id"]
        url_path = url[len(config.base_url) :] or "/"
        timeout = config.timeout if opts.timeout is None else opts.timeout
        started = clock.monotonic()
        # the timeout covers the whole call: the limiter, the attempts, the backoff, the refresh
        deadline = Deadline(
            None if timeout is None else started + timeout,
            timeout,
            request_id,
            f"{op.method} {url_path}",
        )
        token_ = CURRENT.set(deadline)
        try:
            return await self._attempts(
                op, url, url_path, params, headers, content, opts, raw, parse, deadline, started
            )
        finally:
            CURRENT.reset(token_)

    async def _attempts(
        self,
        op: Operation,
        url: str,
        url_path: str,
        params: list[tuple[str, str]],
        headers: dict[str, str],
        content: bytes | None,
        opts: RequestOptions,
        raw: bool,
        parse: Callable[[APIResponse[Any]], Any] | None,
        deadline: Deadline,
        started: float,
    ) -> Any:
        config, clock = self.config, self.transport.clock
        request_id = headers["X-Request-Id"]
        retry_unsafe = config.retry_unsafe if opts.retry_unsafe is None else opts.retry_unsafe
        timeout = config.timeout if opts.timeout is None else opts.timeout
        connect = config.connect_timeout if opts.connect_timeout is None else opts.connect_timeout
        attempt, refreshed = 0, False
        auth = self.auth
        while True:
            fixed = auth.fixed_headers(op)  # known and token-free: no await
            if fixed is not None:
                auth_headers, token = fixed, None
            else:
                auth_headers, token = await auth.headers(op, self.request)
            debug = logger.isEnabledFor(logging.DEBUG)
            sent = clock.monotonic() if debug else 0.0
            try:
                answer = await self.transport.send(
                    op.method,
                    url,
                    params=params,
                    headers={**headers, **auth_headers},
                    data=content,
                    timeout=timeout,
                    connect_timeout=connect,
                    request_id=request_id,
                    deadline=deadline,
                )
            except AttemptError as exc:
                error: CalComError = exc.error
                failure, status, retry_after = exc.failure, None, None
                if debug:
                    _log_attempt(op, url_path, str(error), sent, clock, request_id, attempt)
            else:
                if debug:
                    _log_attempt(op, url_path, str(answer.status), sent, clock, request_id, attempt)
                if answer.status == 401 and token is not None and not refreshed:
                    refreshed = True
                    if self.auth.can_refresh and await self.auth.refresh(token, self.request):
                        continue  # the same request with the new token; not counted as a retry
                if 200 <= answer.status < 300:
                    strict = config.strict if opts.strict is None else opts.strict
                    response = self._response(
                        op, answer, request_id, url_path, started, attempt, parse, strict
                    )
                    return response if raw else response.parse()
                status, failure = answer.status, Failure.STATUS
                retry_after = retry_after_seconds(
                    answer.headers, clock.time(), use_reset=status == 429
                )
                error = make_status_error(
                    status,
                    answer.content,
                    reason=answer.reason,
                    headers=answer.headers,
                    request_id=request_id,
                    retry_after=retry_after,
                )
            retry = failure is not None and config.retry.should_retry(
                attempt,
                failure,
                idempotent=op.is_idempotent,
                status=status,
                retry_unsafe=retry_unsafe,
                max_retries=opts.max_retries,
            )
            delay = config.retry.delay(attempt, retry_after) if retry else None
            if delay is None:
                raise error from error.__cause__
            limit = _limit_name(answer.headers) if status == 429 else None
            waiting_for = "rate limit" if status == 429 else "retry backoff"
            now = clock.monotonic()
            if deadline.at is not None and now + delay > deadline.at:
                # the retry would start after the deadline: the call ends now, with what
                # happened and what it would have waited for
                raise deadline.exceeded(
                    now, waiting_for, limit=limit, wait=delay, cause=str(error)
                ) from error
            attempt += 1
            logger.info(
                "retrying %s %s in %.2fs after %s (request id %s, retry %d)",
                op.method,
                url_path,
                delay,
                status or type(error).__name__,
                request_id,
                attempt,
                extra={
                    "calcom_operation": op.name,
                    "calcom_method": op.method,
                    "calcom_path": url_path,
                    "calcom_outcome": str(status or type(error).__name__),
                    "calcom_wait": delay,
                    "calcom_waiting_for": waiting_for,
                    "calcom_limit": limit,
                    "calcom_request_id": request_id,
                    "calcom_retry": attempt,
                },
            )
            await clock.sleep(delay)
            if status == 429:
                record_wait(delay)  # progress hooks count it as waiting for the rate limit

    def _response(
        self,
        op: Operation,
        answer: RawAnswer,
        request_id: str,
        url_path: str,
        started: float,
        retries: int,
        parse: Callable[[APIResponse[Any]], Any] | None = None,
        strict: bool = False,
    ) -> APIResponse[Any]:
        clock = self.transport.clock
        return APIResponse(
            status_code=answer.status,
            headers=answer.headers,
            content=answer.content,
            request_id=answer.headers.get("X-Request-Id") or request_id,
            method=op.method,
            path=url_path,
            elapsed=clock.monotonic() - started,
            retries=retries,
            rate_limits=(
                answer.rate_limits  # parsed by the limiter already, unless it is off
                if answer.rate_limits is not None
                else parse_rate_limits(answer.headers, clock.time())
            ),
            parse=parse or (lambda response: parse_response(op, response, strict=strict)),
        )


_UUID4_MASK = ~(0xC000 << 48) & ~(0xF000 << 64)
_UUID4_BITS = (0x8000 << 48) | (4 << 76)


def new_request_id() -> str:
    """``req_`` and the hex of a random version-4 UUID (what ``uuid.uuid4().hex`` gives, without
    building a ``UUID`` object)."""
    return f"req_{int.from_bytes(os.urandom(16)) & _UUID4_MASK | _UUID4_BITS:032x}"


def _limit_name(headers: Mapping[str, str]) -> str:
    """The name of the limit a 429 says is spent (``default`` when it names none)."""
    limits = parse_rate_limits(headers, 0.0)
    spent = [name or "default" for name, x in limits.items() if x.remaining == 0]
    return ", ".join(spent) if spent else "default"


def _log_attempt(
    op: Operation,
    url_path: str,
    outcome: str,
    sent: float,
    clock: Clock,
    request_id: str,
    attempt: int,
) -> None:
    duration = clock.monotonic() - sent
    logger.debug(
        "%s %s -> %s in %.3fs (request id %s, retry %d)",
        op.method,
        url_path,
        outcome,
        duration,
        request_id,
        attempt,
        # the same facts as fields, for structured log handlers
        extra={
            "calcom_operation": op.name,
            "calcom_method": op.method,
            "calcom_path": url_path,
            "calcom_outcome": outcome,
            "calcom_duration": duration,
            "calcom_request_id": request_id,
            "calcom_retry": attempt,
        },
    )


# -- encoding -------------------------------------------------------------------------------


@functools.cache
def _converter() -> Any:
    return importlib.import_module("calcom_async._serde").converter


def _missing(value: Any) -> bool:
    return value is None or isinstance(value, Unset)


#: text made only of the characters ``quote(text, safe="")`` leaves as they are
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*").fullmatch


def render_path(op: Operation, values: Mapping[str, Any]) -> str:
    """The path with each value percent-encoded as exactly one segment."""
    template = op.path_template
    if len(template) == 1:  # no placeholder
        return template[0][0]
    parts: list[str] = []
    for literal, name, param in template:
        parts.append(literal)
        if not name:
            continue
        value = values.get(name)
        label = param.python_name if param else name
        if type(value) is str and param is not None and param.type is str:
            text = value  # the usual id or uid: what the checks below would let through
        else:
            if _missing(value):
                raise CalComUsageError(f"{op.name}: missing path value {label!r}")
            if param is not None:
                check_type(op, param, value)
            text = _scalar(op, label, value)
        if text in ("", ".", ".."):
            raise CalComUsageError(f"{op.name}: path value {label!r} may not be {text!r}")
        # the usual id or uid has nothing to escape (``quote`` would return it unchanged)
        parts.append(text if _UNRESERVED(text) else quote(text, safe=""))
    return "".join(parts)


def encode_query(op: Operation, values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Query pairs; ``None``/``UNSET`` values are left out, sequences exploded or comma-joined."""
    params = op.query_params_by_name
    pairs: list[tuple[str, str]] = []
    for name, value in values.items():
        if _missing(value):
            continue
        param = params.get(name)
        label = param.python_name if param else name
        if param is not None:
            check_type(op, param, value)
            check_query_text(op.name, label, param.type, value)  # a naive date-time str
        if isinstance(value, _COLLECTIONS):
            items = [_scalar(op, label, v) for v in value if not _missing(v)]
            if param is None or param.explode:
                pairs.extend((name, item) for item in items)
            elif items:
                pairs.append((name, ",".join(items)))
        else:
            pairs.append((name, _scalar(op, label, value)))
    return pairs


def _scalar(op: Operation, label: str, value: Any) -> str:
    if type(value) is str:  # the common cases first
        return value
    if type(value) is int:
        return str(value)
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        naive_datetime(op.name, f"argument {label!r}", value)
        text: str = value.astimezone(dt.UTC).isoformat()
        return text.removesuffix("+00:00") + "Z"
    if isinstance(value, dt.date):
        return str(value.isoformat())
    raise CalComUsageError(
        f"{op.name}: argument {label!r} cannot be sent as {type(value).__name__}"
    )


def encode_body(op: Operation, body: Any) -> bytes | None:
    if body is None or isinstance(body, Unset):
        if op.body_required and op.body is not None:
            raise CalComUsageError(f"{op.name}: a request body ({op.body}) is required")
        return None
    expected = op.body_type()
    if expected is not None and not isinstance(body, Mapping):
        try:
            ok = isinstance(body, expected)
        except TypeError:  # a union alias or similar: cannot tell here
            ok = True
        if not ok:
            raise CalComUsageError(
                f"{op.name}: the body must be {op.body} (or a dict), not {type(body).__name__}"
            )
    check_body(op.name, expected, body)  # types, spelling, naive datetimes: calcom_async._bodies
    try:
        data = _converter().unstructure(body)
        return orjson.dumps(data, option=orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z)
    except Exception as exc:
        raise CalComUsageError(
            f"{op.name}: the body cannot be encoded as JSON ({type(exc).__name__})"
        ) from None


def parse_response(op: Operation, response: APIResponse[Any], *, strict: bool = False) -> Any:
    """Decode, structure and unwrap an answer (the work behind ``APIResponse.parse``).

    Tolerant unless ``strict``: a value that deviates from its model is kept as sent and reported
    once per process on ``calcom_async.drift`` (``calcom_async._serde``)."""
    if response.status_code == 204:
        return None
    if op.response is None:  # the document does not describe the answer: the JSON as sent
        return response.json()
    data = response.json()
    from ._serde import (
        SchemaMismatchError,
        report_answer_misfit,
        report_deviations,
        structure_reporting,
    )

    try:
        result, found = structure_reporting(data, op.response_type(), strict=strict)
    except SchemaMismatchError as exc:
        if strict:
            raise ResponseValidationError(
                f"{op.name}: the answer does not fit {op.response} ({_describe(exc)})",
                raw=data,
                status_code=response.status_code,
                request_id=response.request_id,
            ) from exc
        # not even an object where the envelope was declared: the answer as it came
        report_answer_misfit(op.name, op.response or "", data)
        return data.get("data", data) if op.unwrap and isinstance(data, dict) else data
    except Exception as exc:
        raise ResponseValidationError(
            f"{op.name}: the answer does not fit {op.response} ({_describe(exc)})",
            raw=data,
            status_code=response.status_code,
            request_id=response.request_id,
        ) from exc
    report_deviations(found, data, where=f"{op.name} ")
    return result.data if op.unwrap else result


def _describe(exc: Exception) -> str:
    try:
        import cattrs

        if isinstance(exc, cattrs.BaseValidationError):
            return "; ".join(cattrs.transform_error(exc))[:500]
    except Exception:
        pass
    text = str(exc)
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


# -- argument types -------------------------------------------------------------------------


def check_type(op: Operation, param: Param, value: Any) -> None:
    """A path or query value must fit its parameter's type (``Param.type``, a real type the
    generator wrote), each item of a list too; else :class:`CalComUsageError`."""
    ok = fits(param.type, value, literals=False)
    if ok and isinstance(value, _COLLECTIONS):
        union = typing.get_origin(param.type) in (typing.Union, types.UnionType)
        members = typing.get_args(param.type) if union else (param.type,)
        items = [a for a in members if typing.get_origin(a) in (list, Sequence)]
        if items:
            (item,) = typing.get_args(items[0])
            ok = all(fits(item, v, literals=False) for v in value)
    if not ok:
        raise CalComUsageError(
            f"{op.name}: argument {param.python_name!r} must be {type_name(param.type)}, "
            f"not {type(value).__name__}"
        )
