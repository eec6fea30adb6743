"""What a failure of ``calcom`` says: one line a shell user can act on, and an exit code.

Every typed error of calcom_async has its row (the first that matches, most specific first);
the table is printed in docs/cli.md. Messages come from the errors themselves, which never hold
a credential; :func:`redact` still replaces the secrets the command was given, should one turn
up in a message from elsewhere (a database driver quoting its URL, a traceback).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import attrs

from .. import _errors as e
from ..oauth import OAuthError
from ..stores import StoreDataError, StoreUnavailableError
from ..webhooks import WebhookError

__all__ = ["EXIT_CODES", "CLIError", "DatabaseError", "describe", "redact"]


class CLIError(Exception):
    """A usage problem the command found itself (exit code 2, like Click's)."""


class DatabaseError(Exception):
    """The database of ``calcom sync`` refused or failed (exit code 13)."""


@attrs.frozen
class Row:
    error: type[BaseException]
    code: int
    what: str  #: how the line starts
    hint: str = ""  #: what to do, appended to the line


#: the first row whose class the error is an instance of decides
EXIT_CODES: tuple[Row, ...] = (
    Row(CLIError, 2, "usage"),
    Row(e.CalComUsageError, 2, "usage", "nothing was sent"),
    Row(
        e.AuthenticationError,
        3,
        "authentication failed",
        "check CALCOM_API_KEY (or --api-key, --client-id/--client-secret, --access-token)",
    ),
    Row(e.InsufficientScopeError, 4, "insufficient scope", "authorize the token again"),
    Row(e.PermissionDeniedError, 4, "permission denied", "the credential may not do this"),
    Row(e.NotFoundError, 5, "not found"),
    Row(e.RateLimitError, 7, "rate limited", "try again later (or lower --max-concurrency)"),
    Row(e.InternalServerError, 8, "server error", "try again later"),
    Row(e.APIStatusError, 6, "request refused"),
    Row(
        e.DeadlineExceededError,
        10,
        "timed out",
        "raise --timeout (a long wait for the rate limit counts)",
    ),
    Row(e.APITimeoutError, 10, "timed out", "raise --timeout or check the network"),
    Row(
        e.APIConnectionError,
        9,
        "cannot reach the API",
        "check --base-url / CALCOM_BASE_URL and the network",
    ),
    Row(
        e.ResponseValidationError,
        11,
        "unexpected answer",
        "the server's answer does not fit the API document (--verbose for details)",
    ),
    Row(OAuthError, 3, "OAuth", "authorize again, or check the OAuth app's settings"),
    Row(StoreUnavailableError, 12, "store unavailable"),
    Row(StoreDataError, 12, "store data unreadable"),
    Row(WebhookError, 12, "webhook"),
    Row(DatabaseError, 13, "database"),
    Row(OSError, 14, "file"),
    Row(e.CalComError, 1, "error"),
)
INTERRUPTED = 130  #: Ctrl-C, as a shell reports a SIGINT
BROKEN_PIPE = 141  #: stdout's reader went away (``| head``), as a shell reports a SIGPIPE


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def describe(exc: BaseException) -> tuple[int, str]:
    """The exit code and the line (without the ``calcom: `` prefix) for ``exc``."""
    for row in EXIT_CODES:
        if isinstance(exc, row.error):
            message = _one_line(str(exc)) or type(exc).__name__
            line = f"{row.what}: {message}"
            if row.error is e.RateLimitError and getattr(exc, "retry_after", None):
                line += f" (retry after {exc.retry_after:.0f} s)"  # type: ignore[attr-defined]
            if row.hint:
                line += f" — {row.hint}"
            return row.code, line
    name = type(exc).__name__
    return 1, f"unexpected error: {name}: {_one_line(str(exc))} (--verbose for the traceback)"


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret replaced by ``***``."""
    for secret in sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
