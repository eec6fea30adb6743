"""The one request pipeline: :class:`Session`, in named steps.

Every call — generated methods, paginator pages, ``cal.request``, token refreshes — goes
through :meth:`Session.request`, which reads as the steps it takes:

1. **build the request** (``request``; ``_request.build``): the row of a pinned version
   (``route``), the path, query and body encoded and checked by ``_session.py`` (bad input
   raises :class:`CalComUsageError` before anything is sent), the headers every attempt sends;
2. **send** (``_send``): the call's deadline (``_deadline.py``), then attempts until one ends it:

   - **authenticate** (``_authenticate``): the auth headers (``Auth.headers``); a token about
     to expire is refreshed first (``_refresh``: auth says what to send, the refresh call goes
     through this same pipeline, and its answer goes back to auth);
   - **one attempt** (``_attempt``): through the gate (``_gate.py``: the concurrency cap and
     the rate limiter) to the transport (``_transport.py``; aiohttp by default, ``_http.py``);
   - a 401 refreshes the token once and sends again (not counted as a retry);
   - **decide on a retry** (``_verdict``, ``_back_off``): 429/5xx and connection errors per
     :class:`RetryPolicy`, within the deadline; otherwise the typed error is raised;
   - **build the answer** (``_answer``): a 2xx becomes an :class:`APIResponse` (its
     ``parse()``: ``_parse.parse_response``, or the caller's ``parse``).
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

import attrs

from ._auth import Auth, AuthHeaders
from ._clock import Clock
from ._deadline import CURRENT, Deadline
from ._errors import (
    APIConnectionError,
    APITimeoutError,
    CalComError,
    CalComUsageError,
    make_status_error,
)
from ._gate import Gate
from ._logs import log_attempt, log_retry
from ._operation import Operation
from ._options import RequestOptions
from ._progress import record_wait
from ._ratelimit import RateLimit, parse_rate_limits, retry_after_seconds, spent_limit
from ._request import NO_OPTIONS, SessionConfig, api_version, build, route
from ._response import APIResponse
from ._retry import Failure
from ._transport import Request, Response, Transport, TransportError

__all__ = ["Outcome", "Session", "SessionConfig"]

logger = logging.getLogger("calcom_async")


@attrs.define
class Outcome:
    """What one attempt came to: the server's answer (any status), or no answer and the
    connection error, with what kind of failure it was (None: never worth retrying)."""

    answer: Response | None
    rate_limits: Mapping[str, RateLimit] | None = None
    error: APIConnectionError | None = None
    failure: Failure | None = None


class Session:
    """Implements ``SessionProtocol`` for the generated resources. A ``with_options`` copy is
    another Session with its own config over the same auth, transport and gate."""

    def __init__(
        self,
        config: SessionConfig,
        *,
        auth: Auth,
        transport: Transport,
        gate: Gate,
        clock: Clock,
    ) -> None:
        self.config = config
        self.auth = auth
        self.transport = transport
        self.gate = gate
        self.clock = clock

    def __repr__(self) -> str:
        return f"Session(base_url={self.config.base_url!r}, auth={self.auth!r})"

    async def aclose(self) -> None:
        """Close the client: no attempt passes the gate any more; the transport is closed."""
        self.gate.closed = True
        await self.transport.aclose()

    # -- build the request ----------------------------------------------------------------------

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
        opts = options or NO_OPTIONS
        op, request, url_path = build(
            self.config, op, path=path, query=query, body=body, options=opts
        )
        return self._send(op, request, url_path, opts, raw, parse)

    def api_version(self, op: Operation, options: RequestOptions = NO_OPTIONS) -> str | None:
        """The ``cal-api-version`` a call of ``op`` sends: per call, pinned, or the operation's."""
        return api_version(self.config, op, options)

    def route(self, op: Operation, options: RequestOptions | None = None) -> Operation:
        """The row a call of ``op`` uses: its own, or the row of the live version pinned for it
        (a well-formed version the table does not know is sent as asked, warned about once)."""
        return route(self.config, op, options or NO_OPTIONS)

    # -- send -----------------------------------------------------------------------------------

    async def _send(
        self,
        op: Operation,
        request: Request,
        url_path: str,
        opts: RequestOptions,
        raw: bool,
        parse: Callable[[APIResponse[Any]], Any] | None,
    ) -> Any:
        """Attempts until one ends the call, all within the call's deadline: the timeout covers
        the whole call (the limiter, the attempts, the backoff, a refresh)."""
        config, clock = self.config, self.clock
        request_id = request.headers["X-Request-Id"]
        timeout = config.timeout if opts.timeout is None else opts.timeout
        started = clock.monotonic()
        deadline = Deadline(
            None if timeout is None else started + timeout,
            timeout,
            request_id,
            f"{op.method} {url_path}",
        )
        reset = CURRENT.set(deadline)
        try:
            attempt, refreshed = 0, False
            while True:
                # known and token-free (an API key, the platform secret): no await
                sent = self.auth.fixed_headers(op) or await self._authenticate(op)
                outcome = await self._attempt(op, request, sent, opts, deadline, url_path, attempt)
                answer = outcome.answer
                if answer is not None and answer.status == 401 and sent.token and not refreshed:
                    refreshed = True
                    if await self._refresh(sent.token):
                        continue  # the same request with the new token; not counted as a retry
                if answer is not None and 200 <= answer.status < 300:
                    strict = config.strict if opts.strict is None else opts.strict
                    response = self._answer(
                        op, outcome, request_id, url_path, started, attempt, parse, strict
                    )
                    return response if raw else response.parse()
                error, delay = self._verdict(op, outcome, opts, attempt, request_id)
                if delay is None:
                    raise error from error.__cause__
                attempt += 1
                await self._back_off(op, url_path, outcome, error, delay, deadline, attempt)
        finally:
            CURRENT.reset(reset)

    # -- authenticate ---------------------------------------------------------------------------

    async def _authenticate(self, op: Operation) -> AuthHeaders:
        """The auth headers of one attempt; an access token about to expire is refreshed first
        (once: a new pair that expires as soon is sent as it is)."""
        sent = await self.auth.headers(op)
        if sent.refresh_due and sent.token is not None:
            await self._refresh(sent.token)
            sent = await self.auth.headers(op)
        return sent

    async def _refresh(self, stale_access_token: str) -> bool:
        """Refresh the tokens unless another call already replaced ``stale_access_token``: auth
        says what to send (one refresh at a time), this pipeline sends it (a call of its own,
        with its own deadline), auth reads the answer. Whether the tokens are now others."""
        if not self.auth.can_refresh:
            return False
        async with self.auth.refresh(stale_access_token) as turn:
            call = turn.call
            if call is not None:
                try:
                    answer = await self.request(
                        call.operation, path=call.path, body=call.body, raw=True
                    )
                except CalComError as exc:
                    await turn.failed(exc)
                else:
                    await turn.answered(answer)
        return turn.refreshed

    # -- one attempt ----------------------------------------------------------------------------

    async def _attempt(
        self,
        op: Operation,
        request: Request,
        sent: AuthHeaders,
        opts: RequestOptions,
        deadline: Deadline,
        url_path: str,
        attempt: int,
    ) -> Outcome:
        """Through the gate (every wait within the deadline) to the transport, once."""
        config, clock = self.config, self.clock
        headers = {**request.headers, **sent.headers}
        request_id = headers["X-Request-Id"]
        turn = self.gate.try_acquire(headers) or await self.gate.acquire(headers, deadline)
        answer: Response | None = None
        try:
            timeout = config.timeout if opts.timeout is None else opts.timeout
            if deadline.at is not None:
                left = deadline.at - clock.monotonic()
                if left <= 0:
                    raise deadline.exceeded(clock.monotonic(), "a turn to send")
                # the attempt gets what is left of the call's timeout (to a tenth of a second
                # up: the usual first attempt keeps the timeout as given)
                left = math.ceil(left * 10) / 10
                timeout = left if timeout is None else min(timeout, left)
            connect = (
                config.connect_timeout if opts.connect_timeout is None else opts.connect_timeout
            )
            debug = logger.isEnabledFor(logging.DEBUG)
            start = clock.monotonic() if debug else 0.0
            try:
                answer = await self.transport.send(request.for_attempt(headers, timeout, connect))
            except TransportError as exc:
                kind = APITimeoutError if exc.timed_out else APIConnectionError
                error = kind(str(exc), request_id=request_id)
                error.__cause__ = exc.__cause__ or exc
                if debug:
                    log_attempt(op, url_path, str(error), start, clock, request_id, attempt)
                return Outcome(None, error=error, failure=exc.failure)
            if not isinstance(answer, Response):  # a transport of the caller's got it wrong
                wrong, answer = answer, None  # (the gate learns nothing from it)
                raise CalComUsageError(
                    f"{type(self.transport).__name__}.send returned {type(wrong).__name__}, "
                    "not a calcom_async.Response (Transport: send(request) -> Response)"
                )
            if debug:
                log_attempt(op, url_path, str(answer.status), start, clock, request_id, attempt)
        finally:
            if turn.bucket is None:
                rate_limits = self.gate.release(turn, answer)
            else:
                rate_limits = await self.gate.release_shared(turn, answer)
        return Outcome(answer, rate_limits)

    # -- decide on a retry ----------------------------------------------------------------------

    def _verdict(
        self, op: Operation, outcome: Outcome, opts: RequestOptions, attempt: int, request_id: str
    ) -> tuple[CalComError, float | None]:
        """The error an attempt without a 2xx ends with, and the seconds to wait before sending
        again (None: no retry, the error is raised)."""
        config, answer = self.config, outcome.answer
        retry_after: float | None = None
        status: int | None = None
        if answer is None:
            assert outcome.error is not None
            error: CalComError = outcome.error
            failure = outcome.failure
        else:
            status, failure = answer.status, Failure.STATUS
            retry_after = retry_after_seconds(
                answer.headers, self.clock.time(), use_reset=status == 429
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
            retry_unsafe=config.retry_unsafe if opts.retry_unsafe is None else opts.retry_unsafe,
            max_retries=opts.max_retries,
        )
        return error, config.retry.delay(attempt, retry_after) if retry else None

    async def _back_off(
        self,
        op: Operation,
        url_path: str,
        outcome: Outcome,
        error: CalComError,
        delay: float,
        deadline: Deadline,
        retry: int,
    ) -> None:
        """Wait ``delay`` seconds before retry number ``retry``, unless the retry would start
        after the deadline: then the call ends now, saying what it would have waited for."""
        answer = outcome.answer
        status = answer.status if answer is not None else None
        limit = spent_limit(answer.headers) if answer is not None and status == 429 else None
        waiting_for = "rate limit" if status == 429 else "retry backoff"
        now = self.clock.monotonic()
        if deadline.at is not None and now + delay > deadline.at:
            raise deadline.exceeded(
                now, waiting_for, limit=limit, wait=delay, cause=str(error)
            ) from error
        outcome_text = str(status or type(error).__name__)
        log_retry(op, url_path, outcome_text, delay, waiting_for, limit, deadline.request_id, retry)
        await self.clock.sleep(delay)
        if status == 429:
            record_wait(delay)  # progress hooks count it as waiting for the rate limit

    # -- build the answer -----------------------------------------------------------------------

    def _answer(
        self,
        op: Operation,
        outcome: Outcome,
        request_id: str,
        url_path: str,
        started: float,
        retries: int,
        parse: Callable[[APIResponse[Any]], Any] | None,
        strict: bool,
    ) -> APIResponse[Any]:
        answer, clock, limits = outcome.answer, self.clock, outcome.rate_limits
        assert answer is not None
        return APIResponse(
            status_code=answer.status,
            headers=answer.headers,
            content=answer.content,
            request_id=answer.headers.get("X-Request-Id") or request_id,
            method=op.method,
            path=url_path,
            elapsed=clock.monotonic() - started,
            retries=retries,
            # parsed by the gate already, unless the limiter is off
            rate_limits=limits
            if limits is not None
            else parse_rate_limits(answer.headers, clock.time()),
            parse=parse or functools.partial(_reader(), op, strict=strict),
        )


@functools.cache
def _reader() -> Callable[..., Any]:
    """``_parse.parse_response``, imported once, by the first answer: with it come cattrs and
    the models' structuring, which ``import calcom_async`` does without."""
    from ._parse import parse_response

    return parse_response
