"""Bulk calls on anyio task groups: a bounded ``gather`` that keeps input order and reports each
item's failure with its input instead of cancelling everything else.

    results = await gather(uids, cal.bookings.get, concurrency=64)
    for r in results:
        if r.ok: use(r.value)
        else: log(r.input, r.error)

Cancelling the caller cancels every request in flight (anyio cancel scopes); the pooled
connections are returned to the client, none is left open.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Generic, TypeVar

import anyio
import attrs

from ._errors import CalComUsageError

__all__ = ["BulkError", "BulkResult", "gather"]

In = TypeVar("In")
Out = TypeVar("Out")


@attrs.frozen(slots=True)
class BulkResult(Generic[In, Out]):
    """The outcome for one input: ``value`` if ``ok``, else ``error``."""

    input: In
    value: Out | None = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def unwrap(self) -> Out:
        """The value, or raise the error this input got."""
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]


class BulkError(Exception):
    """Raised by ``gather(..., fail_fast=True)``: the first failure, with its input."""

    def __init__(self, item: Any, error: BaseException) -> None:
        super().__init__(f"bulk call failed for {item!r}: {type(error).__name__}: {error}")
        self.input = item
        self.error = error


async def gather(
    items: Iterable[In],
    fn: Callable[[In], Awaitable[Out]],
    *,
    concurrency: int = 32,
    fail_fast: bool = False,
) -> list[BulkResult[In, Out]]:
    """Call ``fn(item)`` for every item, at most ``concurrency`` at once; results in input order.

    With ``fail_fast=False`` (the default) one failure does not stop the others: each result says
    what happened to its input. With ``fail_fast=True`` the first failure cancels the rest and
    raises :class:`BulkError`. Only ``Exception``s are collected; cancellation always propagates.
    The calls run in ``concurrency`` worker tasks, each taking the next input when it is done.
    """
    if concurrency < 1:
        raise CalComUsageError("concurrency must be >= 1")
    inputs = list(items)
    results: list[BulkResult[In, Out] | None] = [None] * len(inputs)
    # ``concurrency`` workers share one iterator of the inputs (each input goes to exactly one of
    # them, in input order): a task per worker, not per input, and no limiter to pass per call
    pending = iter(enumerate(inputs))

    async def worker() -> None:
        for index, item in pending:
            try:
                value = await fn(item)
            except Exception as exc:
                if fail_fast:
                    raise BulkError(item, exc) from exc
                results[index] = BulkResult(item, error=exc)
            else:
                results[index] = BulkResult(item, value=value)

    try:
        async with anyio.create_task_group() as tg:
            for _ in range(min(concurrency, len(inputs))):
                tg.start_soon(worker)
    except BaseExceptionGroup as group:
        bulk = group.subgroup(BulkError)
        if fail_fast and bulk is not None:
            raise _first(bulk) from None
        raise
    return [r for r in results if r is not None]


def _first(group: BaseExceptionGroup[Any]) -> BaseException:
    exc: BaseException = group
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc
