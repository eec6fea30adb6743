"""``expect=``: the one type of a union answer the caller expects (generated methods).

An operation whose answer is a union (``cal.bookings.get`` answers a booking, a seated booking,
or the list of a recurring booking's occurrences) takes ``expect=`` one of its types, and its
``TypeVar`` (bound by the union, defaulting to it) then types the call as returning that type.
The check is this module: before sending, ``expect`` must be one of the operation's types
(:func:`check_expect`, else ``CalComUsageError``); after, the answer must be of that type
(:func:`narrow`, else ``UnexpectedResponseTypeError`` naming both).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, get_args, get_origin

from ._errors import CalComUsageError, UnexpectedResponseTypeError

if TYPE_CHECKING:
    from ._response import APIResponse

__all__ = ["check_expect", "narrow", "narrow_response"]


def _name(kind: Any) -> str:
    if get_origin(kind) is list:
        return f"list[{', '.join(_name(arg) for arg in get_args(kind))}]"
    return getattr(kind, "__name__", None) or repr(kind)


def _fits(value: Any, kind: Any) -> bool:
    if get_origin(kind) is list:
        (item,) = get_args(kind)
        return isinstance(value, list) and all(isinstance(one, item) for one in value)
    return isinstance(kind, type) and isinstance(value, kind)


def _what(value: Any) -> str:
    if isinstance(value, list):
        if not value:
            return "an empty list"
        kinds = sorted({type(one).__name__ for one in value})
        return f"a list of {len(value)} {' / '.join(kinds)}"
    return f"a {type(value).__name__}"


def _key(kind: Any) -> Any:
    """``list[X]`` and ``typing.List[X]`` alike."""
    return (get_origin(kind), get_args(kind)) if get_origin(kind) is list else kind


def check_expect(operation: str, expect: Any, members: Sequence[Any]) -> None:
    """Refuse, before sending, an ``expect`` that is not one of the answer's types."""
    if _key(expect) not in [_key(m) for m in members]:
        raise CalComUsageError(
            f"cal.{operation}(expect={_name(expect)}): its answer is never of that type; "
            f"expect one of {', '.join(_name(m) for m in members)}"
        )


def narrow(operation: str, expect: Any, value: Any) -> Any:
    """``value``, if it is of the type ``expect`` names (or ``expect`` is None)."""
    if expect is None or _fits(value, expect):
        return value
    raise UnexpectedResponseTypeError(
        f"cal.{operation}(expect={_name(expect)}): the answer is {_what(value)}, not the "
        f"{_name(expect)} expected (call it without expect= and check with isinstance() where "
        "either can come back)",
        expected=expect,
        value=value,
    )


def narrow_response(operation: str, expect: Any, response: APIResponse[Any]) -> Any:
    """The raw twin's ``response``, its ``data`` checked as :func:`narrow` does (parsed now)."""
    if expect is not None:
        narrow(operation, expect, response.data)
    return response
