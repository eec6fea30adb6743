"""What several store tests read back: the pair a store keeps, the refreshes the fake saw."""

from __future__ import annotations

from typing import Any

from calcom_async import TokenPair
from calcom_async.testing import FakeCalCom


async def stored_pair(
    store: Any, key: str, kind: type[TokenPair] = TokenPair
) -> tuple[TokenPair | None, int]:
    """The pair a store keeps under ``key``, read as ``kind`` (a store holds bytes)."""
    blob, version = await store.load_tokens(key)
    return (None if blob is None else kind.from_json(blob)), version


def refresh_statuses(fake: FakeCalCom) -> list[int]:
    """The status of each token refresh the fake answered, in order."""
    return [r.status for r in fake.requests if r.path.endswith("/refresh")]
