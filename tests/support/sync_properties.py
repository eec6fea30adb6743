"""The exactly-once properties of ``cal.bookings.sync()``, shared by the tests that check them:
the property tests on a stub endpoint (tests/sync/test_sync.py) and the sync killed in one process
and resumed by another (tests/stores/test_stores_redis.py).

A booking is seen as a *version*: its uid and ``updatedAt``. Across one run, or a run and its
resumption, no version is yielded twice and every booking's final version is yielded (nothing
lost); an earlier version of a booking that changed meanwhile may have been yielded as well.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from calcom_async._scalars import format_datetime

Version = tuple[str, str | None]


def version(item: Any) -> Version:
    """A synced booking's version: ``(uid, updatedAt)``."""
    return item.uid, format_datetime(item.updated_at) if item.updated_at else None


def assert_each_version_once(seen: Sequence[Version], final: Iterable[Version]) -> None:
    """No version yielded twice, and every booking's final version yielded."""
    assert len(seen) == len(set(seen)), "a version was yielded twice"
    missing = set(final) - set(seen)
    assert not missing, f"a booking's final state was not yielded ({len(missing)} missing)"
