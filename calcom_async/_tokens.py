"""Token pairs: a managed user's (:class:`TokenPair`) and a third-party app user's
(:class:`OAuthToken`), with the JSON form every store keeps them in (``to_json`` /
``from_json``: the stores hold bytes and import no token class). No ``repr`` or ``str`` here
shows a secret."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Self

import attrs
import orjson

from ._clock import SystemClock
from ._errors import CalComUsageError, StoreDataError
from ._scopes import Scope, parse_scopes, satisfies

__all__ = ["OAuthToken", "TokenPair", "parse_expiry"]


def _hidden(value: object) -> str:
    return "'***'" if value else "None"


@attrs.frozen(slots=True, repr=False)
class TokenPair:
    """A managed user's tokens. Persist both after a refresh: the old refresh token stops working.

    ``access_token_expires_at``: Unix time in seconds, or None when unknown.
    """

    access_token: str
    refresh_token: str | None = None
    access_token_expires_at: float | None = None

    def __repr__(self) -> str:
        return (
            f"TokenPair(access_token={_hidden(self.access_token)}, "
            f"refresh_token={_hidden(self.refresh_token)}, "
            f"access_token_expires_at={self.access_token_expires_at!r})"
        )

    __str__ = __repr__

    def to_json(self) -> bytes:
        """The pair as JSON bytes, the form a store keeps (it holds the secrets: a
        ``RedisStore(cipher=…)`` encrypts it at rest)."""
        return orjson.dumps(self._fields())

    def _fields(self) -> dict[str, Any]:
        return {"a": self.access_token, "r": self.refresh_token, "e": self.access_token_expires_at}

    @classmethod
    def from_json(cls, data: bytes | str) -> Self:
        """The inverse of :meth:`to_json`. Raises :class:`~calcom_async.StoreDataError` (naming
        the problem, never the value) for anything else."""
        try:
            fields = orjson.loads(data)
            if not isinstance(fields, dict) or not isinstance(fields.get("a"), str):
                raise ValueError("not a token pair")
            refresh, expires = fields.get("r"), fields.get("e")
            if not isinstance(refresh, str | None) or isinstance(expires, bool):
                raise TypeError("a field of the wrong type")
            if not isinstance(expires, int | float | None):
                raise TypeError("a field of the wrong type")
            return cls._from_fields(fields)
        except Exception as exc:  # bad JSON, not a pair, a field of the wrong type
            raise StoreDataError(
                f"a stored token pair does not parse: {type(exc).__name__}"
            ) from None

    @classmethod
    def _from_fields(cls, fields: dict[str, Any]) -> Self:
        return cls(fields["a"], fields.get("r"), fields.get("e"))


def parse_expiry(value: Any) -> float | None:
    """``accessTokenExpiresAt`` as Unix seconds: accepts epoch milliseconds or seconds (number or
    digit string), an ISO 8601 string, or a datetime (naive means UTC)."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lstrip("-").replace(".", "", 1).isdigit():
        value = float(value)
    if isinstance(value, bool):
        raise ValueError("expiry must be a time, not a bool")
    if isinstance(value, int | float):
        return float(value) / 1000.0 if value >= 1e11 else float(value)
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.strip())
    if isinstance(value, dt.datetime):
        when: dt.datetime = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return when.timestamp()
    raise ValueError(f"cannot read a token expiry from {type(value).__name__}")


def _scopes_field(value: Iterable[str] | str | None) -> tuple[Scope, ...]:
    return parse_scopes(value)


@attrs.frozen(slots=True, repr=False)
class OAuthToken(TokenPair):
    """A user's tokens for a third-party app. Persist both after every refresh (rotation revokes
    earlier refresh tokens). ``access_token_expires_at``: Unix seconds; ``expires_at``: the same
    as an aware UTC datetime. ``scopes``: what the user granted. No secret in ``repr``/``str``."""

    scopes: tuple[Scope, ...] = attrs.field(default=(), converter=_scopes_field)
    token_type: str = "bearer"

    def __repr__(self) -> str:
        expires = self.expires_at
        return (
            f"OAuthToken(access_token={_hidden(self.access_token)}, "
            f"refresh_token={_hidden(self.refresh_token)}, "
            f"expires_at={expires.isoformat() if expires else None!r}, "
            f"scopes={[str(s) for s in self.scopes]!r})"
        )

    __str__ = __repr__

    @property
    def expires_at(self) -> dt.datetime | None:
        """When the access token expires (aware, UTC), or None when unknown."""
        when = self.access_token_expires_at
        return None if when is None else dt.datetime.fromtimestamp(when, dt.UTC)

    def expires_in(self, *, now: float | dt.datetime | None = None) -> float | None:
        """Seconds left (negative once expired) at ``now`` (Unix seconds or an aware datetime;
        default: the system clock), or None when the expiry is unknown."""
        if self.access_token_expires_at is None:
            return None
        return self.access_token_expires_at - _unix(now)

    def is_expired(self, *, now: float | dt.datetime | None = None, leeway: float = 0.0) -> bool:
        """Whether the access token has expired (or will within ``leeway`` seconds)."""
        left = self.expires_in(now=now)
        return left is not None and left <= leeway

    def has_scope(self, scope: str) -> bool:
        """Whether the granted scopes cover ``scope`` (an ``ORG_*`` scope covers ``TEAM_*``)."""
        return satisfies(self.scopes, scope)

    def _fields(self) -> dict[str, Any]:  # to_json: the pair's fields, then scopes and type
        return {
            **super()._fields(),
            "k": "oauth",
            "s": [str(s) for s in self.scopes],
            "t": self.token_type,
        }

    @classmethod
    def _from_fields(cls, fields: dict[str, Any]) -> Self:
        return cls(
            fields["a"],
            fields.get("r"),
            fields.get("e"),
            scopes=fields.get("s") or (),
            token_type=fields.get("t") or "bearer",
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict for storage (it holds the secrets: store it like a password)."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.access_token_expires_at,
            "scope": " ".join(self.scopes),
            "token_type": self.token_type,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OAuthToken:
        """The inverse of :meth:`to_dict`."""
        access = data.get("access_token")
        refresh = data.get("refresh_token")
        if not isinstance(access, str) or not access:
            raise CalComUsageError("an OAuthToken needs a non-empty 'access_token'")
        if refresh is not None and not isinstance(refresh, str):
            raise CalComUsageError("'refresh_token' must be a string or None")
        try:
            expires = parse_expiry(data.get("expires_at"))
        except (TypeError, ValueError) as exc:
            raise CalComUsageError(f"'expires_at': {exc}") from None
        return cls(
            access,
            refresh,
            expires,
            scopes=data.get("scope") or (),
            token_type=str(data.get("token_type") or "bearer"),
        )


def _unix(now: float | dt.datetime | None) -> float:
    if now is None:
        return SystemClock().time()
    if isinstance(now, dt.datetime):
        return (now if now.tzinfo else now.replace(tzinfo=dt.UTC)).timestamp()
    return float(now)
