"""Fault injection and the server-side rate limiter of the fake."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["FaultKind", "Faults", "Limit", "ServerRateLimiter"]

FaultKind = Literal["latency", "error", "html", "empty", "drop", "truncate", "malformed"]
_KINDS: tuple[FaultKind, ...] = (
    "latency",
    "error",
    "html",
    "empty",
    "drop",
    "truncate",
    "malformed",
)

#: ``"bookings.list"`` (an operation name), ``"GET /v2/bookings"`` (method and path prefix), or a
#: predicate over (operation name, method, path).
Match = str | Callable[[str, str, str], bool] | None


@dataclass
class Fault:
    """One fault to apply to a response."""

    kind: FaultKind
    status: int = 503
    seconds: float = 0.0
    after: bool = False  #: apply after the handler ran (state changed, answer lost)


@dataclass
class _Scheduled:
    fault: Fault
    match: Match
    remaining: int


def _matches(match: Match, name: str, method: str, path: str) -> bool:
    if match is None:
        return True
    if callable(match):
        return match(name, method, path)
    if " " in match:
        want_method, _, prefix = match.partition(" ")
        return method == want_method.upper() and path.startswith(prefix)
    return name == match or path.startswith(match)


@dataclass
class Faults:
    """Fault-injection knobs. Rates are probabilities per request (0..1), drawn from a seeded RNG;
    :meth:`inject` schedules faults for the next matching requests.

    Kinds: ``latency`` (sleep ``seconds``), ``error`` (5xx with the JSON error envelope), ``html``
    (a proxy's HTML error page), ``empty`` (5xx with an empty body), ``drop`` (the connection is
    closed without an answer), ``truncate`` (the body is cut short: fewer bytes than
    ``Content-Length``), ``malformed`` (200 with a body that is not valid JSON).
    """

    latency: float = 0.0  #: seconds added to every response
    error_rate: float = 0.0
    html_rate: float = 0.0
    empty_rate: float = 0.0
    drop_rate: float = 0.0
    truncate_rate: float = 0.0
    malformed_rate: float = 0.0
    error_status: int = 503
    seed: int = 0
    injected: Counter[str] = field(default_factory=Counter)
    _scheduled: list[_Scheduled] = field(default_factory=list)
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def inject(
        self,
        kind: FaultKind,
        *,
        times: int = 1,
        match: Match = None,
        status: int | None = None,
        seconds: float = 0.0,
        after: bool = False,
    ) -> None:
        """Apply ``kind`` to the next ``times`` requests that ``match``. With ``after=True`` the
        request is processed first and then its answer is replaced (the server did the work)."""
        if kind not in _KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(_KINDS)}")
        default = 502 if kind == "html" else self.error_status
        fault = Fault(kind, status or default, seconds, after)
        self._scheduled.append(_Scheduled(fault, match, times))

    def clear(self) -> None:
        self._scheduled.clear()
        self.latency = 0.0
        self.error_rate = self.html_rate = self.empty_rate = 0.0
        self.drop_rate = self.truncate_rate = self.malformed_rate = 0.0

    def pick(self, name: str, method: str, path: str) -> Fault | None:
        for item in self._scheduled:
            if item.remaining > 0 and _matches(item.match, name, method, path):
                item.remaining -= 1
                if item.remaining == 0:
                    self._scheduled.remove(item)
                self.injected[item.fault.kind] += 1
                return item.fault
        for kind, rate in (
            ("error", self.error_rate),
            ("html", self.html_rate),
            ("empty", self.empty_rate),
            ("drop", self.drop_rate),
            ("truncate", self.truncate_rate),
            ("malformed", self.malformed_rate),
        ):
            if rate > 0 and self._rng.random() < rate:
                self.injected[kind] += 1
                status = 502 if kind == "html" else self.error_status
                return Fault(kind, status)  # type: ignore[arg-type]
        return None


@dataclass(frozen=True)
class Limit:
    """One named server-side limit: ``limit`` requests per ``window`` seconds; going over blocks
    the credential for ``block`` seconds (Cal.com: 60)."""

    name: str = "default"
    limit: int = 120
    window: float = 60.0
    block: float = 60.0


@dataclass
class _Window:
    start: float
    count: int = 0
    blocked_until: float = 0.0


class ServerRateLimiter:
    """Fixed windows per (credential, limit name), like Cal.com's throttler."""

    def __init__(self, limits: Callable[[str], Sequence[Limit]]) -> None:
        self._limits = limits
        self._windows: dict[tuple[str, str], _Window] = {}
        self.throttled = 0

    def check(self, key: str, kind: str, now: float) -> tuple[dict[str, str], float | None]:
        """Count one request; its headers, and the seconds to wait if it is refused."""
        headers: dict[str, str] = {}
        refused: float | None = None
        for lim in self._limits(kind):
            win = self._windows.get((key, lim.name))
            if win is None or (now >= win.start + lim.window and now >= win.blocked_until):
                win = self._windows[(key, lim.name)] = _Window(start=now)
            label = lim.name[:1].upper() + lim.name[1:]
            if now < win.blocked_until:
                reset = win.blocked_until - now
                refused = max(refused or 0.0, reset)
            else:
                win.count += 1
                reset = win.start + lim.window - now
                if win.count > lim.limit:
                    win.blocked_until = now + lim.block
                    reset = lim.block
                    refused = max(refused or 0.0, reset)
            headers[f"X-RateLimit-Limit-{label}"] = str(lim.limit)
            headers[f"X-RateLimit-Remaining-{label}"] = str(max(0, lim.limit - win.count))
            headers[f"X-RateLimit-Reset-{label}"] = str(max(0, math.ceil(reset)))
        if refused is not None:
            self.throttled += 1
        return headers, refused
