"""Raw access to an answer: ``await cal.bookings.with_raw_response.get(uid)``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

import orjson

from ._errors import ResponseValidationError
from ._ratelimit import RateLimit

__all__ = ["APIResponse"]

T = TypeVar("T")
_MISSING: Any = object()


class APIResponse(Generic[T]):
    """One successful answer, with everything the server sent.

    ``data`` is the typed result the plain method would have returned (built on first access);
    ``json()`` the decoded body as plain dicts and lists (no model is built); ``content`` the bytes.
    """

    __slots__ = (
        "_data",
        "_json",
        "_parse",
        "content",
        "elapsed",
        "headers",
        "method",
        "path",
        "rate_limits",
        "request_id",
        "retries",
        "status_code",
    )

    def __init__(
        self,
        *,
        status_code: int,
        headers: Mapping[str, str],
        content: bytes,
        request_id: str,
        method: str,
        path: str,
        elapsed: float,
        retries: int,
        rate_limits: Mapping[str, RateLimit],
        parse: Callable[[APIResponse[T]], T],
    ) -> None:
        self.status_code = status_code  #: HTTP status
        self.headers = headers  #: response headers (case-insensitive)
        self.content = content  #: the body as received
        self.request_id = request_id  #: the X-Request-Id sent (and echoed by the server)
        self.method = method
        self.path = path  #: the URL path that was called
        self.elapsed = elapsed  #: seconds, from the first attempt to the final answer
        self.retries = retries  #: how many times the request was re-sent
        self.rate_limits = dict(rate_limits)  #: the named limits this answer reported
        self._parse = parse
        self._json: Any = _MISSING
        self._data: Any = _MISSING

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The decoded JSON body (``None`` for an empty body)."""
        if self._json is _MISSING:
            if not self.content.strip():
                self._json = None
            else:
                try:
                    self._json = orjson.loads(self.content)
                except orjson.JSONDecodeError as exc:
                    raise ResponseValidationError(
                        f"response body is not JSON: {self.text[:200]!r}",
                        raw=self.text,
                        status_code=self.status_code,
                        request_id=self.request_id,
                    ) from exc
        return self._json

    def release_json(self) -> None:
        """Let go of the decoded JSON that ``json()`` keeps (``json()`` decodes ``content`` again
        if it is asked for later). The paginator calls it once a page's models are built: a page
        in the prefetch window then holds its models, not a second copy of them as dicts."""
        self._json = _MISSING

    def parse(self) -> T:
        """The typed result (the envelope's ``data`` for enveloped operations)."""
        if self._data is _MISSING:
            self._data = self._parse(self)
        result: T = self._data
        return result

    @property
    def data(self) -> T:
        return self.parse()

    @property
    def pagination(self) -> Mapping[str, Any] | None:
        """The envelope's ``pagination`` meta, when the answer has one."""
        body = self.json()
        meta = body.get("pagination") if isinstance(body, dict) else None
        return meta if isinstance(meta, dict) else None

    @property
    def rate_limit(self) -> RateLimit | None:
        """The tightest limit this answer reported (least remaining), if any."""
        known = [x for x in self.rate_limits.values() if x.remaining is not None]
        return min(known, key=lambda x: x.remaining or 0) if known else None

    def __repr__(self) -> str:
        return (
            f"<APIResponse [{self.status_code}] {self.method} {self.path} "
            f"request_id={self.request_id}>"
        )
